// Helpers for the reference-kernel tests: deliberately naive, independently written
// formulations of rounding and requantization (the tests' second opinion), and
// seeded random data.
//
// Nothing here calls into kernels/ref: each helper re-derives the math its own way
// (rounding by floor and comparison in double, gemmlowp's fixed-point formulas
// written as in the paper rather than as in the kernels) so that a shared mistake
// is unlikely.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace edgeq {
namespace ref {
namespace testing_util {

// Round half to even of a finite double, by floor and an explicit tie rule.
inline double naive_round_half_even(double v) {
  const double f = std::floor(v);
  const double frac = v - f;
  if (frac > 0.5) return f + 1.0;
  if (frac < 0.5) return f;
  return std::fmod(f, 2.0) == 0.0 ? f : f + 1.0;
}

// round_half_even(v) + zp clamped to [qmin, qmax]; NaN -> zp. All in double.
inline int32_t naive_round_add_clamp(float v, int32_t zp, int32_t qmin, int32_t qmax) {
  double r;
  if (std::isnan(v)) {
    r = zp;
  } else if (std::isinf(v)) {
    r = v > 0 ? 1e300 : -1e300;
  } else {
    r = naive_round_half_even(static_cast<double>(v)) + zp;
  }
  if (r < qmin) return qmin;
  if (r > qmax) return qmax;
  return static_cast<int32_t>(r);
}

inline int32_t naive_requant_fp32(int32_t acc, float scale, int32_t zp, int32_t qmin,
                                  int32_t qmax) {
  const float product = static_cast<float>(acc) * scale;
  return naive_round_add_clamp(product, zp, qmin, qmax);
}

inline int32_t naive_quantize(float x, float scale, int32_t zp, int32_t qmin, int32_t qmax) {
  const float quotient = x / scale;
  return naive_round_add_clamp(quotient, zp, qmin, qmax);
}

// gemmlowp's SaturatingRoundingDoublingHighMul, in its original nudge form.
inline int32_t gemmlowp_srdhm(int32_t a, int32_t b) {
  const bool overflow = a == b && a == std::numeric_limits<int32_t>::min();
  const int64_t ab = static_cast<int64_t>(a) * static_cast<int64_t>(b);
  const int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
  const int64_t high = (ab + nudge) / (int64_t{1} << 31);  // truncating division
  return overflow ? std::numeric_limits<int32_t>::max() : static_cast<int32_t>(high);
}

// gemmlowp's RoundingDivideByPOT, in its original mask/threshold form (0..31).
inline int32_t gemmlowp_rdbp(int32_t x, int exponent) {
  const int64_t mask = (int64_t{1} << exponent) - 1;
  const int64_t x64 = x;
  const int64_t remainder = x64 & mask;
  const int64_t threshold = (mask >> 1) + (x64 < 0 ? 1 : 0);
  const int64_t floor_q = (x64 - remainder) / (int64_t{1} << exponent);
  return static_cast<int32_t>(floor_q + (remainder > threshold ? 1 : 0));
}

// TFLite MultiplyByQuantizedMultiplier with the left shift saturating.
inline int32_t naive_mbqm(int32_t x, int32_t m, int32_t e) {
  int64_t shifted = x;
  for (int i = 0; i < e; ++i) {
    shifted *= 2;
    if (shifted > std::numeric_limits<int32_t>::max())
      shifted = std::numeric_limits<int32_t>::max();
    if (shifted < std::numeric_limits<int32_t>::min())
      shifted = std::numeric_limits<int32_t>::min();
  }
  const int32_t high = gemmlowp_srdhm(static_cast<int32_t>(shifted), m);
  return e >= 0 ? high : gemmlowp_rdbp(high, -e);
}

inline int32_t naive_requant_fixed(int32_t acc, int32_t m, int32_t e, int32_t zp, int32_t qmin,
                                   int32_t qmax) {
  const int64_t y = static_cast<int64_t>(naive_mbqm(acc, m, e)) + zp;
  return static_cast<int32_t>(y < qmin ? qmin : (y > qmax ? qmax : y));
}

// TFLite's QuantizeMultiplier, written from its description: multiplier in
// [2^30, 2^31) with real ~= multiplier * 2^(exponent - 31), found by scaling.
inline void naive_quantize_multiplier(double real, int32_t* m, int32_t* e) {
  int exp = 0;
  double q = real;
  while (q >= 1.0) {
    q /= 2.0;
    ++exp;
  }
  while (q < 0.5) {
    q *= 2.0;
    --exp;
  }
  double scaled = std::round(q * 2147483648.0);
  if (scaled == 2147483648.0) {
    scaled /= 2.0;
    ++exp;
  }
  if (exp < -31) {
    scaled = 0.0;
    exp = 0;
  }
  *m = static_cast<int32_t>(scaled);
  *e = exp;
}

template <typename T>
std::vector<T> random_ints(std::mt19937* rng, size_t n, int32_t lo, int32_t hi) {
  std::uniform_int_distribution<int32_t> dist(lo, hi);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(dist(*rng));
  return v;
}

inline std::vector<float> random_floats(std::mt19937* rng, size_t n, float lo, float hi) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(*rng);
  return v;
}

template <typename T>
constexpr int32_t tmin() {
  return static_cast<int32_t>(std::numeric_limits<T>::lowest());
}
template <typename T>
constexpr int32_t tmax() {
  return static_cast<int32_t>(std::numeric_limits<T>::max());
}

}  // namespace testing_util
}  // namespace ref
}  // namespace edgeq
