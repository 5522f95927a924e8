// Loop helpers shared by the SIMD row-normalization kernels (kernels/x86/norm_avx2.cc,
// kernels/arm/norm_neon.cc); plain C++, compiled with each includer's flags.
//  * blocks_of_8: runs a vector body on each block of 8 elements of a row, the last
//    partial block through 8-element buffers, so tails take the same vector code.
//  * fold_lanes16: the reference layer norm's 16 float summation lanes (ref.h), given
//    as stored vectors plus the elements past the last whole block of 16, folded by
//    halves into one sum exactly as kernels/ref/norm.cc does.
//  * qlayer_norm_rows, layer_norm_f32_rows: the layer norms around an ISA's vector steps.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/ref/ref.h"

namespace edgeq {
namespace kern {

template <typename T, typename Body>
inline void blocks_of_8(int32_t n, const T* in, T* out, T pad, const Body& body) {
  int32_t j = 0;
  for (; j + 8 <= n; j += 8) body(in + j, out + j, j);
  if (j < n) {
    T x[8], y[8];
    std::fill(x, x + 8, pad);
    std::memcpy(x, in + j, static_cast<size_t>(n - j) * sizeof(T));
    body(x, y, j);
    std::memcpy(out + j, y, static_cast<size_t>(n - j) * sizeof(T));
  }
}

// lane: the 16 lane sums of the whole blocks; rest: the rest_count (< 16) terms after them.
inline float fold_lanes16(float lane[16], const float* rest, int32_t rest_count) {
  for (int32_t i = 0; i < rest_count; ++i) lane[i] += rest[i];
  for (int width = 8; width >= 1; width /= 2) {
    for (int l = 0; l < width; ++l) lane[l] += lane[l + width];
  }
  return lane[0];
}

// The quantized layer norm (ref::qlayer_norm) of `rows` rows around an ISA's steps, V for
// elements of type T: V::sums(x, body, &sum, &sum_squares) over the first `body` (a
// multiple of 16) elements; V::Row V::row(channels, p, multiplier, sum), the row's vector
// constants; V::out8(row, x, g, b, y), 8 outputs. The last partial block of 8 reads
// padded copies of g and b (its padded lanes are discarded).
template <typename T, typename V>
void qlayer_norm_rows(int64_t rows, int32_t channels, const T* in, const ref::QLayerNormParams& p, T* out) {
  const int32_t body = channels & ~15, tail_start = channels & ~7;
  float g_tail[8] = {}, b_tail[8] = {};
  std::copy(p.gamma + tail_start, p.gamma + channels, g_tail);
  std::copy(p.beta + tail_start, p.beta + channels, b_tail);
  for (int64_t r = 0; r < rows; ++r) {
    const T* x = in + r * channels;
    int64_t sum = 0, sum_squares = 0;
    V::sums(x, body, &sum, &sum_squares);
    for (int32_t c = body; c < channels; ++c) {
      sum += x[c];
      sum_squares += static_cast<int32_t>(x[c]) * x[c];
    }
    const float m = ref::qlayer_norm_row_multiplier(channels, sum, sum_squares, p.in_scale, p.epsilon);
    const typename V::Row row = V::row(channels, p, m, static_cast<int32_t>(sum));
    blocks_of_8<T>(channels, x, out + r * channels, T(0), [&](const T* xb, T* yb, int32_t j) {
      const bool tail = j == tail_start;
      V::out8(row, xb, tail ? g_tail : p.gamma + j, tail ? b_tail : p.beta + j, yb);
    });
  }
}

// The float layer norm (ref::layer_norm_f32) of `rows` rows on an ISA's 16-lane vectors:
// V::Acc holds the 16 lane sums; V::zero(), V::add(acc, x) (16 elements into their lanes),
// V::add_squares(acc, x, mean) ((x - mean)^2 likewise), V::store(acc, lane[16]), and
// V::normalize(x, channels, mean, rstd, gamma, beta, y): ((x - mean) * rstd) * gamma + beta
// over whole vectors from 0, returning the count done; the rest is done here.
// Rows go in batches of 4, each step for the whole batch before the next: the rows'
// reductions (mean, variance) are independent, so their latencies overlap instead of
// stalling each row in turn. Each row's arithmetic is unchanged.
template <typename V>
void layer_norm_f32_rows(int64_t rows, int32_t channels, const float* in, const float* gamma, const float* beta,
                         float epsilon, float* out) {
  constexpr int64_t kBatch = 4;
  const int32_t body = channels & ~15;
  const float count = static_cast<float>(channels);
  alignas(64) float lane[16];
  float rest[16];
  for (int64_t r0 = 0; r0 < rows; r0 += kBatch) {
    const int batch = static_cast<int>(std::min(kBatch, rows - r0));
    float mean[kBatch], rstd[kBatch];
    for (int b = 0; b < batch; ++b) {
      const float* x = in + (r0 + b) * channels;
      typename V::Acc acc = V::zero();
      for (int32_t c = 0; c < body; c += 16) V::add(acc, x + c);
      V::store(acc, lane);
      mean[b] = fold_lanes16(lane, x + body, channels - body) / count;
    }
    for (int b = 0; b < batch; ++b) {
      const float* x = in + (r0 + b) * channels;
      typename V::Acc acc = V::zero();
      for (int32_t c = 0; c < body; c += 16) V::add_squares(acc, x + c, mean[b]);
      for (int32_t c = body; c < channels; ++c) {
        const float d = x[c] - mean[b];
        rest[c - body] = d * d;
      }
      V::store(acc, lane);
      const float var = fold_lanes16(lane, rest, channels - body) / count;
      rstd[b] = static_cast<float>(1.0 / std::sqrt(static_cast<double>(var) + static_cast<double>(epsilon)));
    }
    for (int b = 0; b < batch; ++b) {
      const float* x = in + (r0 + b) * channels;
      float* y = out + (r0 + b) * channels;
      for (int32_t c = V::normalize(x, channels, mean[b], rstd[b], gamma, beta, y); c < channels; ++c) {
        y[c] = ((x[c] - mean[b]) * rstd[b]) * gamma[c] + (beta != nullptr ? beta[c] : 0.f);
      }
    }
  }
}

}  // namespace kern
}  // namespace edgeq
