// Tests of the reference requantization primitives and quantize/dequantize kernels.
//
// Exact values where the arithmetic fixes them (ties, saturation, extreme scales and
// zero points, INT32 limits, NaN and infinities), and random sweeps against the
// naive formulations in ref_test_util.h.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "kernels/ref/ref.h"
#include "test/ref_test_util.h"

namespace edgeq {
namespace ref {
namespace {

using namespace testing_util;  // NOLINT(build/namespaces)

constexpr int32_t kI32Min = std::numeric_limits<int32_t>::min();
constexpr int32_t kI32Max = std::numeric_limits<int32_t>::max();
const float kInf = std::numeric_limits<float>::infinity();
const float kNaN = std::numeric_limits<float>::quiet_NaN();

// ---------------------------------------------------------------- fixed-point primitives

TEST(RefSrdhm, ExactValues) {
  EXPECT_EQ(saturating_rounding_doubling_high_mul(kI32Min, kI32Min), kI32Max);
  EXPECT_EQ(saturating_rounding_doubling_high_mul(kI32Max, kI32Max), kI32Max - 1);
  EXPECT_EQ(saturating_rounding_doubling_high_mul(kI32Min, kI32Max), -kI32Max);
  EXPECT_EQ(saturating_rounding_doubling_high_mul(kI32Max, kI32Min), -kI32Max);
  EXPECT_EQ(saturating_rounding_doubling_high_mul(0, kI32Min), 0);
  EXPECT_EQ(saturating_rounding_doubling_high_mul(1 << 30, 1 << 30), 1 << 29);
  // Ties (a*b/2^31 = k + 0.5) round toward +infinity in gemmlowp's formula.
  EXPECT_EQ(saturating_rounding_doubling_high_mul(1, 1 << 30), 1);    // 0.5 -> 1
  EXPECT_EQ(saturating_rounding_doubling_high_mul(-1, 1 << 30), 0);   // -0.5 -> 0
  EXPECT_EQ(saturating_rounding_doubling_high_mul(3, 1 << 30), 2);    // 1.5 -> 2
  EXPECT_EQ(saturating_rounding_doubling_high_mul(-3, 1 << 30), -1);  // -1.5 -> -1
  EXPECT_EQ(saturating_rounding_doubling_high_mul(5, 1 << 30), 3);    // 2.5 -> 3
  EXPECT_EQ(saturating_rounding_doubling_high_mul(-5, 1 << 30), -2);  // -2.5 -> -2
  // Non-ties round to nearest.
  EXPECT_EQ(saturating_rounding_doubling_high_mul(-3, 3 << 28), -1);  // -1.125
  EXPECT_EQ(saturating_rounding_doubling_high_mul(7, 3 << 28), 3);    // 2.625
}

TEST(RefSrdhm, MatchesGemmlowpFormula) {
  std::mt19937 rng(1);
  std::uniform_int_distribution<int32_t> any(kI32Min, kI32Max);
  std::uniform_int_distribution<int32_t> small(-70000, 70000);
  const int32_t specials[] = {kI32Min, kI32Min + 1, -(1 << 30),  -1,     0,
                              1,       1 << 30,     kI32Max - 1, kI32Max};
  for (int32_t a : specials) {
    for (int32_t b : specials) {
      ASSERT_EQ(saturating_rounding_doubling_high_mul(a, b), gemmlowp_srdhm(a, b)) << a << " " << b;
    }
  }
  for (int i = 0; i < 200000; ++i) {
    const int32_t a = i % 2 ? any(rng) : small(rng);
    const int32_t b = any(rng);
    ASSERT_EQ(saturating_rounding_doubling_high_mul(a, b), gemmlowp_srdhm(a, b)) << a << " " << b;
  }
}

TEST(RefRdbp, ExactValues) {
  EXPECT_EQ(rounding_divide_by_pot(5, 0), 5);
  EXPECT_EQ(rounding_divide_by_pot(5, 1), 3);    // 2.5 -> 3 (away from zero)
  EXPECT_EQ(rounding_divide_by_pot(-5, 1), -3);  // -2.5 -> -3
  EXPECT_EQ(rounding_divide_by_pot(3, 1), 2);
  EXPECT_EQ(rounding_divide_by_pot(-3, 1), -2);
  EXPECT_EQ(rounding_divide_by_pot(-1, 1), -1);
  EXPECT_EQ(rounding_divide_by_pot(1, 1), 1);
  EXPECT_EQ(rounding_divide_by_pot(5, 2), 1);  // 1.25
  EXPECT_EQ(rounding_divide_by_pot(6, 2), 2);  // 1.5
  EXPECT_EQ(rounding_divide_by_pot(-6, 2), -2);
  EXPECT_EQ(rounding_divide_by_pot(-7, 2), -2);  // -1.75
  EXPECT_EQ(rounding_divide_by_pot(kI32Max, 31), 1);
  EXPECT_EQ(rounding_divide_by_pot(kI32Min, 31), -1);
  EXPECT_EQ(rounding_divide_by_pot(kI32Min, 32), -1);  // -0.5 -> -1
  EXPECT_EQ(rounding_divide_by_pot(kI32Max, 32), 0);
  EXPECT_EQ(rounding_divide_by_pot(kI32Min, 33), 0);
  EXPECT_EQ(rounding_divide_by_pot(kI32Min, 1000), 0);
  EXPECT_EQ(rounding_divide_by_pot(kI32Min, 1), -(1 << 30));
}

TEST(RefRdbp, MatchesGemmlowpFormula) {
  std::mt19937 rng(2);
  std::uniform_int_distribution<int32_t> any(kI32Min, kI32Max);
  std::uniform_int_distribution<int32_t> small(-1000, 1000);
  for (int e = 0; e <= 31; ++e) {
    for (int32_t x : {kI32Min, kI32Min + 1, -2, -1, 0, 1, 2, kI32Max - 1, kI32Max}) {
      ASSERT_EQ(rounding_divide_by_pot(x, e), gemmlowp_rdbp(x, e)) << x << " >> " << e;
    }
    for (int i = 0; i < 5000; ++i) {
      const int32_t x = i % 2 ? any(rng) : small(rng);
      ASSERT_EQ(rounding_divide_by_pot(x, e), gemmlowp_rdbp(x, e)) << x << " >> " << e;
    }
  }
}

TEST(RefQuantizeMultiplier, ExactValues) {
  struct Case {
    double real;
    int32_t m, e;
  };
  const Case cases[] = {
      {0.5, 1 << 30, 0},
      {1.0, 1 << 30, 1},
      {0.75, 3 << 29, 0},
      {0.25, 1 << 30, -1},
      {3.0, 3 << 29, 2},
      {1.0 - std::ldexp(1.0, -40), 1 << 30, 1},  // rounds up to 2^31: carry
      {std::ldexp(1.0, -32), 1 << 30, -31},      // smallest exponent kept
      {std::ldexp(1.0, -33), 0, 0},              // flushed to zero
      {1e-10, 0, 0},
      {0.0, 0, 0},
      {1e6, 2048000000, 20},  // 1e6 = 0.95367431640625 * 2^20
  };
  for (const Case& c : cases) {
    int32_t m = -1, e = -1;
    quantize_multiplier(c.real, &m, &e);
    EXPECT_EQ(m, c.m) << c.real;
    EXPECT_EQ(e, c.e) << c.real;
  }
}

TEST(RefQuantizeMultiplier, MatchesNaiveAndReconstructs) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> mantissa(0.5, 1.0);
  std::uniform_int_distribution<int> exponent(-40, 40);
  for (int i = 0; i < 100000; ++i) {
    const double real = std::ldexp(mantissa(rng), exponent(rng));
    int32_t m, e, nm, ne;
    quantize_multiplier(real, &m, &e);
    naive_quantize_multiplier(real, &nm, &ne);
    ASSERT_EQ(m, nm) << real;
    ASSERT_EQ(e, ne) << real;
    if (m == 0) continue;
    ASSERT_GE(m, 1 << 30);
    const double back = std::ldexp(static_cast<double>(m), e - 31);
    ASSERT_LE(std::fabs(back - real), std::ldexp(1.0, e - 32)) << real;
  }
}

// ---------------------------------------------------------------- requantize

TEST(RefRequantizeFp32, TiesRoundHalfToEven) {
  EXPECT_EQ(requantize_fp32(5, 0.5f, 0, -128, 127), 2);    // 2.5
  EXPECT_EQ(requantize_fp32(-5, 0.5f, 0, -128, 127), -2);  // -2.5
  EXPECT_EQ(requantize_fp32(7, 0.5f, 0, -128, 127), 4);    // 3.5
  EXPECT_EQ(requantize_fp32(-7, 0.5f, 0, -128, 127), -4);  // -3.5
  EXPECT_EQ(requantize_fp32(1, 0.5f, 0, -128, 127), 0);    // 0.5
  EXPECT_EQ(requantize_fp32(-1, 0.5f, 0, -128, 127), 0);   // -0.5
  EXPECT_EQ(requantize_fp32(3, 0.5f, 10, -128, 127), 12);  // 1.5 -> 2, then + zp
  EXPECT_EQ(requantize_fp32(-3, 0.5f, 10, -128, 127), 8);
  EXPECT_EQ(requantize_fp32(1, 0.25f, 0, -128, 127), 0);  // 0.25
  EXPECT_EQ(requantize_fp32(3, 0.25f, 0, -128, 127), 1);  // 0.75
  // Rounding happens before the zero point is added: 0.5 + 1 -> 0 + 1, not round(1.5).
  EXPECT_EQ(requantize_fp32(1, 0.5f, 1, -128, 127), 1);
  EXPECT_EQ(requantize_fp32(5, 0.5f, 0, 0, 255), 2);
}

TEST(RefRequantizeFp32, SaturationAndExtremes) {
  // Both ends, zero points at the dtype limits.
  EXPECT_EQ(requantize_fp32(1000, 1.f, 0, -128, 127), 127);
  EXPECT_EQ(requantize_fp32(-1000, 1.f, 0, -128, 127), -128);
  EXPECT_EQ(requantize_fp32(-1, 1.f, -128, -128, 127), -128);
  EXPECT_EQ(requantize_fp32(1, 1.f, -128, -128, 127), -127);
  EXPECT_EQ(requantize_fp32(1, 1.f, 127, -128, 127), 127);
  EXPECT_EQ(requantize_fp32(-255, 1.f, 127, -128, 127), -128);
  EXPECT_EQ(requantize_fp32(-1, 1.f, 0, 0, 255), 0);
  EXPECT_EQ(requantize_fp32(255, 1.f, 0, 0, 255), 255);
  EXPECT_EQ(requantize_fp32(1, 1.f, 255, 0, 255), 255);
  EXPECT_EQ(requantize_fp32(-255, 1.f, 255, 0, 255), 0);
  EXPECT_EQ(requantize_fp32(-100, 1.f, 255, 0, 255), 155);
  // INT32 limits with tiny, unit and huge scales.
  EXPECT_EQ(requantize_fp32(kI32Max, 1e-10f, 3, -128, 127), 3);    // 0.21 -> 0
  EXPECT_EQ(requantize_fp32(kI32Min, 1e-10f, -3, -128, 127), -3);  // -0.21 -> 0
  EXPECT_EQ(requantize_fp32(kI32Max, 1e-9f, 0, -128, 127), 2);     // 2.147
  EXPECT_EQ(requantize_fp32(kI32Min, 1e-9f, 0, -128, 127), -2);
  EXPECT_EQ(requantize_fp32(kI32Max, 1.f, 0, -128, 127), 127);
  EXPECT_EQ(requantize_fp32(kI32Min, 1.f, 0, -128, 127), -128);
  EXPECT_EQ(requantize_fp32(kI32Max, 1e6f, -128, -128, 127), 127);
  EXPECT_EQ(requantize_fp32(kI32Min, 1e6f, 127, -128, 127), -128);
  EXPECT_EQ(requantize_fp32(1, 1e6f, 0, 0, 255), 255);
  EXPECT_EQ(requantize_fp32(-1, 1e6f, 255, 0, 255), 0);
  // The product overflows float to +-inf and still saturates.
  EXPECT_EQ(requantize_fp32(kI32Max, 1e30f, 0, -128, 127), 127);
  EXPECT_EQ(requantize_fp32(kI32Min, 1e30f, 0, -128, 127), -128);
  EXPECT_EQ(requantize_fp32(kI32Max, kInf, 0, 0, 255), 255);
  // Zero accumulator with any scale gives the zero point.
  EXPECT_EQ(requantize_fp32(0, 1e30f, -7, -128, 127), -7);
  // Full int32 output range: the float sum is exact up to float precision.
  EXPECT_EQ(requantize_fp32(kI32Max, 1.f, 0, kI32Min, kI32Max), kI32Max);  // 2^31 saturates
  EXPECT_EQ(requantize_fp32(kI32Min, 1.f, 0, kI32Min, kI32Max), kI32Min);
  EXPECT_EQ(requantize_fp32(kI32Min, 1.f, kI32Max, kI32Min, kI32Max), -1);
  EXPECT_EQ(requantize_fp32(kI32Max, 2.f, kI32Min, kI32Min, kI32Max), kI32Max);  // 2^32 - 2^31
}

TEST(RefRequantizeFp32, MatchesNaive) {
  std::mt19937 rng(4);
  std::uniform_int_distribution<int32_t> any(kI32Min, kI32Max);
  std::uniform_int_distribution<int32_t> small(-300000, 300000);
  std::uniform_real_distribution<float> log_scale(-12.f, 2.f);
  std::uniform_int_distribution<int32_t> zp(-128, 127);
  for (int i = 0; i < 200000; ++i) {
    const int32_t acc = i % 3 ? small(rng) : any(rng);
    const float scale = std::pow(10.f, log_scale(rng));
    const int32_t z = zp(rng);
    ASSERT_EQ(requantize_fp32(acc, scale, z, -128, 127),
              naive_requant_fp32(acc, scale, z, -128, 127))
        << acc << " * " << scale;
    ASSERT_EQ(requantize_fp32(acc, scale, z + 128, 0, 255),
              naive_requant_fp32(acc, scale, z + 128, 0, 255));
    ASSERT_EQ(requantize_fp32(acc, scale, z, -100, 60),
              naive_requant_fp32(acc, scale, z, -100, 60));
  }
}

TEST(RefRequantizeFixed, TiesAndExactValues) {
  // real 0.5 -> (2^30, 0): ties go through SRDHM (toward +infinity).
  EXPECT_EQ(requantize_fixed(5, 1 << 30, 0, 0, -128, 127), 3);    // 2.5 -> 3
  EXPECT_EQ(requantize_fixed(-5, 1 << 30, 0, 0, -128, 127), -2);  // -2.5 -> -2
  EXPECT_EQ(requantize_fixed(7, 1 << 30, 0, 0, -128, 127), 4);    // 3.5 -> 4
  EXPECT_EQ(requantize_fixed(-7, 1 << 30, 0, 0, -128, 127), -3);  // -3.5 -> -3
  // real 0.25 -> (2^30, -1): the tie is created by RDBP (away from zero).
  EXPECT_EQ(requantize_fixed(10, 1 << 30, -1, 0, -128, 127), 3);    // 2.5 -> 3
  EXPECT_EQ(requantize_fixed(-10, 1 << 30, -1, 0, -128, 127), -3);  // -2.5 -> -3
  EXPECT_EQ(requantize_fixed(-2, 1 << 30, -1, 0, -128, 127), -1);   // -0.5 -> -1
  EXPECT_EQ(requantize_fixed(2, 1 << 30, -1, 0, -128, 127), 1);     // 0.5 -> 1
  // -0.75: SRDHM rounds -1.5 to -1, then RDBP rounds -0.5 to -1.
  EXPECT_EQ(requantize_fixed(-3, 1 << 30, -1, 0, -128, 127), -1);
  // real 1.0 -> (2^30, 1) is the identity.
  for (int32_t acc : {-300, -128, -1, 0, 1, 127, 300}) {
    EXPECT_EQ(requantize_fixed(acc, 1 << 30, 1, 0, kI32Min, kI32Max), acc);
  }
  // The left shift saturates before the multiply: 2 * INT32_MAX -> INT32_MAX, then
  // halved. (Saturating, not wrapping: a wrapped shift would give -1 and 0.)
  EXPECT_EQ(requantize_fixed(kI32Max, 1 << 30, 1, 0, kI32Min, kI32Max), 1 << 30);
  EXPECT_EQ(requantize_fixed(kI32Min, 1 << 30, 1, 0, kI32Min, kI32Max), -(1 << 30));
  EXPECT_EQ(requantize_fixed(40, 1 << 30, 1, -20, -128, 127), 20);
}

TEST(RefRequantizeFixed, SaturationAndExtremes) {
  int32_t m, e;
  quantize_multiplier(1e6, &m, &e);  // left shift by 20
  EXPECT_EQ(requantize_fixed(1, m, e, 0, -128, 127), 127);
  EXPECT_EQ(requantize_fixed(-1, m, e, 0, -128, 127), -128);
  EXPECT_EQ(requantize_fixed(kI32Max, m, e, 0, -128, 127), 127);
  EXPECT_EQ(requantize_fixed(kI32Min, m, e, 0, -128, 127), -128);
  EXPECT_EQ(requantize_fixed(kI32Min, m, e, 255, 0, 255), 0);
  EXPECT_EQ(requantize_fixed(kI32Max, m, e, 0, kI32Min, kI32Max), 2048000000 - 1);
  EXPECT_EQ(requantize_fixed(0, m, e, 7, -128, 127), 7);
  // Exponents far beyond 31 saturate instead of overflowing.
  EXPECT_EQ(requantize_fixed(1, kI32Max, 40, 0, kI32Min, kI32Max), kI32Max - 1);
  EXPECT_EQ(requantize_fixed(-1, kI32Max, 200, 0, kI32Min, kI32Max), -kI32Max);
  EXPECT_EQ(requantize_fixed(3, kI32Max, 31, 0, -128, 127), 127);
  quantize_multiplier(1e-10, &m, &e);  // flushed to zero: everything is the zero point
  EXPECT_EQ(requantize_fixed(kI32Max, m, e, -128, -128, 127), -128);
  EXPECT_EQ(requantize_fixed(kI32Min, m, e, 127, -128, 127), 127);
  quantize_multiplier(1e-9, &m, &e);  // 2^-30 < 1e-9: still representable
  EXPECT_EQ(e, -29);
  EXPECT_EQ(requantize_fixed(kI32Max, m, e, 0, -128, 127), 2);
  EXPECT_EQ(requantize_fixed(kI32Min, m, e, 0, -128, 127), -2);
  EXPECT_EQ(requantize_fixed(5, 1 << 30, -31, 0, -128, 127), 0);
  EXPECT_EQ(requantize_fixed(kI32Min, 1 << 30, -31, 0, -128, 127), -1);  // -2^31 * 2^-32 = -0.5
  // Double rounding: (2^31 - 1) * 2^-32 is just below 0.5, but SRDHM first rounds
  // (2^31 - 1) / 2 up to 2^30 and RDBP then rounds 0.5 away from zero.
  EXPECT_EQ(requantize_fixed(kI32Max, 1 << 30, -31, 0, -128, 127), 1);
  // Zero points at the dtype limits.
  EXPECT_EQ(requantize_fixed(-4, 1 << 30, 0, -128, -128, 127), -128);
  EXPECT_EQ(requantize_fixed(4, 1 << 30, 0, 127, -128, 127), 127);
  EXPECT_EQ(requantize_fixed(-4, 1 << 30, 0, 127, -128, 127), 125);
  EXPECT_EQ(requantize_fixed(4, 1 << 30, 0, 0, 0, 255), 2);
  EXPECT_EQ(requantize_fixed(-4, 1 << 30, 0, 255, 0, 255), 253);
}

TEST(RefRequantizeFixed, MatchesNaive) {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int32_t> any(kI32Min, kI32Max);
  std::uniform_int_distribution<int32_t> small(-300000, 300000);
  std::uniform_real_distribution<double> log_scale(-12.0, 3.0);
  std::uniform_int_distribution<int32_t> zp(-128, 127);
  for (int i = 0; i < 200000; ++i) {
    const int32_t acc = i % 3 ? small(rng) : any(rng);
    int32_t m, e;
    quantize_multiplier(std::pow(10.0, log_scale(rng)), &m, &e);
    const int32_t z = zp(rng);
    ASSERT_EQ(requantize_fixed(acc, m, e, z, -128, 127),
              naive_requant_fixed(acc, m, e, z, -128, 127))
        << acc << " " << m << " " << e;
    ASSERT_EQ(requantize_fixed(acc, m, e, z, kI32Min, kI32Max),
              naive_requant_fixed(acc, m, e, z, kI32Min, kI32Max));
  }
}

TEST(RefRequantize, DispatchesSchemeAndChannel) {
  const float scales[] = {0.5f, 2.f, 0.25f};
  const int32_t mults[] = {1 << 30, 1 << 30, 1 << 30};
  const int32_t exps[] = {0, 2, -1};
  Requant rq;
  rq.scale = scales;
  rq.multiplier = mults;
  rq.exponent = exps;
  rq.zero_point = 3;
  rq.qmin = -128;
  rq.qmax = 127;
  // Per-tensor: channel index ignored.
  EXPECT_EQ(requantize(5, rq, 2), 5);  // round(2.5) = 2, + 3
  rq.per_channel = true;
  EXPECT_EQ(requantize(5, rq, 0), 5);
  EXPECT_EQ(requantize(5, rq, 1), 13);
  EXPECT_EQ(requantize(10, rq, 2), 5);  // 2.5 -> 2
  rq.scheme = Scheme::kFixedPoint;
  EXPECT_EQ(requantize(5, rq, 0), 6);   // 2.5 -> 3
  EXPECT_EQ(requantize(5, rq, 1), 13);  // 10
  EXPECT_EQ(requantize(10, rq, 2), 6);  // 2.5 -> 3
  rq.per_channel = false;
  EXPECT_EQ(requantize(10, rq, 2), 8);
}

// ---------------------------------------------------------------- quantize_value

TEST(RefQuantizeValue, ExactValues) {
  EXPECT_EQ(quantize_value(2.5f, 1.f, 0, -128, 127), 2);
  EXPECT_EQ(quantize_value(-2.5f, 1.f, 0, -128, 127), -2);
  EXPECT_EQ(quantize_value(3.5f, 1.f, 0, -128, 127), 4);
  EXPECT_EQ(quantize_value(-3.5f, 1.f, 0, -128, 127), -4);
  EXPECT_EQ(quantize_value(0.5f, 1.f, 0, -128, 127), 0);
  EXPECT_EQ(quantize_value(-0.5f, 1.f, 0, -128, 127), 0);
  EXPECT_EQ(quantize_value(0.75f, 0.5f, 0, -128, 127), 2);  // 1.5
  EXPECT_EQ(quantize_value(1.25f, 0.5f, 0, -128, 127), 2);  // 2.5
  EXPECT_EQ(quantize_value(1.0f, 0.5f, 10, -128, 127), 12);
  EXPECT_EQ(quantize_value(NAN, 0.1f, 10, -128, 127), 10);
  EXPECT_EQ(quantize_value(kNaN, 0.1f, -128, -128, 127), -128);
  EXPECT_EQ(quantize_value(kNaN, 0.1f, 255, 0, 255), 255);
  EXPECT_EQ(quantize_value(kNaN, 0.1f, 0, 5, 20), 5);  // zero point outside a fused range
  EXPECT_EQ(quantize_value(kInf, 0.1f, 0, -128, 127), 127);
  EXPECT_EQ(quantize_value(-kInf, 0.1f, 0, -128, 127), -128);
  EXPECT_EQ(quantize_value(kInf, 1e-10f, 0, 0, 255), 255);
  EXPECT_EQ(quantize_value(-kInf, 1e6f, 255, 0, 255), 0);
  EXPECT_EQ(quantize_value(1.f, 1e-10f, 0, -128, 127), 127);
  EXPECT_EQ(quantize_value(-1.f, 1e-10f, 0, -128, 127), -128);
  EXPECT_EQ(quantize_value(1e-5f, 1e-10f, 0, kI32Min, kI32Max), 100000);
  EXPECT_EQ(quantize_value(3e38f, 1e-10f, 0, kI32Min, kI32Max), kI32Max);  // x/s = inf
  EXPECT_EQ(quantize_value(4e5f, 1e6f, 0, -128, 127), 0);                  // 0.4
  EXPECT_EQ(quantize_value(5e5f, 1e6f, 0, -128, 127), 0);                  // 0.5 tie
  EXPECT_EQ(quantize_value(1.5e6f, 1e6f, 0, -128, 127), 2);                // 1.5 tie
  EXPECT_EQ(quantize_value(-300.f, 1.f, 127, -128, 127), -128);
  EXPECT_EQ(quantize_value(300.f, 1.f, -128, -128, 127), 127);
  EXPECT_EQ(quantize_value(-1.f, 1.f, 0, 0, 255), 0);
  EXPECT_EQ(quantize_value(256.f, 1.f, 0, 0, 255), 255);
}

// x / scale and x * (1 / scale) differ by one rounding for some inputs; the kernel
// must divide like ONNX QuantizeLinear. Searches a fixed grid for such inputs.
TEST(RefQuantizeValue, DividesRatherThanMultipliesByReciprocal) {
  int differing = 0;
  for (int si = 1; si < 200; ++si) {
    const float scale = 0.001f * static_cast<float>(si) + 0.0007f;
    const float inv = 1.f / scale;
    for (int k = -300; k <= 300; ++k) {
      // Aim at ties: x ~= (k + 0.5) * scale.
      const float x = (static_cast<float>(k) + 0.5f) * scale;
      const int32_t by_div = naive_quantize(x, scale, 0, kI32Min, kI32Max);
      const int32_t by_mul = naive_round_add_clamp(x * inv, 0, kI32Min, kI32Max);
      ASSERT_EQ(quantize_value(x, scale, 0, kI32Min, kI32Max), by_div) << x << " / " << scale;
      if (by_div != by_mul) ++differing;
    }
  }
  EXPECT_GT(differing, 0);  // the grid does distinguish the two formulas
}

TEST(RefQuantizeValue, MatchesNaive) {
  std::mt19937 rng(6);
  std::uniform_real_distribution<float> value(-200.f, 200.f);
  std::uniform_real_distribution<float> log_scale(-4.f, 1.f);
  std::uniform_int_distribution<int32_t> zp(-128, 127);
  for (int i = 0; i < 200000; ++i) {
    const float x = value(rng);
    const float s = std::pow(10.f, log_scale(rng));
    const int32_t z = zp(rng);
    ASSERT_EQ(quantize_value(x, s, z, -128, 127), naive_quantize(x, s, z, -128, 127)) << x << s;
    ASSERT_EQ(quantize_value(x, s, z + 128, 0, 255), naive_quantize(x, s, z + 128, 0, 255));
  }
}

// ---------------------------------------------------------------- tensor kernels

TEST(RefQuantizeTensor, MatchesQuantizeValueAndSaturates) {
  std::mt19937 rng(7);
  std::vector<float> x = random_floats(&rng, 1000, -40.f, 40.f);
  x.push_back(kNaN);
  x.push_back(kInf);
  x.push_back(-kInf);
  x.push_back(0.25f);
  std::vector<int8_t> q8(x.size());
  std::vector<uint8_t> qu8(x.size());
  quantize(x.size(), x.data(), 0.25f, -3, q8.data());
  quantize(x.size(), x.data(), 0.25f, 130, qu8.data());
  for (size_t i = 0; i < x.size(); ++i) {
    ASSERT_EQ(q8[i], naive_quantize(x[i], 0.25f, -3, -128, 127)) << x[i];
    ASSERT_EQ(qu8[i], naive_quantize(x[i], 0.25f, 130, 0, 255)) << x[i];
  }
  EXPECT_EQ(q8[1000], -3);
  EXPECT_EQ(q8[1001], 127);
  EXPECT_EQ(q8[1002], -128);
  EXPECT_EQ(q8[1003], -2);
  EXPECT_EQ(qu8[1000], 130);
  EXPECT_EQ(qu8[1001], 255);
  EXPECT_EQ(qu8[1002], 0);
}

TEST(RefDequantize, ExactValues) {
  const int8_t q8[] = {-128, -1, 0, 1, 127};
  const uint8_t qu8[] = {0, 1, 128, 254, 255};
  const int32_t q32[] = {kI32Min, -5, 0, 7, kI32Max};
  float out[5];
  dequantize(5, q8, 0.5f, -1, out);
  EXPECT_EQ(out[0], -63.5f);
  EXPECT_EQ(out[1], 0.f);
  EXPECT_EQ(out[4], 64.f);
  dequantize(5, qu8, 2.f, 128, out);
  EXPECT_EQ(out[0], -256.f);
  EXPECT_EQ(out[2], 0.f);
  EXPECT_EQ(out[4], 254.f);
  dequantize(5, q32, 1.f, 10, out);  // int32 minus zero point does not overflow
  EXPECT_EQ(out[0], -2147483658.f);
  EXPECT_EQ(out[1], -15.f);
  EXPECT_EQ(out[3], -3.f);
  dequantize(5, q32, 1.f, -10, out);
  EXPECT_EQ(out[4], 2147483657.f);
}

TEST(RefDequantize, PerAxis) {
  // outer 2 x axis 3 x inner 2
  const int8_t q[12] = {1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, -6};
  const float scale[3] = {1.f, 0.5f, 2.f};
  const int32_t zp[3] = {0, 2, -1};
  float out[12];
  dequantize_per_axis<int8_t>(2, 3, 2, q, scale, zp, out);
  const float expected[12] = {1, 2, 0.5f, 1, 12, 14, -1, -2, -2.5f, -3, -8, -10};
  for (int i = 0; i < 12; ++i) EXPECT_EQ(out[i], expected[i]) << i;
  const int32_t b[4] = {100, -100, kI32Max, kI32Min};
  const float bs[2] = {0.25f, 1.f};
  const int32_t bz[2] = {0, 0};
  float bout[4];
  dequantize_per_axis<int32_t>(1, 2, 2, b, bs, bz, bout);
  EXPECT_EQ(bout[0], 25.f);
  EXPECT_EQ(bout[1], -25.f);
  EXPECT_EQ(bout[2], 2147483648.f);
  EXPECT_EQ(bout[3], -2147483648.f);
}

template <typename TI, typename TO>
void check_requantize_tensor(uint32_t seed) {
  std::mt19937 rng(seed);
  const std::vector<TI> in = random_ints<TI>(&rng, 2000, tmin<TI>(), tmax<TI>());
  std::uniform_real_distribution<float> log_scale(-3.f, 1.f);
  for (int trial = 0; trial < 20; ++trial) {
    const float s_in = std::pow(10.f, log_scale(rng));
    const float s_out = std::pow(10.f, log_scale(rng));
    const int32_t z_in = random_ints<int32_t>(&rng, 1, tmin<TI>(), tmax<TI>())[0];
    const int32_t z_out = random_ints<int32_t>(&rng, 1, tmin<TO>(), tmax<TO>())[0];
    const int32_t qmin = tmin<TO>() + trial % 3;
    const int32_t qmax = tmax<TO>() - trial % 5;
    std::vector<TO> out(in.size());
    requantize_tensor(in.size(), in.data(), s_in, z_in, s_out, z_out, qmin, qmax, out.data());
    for (size_t i = 0; i < in.size(); ++i) {
      const float real = s_in * static_cast<float>(static_cast<int32_t>(in[i]) - z_in);
      ASSERT_EQ(out[i], naive_quantize(real, s_out, z_out, qmin, qmax));
    }
  }
  // Equal parameters are the identity.
  std::vector<TO> out(in.size());
  const int32_t z = tmin<TO>() < 0 ? 0 : 128;
  if (tmin<TI>() == tmin<TO>()) {
    requantize_tensor(in.size(), in.data(), 0.037f, z, 0.037f, z, tmin<TO>(), tmax<TO>(),
                      out.data());
    for (size_t i = 0; i < in.size(); ++i) ASSERT_EQ(static_cast<int32_t>(out[i]), in[i]);
  }
}

TEST(RefRequantizeTensor, AllTypeCombinations) {
  check_requantize_tensor<int8_t, int8_t>(8);
  check_requantize_tensor<int8_t, uint8_t>(9);
  check_requantize_tensor<uint8_t, int8_t>(10);
  check_requantize_tensor<uint8_t, uint8_t>(11);
  // int8 -> uint8 with a zero point shift of 128 and equal scales is exact.
  const int8_t in[4] = {-128, -1, 0, 127};
  uint8_t out[4];
  requantize_tensor(4, in, 0.1f, 0, 0.1f, 128, 0, 255, out);
  EXPECT_EQ(out[0], 0);
  EXPECT_EQ(out[1], 127);
  EXPECT_EQ(out[2], 128);
  EXPECT_EQ(out[3], 255);
}

}  // namespace
}  // namespace ref
}  // namespace edgeq
