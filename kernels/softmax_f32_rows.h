// Float softmax over contiguous rows (kernels/misc.h, SoftmaxF32RowsFn), written once over
// an ISA's vector type; kernels/x86/softmax_f32_avx2.cc and softmax_f32_avx512.cc
// instantiate it. It agrees with ref::softmax_f32 within the tolerance
// test/softmax_test.cc checks (not bit for bit: the reference works in double).
//
// Per row, three passes over data that stays in L1 (rows in small batches, each pass
// over the batch: see softmax_f32_rows):
//  1. m = the row's maximum. A NaN element is skipped, as the reference's `v > max` does
//     (V::max_skip_nan).
//  2. e_j = exp(x_j - m), stored in the output, summed in V::kWidth float lanes; every
//     kBlock elements the lanes are added into a double, so the sum's rounding error
//     stays below about kBlock / kWidth float roundings however long the row.
//  3. y_j = e_j * (1 / sum), the reciprocal computed in double and rounded once.
// The last partial vector of a row is read with -inf in the lanes past its end (exp
// gives 0 there) and written back partially (V::load_tail / V::store_tail).
//
// exp(t) for t = x - m <= 0: n = round(t / ln 2), r = t - n ln 2 (with FMA: ln 2 in two
// parts), e^r by a polynomial of degree 5 (1 + r + ..., coefficients fitted to the
// relative error on |r| <= ln 2 / 2 and rounded to float: 1.5e-7 relative, e^0 = 1
// exactly), times 2^n (V::times_pow2). t is clamped to ln(2^-126)
// first, so 2^n is a normal float, and t below that gives 0 (the reference's results
// there are below FLT_MIN: an absolute error under 1.2e-38). The largest error is not
// the polynomial's but t's own rounding (the reference subtracts in double): |t| 2^-24
// relative, at most 5.2e-6 where the result is not 0.
//
// Non-finite inputs give what the reference gives: a NaN anywhere in the row, an +inf
// (inf - inf), or a row that is all -inf (-inf - -inf) make some t NaN, exp passes NaN
// through (the clamp keeps it, the comparison with the cut-off is false for it), the
// sum is NaN and so is every output of the row; -inf elements of a row with a finite
// maximum give 0.
//
// V gives: F (V::kWidth floats), set, load, store, load_tail(p, count, fill) and
// store_tail(p, count, v) for the first count < kWidth lanes, add, sub, mul, fma(a, b, c)
// = a * b + c, max(a, b) (returns b when b is NaN), max_skip_nan(acc, x) (acc when x is
// NaN), lt(a, b), select(mask, a, b), round (to nearest integer), times_pow2(p, n)
// (p 2^n for an integer-valued n in [-126, 0]), reduce_max, reduce_add.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>

namespace edgeq {
namespace kern {
namespace softmax_f32 {

constexpr float kExpCutoff = -87.336544f;  // about ln(2^-126): round(t / ln 2) >= -126 from here up
constexpr int32_t kBlock = 1024;           // elements summed in float lanes before the double

// e^t for t <= 0 (or NaN), as the file comment says.
template <typename V>
inline typename V::F exp_nonpositive(typename V::F t) {
  using F = typename V::F;
  const F c = V::max(V::set(kExpCutoff), t);  // NaN stays NaN
  const F n = V::round(V::mul(c, V::set(1.44269504f)));
  F r = V::fma(n, V::set(-0.693145751953125f), c);  // 0.693145751953125: ln 2 with 16 bits, n * it exact
  r = V::fma(n, V::set(-1.42860682e-6f), r);        // ln 2 - 0.693145751953125
  F p = V::set(0.00829031505f);
  p = V::fma(p, r, V::set(0.0418979302f));
  p = V::fma(p, r, V::set(0.166676357f));
  p = V::fma(p, r, V::set(0.499991506f));
  p = V::fma(p, r, V::set(0.999999702f));
  p = V::fma(p, r, V::set(1.f));
  return V::select(V::lt(t, V::set(kExpCutoff)), V::set(0.f), V::times_pow2(p, n));
}

// The maximum of row x (two accumulators).
template <typename V>
float row_max(const float* x, int32_t n, int32_t body) {
  using F = typename V::F;
  constexpr int32_t w = static_cast<int32_t>(V::kWidth);
  const float neg_inf = -std::numeric_limits<float>::infinity();
  F m0 = V::set(neg_inf), m1 = m0;
  int32_t j = 0;
  for (; j + 2 * w <= body; j += 2 * w) {
    m0 = V::max_skip_nan(m0, V::load(x + j));
    m1 = V::max_skip_nan(m1, V::load(x + j + w));
  }
  if (j < body) m0 = V::max_skip_nan(m0, V::load(x + j));
  if (body < n) m1 = V::max_skip_nan(m1, V::load_tail(x + body, n - body, neg_inf));
  return V::reduce_max(V::max_skip_nan(m0, m1));
}

// Stores e_j = exp(x_j - m) in y; returns their sum.
template <typename V>
double row_exp(const float* x, int32_t n, int32_t body, float m, float* y) {
  using F = typename V::F;
  constexpr int32_t w = static_cast<int32_t>(V::kWidth);
  const F vmax = V::set(m);
  double sum = 0.0;
  for (int32_t j = 0; j < body;) {
    F acc = V::set(0.f);
    for (const int32_t end = std::min(body, j + kBlock); j < end; j += w) {
      const F e = exp_nonpositive<V>(V::sub(V::load(x + j), vmax));
      V::store(y + j, e);
      acc = V::add(acc, e);
    }
    sum += static_cast<double>(V::reduce_add(acc));
  }
  if (body < n) {
    const F e = exp_nonpositive<V>(V::sub(V::load_tail(x + body, n - body, -std::numeric_limits<float>::infinity()), vmax));
    V::store_tail(y + body, n - body, e);
    sum += static_cast<double>(V::reduce_add(e));
  }
  return sum;
}

// Rows in batches of kBatch, each pass for the whole batch before the next: the rows'
// chains (maximum, sum) are independent, so short rows overlap instead of waiting on
// one another's reductions.
template <typename V>
void softmax_f32_rows(int64_t rows, int32_t n, const float* in, float* out) {
  constexpr int32_t w = static_cast<int32_t>(V::kWidth);
  constexpr int64_t kBatch = 4;
  const int32_t body = n - n % w;
  for (int64_t r0 = 0; r0 < rows; r0 += kBatch) {
    const int count = static_cast<int>(std::min(kBatch, rows - r0));
    const float* x = in + r0 * n;
    float* y = out + r0 * n;
    float m[kBatch];
    double sum[kBatch];
    for (int i = 0; i < count; ++i) m[i] = row_max<V>(x + i * n, n, body);
    for (int i = 0; i < count; ++i) sum[i] = row_exp<V>(x + i * n, n, body, m[i], y + i * n);
    for (int i = 0; i < count; ++i) {
      float* yr = y + i * n;
      const typename V::F scale = V::set(static_cast<float>(1.0 / sum[i]));
      for (int32_t j = 0; j < body; j += w) V::store(yr + j, V::mul(V::load(yr + j), scale));
      if (body < n) V::store_tail(yr + body, n - body, V::mul(V::load_tail(yr + body, n - body, 0.f), scale));
    }
  }
}

// Softmax along a middle axis: in [outer][count][stride] with stride > 1 (YOLOv8's
// distribution head, softmax over 16 bins of [1, 16, 4, anchors]), for the `columns`
// columns starting at in / out (a range of them, so that threads can split a slice). The same three passes,
// V::kWidth neighbouring columns at a time (each lane a column's softmax): the maximum
// down the column, exp(x - m) stored and summed in float lanes, flushed into a double per
// lane every kBlock elements, then each lane scaled by 1 / sum computed in double and
// rounded once. The last columns of a slice are read with -inf past the end and written
// partially.
template <typename V>
void softmax_f32_columns(int64_t outer, int32_t count, int32_t columns, int64_t stride, const float* in, float* out) {
  using F = typename V::F;
  constexpr int32_t w = static_cast<int32_t>(V::kWidth);
  const float neg_inf = -std::numeric_limits<float>::infinity();
  const size_t inner = static_cast<size_t>(stride), plane = static_cast<size_t>(count) * inner;
  for (int64_t o = 0; o < outer; ++o) {
    const float* x = in + static_cast<size_t>(o) * plane;
    float* y = out + static_cast<size_t>(o) * plane;
    for (int32_t i = 0; i < columns; i += w) {
      const int32_t lanes = std::min(w, columns - i);
      const auto load = [&](const float* p, float fill) { return lanes == w ? V::load(p) : V::load_tail(p, lanes, fill); };
      const auto store = [&](float* p, F v) {
        if (lanes == w) V::store(p, v);
        else V::store_tail(p, lanes, v);
      };
      F m = V::set(neg_inf);
      for (int32_t k = 0; k < count; ++k) m = V::max_skip_nan(m, load(x + static_cast<size_t>(k) * inner + i, neg_inf));
      double sum[w] = {};
      const auto flush = [&](F acc) {
        alignas(64) float lane[w];
        V::store(lane, acc);
        for (int32_t l = 0; l < w; ++l) sum[l] += static_cast<double>(lane[l]);
      };
      for (int32_t k = 0; k < count;) {
        F acc = V::set(0.f);
        for (const int32_t end = std::min(count, k + kBlock); k < end; ++k) {
          const size_t at = static_cast<size_t>(k) * inner + i;
          const F e = exp_nonpositive<V>(V::sub(load(x + at, neg_inf), m));
          store(y + at, e);
          acc = V::add(acc, e);
        }
        flush(acc);
      }
      alignas(64) float inv[w];
      for (int32_t l = 0; l < w; ++l) inv[l] = static_cast<float>(1.0 / sum[l]);
      const F scale = V::load(inv);
      for (int32_t k = 0; k < count; ++k) {
        float* p = y + static_cast<size_t>(k) * inner + i;
        store(p, V::mul(load(p, 0.f), scale));
      }
    }
  }
}

}  // namespace softmax_f32
}  // namespace kern
}  // namespace edgeq
