// Reference convolution and fully connected kernels, quantized and float.
//
// Direct loops over NHWC: for each output element, walk the kernel window of its
// group's input channels and skip taps that fall outside the image (they stand
// for the input zero point, so they add nothing to sum (x - zp_x) * (w - zp_w)).
//
// Quantized accumulators: the exact sum is formed in int64 and then reduced modulo
// 2^32 to the int32 accumulator the contract defines. For any layer whose exact
// sum fits int32 this is the exact sum; beyond that it is what an int32 SIMD
// accumulator computes in any summation order.
//
// Float kernels accumulate in double (bias first, then taps in kernel-row,
// kernel-column, channel order) and round once to float before the clamp; they are
// the accurate side of a tolerance comparison, not a bit-exact target.
#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdint>

#include "kernels/ref/internal.h"
#include "kernels/ref/ref.h"

namespace edgeq {
namespace ref {

namespace {

void assert_conv_shape(const ConvShape& s) {
  assert(s.batch >= 0 && s.in_h >= 0 && s.in_w >= 0 && s.out_h >= 0 && s.out_w >= 0);
  assert(s.groups >= 1 && s.in_c % s.groups == 0 && s.out_c % s.groups == 0);
  assert(s.kernel_h >= 1 && s.kernel_w >= 1 && s.stride_h >= 1 && s.stride_w >= 1);
  assert(s.dilation_h >= 1 && s.dilation_w >= 1);
  (void)s;
}

// Calls tap(input_offset, weight_offset) for every in-image tap of output element
// (n, oh, ow, oc); offsets are in elements.
template <typename Tap>
void for_each_tap(const ConvShape& s, int32_t n, int32_t oh, int32_t ow, int32_t oc,
                  const Tap& tap) {
  const int32_t group_in_c = s.in_c / s.groups;
  const int32_t group_out_c = s.out_c / s.groups;
  const int32_t first_ic = (oc / group_out_c) * group_in_c;
  for (int32_t kh = 0; kh < s.kernel_h; ++kh) {
    const int64_t ih =
        static_cast<int64_t>(oh) * s.stride_h - s.pad_top + static_cast<int64_t>(kh) * s.dilation_h;
    if (ih < 0 || ih >= s.in_h) continue;
    for (int32_t kw = 0; kw < s.kernel_w; ++kw) {
      const int64_t iw = static_cast<int64_t>(ow) * s.stride_w - s.pad_left +
                         static_cast<int64_t>(kw) * s.dilation_w;
      if (iw < 0 || iw >= s.in_w) continue;
      const int64_t in_base =
          ((static_cast<int64_t>(n) * s.in_h + ih) * s.in_w + iw) * s.in_c + first_ic;
      const int64_t w_base =
          ((static_cast<int64_t>(oc) * s.kernel_h + kh) * s.kernel_w + kw) * group_in_c;
      for (int32_t ic = 0; ic < group_in_c; ++ic) tap(in_base + ic, w_base + ic);
    }
  }
}

int64_t output_offset(const ConvShape& s, int32_t n, int32_t oh, int32_t ow, int32_t oc) {
  return ((static_cast<int64_t>(n) * s.out_h + oh) * s.out_w + ow) * s.out_c + oc;
}

}  // namespace

template <typename T>
void qconv2d(const ConvShape& s, const T* input, int32_t input_zero_point, const int8_t* weight,
             const int32_t* weight_zero_point, bool weight_zp_per_channel, const int32_t* bias,
             const Requant& rq, T* output) {
  assert_conv_shape(s);
  internal::assert_range<T>(rq.qmin, rq.qmax);
  for (int32_t n = 0; n < s.batch; ++n) {
    for (int32_t oh = 0; oh < s.out_h; ++oh) {
      for (int32_t ow = 0; ow < s.out_w; ++ow) {
        for (int32_t oc = 0; oc < s.out_c; ++oc) {
          const int32_t w_zp = weight_zero_point[weight_zp_per_channel ? oc : 0];
          int64_t sum = bias != nullptr ? bias[oc] : 0;
          for_each_tap(s, n, oh, ow, oc, [&](int64_t i, int64_t w) {
            sum += (static_cast<int64_t>(input[i]) - input_zero_point) *
                   (static_cast<int64_t>(weight[w]) - w_zp);
          });
          const int32_t acc = internal::wrap_i32(sum);
          output[output_offset(s, n, oh, ow, oc)] =
              static_cast<T>(requantize(acc, rq, static_cast<size_t>(oc)));
        }
      }
    }
  }
}

void conv2d_f32(const ConvShape& s, const float* input, const float* weight, const float* bias,
                float act_min, float act_max, float* output) {
  assert_conv_shape(s);
  for (int32_t n = 0; n < s.batch; ++n) {
    for (int32_t oh = 0; oh < s.out_h; ++oh) {
      for (int32_t ow = 0; ow < s.out_w; ++ow) {
        for (int32_t oc = 0; oc < s.out_c; ++oc) {
          double sum = bias != nullptr ? static_cast<double>(bias[oc]) : 0.0;
          for_each_tap(s, n, oh, ow, oc, [&](int64_t i, int64_t w) {
            sum += static_cast<double>(input[i]) * static_cast<double>(weight[w]);
          });
          output[output_offset(s, n, oh, ow, oc)] =
              internal::clamp_f32(static_cast<float>(sum), act_min, act_max);
        }
      }
    }
  }
}

template <typename T>
void qfully_connected(int32_t m, int32_t n, int32_t k, const T* input, int32_t input_zero_point,
                      const int8_t* weight, const int32_t* weight_zero_point,
                      bool weight_zp_per_channel, const int32_t* bias, const Requant& rq,
                      T* output) {
  assert(m >= 0 && n >= 0 && k >= 0);
  internal::assert_range<T>(rq.qmin, rq.qmax);
  for (int32_t row = 0; row < m; ++row) {
    const T* x = input + static_cast<int64_t>(row) * k;
    for (int32_t col = 0; col < n; ++col) {
      const int8_t* w = weight + static_cast<int64_t>(col) * k;
      const int32_t w_zp = weight_zero_point[weight_zp_per_channel ? col : 0];
      int64_t sum = bias != nullptr ? bias[col] : 0;
      for (int32_t i = 0; i < k; ++i) {
        sum +=
            (static_cast<int64_t>(x[i]) - input_zero_point) * (static_cast<int64_t>(w[i]) - w_zp);
      }
      output[static_cast<int64_t>(row) * n + col] =
          static_cast<T>(requantize(internal::wrap_i32(sum), rq, static_cast<size_t>(col)));
    }
  }
}

void fully_connected_f32(int32_t m, int32_t n, int32_t k, const float* input, const float* weight,
                         const float* bias, float act_min, float act_max, float* output) {
  assert(m >= 0 && n >= 0 && k >= 0);
  for (int32_t row = 0; row < m; ++row) {
    const float* x = input + static_cast<int64_t>(row) * k;
    for (int32_t col = 0; col < n; ++col) {
      const float* w = weight + static_cast<int64_t>(col) * k;
      double sum = bias != nullptr ? static_cast<double>(bias[col]) : 0.0;
      for (int32_t i = 0; i < k; ++i) sum += static_cast<double>(x[i]) * static_cast<double>(w[i]);
      output[static_cast<int64_t>(row) * n + col] =
          internal::clamp_f32(static_cast<float>(sum), act_min, act_max);
    }
  }
}

namespace {

// The weights' zero point of column col: none (0), one for the tensor, or one per column.
int32_t zero_point_of(const int32_t* wz, bool wz_per_channel, int32_t col) {
  return wz == nullptr ? 0 : wz[wz_per_channel ? col : 0];
}

// One row of a dynamic fully connected layer in double: float arithmetic that lets NaN
// and infinities propagate, for rows no quantization can hold.
void dynamic_fc_row_double(int32_t n, int32_t k, const float* x, const int8_t* weight, const int32_t* wz_in,
                           bool wz_per_channel, const float* weight_scale, bool per_channel, const float* bias,
                           float act_min, float act_max, float* out) {
  for (int32_t col = 0; col < n; ++col) {
    const int8_t* w = weight + static_cast<int64_t>(col) * k;
    const double ws = weight_scale[per_channel ? col : 0];
    const int32_t wz = zero_point_of(wz_in, wz_per_channel, col);
    double sum = 0.0;
    for (int32_t i = 0; i < k; ++i) sum += static_cast<double>(x[i]) * (static_cast<double>(w[i] - wz) * ws);
    float y = static_cast<float>(sum);
    if (bias) y += bias[col];
    out[col] = internal::clamp_f32(y, act_min, act_max);
  }
}

// One row quantized to q with (scale, zp): acc in int32, scaled in float.
void dynamic_fc_row(int32_t n, int32_t k, const uint8_t* q, float scale, int32_t zp, const int8_t* weight,
                    const int32_t* wz_in, bool wz_per_channel, const float* weight_scale, bool per_channel,
                    const float* bias, float act_min, float act_max, float* out) {
  for (int32_t col = 0; col < n; ++col) {
    const int8_t* w = weight + static_cast<int64_t>(col) * k;
    const int32_t wz = zero_point_of(wz_in, wz_per_channel, col);
    uint32_t acc = 0;  // wraps modulo 2^32
    for (int32_t i = 0; i < k; ++i)
      acc += static_cast<uint32_t>((static_cast<int32_t>(q[i]) - zp) * (static_cast<int32_t>(w[i]) - wz));
    const float s = scale * weight_scale[per_channel ? col : 0];
    float y = static_cast<float>(static_cast<int32_t>(acc)) * s;
    if (bias) y += bias[col];
    out[col] = internal::clamp_f32(y, act_min, act_max);
  }
}

}  // namespace

void dynamic_uint8_params(float lo, float hi, float* scale, int32_t* zero_point) {
  float s = (hi - lo) / 255.f;
  if (!(s > 0.f) || !std::isfinite(s)) s = 1.f;
  *scale = s;
  *zero_point = static_cast<int32_t>(std::min(255.f, std::max(0.f, std::nearbyint(-lo / s))));
}

void dynamic_fully_connected(int32_t m, int32_t n, int32_t k, const float* input, const int8_t* weight,
                             const float* weight_scale, bool per_channel, const float* bias, float act_min,
                             float act_max, uint8_t* row, float* output) {
  assert(m >= 0 && n >= 0 && k >= 0);
  for (int32_t r = 0; r < m; ++r) {
    const float* x = input + static_cast<int64_t>(r) * k;
    float* out = output + static_cast<int64_t>(r) * n;
    float lo, hi;
    if (!internal::finite_range(static_cast<size_t>(k), x, 1, &lo, &hi)) {  // no quantization can hold the row
      dynamic_fc_row_double(n, k, x, weight, nullptr, false, weight_scale, per_channel, bias, act_min, act_max, out);
      continue;
    }
    float scale;
    int32_t zp;
    dynamic_uint8_params(lo, hi, &scale, &zp);
    for (int32_t i = 0; i < k; ++i) row[i] = static_cast<uint8_t>(quantize_value(x[i], scale, zp, 0, 255));
    dynamic_fc_row(n, k, row, scale, zp, weight, nullptr, false, weight_scale, per_channel, bias, act_min, act_max, out);
  }
}

namespace {

// ONNX DynamicQuantizeLinear of `count` values into q: false (q untouched, scale 1, zero
// point 0) when one of them is not finite.
bool quantize_tensor_u8(size_t count, const float* input, uint8_t* q, float* scale, int32_t* zp) {
  float lo, hi;
  *scale = 1.f;
  *zp = 0;
  if (!internal::finite_range(count, input, 1, &lo, &hi)) return false;
  dynamic_uint8_params(lo, hi, scale, zp);
  for (size_t i = 0; i < count; ++i) q[i] = static_cast<uint8_t>(quantize_value(input[i], *scale, *zp, 0, 255));
  return true;
}

}  // namespace

void dynamic_fully_connected_per_tensor(int32_t m, int32_t n, int32_t k, const float* input, const int8_t* weight,
                                        const int32_t* weight_zero_point, bool zero_point_per_channel,
                                        const float* weight_scale, bool per_channel, const float* bias, float act_min,
                                        float act_max, uint8_t* q, float* output) {
  assert(m >= 0 && n >= 0 && k >= 0);
  float scale;
  int32_t zp;
  const bool finite = quantize_tensor_u8(static_cast<size_t>(m) * static_cast<size_t>(k), input, q, &scale, &zp);
  for (int32_t r = 0; r < m; ++r) {
    float* out = output + static_cast<int64_t>(r) * n;
    if (finite) {
      dynamic_fc_row(n, k, q + static_cast<int64_t>(r) * k, scale, zp, weight, weight_zero_point,
                     zero_point_per_channel, weight_scale, per_channel, bias, act_min, act_max, out);
    } else {
      dynamic_fc_row_double(n, k, input + static_cast<int64_t>(r) * k, weight, weight_zero_point,
                            zero_point_per_channel, weight_scale, per_channel, bias, act_min, act_max, out);
    }
  }
}

void dynamic_conv2d(const ConvShape& s, const float* input, const int8_t* weight, const int32_t* weight_zero_point,
                    bool zero_point_per_channel, const float* weight_scale, bool per_channel, const float* bias,
                    float act_min, float act_max, uint8_t* q, float* output) {
  float scale;
  int32_t zp;
  const bool finite =
      quantize_tensor_u8(static_cast<size_t>(s.batch) * s.in_h * s.in_w * s.in_c, input, q, &scale, &zp);
  const int32_t cg = s.in_c / s.groups, og = s.out_c / s.groups;
  for (int32_t b = 0; b < s.batch; ++b)
    for (int32_t oy = 0; oy < s.out_h; ++oy)
      for (int32_t ox = 0; ox < s.out_w; ++ox)
        for (int32_t c = 0; c < s.out_c; ++c) {
          const int32_t g = c / og;
          const int8_t* w = weight + static_cast<int64_t>(c) * s.kernel_h * s.kernel_w * cg;
          uint32_t acc = 0;  // wraps modulo 2^32
          double sum = 0.0;
          const double ws = weight_scale[per_channel ? c : 0];
          const int32_t wz = zero_point_of(weight_zero_point, zero_point_per_channel, c);
          for (int32_t ky = 0; ky < s.kernel_h; ++ky) {
            const int32_t iy = oy * s.stride_h - s.pad_top + ky * s.dilation_h;
            for (int32_t kx = 0; kx < s.kernel_w; ++kx) {
              const int32_t ix = ox * s.stride_w - s.pad_left + kx * s.dilation_w;
              if (iy < 0 || iy >= s.in_h || ix < 0 || ix >= s.in_w) continue;
              const int64_t at = ((static_cast<int64_t>(b) * s.in_h + iy) * s.in_w + ix) * s.in_c + g * cg;
              const int8_t* wk = w + (static_cast<int64_t>(ky) * s.kernel_w + kx) * cg;
              for (int32_t i = 0; i < cg; ++i) {
                if (finite)
                  acc += static_cast<uint32_t>((static_cast<int32_t>(q[at + i]) - zp) * (static_cast<int32_t>(wk[i]) - wz));
                else
                  sum += static_cast<double>(input[at + i]) * (static_cast<double>(wk[i] - wz) * ws);
              }
            }
          }
          float y = finite ? static_cast<float>(static_cast<int32_t>(acc)) * (scale * weight_scale[per_channel ? c : 0])
                           : static_cast<float>(sum);
          if (bias) y += bias[c];
          output[((static_cast<int64_t>(b) * s.out_h + oy) * s.out_w + ox) * s.out_c + c] =
              internal::clamp_f32(y, act_min, act_max);
        }
}

template void qconv2d<int8_t>(const ConvShape&, const int8_t*, int32_t, const int8_t*,
                              const int32_t*, bool, const int32_t*, const Requant&, int8_t*);
template void qconv2d<uint8_t>(const ConvShape&, const uint8_t*, int32_t, const int8_t*,
                               const int32_t*, bool, const int32_t*, const Requant&, uint8_t*);
template void qfully_connected<int8_t>(int32_t, int32_t, int32_t, const int8_t*, int32_t,
                                       const int8_t*, const int32_t*, bool, const int32_t*,
                                       const Requant&, int8_t*);
template void qfully_connected<uint8_t>(int32_t, int32_t, int32_t, const uint8_t*, int32_t,
                                        const int8_t*, const int32_t*, bool, const int32_t*,
                                        const Requant&, uint8_t*);

}  // namespace ref
}  // namespace edgeq
