// Reference pooling kernels (max, average, global average), float and quantized.
//
// A window's taps are (oh * stride_h - pad_top + kh * dilation_h, likewise for w);
// taps outside the image are padding. Max pool ignores padding. Average pool sums
// the in-image taps and divides by the count: the number of in-image taps, or
// kernel_h * kernel_w when count_include_pad (padding then counts as zeros).
//
// Float max pool propagates NaN: a window with a NaN tap gives NaN (IEEE 754
// maximum(), as PyTorch's max pool; ONNX Runtime's skips NaN taps), so a NaN input
// reaches every output that depends on it (include/edgeq/edgeq.h, "NaN and
// infinities"). Windows without any in-image tap (possible
// only with dilation or padding at least as large as the kernel): max pool yields
// the type's lowest value (float: -FLT_MAX, as ONNX Runtime), then the usual clamp
// or requantization; average pool with a zero count yields the real value 0.
//
// Quantized average, exactly: with acc = sum over in-image taps of (q - z_in) (an
// exact int32) and the float scale s = s_in / (s_out * float(count)),
//   y = requantize_fp32(acc, s, z_out, qmin, qmax) = round_half_even(float(acc) * s) + z_out
// saturated to [qmin, qmax]. Quantized max: the window maximum m is mapped like
// requantize_tensor(): quantize_value(s_in * float(m - z_in), s_out, z_out, qmin, qmax);
// when the input and output scale and zero point are equal this is exactly
// clamp(m, qmin, qmax), which the kernel uses directly.
#include <cassert>
#include <cmath>
#include <cstdint>
#include <limits>

#include "kernels/ref/internal.h"
#include "kernels/ref/ref.h"

namespace edgeq {
namespace ref {

namespace {

void assert_pool_shape(const PoolShape& s) {
  assert(s.batch >= 0 && s.in_h >= 0 && s.in_w >= 0 && s.channels >= 0);
  assert(s.out_h >= 0 && s.out_w >= 0 && s.kernel_h >= 1 && s.kernel_w >= 1);
  assert(s.stride_h >= 1 && s.stride_w >= 1 && s.dilation_h >= 1 && s.dilation_w >= 1);
  (void)s;
}

// Calls fn(out_offset, window) for every output element in NHWC order, where
// window(tap) calls tap(input_offset) for each in-image tap of that element's
// window and returns how many there were.
template <typename Fn>
void for_each_window(const PoolShape& s, const Fn& fn) {
  for (int32_t n = 0; n < s.batch; ++n) {
    for (int32_t oh = 0; oh < s.out_h; ++oh) {
      for (int32_t ow = 0; ow < s.out_w; ++ow) {
        for (int32_t c = 0; c < s.channels; ++c) {
          const int64_t out_offset =
              ((static_cast<int64_t>(n) * s.out_h + oh) * s.out_w + ow) * s.channels + c;
          auto window = [&](auto&& tap) {
            int32_t count = 0;
            for (int32_t kh = 0; kh < s.kernel_h; ++kh) {
              const int64_t ih = static_cast<int64_t>(oh) * s.stride_h - s.pad_top +
                                 static_cast<int64_t>(kh) * s.dilation_h;
              if (ih < 0 || ih >= s.in_h) continue;
              for (int32_t kw = 0; kw < s.kernel_w; ++kw) {
                const int64_t iw = static_cast<int64_t>(ow) * s.stride_w - s.pad_left +
                                   static_cast<int64_t>(kw) * s.dilation_w;
                if (iw < 0 || iw >= s.in_w) continue;
                tap(((static_cast<int64_t>(n) * s.in_h + ih) * s.in_w + iw) * s.channels + c);
                ++count;
              }
            }
            return count;
          };
          fn(out_offset, window);
        }
      }
    }
  }
}

int32_t average_count(const PoolShape& s, int32_t valid_taps) {
  return s.count_include_pad ? s.kernel_h * s.kernel_w : valid_taps;
}

// The quantized average of `count` values whose centred sum is acc (see top).
int32_t quantized_average(int32_t acc, int32_t count, const PoolQParams& p) {
  if (count == 0) return internal::clamp_i64(p.out_zero_point, p.qmin, p.qmax);
  const float divisor = p.out_scale * static_cast<float>(count);
  const float scale = p.in_scale / divisor;
  return requantize_fp32(acc, scale, p.out_zero_point, p.qmin, p.qmax);
}

// The average pool's last step: y = clamp(round_half_even(sum / cnt / s_out + z_out)).
int32_t float_average_to_quantized(float sum, int32_t count, const PoolQParams& p) {
  if (count == 0) return internal::clamp_i64(p.out_zero_point, p.qmin, p.qmax);
  const float avg = sum / static_cast<float>(count);
  const float v = avg / p.out_scale + static_cast<float>(p.out_zero_point);
  if (std::isnan(v)) return internal::clamp_i64(p.out_zero_point, p.qmin, p.qmax);
  const float bounded = std::min(std::max(v, -1e9f), 1e9f);  // no UB in the conversion
  return internal::clamp_i64(static_cast<int64_t>(std::nearbyint(bounded)), p.qmin, p.qmax);
}

}  // namespace

void maxpool_f32(const PoolShape& s, const float* in, float act_min, float act_max, float* out) {
  assert_pool_shape(s);
  for_each_window(s, [&](int64_t o, const auto& window) {
    float m = -std::numeric_limits<float>::infinity();
    const int32_t valid = window([&](int64_t i) {
      if (in[i] > m || std::isnan(in[i])) m = in[i];  // once m is NaN, nothing compares greater
    });
    if (valid == 0) m = std::numeric_limits<float>::lowest();
    out[o] = internal::clamp_f32(m, act_min, act_max);
  });
}

void avgpool_f32(const PoolShape& s, const float* in, float act_min, float act_max, float* out) {
  assert_pool_shape(s);
  for_each_window(s, [&](int64_t o, const auto& window) {
    double sum = 0.0;
    const int32_t count = average_count(s, window([&](int64_t i) { sum += in[i]; }));
    const float avg = count == 0 ? 0.f : static_cast<float>(sum / count);
    out[o] = internal::clamp_f32(avg, act_min, act_max);
  });
}

template <typename T>
void qmaxpool(const PoolShape& s, const T* in, const PoolQParams& p, T* out) {
  assert_pool_shape(s);
  internal::assert_range<T>(p.qmin, p.qmax);
  const bool same_params = p.in_scale == p.out_scale && p.in_zero_point == p.out_zero_point;
  for_each_window(s, [&](int64_t o, const auto& window) {
    int32_t m = internal::type_min<T>();
    window([&](int64_t i) {
      if (in[i] > m) m = in[i];
    });
    int32_t y;
    if (same_params) {
      y = internal::clamp_i64(m, p.qmin, p.qmax);
    } else {
      const float real = p.in_scale * static_cast<float>(static_cast<int64_t>(m) - p.in_zero_point);
      y = quantize_value(real, p.out_scale, p.out_zero_point, p.qmin, p.qmax);
    }
    out[o] = static_cast<T>(y);
  });
}

template <typename T>
void qavgpool(const PoolShape& s, const T* in, const PoolQParams& p, T* out) {
  assert_pool_shape(s);
  internal::assert_range<T>(p.qmin, p.qmax);
  for_each_window(s, [&](int64_t o, const auto& window) {
    float sum = 0.f;  // float, taps in window order (see ref.h)
    const int32_t valid = window([&](int64_t i) {
      sum += p.in_scale * static_cast<float>(static_cast<int32_t>(in[i]) - p.in_zero_point);
    });
    out[o] = static_cast<T>(float_average_to_quantized(sum, average_count(s, valid), p));
  });
}

void global_avgpool_f32(int32_t batch, int32_t hw, int32_t channels, const float* in, float act_min,
                        float act_max, float* out) {
  assert(batch >= 0 && hw >= 0 && channels >= 0);
  for (int32_t n = 0; n < batch; ++n) {
    for (int32_t c = 0; c < channels; ++c) {
      double sum = 0.0;
      for (int32_t i = 0; i < hw; ++i) {
        sum += in[(static_cast<int64_t>(n) * hw + i) * channels + c];
      }
      const float avg = hw == 0 ? 0.f : static_cast<float>(sum / hw);
      out[static_cast<int64_t>(n) * channels + c] = internal::clamp_f32(avg, act_min, act_max);
    }
  }
}

template <typename T>
void qglobal_avgpool(int32_t batch, int32_t hw, int32_t channels, const T* in, const PoolQParams& p,
                     T* out) {
  assert(batch >= 0 && hw >= 0 && channels >= 0);
  internal::assert_range<T>(p.qmin, p.qmax);
  for (int32_t n = 0; n < batch; ++n) {
    for (int32_t c = 0; c < channels; ++c) {
      int64_t acc = 0;
      for (int32_t i = 0; i < hw; ++i) {
        acc += static_cast<int64_t>(in[(static_cast<int64_t>(n) * hw + i) * channels + c]) -
               p.in_zero_point;
      }
      out[static_cast<int64_t>(n) * channels + c] =
          static_cast<T>(quantized_average(internal::saturate_i32(acc), hw, p));
    }
  }
}

template void qmaxpool<int8_t>(const PoolShape&, const int8_t*, const PoolQParams&, int8_t*);
template void qmaxpool<uint8_t>(const PoolShape&, const uint8_t*, const PoolQParams&, uint8_t*);
template void qavgpool<int8_t>(const PoolShape&, const int8_t*, const PoolQParams&, int8_t*);
template void qavgpool<uint8_t>(const PoolShape&, const uint8_t*, const PoolQParams&, uint8_t*);
template void qglobal_avgpool<int8_t>(int32_t, int32_t, int32_t, const int8_t*, const PoolQParams&,
                                      int8_t*);
template void qglobal_avgpool<uint8_t>(int32_t, int32_t, int32_t, const uint8_t*,
                                       const PoolQParams&, uint8_t*);

}  // namespace ref
}  // namespace edgeq
