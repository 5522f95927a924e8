// Reference row normalizations: quantized softmax (a 256-entry integer table of
// exponentials and exact integer sums) and layer normalization (float with a fixed
// 16-lane summation order; quantized with exact integer statistics and a per-row float
// multiplier). The numerics, which the optimized kernels reproduce bit for bit, are
// spelled out in kernels/ref/ref.h.
#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdint>

#include "kernels/ref/internal.h"
#include "kernels/ref/ref.h"

namespace edgeq {
namespace ref {
namespace {

// y = clamp(nearbyint(min(float(e) * r, 65536)) + zero_point, type range).
template <typename T>
T softmax_output(uint32_t e, float r, int32_t zero_point) {
  const float v = std::min(static_cast<float>(e) * r, 65536.f);
  const int32_t q = static_cast<int32_t>(std::nearbyint(v)) + zero_point;
  return static_cast<T>(internal::clamp_i64(q, internal::type_min<T>(), internal::type_max<T>()));
}

// Softmax over one slice of n elements at in[j * stride].
template <typename T>
void qsoftmax_slice(int32_t n, int64_t stride, const T* in, const uint32_t table[256], float out_scale,
                    int32_t out_zero_point, T* out) {
  int32_t max_q = internal::type_min<T>();
  for (int32_t j = 0; j < n; ++j) max_q = std::max<int32_t>(max_q, in[j * stride]);
  uint64_t sum = 0;
  for (int32_t j = 0; j < n; ++j) sum += table[max_q - in[j * stride]];
  const float r = qsoftmax_row_multiplier(sum, out_scale);
  for (int32_t j = 0; j < n; ++j) out[j * stride] = softmax_output<T>(table[max_q - in[j * stride]], r, out_zero_point);
}

constexpr int kLanes = 16;

// The 16 lanes folded by halves into lane 0.
float fold_lanes(float lane[kLanes]) {
  for (int width = kLanes / 2; width >= 1; width /= 2) {
    for (int l = 0; l < width; ++l) lane[l] += lane[l + width];
  }
  return lane[0];
}

}  // namespace

// ---------------------------------------------------------------- softmax

void qsoftmax_table(float in_scale, uint32_t table[256]) {
  const double one = static_cast<double>(1 << kSoftmaxTableBits);
  table[0] = 1u << kSoftmaxTableBits;
  for (int d = 1; d < 256; ++d) {
    const double e = std::exp(-static_cast<double>(in_scale) * d);  // in_scale > 0: e in [0, 1)
    table[d] = static_cast<uint32_t>(std::nearbyint(e * one));
  }
}

float qsoftmax_row_multiplier(uint64_t sum, float out_scale) {
  return static_cast<float>(1.0 / (static_cast<double>(sum) * static_cast<double>(out_scale)));
}

template <typename T>
void qsoftmax_rows(int64_t rows, int32_t row_size, const T* in, const uint32_t table[256], float out_scale,
                   int32_t out_zero_point, T* out) {
  for (int64_t r = 0; r < rows; ++r) {
    qsoftmax_slice(row_size, 1, in + r * row_size, table, out_scale, out_zero_point, out + r * row_size);
  }
}

template <typename T>
void qsoftmax(int64_t outer, int32_t axis_size, int64_t inner, const T* in, float in_scale,
              int32_t /*in_zero_point: cancels*/, float out_scale, int32_t out_zero_point, T* out) {
  uint32_t table[256];
  qsoftmax_table(in_scale, table);
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t k = 0; k < inner; ++k) {
      const int64_t base = o * axis_size * inner + k;
      qsoftmax_slice(axis_size, inner, in + base, table, out_scale, out_zero_point, out + base);
    }
  }
}

// ---------------------------------------------------------------- layer normalization

void layer_norm_f32(int64_t rows, int32_t channels, const float* in, const float* gamma, const float* beta,
                    float epsilon, float* out) {
  const float count = static_cast<float>(channels);
  for (int64_t r = 0; r < rows; ++r) {
    const float* x = in + r * channels;
    float* y = out + r * channels;
    float lane[kLanes] = {};
    for (int32_t c = 0; c < channels; ++c) lane[c % kLanes] += x[c];
    const float mean = fold_lanes(lane) / count;
    std::fill(lane, lane + kLanes, 0.f);
    for (int32_t c = 0; c < channels; ++c) {
      const float d = x[c] - mean;
      lane[c % kLanes] += d * d;
    }
    const float var = fold_lanes(lane) / count;
    const float rstd =
        static_cast<float>(1.0 / std::sqrt(static_cast<double>(var) + static_cast<double>(epsilon)));
    for (int32_t c = 0; c < channels; ++c) {
      y[c] = ((x[c] - mean) * rstd) * gamma[c] + (beta != nullptr ? beta[c] : 0.f);
    }
  }
}

void qlayer_norm_fold(int32_t channels, const float* gamma, const float* beta, float out_scale, float* g, float* b) {
  for (int32_t c = 0; c < channels; ++c) {
    g[c] = gamma[c] / out_scale;
    b[c] = beta != nullptr ? beta[c] / out_scale : 0.f;
  }
}

float qlayer_norm_row_multiplier(int32_t channels, int64_t sum, int64_t sum_squares, float in_scale, float epsilon) {
  const int64_t v = static_cast<int64_t>(channels) * sum_squares - sum * sum;
  if (v == 0) return 0.f;  // a constant row: every t_c is 0 (and s_x / sqrt(eps C^2) may not fit a float)
  const double s = static_cast<double>(in_scale), c = static_cast<double>(channels);
  const double root = std::sqrt(s * s * static_cast<double>(v) + static_cast<double>(epsilon) * c * c);
  return static_cast<float>(s / root);  // in (0, 1]: root >= s (V >= 1)
}

template <typename T>
void qlayer_norm(int64_t rows, int32_t channels, const T* in, const QLayerNormParams& p, T* out) {
  internal::assert_range<T>(p.qmin, p.qmax);
  assert(channels >= 1 && channels <= kQLayerNormMaxChannels);
  const float lo = static_cast<float>(p.qmin - p.out_zero_point), hi = static_cast<float>(p.qmax - p.out_zero_point);
  for (int64_t r = 0; r < rows; ++r) {
    const T* x = in + r * channels;
    T* y = out + r * channels;
    int64_t sum = 0, sum_squares = 0;
    for (int32_t c = 0; c < channels; ++c) {
      sum += x[c];
      sum_squares += static_cast<int64_t>(x[c]) * x[c];
    }
    const float m = qlayer_norm_row_multiplier(channels, sum, sum_squares, p.in_scale, p.epsilon);
    for (int32_t c = 0; c < channels; ++c) {
      const int32_t t = channels * static_cast<int32_t>(x[c]) - static_cast<int32_t>(sum);
      float w = (static_cast<float>(t) * m) * p.gamma[c] + p.beta[c];
      w = w > lo ? w : lo;  // (a NaN, which valid parameters never give, would become lo)
      w = w < hi ? w : hi;
      y[c] = static_cast<T>(static_cast<int32_t>(std::nearbyint(w)) + p.out_zero_point);
    }
  }
}

template void qsoftmax_rows<int8_t>(int64_t, int32_t, const int8_t*, const uint32_t[256], float, int32_t, int8_t*);
template void qsoftmax_rows<uint8_t>(int64_t, int32_t, const uint8_t*, const uint32_t[256], float, int32_t, uint8_t*);
template void qsoftmax<int8_t>(int64_t, int32_t, int64_t, const int8_t*, float, int32_t, float, int32_t, int8_t*);
template void qsoftmax<uint8_t>(int64_t, int32_t, int64_t, const uint8_t*, float, int32_t, float, int32_t, uint8_t*);
template void qlayer_norm<int8_t>(int64_t, int32_t, const int8_t*, const QLayerNormParams&, int8_t*);
template void qlayer_norm<uint8_t>(int64_t, int32_t, const uint8_t*, const QLayerNormParams&, uint8_t*);

}  // namespace ref
}  // namespace edgeq
