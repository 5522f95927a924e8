// Tests of the reference elementwise kernels: broadcasting, float and quantized
// binary ops (both requantization schemes), unary functions, lookup tables and
// softmax.
//
// The naive broadcasting maps each output coordinate to each input's own
// coordinates (size-1 dims read index 0) instead of using make_broadcast's strides;
// the naive fixed-point path recomputes TFLite's multipliers with the test's own
// quantize_multiplier and gemmlowp formulas. Exhaustive 256 x 256 sweeps use scales
// for which every step is exact, so the expected value is plain integer arithmetic.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "kernels/ref/ref.h"
#include "test/ref_test_util.h"

namespace edgeq {
namespace ref {
namespace {

using namespace testing_util;  // NOLINT(build/namespaces)

const float kInf = std::numeric_limits<float>::infinity();
const float kNaN = std::numeric_limits<float>::quiet_NaN();

using Shape = std::vector<int32_t>;

int64_t count(const Shape& s) {
  int64_t n = 1;
  for (int32_t d : s) n *= d;
  return n;
}

// Offset into an input of shape `in` for output coordinates `out_coord` (rank of out).
int64_t naive_offset(const Shape& in, const std::vector<int64_t>& out_coord) {
  int64_t offset = 0;
  const size_t shift = out_coord.size() - in.size();
  for (size_t d = 0; d < in.size(); ++d) {
    const int64_t coord = in[d] == 1 ? 0 : out_coord[d + shift];
    offset = offset * in[d] + coord;
  }
  return offset;
}

std::vector<int64_t> coords_of(const Shape& out, int64_t flat) {
  std::vector<int64_t> c(out.size());
  for (int d = static_cast<int>(out.size()) - 1; d >= 0; --d) {
    c[d] = flat % out[d];
    flat /= out[d];
  }
  return c;
}

struct BroadcastCase {
  Shape a, b, out;
};

const BroadcastCase kBroadcastCases[] = {
    {{7}, {7}, {7}},
    {{}, {5}, {5}},
    {{2, 3}, {3}, {2, 3}},
    {{2, 1, 4}, {3, 1}, {2, 3, 4}},
    {{1, 5, 1, 3}, {2, 1, 6, 1}, {2, 5, 6, 3}},
    {{3, 1, 1, 2, 1, 5}, {1, 4, 3, 1, 2, 5}, {3, 4, 3, 2, 2, 5}},
    {{1}, {1}, {1}},
    {{4, 1}, {1}, {4, 1}},
    {{1, 1, 9}, {2, 9}, {1, 2, 9}},
};

Broadcast broadcast_of(const BroadcastCase& c) {
  Broadcast bc;
  const bool ok = make_broadcast(c.a.data(), static_cast<int>(c.a.size()), c.b.data(),
                                 static_cast<int>(c.b.size()), c.out.data(),
                                 static_cast<int>(c.out.size()), &bc);
  EXPECT_TRUE(ok);
  return bc;
}

TEST(RefMakeBroadcast, AcceptsAndRejects) {
  for (const BroadcastCase& c : kBroadcastCases) broadcast_of(c);
  Broadcast bc;
  auto ok = [&](const Shape& a, const Shape& b, const Shape& out) {
    return make_broadcast(a.data(), static_cast<int>(a.size()), b.data(),
                          static_cast<int>(b.size()), out.data(), static_cast<int>(out.size()),
                          &bc);
  };
  EXPECT_FALSE(ok({2, 3}, {2}, {2, 3}));  // trailing 2 vs 3
  EXPECT_FALSE(ok({4}, {4}, {5}));        // neither matches
  EXPECT_FALSE(ok({2, 3}, {3}, {3}));     // input rank above output rank
  EXPECT_FALSE(ok({1, 1, 1, 1, 1, 1, 1}, {1}, {1, 1, 1, 1, 1, 1, 1}));  // rank 7
  EXPECT_FALSE(ok({0}, {2}, {0}));                                      // 2 does not broadcast to 0
  EXPECT_FALSE(ok({-1}, {1}, {-1}));
  EXPECT_TRUE(ok({0, 3}, {1, 3}, {0, 3}));
  EXPECT_TRUE(ok({1}, {1}, {5}));  // both broadcast to the requested shape
  EXPECT_TRUE(ok({}, {}, {}));
  // Strides of a concrete case: a [2,1,4] (contiguous 4,4,1), b [3,1] -> out [2,3,4].
  ASSERT_TRUE(ok({2, 1, 4}, {3, 1}, {2, 3, 4}));
  const int32_t out_shape[kMaxDims] = {1, 1, 1, 2, 3, 4};
  const int64_t a_stride[kMaxDims] = {0, 0, 0, 4, 0, 1};
  const int64_t b_stride[kMaxDims] = {0, 0, 0, 0, 1, 0};
  for (int d = 0; d < kMaxDims; ++d) {
    EXPECT_EQ(bc.out_shape[d], out_shape[d]) << d;
    EXPECT_EQ(bc.a_stride[d], a_stride[d]) << d;
    EXPECT_EQ(bc.b_stride[d], b_stride[d]) << d;
  }
}

float naive_apply(BinaryOp op, float a, float b) {
  switch (op) {
    case BinaryOp::kAdd:
      return a + b;
    case BinaryOp::kSub:
      return a - b;
    case BinaryOp::kMul:
      return a * b;
    case BinaryOp::kDiv:
      return a / b;
  }
  return 0.f;
}

const BinaryOp kOps[] = {BinaryOp::kAdd, BinaryOp::kSub, BinaryOp::kMul, BinaryOp::kDiv};

TEST(RefBinaryF32, MatchesNaiveBroadcasting) {
  std::mt19937 rng(200);
  for (const BroadcastCase& c : kBroadcastCases) {
    const Broadcast bc = broadcast_of(c);
    const std::vector<float> a = random_floats(&rng, count(c.a), -3.f, 3.f);
    const std::vector<float> b = random_floats(&rng, count(c.b), 0.5f, 3.f);
    for (BinaryOp op : kOps) {
      for (int clamp = 0; clamp < 2; ++clamp) {
        const float lo = clamp ? -1.f : -kInf, hi = clamp ? 2.f : kInf;
        std::vector<float> out(count(c.out));
        binary_f32(op, bc, a.data(), b.data(), lo, hi, out.data());
        for (int64_t i = 0; i < count(c.out); ++i) {
          const std::vector<int64_t> co = coords_of(c.out, i);
          const float e = naive_apply(op, a[naive_offset(c.a, co)], b[naive_offset(c.b, co)]);
          ASSERT_EQ(out[i], std::min(std::max(e, lo), hi)) << i;
        }
      }
    }
  }
}

// The quantized op as documented, written out per element with naive broadcasting.
template <typename T>
int32_t naive_qbinary(BinaryOp op, T a, T b, const BinaryQParams& p) {
  if (p.scheme == Scheme::kFixedPoint && op != BinaryOp::kDiv) {
    const int32_t da = static_cast<int32_t>(a) - p.a_zero_point;
    const int32_t db = static_cast<int32_t>(b) - p.b_zero_point;
    if (op == BinaryOp::kMul) {
      int32_t m, e;
      naive_quantize_multiplier(static_cast<double>(p.a_scale) * p.b_scale / p.out_scale, &m, &e);
      return naive_requant_fixed(da * db, m, e, p.out_zero_point, p.qmin, p.qmax);
    }
    const double twice = 2.0 * std::max<double>(p.a_scale, p.b_scale);
    int32_t ma, ea, mb, eb, mo, eo;
    naive_quantize_multiplier(p.a_scale / twice, &ma, &ea);
    naive_quantize_multiplier(p.b_scale / twice, &mb, &eb);
    naive_quantize_multiplier(twice / (1048576.0 * p.out_scale), &mo, &eo);
    const int32_t sa = naive_mbqm(da * 1048576, ma, ea);
    const int32_t sb = naive_mbqm(db * 1048576, mb, eb);
    const int32_t raw = op == BinaryOp::kAdd ? sa + sb : sa - sb;
    return naive_requant_fixed(raw, mo, eo, p.out_zero_point, p.qmin, p.qmax);
  }
  const float ra = p.a_scale * static_cast<float>(static_cast<int32_t>(a) - p.a_zero_point);
  const float rb = p.b_scale * static_cast<float>(static_cast<int32_t>(b) - p.b_zero_point);
  return naive_quantize(naive_apply(op, ra, rb), p.out_scale, p.out_zero_point, p.qmin, p.qmax);
}

template <typename T>
void check_qbinary_random(uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> log_scale(-3.f, 0.f);
  for (const BroadcastCase& c : kBroadcastCases) {
    const Broadcast bc = broadcast_of(c);
    const std::vector<T> a = random_ints<T>(&rng, count(c.a), tmin<T>(), tmax<T>());
    const std::vector<T> b = random_ints<T>(&rng, count(c.b), tmin<T>(), tmax<T>());
    for (BinaryOp op : kOps) {
      for (Scheme scheme : {Scheme::kFp32, Scheme::kFixedPoint}) {
        for (int trial = 0; trial < 4; ++trial) {
          BinaryQParams p;
          p.a_scale = std::pow(10.f, log_scale(rng));
          p.b_scale = std::pow(10.f, log_scale(rng));
          p.out_scale = op == BinaryOp::kMul ? p.a_scale * p.b_scale * 30.f
                                             : std::max(p.a_scale, p.b_scale) * 1.5f;
          if (op == BinaryOp::kDiv) p.out_scale = p.a_scale / p.b_scale * 0.05f;
          p.a_zero_point = random_ints<int32_t>(&rng, 1, tmin<T>(), tmax<T>())[0];
          p.b_zero_point = random_ints<int32_t>(&rng, 1, tmin<T>(), tmax<T>())[0];
          p.out_zero_point = random_ints<int32_t>(&rng, 1, tmin<T>(), tmax<T>())[0];
          p.qmin = trial == 3 ? p.out_zero_point : tmin<T>();
          p.qmax = tmax<T>();
          p.scheme = scheme;
          std::vector<T> out(count(c.out));
          qbinary(op, bc, a.data(), b.data(), p, out.data());
          for (int64_t i = 0; i < count(c.out); ++i) {
            const std::vector<int64_t> co = coords_of(c.out, i);
            ASSERT_EQ(static_cast<int32_t>(out[i]),
                      naive_qbinary(op, a[naive_offset(c.a, co)], b[naive_offset(c.b, co)], p))
                << "op " << static_cast<int>(op) << " scheme " << static_cast<int>(scheme)
                << " index " << i;
          }
        }
      }
    }
  }
}

TEST(RefQBinary, Int8MatchesNaive) { check_qbinary_random<int8_t>(201); }
TEST(RefQBinary, Uint8MatchesNaive) { check_qbinary_random<uint8_t>(202); }

// Power-of-two scales make every step exact in both schemes: add, sub and mul then
// equal integer arithmetic on the centred values, for all 256 x 256 pairs.
template <typename T>
void check_qbinary_exhaustive_exact() {
  std::vector<T> a(256 * 256), b(256 * 256);
  for (int i = 0; i < 256; ++i) {
    for (int j = 0; j < 256; ++j) {
      a[i * 256 + j] = static_cast<T>(tmin<T>() + i);
      b[i * 256 + j] = static_cast<T>(tmin<T>() + j);
    }
  }
  const Shape shape = {256 * 256};
  const Broadcast bc = broadcast_of({shape, shape, shape});
  const int32_t za = tmin<T>() + 100, zb = tmin<T>() + 200, zy = tmin<T>() + 128;
  for (Scheme scheme : {Scheme::kFp32, Scheme::kFixedPoint}) {
    for (BinaryOp op : {BinaryOp::kAdd, BinaryOp::kSub, BinaryOp::kMul}) {
      BinaryQParams p;
      p.scheme = scheme;
      p.a_zero_point = za;
      p.b_zero_point = zb;
      p.out_zero_point = zy;
      p.qmin = tmin<T>() + 3;
      p.qmax = tmax<T>() - 5;
      // add/sub: s_a = s_b = s_y / 2... any equal pair; mul: s_a * s_b / s_y = 4.
      p.a_scale = 0.5f;
      p.b_scale = op == BinaryOp::kMul ? 0.25f : 0.5f;
      p.out_scale = op == BinaryOp::kMul ? 0.03125f : 0.5f;
      std::vector<T> out(a.size());
      qbinary(op, bc, a.data(), b.data(), p, out.data());
      for (size_t i = 0; i < a.size(); ++i) {
        const int64_t da = static_cast<int64_t>(a[i]) - za, db = static_cast<int64_t>(b[i]) - zb;
        int64_t e = op == BinaryOp::kAdd ? da + db : (op == BinaryOp::kSub ? da - db : 4 * da * db);
        e = std::min<int64_t>(std::max<int64_t>(e + zy, p.qmin), p.qmax);
        ASSERT_EQ(static_cast<int64_t>(out[i]), e)
            << static_cast<int>(a[i]) << " op " << static_cast<int>(op) << " "
            << static_cast<int>(b[i]) << " scheme " << static_cast<int>(scheme);
      }
    }
  }
}

TEST(RefQBinary, ExhaustiveExactInt8) { check_qbinary_exhaustive_exact<int8_t>(); }
TEST(RefQBinary, ExhaustiveExactUint8) { check_qbinary_exhaustive_exact<uint8_t>(); }

// All 256 x 256 pairs against the naive formulation for arbitrary scales, in both
// schemes. Near-tie pairs are where the details (the 20-bit left shift, the order of
// the float operations) show.
template <typename T>
void check_qbinary_exhaustive_naive(uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> log_scale(-3.f, 0.f);
  std::vector<T> a(256 * 256), b(256 * 256);
  for (int i = 0; i < 256 * 256; ++i) {
    a[i] = static_cast<T>(tmin<T>() + i / 256);
    b[i] = static_cast<T>(tmin<T>() + i % 256);
  }
  const Shape shape = {256 * 256};
  const Broadcast bc = broadcast_of({shape, shape, shape});
  for (int trial = 0; trial < 3; ++trial) {
    for (Scheme scheme : {Scheme::kFp32, Scheme::kFixedPoint}) {
      for (BinaryOp op : kOps) {
        BinaryQParams p;
        p.scheme = scheme;
        p.a_scale = std::pow(10.f, log_scale(rng));
        p.b_scale = std::pow(10.f, log_scale(rng));
        p.out_scale = op == BinaryOp::kMul ? p.a_scale * p.b_scale * 40.f
                                           : std::max(p.a_scale, p.b_scale) * 1.5f;
        if (op == BinaryOp::kDiv) p.out_scale = p.a_scale / p.b_scale * 0.05f;
        p.a_zero_point = random_ints<int32_t>(&rng, 1, tmin<T>(), tmax<T>())[0];
        p.b_zero_point = random_ints<int32_t>(&rng, 1, tmin<T>(), tmax<T>())[0];
        p.out_zero_point = random_ints<int32_t>(&rng, 1, tmin<T>(), tmax<T>())[0];
        p.qmin = tmin<T>();
        p.qmax = tmax<T>();
        std::vector<T> out(a.size());
        qbinary(op, bc, a.data(), b.data(), p, out.data());
        for (size_t i = 0; i < a.size(); ++i) {
          ASSERT_EQ(static_cast<int32_t>(out[i]), naive_qbinary(op, a[i], b[i], p))
              << static_cast<int>(a[i]) << " op " << static_cast<int>(op) << " "
              << static_cast<int>(b[i]) << " scheme " << static_cast<int>(scheme);
        }
      }
    }
  }
}

TEST(RefQBinary, ExhaustiveInt8MatchesNaive) { check_qbinary_exhaustive_naive<int8_t>(209); }
TEST(RefQBinary, ExhaustiveUint8MatchesNaive) { check_qbinary_exhaustive_naive<uint8_t>(210); }

// Pairs where TFLite's 20-bit left shift matters: a 16-bit shift gives 1 and -85.
TEST(RefQBinary, FixedPointAddUsesTwentyBitShift) {
  const Shape two = {2};
  const Broadcast bc = broadcast_of({two, two, two});
  const BinaryQParams p{0.00102002535f, 0.208073854f, 0.312110782f,       0, 0, 0,
                        -128,           127,          Scheme::kFixedPoint};
  const int8_t a[2] = {-51, 51}, b[2] = {1, -127};
  int8_t y[2];
  qbinary(BinaryOp::kAdd, bc, a, b, p, y);
  EXPECT_EQ(y[0], 0);
  EXPECT_EQ(y[1], -84);
}

// A real result of exactly k + 0.5 output steps: the fp32 scheme rounds to even,
// the fixed-point scheme rounds away from zero (its last step is RDBP).
TEST(RefQBinary, TiesDifferBetweenSchemes) {
  const Shape one = {1};
  const Broadcast bc = broadcast_of({one, one, one});
  BinaryQParams p{1.f, 1.f, 2.f, 0, 0, 0, -128, 127, Scheme::kFp32};
  auto run = [&](int8_t a, int8_t b, BinaryOp op) {
    int8_t y;
    qbinary(op, bc, &a, &b, p, &y);
    return static_cast<int>(y);
  };
  EXPECT_EQ(run(5, 0, BinaryOp::kAdd), 2);    // 2.5
  EXPECT_EQ(run(-5, 0, BinaryOp::kAdd), -2);  // -2.5
  EXPECT_EQ(run(4, 3, BinaryOp::kAdd), 4);    // 3.5
  EXPECT_EQ(run(2, 5, BinaryOp::kSub), -2);   // -1.5
  EXPECT_EQ(run(1, 5, BinaryOp::kMul), 2);    // 2.5
  EXPECT_EQ(run(-1, 5, BinaryOp::kMul), -2);  // -2.5
  p.scheme = Scheme::kFixedPoint;
  EXPECT_EQ(run(5, 0, BinaryOp::kAdd), 3);
  EXPECT_EQ(run(-5, 0, BinaryOp::kAdd), -3);
  EXPECT_EQ(run(4, 3, BinaryOp::kAdd), 4);
  EXPECT_EQ(run(2, 5, BinaryOp::kSub), -2);
  // Mul: real 0.5 = (2^30, 0), so the tie is resolved by SRDHM (toward +infinity).
  EXPECT_EQ(run(1, 5, BinaryOp::kMul), 3);
  EXPECT_EQ(run(-1, 5, BinaryOp::kMul), -2);
  EXPECT_EQ(run(-1, 7, BinaryOp::kMul), -3);  // -3.5
}

// kDiv uses the fp32 formula in both schemes; x / 0 saturates, 0 / 0 gives z_y.
TEST(RefQBinary, DivideSameInBothSchemesAndByZero) {
  const Shape s4 = {4}, s1 = {1};
  const int8_t a[4] = {10, -10, 3, 0};
  const int8_t b0[1] = {0};
  const int8_t b[4] = {4, 4, 4, 4};
  BinaryQParams p{0.5f, 0.25f, 0.1f, 0, 0, 5, -128, 127, Scheme::kFp32};
  int8_t out_fp[4], out_fx[4];
  const Broadcast same = broadcast_of({s4, s4, s4});
  qbinary(BinaryOp::kDiv, same, a, b, p, out_fp);
  p.scheme = Scheme::kFixedPoint;
  qbinary(BinaryOp::kDiv, same, a, b, p, out_fx);
  // 5 / 1 = 5 -> 50 + 5 = 55; -5 -> -45; 1.5 -> 15 + 5 = 20; 0 -> 5.
  const int expected[4] = {55, -45, 20, 5};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(out_fp[i], expected[i]) << i;
    EXPECT_EQ(out_fx[i], expected[i]) << i;
  }
  const Broadcast by_scalar = broadcast_of({s4, s1, s4});
  qbinary(BinaryOp::kDiv, by_scalar, a, b0, p, out_fx);
  EXPECT_EQ(out_fx[0], 127);
  EXPECT_EQ(out_fx[1], -128);
  EXPECT_EQ(out_fx[2], 127);
  EXPECT_EQ(out_fx[3], 5);  // NaN -> zero point
}

// ---------------------------------------------------------------- unary

const UnaryOp kUnaryOps[] = {UnaryOp::kRelu,    UnaryOp::kClip,        UnaryOp::kLeakyRelu, UnaryOp::kSigmoid,
                             UnaryOp::kHardSigmoid, UnaryOp::kHardSwish, UnaryOp::kTanh,   UnaryOp::kErf,
                             UnaryOp::kSoftplus,    UnaryOp::kElu,       UnaryOp::kGelu,   UnaryOp::kMish};

TEST(RefUnary, ExactValues) {
  EXPECT_EQ(unary_value(UnaryOp::kRelu, -1.f, 0, 0), 0.f);
  EXPECT_EQ(unary_value(UnaryOp::kRelu, 2.5f, 0, 0), 2.5f);
  EXPECT_EQ(unary_value(UnaryOp::kClip, 5.f, 0.f, 6.f), 5.f);
  EXPECT_EQ(unary_value(UnaryOp::kClip, 7.f, 0.f, 6.f), 6.f);
  EXPECT_EQ(unary_value(UnaryOp::kClip, -1.f, 0.f, 6.f), 0.f);
  EXPECT_EQ(unary_value(UnaryOp::kLeakyRelu, -2.f, 0.125f, 0), -0.25f);
  EXPECT_EQ(unary_value(UnaryOp::kLeakyRelu, 2.f, 0.125f, 0), 2.f);
  EXPECT_EQ(unary_value(UnaryOp::kSigmoid, 0.f, 0, 0), 0.5f);
  EXPECT_EQ(unary_value(UnaryOp::kSigmoid, 200.f, 0, 0), 1.f);
  EXPECT_EQ(unary_value(UnaryOp::kSigmoid, -200.f, 0, 0), 0.f);
  EXPECT_EQ(unary_value(UnaryOp::kSigmoid, -kInf, 0, 0), 0.f);
  EXPECT_EQ(unary_value(UnaryOp::kHardSigmoid, 0.f, 0.2f, 0.5f), 0.5f);
  EXPECT_EQ(unary_value(UnaryOp::kHardSigmoid, 3.f, 0.2f, 0.5f), 1.f);
  EXPECT_EQ(unary_value(UnaryOp::kHardSigmoid, -3.f, 0.2f, 0.5f), 0.f);
  EXPECT_EQ(unary_value(UnaryOp::kHardSigmoid, 1.f, 0.25f, 0.5f), 0.75f);
  EXPECT_EQ(unary_value(UnaryOp::kHardSwish, 0.f, 0, 0), 0.f);
  EXPECT_EQ(unary_value(UnaryOp::kHardSwish, 3.f, 0, 0), 3.f);
  EXPECT_EQ(unary_value(UnaryOp::kHardSwish, 100.f, 0, 0), 100.f);
  EXPECT_EQ(unary_value(UnaryOp::kHardSwish, -3.f, 0, 0), 0.f);
  EXPECT_EQ(unary_value(UnaryOp::kHardSwish, -kInf, 0, 0), 0.f);
  EXPECT_EQ(unary_value(UnaryOp::kHardSwish, 1.f, 0, 0), 2.f / 3.f);
  EXPECT_EQ(unary_value(UnaryOp::kHardSwish, -1.5f, 0, 0), -0.375f);
  EXPECT_EQ(unary_value(UnaryOp::kTanh, 0.f, 0, 0), 0.f);
  EXPECT_EQ(unary_value(UnaryOp::kTanh, 50.f, 0, 0), 1.f);
  EXPECT_EQ(unary_value(UnaryOp::kTanh, -50.f, 0, 0), -1.f);
  EXPECT_EQ(unary_value(UnaryOp::kErf, 0.f, 0, 0), 0.f);
  EXPECT_EQ(unary_value(UnaryOp::kErf, 10.f, 0, 0), 1.f);
  EXPECT_EQ(unary_value(UnaryOp::kSoftplus, 200.f, 0, 0), 200.f);  // no overflow of exp
  EXPECT_EQ(unary_value(UnaryOp::kSoftplus, -200.f, 0, 0), 0.f);
  EXPECT_EQ(unary_value(UnaryOp::kSoftplus, 0.f, 0, 0), static_cast<float>(std::log(2.0)));
  EXPECT_EQ(unary_value(UnaryOp::kElu, 2.f, 0.5f, 0), 2.f);
  EXPECT_EQ(unary_value(UnaryOp::kElu, -kInf, 0.5f, 0), -0.5f);
  EXPECT_EQ(unary_value(UnaryOp::kGelu, 0.f, 0, 0), 0.f);
  EXPECT_EQ(unary_value(UnaryOp::kGelu, 50.f, 0, 0), 50.f);
  EXPECT_EQ(unary_value(UnaryOp::kGelu, 50.f, 1, 0), 50.f);
  EXPECT_EQ(unary_value(UnaryOp::kMish, 0.f, 0, 0), 0.f);
  EXPECT_EQ(unary_value(UnaryOp::kMish, 100.f, 0, 0), 100.f);
  EXPECT_EQ(unary_value(UnaryOp::kMish, kInf, 0, 0), kInf);
  EXPECT_EQ(unary_value(UnaryOp::kMish, -kInf, 0, 0), 0.f);
  for (UnaryOp op : kUnaryOps) EXPECT_TRUE(std::isnan(unary_value(op, kNaN, 0.f, 6.f)));
}

TEST(RefUnary, CloseToFloatFormulas) {
  std::mt19937 rng(203);
  const std::vector<float> x = random_floats(&rng, 5000, -8.f, 8.f);
  std::vector<float> y(x.size());
  for (UnaryOp op : kUnaryOps) {
    const float alpha = op == UnaryOp::kClip ? -1.f : 0.2f;
    const float beta = op == UnaryOp::kClip ? 4.f : 0.5f;
    unary_f32(op, alpha, beta, x.size(), x.data(), y.data());
    for (size_t i = 0; i < x.size(); ++i) {
      const double v = x[i];
      double e = 0;
      switch (op) {
        case UnaryOp::kRelu:
          e = std::max(v, 0.0);
          break;
        case UnaryOp::kClip:
          e = std::min(std::max(v, -1.0), 4.0);
          break;
        case UnaryOp::kLeakyRelu:
          e = v < 0 ? 0.2 * v : v;
          break;
        case UnaryOp::kSigmoid:
          e = 1.0 / (1.0 + std::exp(-v));
          break;
        case UnaryOp::kHardSigmoid:
          e = std::min(std::max(0.2 * v + 0.5, 0.0), 1.0);
          break;
        case UnaryOp::kHardSwish:
          e = v * std::min(std::max(v / 6 + 0.5, 0.0), 1.0);
          break;
        case UnaryOp::kTanh:
          e = std::tanh(v);
          break;
        case UnaryOp::kErf:
          e = std::erf(v);
          break;
        case UnaryOp::kSoftplus:
          e = std::log(1.0 + std::exp(v));
          break;
        case UnaryOp::kElu:
          e = v < 0 ? 0.2 * (std::exp(v) - 1.0) : v;
          break;
        case UnaryOp::kGelu:  // alpha 0.2 != 0: the tanh form
          e = 0.5 * v * (1.0 + std::tanh(std::sqrt(2.0 / 3.14159265358979323846) * (v + 0.044715 * v * v * v)));
          break;
        case UnaryOp::kMish:
          e = v * std::tanh(std::log(1.0 + std::exp(v)));
          break;
        default:
          FAIL() << "no formula for op " << static_cast<int>(op);
      }
      ASSERT_NEAR(y[i], e, 1e-6 * (1 + std::fabs(e))) << static_cast<int>(op) << " x=" << v;
      ASSERT_EQ(y[i], unary_value(op, x[i], alpha, beta));
    }
  }
}

// The elementwise functions of normalizations written out (RMSNorm's pow and rsqrt, an
// unfused LayerNorm): IEEE results, the exponents PyTorch writes computed exactly.
TEST(RefUnary, MathFunctions) {
  EXPECT_EQ(unary_value(UnaryOp::kSqrt, 2.25f, 0, 0), 1.5f);
  EXPECT_TRUE(std::isnan(unary_value(UnaryOp::kSqrt, -1.f, 0, 0)));
  EXPECT_EQ(unary_value(UnaryOp::kReciprocal, 4.f, 0, 0), 0.25f);
  EXPECT_EQ(unary_value(UnaryOp::kReciprocal, 0.f, 0, 0), kInf);
  EXPECT_EQ(unary_value(UnaryOp::kReciprocal, -0.f, 0, 0), -kInf);
  EXPECT_EQ(unary_value(UnaryOp::kExp, 0.f, 0, 0), 1.f);
  EXPECT_EQ(unary_value(UnaryOp::kExp, -kInf, 0, 0), 0.f);
  EXPECT_EQ(unary_value(UnaryOp::kLog, 1.f, 0, 0), 0.f);
  EXPECT_EQ(unary_value(UnaryOp::kLog, 0.f, 0, 0), -kInf);
  EXPECT_TRUE(std::isnan(unary_value(UnaryOp::kLog, -1.f, 0, 0)));
  EXPECT_EQ(unary_value(UnaryOp::kNeg, 3.f, 0, 0), -3.f);
  EXPECT_EQ(unary_value(UnaryOp::kAbs, -3.f, 0, 0), 3.f);
  EXPECT_EQ(unary_value(UnaryOp::kPow, -3.f, 2.f, 0), 9.f);
  EXPECT_EQ(unary_value(UnaryOp::kPow, -2.f, 3.f, 0), -8.f);
  EXPECT_EQ(unary_value(UnaryOp::kPow, 5.f, 1.f, 0), 5.f);
  EXPECT_EQ(unary_value(UnaryOp::kPow, 2.25f, 0.5f, 0), 1.5f);
  EXPECT_TRUE(std::isnan(unary_value(UnaryOp::kPow, -2.f, 0.5f, 0)));
  std::mt19937 rng(204);
  for (float x : random_floats(&rng, 2000, -8.f, 8.f)) {
    const float sq = x * x;  // x * x is exact in float here: the square PyTorch's x.pow(2) gives
    ASSERT_EQ(unary_value(UnaryOp::kPow, x, 2.f, 0), sq) << x;
    ASSERT_EQ(unary_value(UnaryOp::kSqrt, sq, 0, 0), std::fabs(x)) << x;
    ASSERT_NEAR(unary_value(UnaryOp::kExp, x, 0, 0), std::exp(static_cast<double>(x)),
                1e-7 * std::exp(static_cast<double>(x)));
    ASSERT_EQ(unary_value(UnaryOp::kPow, std::fabs(x), 1.5f, 0), std::pow(std::fabs(x), 1.5f)) << x;
  }
  for (UnaryOp op : {UnaryOp::kSqrt, UnaryOp::kReciprocal, UnaryOp::kExp, UnaryOp::kLog, UnaryOp::kNeg,
                     UnaryOp::kAbs, UnaryOp::kPow})
    EXPECT_TRUE(std::isnan(unary_value(op, kNaN, 2.f, 0))) << static_cast<int>(op);
}

// The table entry for each byte, from its definition, with the byte reinterpreted
// through memcpy.
template <typename T>
void check_tables(uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> log_scale(-2.5f, -0.5f);
  for (UnaryOp op : kUnaryOps) {
    for (int trial = 0; trial < 6; ++trial) {
      const float s_in = std::pow(10.f, log_scale(rng)), s_out = std::pow(10.f, log_scale(rng));
      const int32_t z_in = random_ints<int32_t>(&rng, 1, tmin<T>(), tmax<T>())[0];
      const int32_t z_out = random_ints<int32_t>(&rng, 1, tmin<T>(), tmax<T>())[0];
      const float alpha = op == UnaryOp::kClip ? -0.3f : 0.2f;
      const float beta = op == UnaryOp::kClip ? 0.6f : 0.5f;
      T table[256];
      build_unary_table<T>(op, alpha, beta, s_in, z_in, s_out, z_out, table);
      for (int byte = 0; byte < 256; ++byte) {
        const uint8_t raw = static_cast<uint8_t>(byte);
        T q;
        std::memcpy(&q, &raw, 1);
        const float x = s_in * static_cast<float>(static_cast<int32_t>(q) - z_in);
        const int32_t e =
            naive_quantize(unary_value(op, x, alpha, beta), s_out, z_out, tmin<T>(), tmax<T>());
        ASSERT_EQ(static_cast<int32_t>(table[byte]), e) << static_cast<int>(op) << " byte " << byte;
      }
    }
  }
}

TEST(RefUnaryTable, Int8MatchesDefinition) { check_tables<int8_t>(204); }
TEST(RefUnaryTable, Uint8MatchesDefinition) { check_tables<uint8_t>(205); }

TEST(RefUnaryTable, ExactTables) {
  // Relu with equal in/out params is max(q, z).
  int8_t relu[256];
  build_unary_table<int8_t>(UnaryOp::kRelu, 0, 0, 0.05f, -20, 0.05f, -20, relu);
  for (int byte = 0; byte < 256; ++byte) {
    const int q = byte < 128 ? byte : byte - 256;
    EXPECT_EQ(relu[byte], std::max(q, -20)) << byte;
  }
  // Sigmoid: 0 maps to 0.5 = 128 steps of 1/256 above z_out = -128.
  int8_t sig[256];
  build_unary_table<int8_t>(UnaryOp::kSigmoid, 0, 0, 0.1f, 7, 1.f / 256, -128, sig);
  EXPECT_EQ(sig[7], 0);
  EXPECT_EQ(sig[0x80], -128);  // q = -128: sigmoid(-13.5) * 256 = 0.0003 -> 0
  EXPECT_EQ(sig[0x7f], 127);   // q = 127: saturates at 255 - 128
  int prev = -129;
  for (int q = -128; q <= 127; ++q) {  // monotone in q
    const int v = sig[static_cast<uint8_t>(static_cast<int8_t>(q))];
    EXPECT_GE(v, prev) << q;
    prev = v;
  }
  // uint8 clip [0, 6] with s = 6/255 is the identity on the representable range.
  uint8_t clip[256];
  build_unary_table<uint8_t>(UnaryOp::kClip, 0.f, 6.f, 6.f / 255, 0, 6.f / 255, 0, clip);
  for (int byte = 0; byte < 256; ++byte) EXPECT_EQ(clip[byte], byte);
}

TEST(RefLookup, IndexesByUnsignedByte) {
  int8_t table[256];
  for (int i = 0; i < 256; ++i) table[i] = static_cast<int8_t>((i * 7 + 3) % 256 - 128);
  const int8_t in[6] = {-128, -1, 0, 1, 127, -2};
  int8_t out[6];
  lookup<int8_t>(6, in, table, out);
  EXPECT_EQ(out[0], table[128]);
  EXPECT_EQ(out[1], table[255]);
  EXPECT_EQ(out[2], table[0]);
  EXPECT_EQ(out[3], table[1]);
  EXPECT_EQ(out[4], table[127]);
  EXPECT_EQ(out[5], table[254]);
  uint8_t utable[256];
  for (int i = 0; i < 256; ++i) utable[i] = static_cast<uint8_t>(255 - i);
  const uint8_t uin[3] = {0, 128, 255};
  uint8_t uout[3];
  lookup<uint8_t>(3, uin, utable, uout);
  EXPECT_EQ(uout[0], 255);
  EXPECT_EQ(uout[1], 127);
  EXPECT_EQ(uout[2], 0);
}

// ---------------------------------------------------------------- softmax

TEST(RefSoftmax, MatchesNaiveOverMiddleAxis) {
  std::mt19937 rng(206);
  const int64_t dims[][3] = {{1, 1, 1}, {1, 10, 1}, {2, 5, 3}, {3, 1, 4}, {1, 7, 8}, {4, 33, 2}};
  for (const auto& d : dims) {
    const int64_t outer = d[0], inner = d[2];
    const int32_t axis = static_cast<int32_t>(d[1]);
    const std::vector<float> x = random_floats(&rng, outer * axis * inner, -6.f, 6.f);
    std::vector<float> y(x.size());
    softmax_f32(outer, axis, inner, x.data(), y.data());
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t k = 0; k < inner; ++k) {
        double denom = 0;
        for (int32_t j = 0; j < axis; ++j) denom += std::exp(double{x[(o * axis + j) * inner + k]});
        double total = 0;
        for (int32_t j = 0; j < axis; ++j) {
          const int64_t i = (o * axis + j) * inner + k;
          ASSERT_NEAR(y[i], std::exp(double{x[i]}) / denom, 1e-7);
          total += y[i];
        }
        ASSERT_NEAR(total, 1.0, 1e-5);
      }
    }
  }
  // Large inputs do not overflow (the maximum is subtracted).
  const float big[3] = {1000.f, 1000.f, -kInf};
  float p[3];
  softmax_f32(1, 3, 1, big, p);
  EXPECT_EQ(p[0], 0.5f);
  EXPECT_EQ(p[1], 0.5f);
  EXPECT_EQ(p[2], 0.f);
}

template <typename T>
void check_qsoftmax(uint32_t seed) {
  std::mt19937 rng(seed);
  const int64_t outer = 3, inner = 2;
  const int32_t axis = 11;
  const std::vector<T> q = random_ints<T>(&rng, outer * axis * inner, tmin<T>(), tmax<T>());
  const int32_t z_in = tmin<T>() + 100, z_out = tmin<T>();
  const float s_in = 0.07f, s_out = 1.f / 256;
  std::vector<T> out(q.size());
  qsoftmax(outer, axis, inner, q.data(), s_in, z_in, s_out, z_out, out.data());
  // Within one step of dequantize -> softmax_f32 -> quantize (the integer table of
  // exponentials, kernels/ref/ref.h, rounds each probability by at most 2^-24).
  std::vector<float> x(q.size()), p(q.size());
  dequantize(q.size(), q.data(), s_in, z_in, x.data());
  softmax_f32(outer, axis, inner, x.data(), p.data());
  for (size_t i = 0; i < q.size(); ++i) {
    ASSERT_LE(std::abs(static_cast<int32_t>(out[i]) - naive_quantize(p[i], s_out, z_out, tmin<T>(), tmax<T>())), 1);
  }
  // Four equal values: 0.25 each = 64 steps above z_out.
  const T same[4] = {T(5), T(5), T(5), T(5)};
  T four[4];
  qsoftmax<T>(1, 4, 1, same, 0.3f, 0, s_out, z_out, four);
  for (T v : four) EXPECT_EQ(static_cast<int32_t>(v), z_out + 64);
}

TEST(RefQSoftmax, Int8) { check_qsoftmax<int8_t>(207); }
TEST(RefQSoftmax, Uint8) { check_qsoftmax<uint8_t>(208); }

}  // namespace
}  // namespace ref
}  // namespace edgeq
