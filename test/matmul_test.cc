// MatMul of two activations and dynamic quantization: the reference against values
// worked out by hand and against an independent float statement of ONNX
// DynamicQuantizeLinear; every level's GEMM driver (kern::QMatMulOp) bit-exact with the
// reference over a sweep of sizes (below, at and above the tiles), broadcast batches,
// operand types, extreme zero points and scales, both requantization schemes and
// non-finite inputs; and a session running MatMul nodes end to end at every level.
#include <gtest/gtest.h>
#include <pthreadpool.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "graph/format.h"
#include "kernels/kernels.h"
#include "kernels/qmatmul.h"
#include "kernels/ref/ref.h"
#include "runtime/schedule.h"
#include "runtime/session.h"
#include "test/model_helpers.h"
#include "test/gemm_tester.h"
#include "test/test_graphs.h"

namespace edgeq {
namespace {

using kern::Isa;
using testing_graphs::make_node;
using testing_graphs::make_tensor;

using test_models::shape_of;

std::vector<float> run_dynamic_ref(const ref::MatMulShape& s, int mode, const std::vector<float>& a,
                                   const std::vector<float>& b) {
  std::vector<uint32_t> scratch((ref::dynamic_matmul_scratch_bytes(s, mode) + 3) / 4);
  std::vector<float> y(static_cast<size_t>(s.batches) * s.m * s.n);
  ref::dynamic_matmul(s, mode, a.data(), b.data(), scratch.data(), y.data());
  return y;
}

bool same_bits(float x, float y) { return std::memcmp(&x, &y, sizeof(float)) == 0; }

// ------------------------------------------------------------------ reference

TEST(MatMulRef, ShapeBroadcastsBatches) {
  const ref::MatMulShape s = shape_of({2, 1, 3, 4}, {5, 4, 6});
  EXPECT_EQ(s.m, 3);
  EXPECT_EQ(s.k, 4);
  EXPECT_EQ(s.n, 6);
  EXPECT_EQ(s.batches, 10);
  EXPECT_EQ(s.a_batches, 2);
  EXPECT_EQ(s.b_batches, 5);
  int64_t ai, bi;
  ref::matmul_operands(s, 7, &ai, &bi);  // Y batch (1, 2)
  EXPECT_EQ(ai, 1);
  EXPECT_EQ(bi, 2);
  ref::MatMulShape bad;
  const int32_t a[] = {2, 3, 4}, b[] = {3, 4, 5}, b2[] = {2, 5, 6};
  EXPECT_FALSE(ref::make_matmul_shape(a, 3, b, 3, &bad));   // batches 2 and 3
  EXPECT_FALSE(ref::make_matmul_shape(a, 3, b2, 3, &bad));  // k 4 and 5
}

TEST(MatMulRef, FloatByHandWithSharedB) {
  // A[2,2,3] x B[3,2]: B shared by both batches.
  const std::vector<float> a = {1, 2, 3, 4, 5, 6, -1, 0, 1, 0.5f, 0.25f, 2};
  const std::vector<float> b = {1, -1, 2, 0, 0.5f, 3};
  const ref::MatMulShape s = shape_of({2, 2, 3}, {3, 2});
  std::vector<float> y(8);
  ref::matmul_f32(s, a.data(), b.data(), y.data());
  const std::vector<float> want = {6.5f, 8, 17, 14, -0.5f, 4, 2.f, 5.5f};
  EXPECT_EQ(y, want);
}

TEST(MatMulRef, QuantizedByHand) {
  // A u8 (za 10), B s8 (zb -3): acc = sum (a - 10)(b + 3); y s8 = round(acc * 0.5) + 1.
  const std::vector<uint8_t> a = {12, 10, 7, 20};         // [[2, 0], [-3, 10]]
  const std::vector<int8_t> b = {-1, 0, -3, 5, -4, 1};    // [[2, 3, 0], [8, -1, 4]]
  const float scale = 0.5f;
  ref::Requant rq;
  rq.scale = &scale;
  rq.zero_point = 1;
  const ref::MatMulShape s = shape_of({2, 2}, {2, 3});
  std::vector<int8_t> y(6);
  ref::qmatmul<uint8_t, int8_t, int8_t>(s, a.data(), 10, b.data(), -3, rq, y.data());
  // acc: [[4, 6, 0], [74, -19, 40]] -> *0.5: [[2, 3, 0], [37, -9.5, 20]] -> round half even + 1
  const std::vector<int8_t> want = {3, 4, 1, 38, -9, 21};
  EXPECT_EQ(y, want);
  // The clamp of the output range.
  rq.qmin = -5;
  rq.qmax = 10;
  ref::qmatmul<uint8_t, int8_t, int8_t>(s, a.data(), 10, b.data(), -3, rq, y.data());
  EXPECT_EQ(y, (std::vector<int8_t>{3, 4, 1, 10, -5, 10}));
}

// ONNX DynamicQuantizeLinear as its specification states it, in float.
struct Dql {
  float scale;
  int32_t zp;
  std::vector<int32_t> q;
};
Dql dql(const std::vector<float>& x) {
  float lo = 0.f, hi = 0.f;
  for (float v : x) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  Dql d;
  d.scale = (hi - lo) / 255.f;
  const float z = std::nearbyint(0.f - lo / d.scale);
  d.zp = static_cast<int32_t>(std::max(0.f, std::min(255.f, z)));
  for (float v : x) {
    const float r = std::nearbyint(v / d.scale) + static_cast<float>(d.zp);
    d.q.push_back(static_cast<int32_t>(std::max(0.f, std::min(255.f, r))));
  }
  return d;
}

TEST(MatMulRef, DynamicPerTensorIsDynamicQuantizeLinearThenMatMulInteger) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-2.f, 3.f);
  const ref::MatMulShape s = shape_of({2, 5, 7}, {2, 7, 4});
  std::vector<float> a(70), b(56);
  for (float& v : a) v = u(rng);
  for (float& v : b) v = u(rng) * 0.1f;
  const std::vector<float> y = run_dynamic_ref(s, 1, a, b);
  const Dql qa = dql(a), qb = dql(b);
  const float scale = qa.scale * qb.scale;
  for (int t = 0; t < 2; ++t)
    for (int i = 0; i < 5; ++i)
      for (int j = 0; j < 4; ++j) {
        int64_t acc = 0;
        for (int k = 0; k < 7; ++k)
          acc += int64_t{qa.q[t * 35 + i * 7 + k] - qa.zp} * (qb.q[t * 28 + k * 4 + j] - qb.zp);
        const float want = static_cast<float>(acc) * scale;
        EXPECT_TRUE(same_bits(y[t * 20 + i * 4 + j], want)) << y[t * 20 + i * 4 + j] << " " << want;
      }
}

TEST(MatMulRef, DynamicPerRowByHand) {
  // A row [0, 2.55] -> scale 0.01, zp 0, q [0, 255]; B column [1.27, -0.635] -> scale
  // 0.01, q [127, -64] (ties to even: -63.5 -> -64).
  const ref::MatMulShape s = shape_of({1, 2}, {2, 1});
  const std::vector<float> y = run_dynamic_ref(s, 2, {0.f, 2.55f}, {1.27f, -0.635f});
  const float sa = (2.55f - 0.f) / 255.f, sb = 1.27f / 127.f;
  EXPECT_EQ(ref::quantize_value(-0.635f, sb, 0, -127, 127), -64);
  EXPECT_TRUE(same_bits(y[0], static_cast<float>(255 * -64) * (sa * sb))) << y[0];
}

TEST(MatMulRef, DynamicNonFiniteFallsBackToFloat) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const ref::MatMulShape s = shape_of({2, 2}, {2, 2});
  const std::vector<float> a = {1.f, inf, 0.5f, 0.25f}, b = {1.f, 2.f, 0.f, -1.f};
  // mode 1: every output in double: [[1 + inf * 0, 2 - inf], [0.5, 0.75]]
  std::vector<float> y = run_dynamic_ref(s, 1, a, b);
  EXPECT_TRUE(std::isnan(y[0]));
  EXPECT_EQ(y[1], -inf);
  EXPECT_EQ(y[2], 0.5f);
  EXPECT_EQ(y[3], 0.75f);
  // mode 2: only row 0 in double; row 1 quantized.
  std::vector<float> y2 = run_dynamic_ref(s, 2, a, b);
  EXPECT_TRUE(std::isnan(y2[0]));
  EXPECT_EQ(y2[1], -inf);
  EXPECT_NEAR(y2[2], 0.5f, 0.01f);
  EXPECT_NEAR(y2[3], 0.75f, 0.02f);
  // a NaN in a column of B: that column in double
  y2 = run_dynamic_ref(s, 2, {1.f, 2.f, 3.f, 4.f}, {nan, 1.f, 1.f, 1.f});
  EXPECT_TRUE(std::isnan(y2[0]) && std::isnan(y2[2]));
  EXPECT_NEAR(y2[1], 3.f, 0.05f);
}

TEST(MatMulRef, DynamicFullyConnectedPerTensor) {
  // One tensor [[-1, 0.5], [2, 1]]: lo -1, hi 2, scale 3/255, zp round(85) = 85.
  const std::vector<float> x = {-1.f, 0.5f, 2.f, 1.f};
  const std::vector<int8_t> w = {3, -2, 1, 4};  // [2 outputs][2]
  const float w_scale[] = {0.5f, 0.25f}, bias[] = {0.f, 1.f};
  std::vector<uint8_t> q(4);
  std::vector<float> y(4);
  // The weights' zero points (ONNX Runtime's asymmetric weights): none, one for the
  // tensor, one per column.
  const std::vector<std::vector<int32_t>> zero_points = {{}, {-7}, {-7, 120}};
  for (const std::vector<int32_t>& wzs : zero_points) {
    ref::dynamic_fully_connected_per_tensor(2, 2, 2, x.data(), w.data(), wzs.empty() ? nullptr : wzs.data(),
                                            wzs.size() > 1, w_scale, true, bias, -INFINITY, INFINITY, q.data(),
                                            y.data());
    const Dql d = dql(x);
    EXPECT_EQ(d.zp, 85);
    for (int r = 0; r < 2; ++r)
      for (int c = 0; c < 2; ++c) {
        const int32_t wz = wzs.empty() ? 0 : wzs[wzs.size() > 1 ? c : 0];
        const int32_t acc = (d.q[r * 2] - d.zp) * (w[c * 2] - wz) + (d.q[r * 2 + 1] - d.zp) * (w[c * 2 + 1] - wz);
        const float want = static_cast<float>(acc) * (d.scale * w_scale[c]) + bias[c];
        EXPECT_TRUE(same_bits(y[r * 2 + c], want)) << r << c << " wz " << wz;
      }
  }
}

// ------------------------------------------------------------------ levels

struct Case {
  std::vector<int32_t> a_shape, b_shape;
};

std::string describe(const Case& c) {
  std::ostringstream o;
  o << "A[";
  for (int32_t d : c.a_shape) o << d << ",";
  o << "] B[";
  for (int32_t d : c.b_shape) o << d << ",";
  o << "]";
  return o.str();
}

class MatMulLevelTest : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    if (!kern::isa_supported(GetParam())) GTEST_SKIP() << kern::isa_name(GetParam()) << " not supported";
    if (!kernel().int32_output) GTEST_SKIP() << "the level's GEMM kernels do not store int32 tiles";
  }
  const kern::QGemmKernel& kernel() const { return kern::kernel_set(GetParam()).gemm; }
  std::vector<Case> cases() const {
    const int32_t mr = static_cast<int32_t>(kernel().mr), nr = static_cast<int32_t>(kernel().nr);
    const int32_t kr = static_cast<int32_t>(kernel().kr);
    std::vector<Case> out;
    for (int32_t m : {1, mr - 1, mr + 1, 2 * mr + 3})
      for (int32_t n : {1, nr + 1, 2 * nr - 3})
        for (int32_t k : {1, kr + 1, 67}) out.push_back({{m, k}, {k, n}});
    // broadcast batches: B shared by heads, A shared, both ways
    out.push_back({{2, 3, mr + 2, 17}, {17, nr + 5}});
    out.push_back({{2, 3, mr, 16}, {3, 16, 9}});
    out.push_back({{5, 8}, {4, 8, 2 * nr}});
    out.push_back({{2, 1, 3, 9}, {1, 4, 9, 7}});
    return out;
  }
};

template <typename T>
std::vector<T> random_bytes(size_t n, std::mt19937& rng, int32_t center, int32_t spread) {
  std::uniform_int_distribution<int32_t> d(-spread, spread);
  const int32_t lo = std::is_same<T, int8_t>::value ? -128 : 0, hi = lo + 255;
  std::vector<T> v(n);
  for (T& x : v) x = static_cast<T>(std::min(hi, std::max(lo, center + d(rng))));
  return v;
}

template <typename TA, typename TB, typename TY>
void check_quantized(Isa isa, const kern::QGemmKernel& kernel, const Case& c, int32_t za, int32_t zb, float scale,
                     ref::Scheme scheme, int32_t spread, std::mt19937& rng, const std::string& what) {
  const ref::MatMulShape s = shape_of(c.a_shape, c.b_shape);
  // A with 64 bytes of slack after it, as the arena has.
  std::vector<TA> a = random_bytes<TA>(static_cast<size_t>(s.a_batches) * s.m * s.k + 128, rng, za, spread);
  const std::vector<TB> b = random_bytes<TB>(static_cast<size_t>(s.b_batches) * s.k * s.n, rng, zb, spread);
  ref::Requant rq;
  int32_t mult = 0, exp = 0;
  ref::quantize_multiplier(scale, &mult, &exp);
  rq.scheme = scheme;
  rq.scale = &scale;
  rq.multiplier = &mult;
  rq.exponent = &exp;
  rq.zero_point = std::is_same<TY, int8_t>::value ? -3 : 131;
  rq.qmin = std::is_same<TY, int8_t>::value ? -128 : 0;
  rq.qmax = rq.qmin + 255;
  const size_t ny = static_cast<size_t>(s.batches) * s.m * s.n;
  std::vector<TY> want(ny), got(ny + 16, TY(0x5A));
  ref::qmatmul<TA, TB, TY>(s, a.data(), za, b.data(), zb, rq, want.data());
  kern::QMatMulParams p;
  p.shape = s;
  p.a_s8 = std::is_same<TA, int8_t>::value;
  p.b_s8 = std::is_same<TB, int8_t>::value;
  p.y_s8 = std::is_same<TY, int8_t>::value;
  p.a_zero_point = za;
  p.b_zero_point = zb;
  p.rq = rq;
  kern::QMatMulOp op;
  ASSERT_TRUE(op.init(p, kernel)) << what;
  op.run(a.data(), b.data(), got.data());
  for (size_t i = 0; i < ny; ++i)
    ASSERT_EQ(int{got[i]}, int{want[i]}) << kern::isa_name(isa) << " " << what << " at " << i;
  for (size_t i = ny; i < got.size(); ++i) ASSERT_EQ(got[i], TY(0x5A)) << what << ": wrote past the output";
}

TEST_P(MatMulLevelTest, QuantizedEqualsReference) {
  std::mt19937 rng(11);
  int count = 0;
  for (const Case& c : cases()) {
    for (int spread : {255, 20})  // full-range bytes (int32 tiles) and values near zb (direct)
      for (ref::Scheme scheme : {ref::Scheme::kFp32, ref::Scheme::kFixedPoint}) {
        const float scale = (count++ % 3 == 0) ? 1e-6f : (count % 3 == 1 ? 0.0123f : 7.5f);
        const std::string what = describe(c) + " spread " + std::to_string(spread) + " scale " + std::to_string(scale) +
                                 (scheme == ref::Scheme::kFp32 ? " fp32" : " fixed");
        check_quantized<uint8_t, uint8_t, uint8_t>(GetParam(), kernel(), c, 255, 0, scale, scheme, spread, rng,
                                                   what + " u8 za 255 zb 0");
        check_quantized<uint8_t, uint8_t, uint8_t>(GetParam(), kernel(), c, 3, 128, scale, scheme, spread, rng,
                                                   what + " u8 zb 128");
        check_quantized<int8_t, int8_t, int8_t>(GetParam(), kernel(), c, -128, 127, scale, scheme, spread, rng,
                                                what + " s8 za -128 zb 127");
        check_quantized<int8_t, int8_t, int8_t>(GetParam(), kernel(), c, 127, 0, scale, scheme, spread, rng,
                                                what + " s8 zb 0");
        check_quantized<uint8_t, int8_t, int8_t>(GetParam(), kernel(), c, 0, -128, scale, scheme, spread, rng,
                                                 what + " u8 x s8 -> s8");
        check_quantized<int8_t, uint8_t, uint8_t>(GetParam(), kernel(), c, 5, 255, scale, scheme, spread, rng,
                                                  what + " s8 x u8 -> u8");
        if (HasFailure()) return;
      }
  }
}

std::vector<float> random_floats(size_t n, std::mt19937& rng, float lo, float hi) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

void expect_same_floats(const std::vector<float>& got, const std::vector<float>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i)
    ASSERT_TRUE(same_bits(got[i], want[i]) || (std::isnan(got[i]) && std::isnan(want[i])))
        << what << " at " << i << ": " << got[i] << " vs " << want[i];
}

TEST_P(MatMulLevelTest, DynamicEqualsReference) {
  std::mt19937 rng(12);
  const float inf = std::numeric_limits<float>::infinity();
  for (const Case& c : cases())
    for (int mode : {1, 2})
      for (int variant = 0; variant < 4; ++variant) {
        const ref::MatMulShape s = shape_of(c.a_shape, c.b_shape);
        // 0: mixed signs; 1: positive A (zero point 0), tiny B; 2: a NaN / inf in A; 3: in B
        std::vector<float> a = random_floats(static_cast<size_t>(s.a_batches) * s.m * s.k, rng,
                                             variant == 1 ? 0.f : -3.f, variant == 1 ? 1e3f : 2.f);
        std::vector<float> b = random_floats(static_cast<size_t>(s.b_batches) * s.k * s.n, rng, -1e-3f,
                                             variant == 1 ? 1e-6f : 4e-3f);
        if (variant == 2) a[a.size() / 2] = inf;
        if (variant == 3) b[b.size() - 1] = std::numeric_limits<float>::quiet_NaN();
        const std::vector<float> want = run_dynamic_ref(s, mode, a, b);
        kern::QMatMulParams p;
        p.shape = s;
        p.mode = mode;
        p.quantize_u8 = kern::kernel_set(GetParam()).misc.quantize_u8;
        kern::QMatMulOp op;
        ASSERT_TRUE(op.init(p, kernel()));
        std::vector<float> got(want.size());
        op.run(a.data(), b.data(), got.data());
        expect_same_floats(got, want, describe(c) + " mode " + std::to_string(mode) + " variant " +
                                          std::to_string(variant));
        if (HasFailure()) return;
      }
}

TEST_P(MatMulLevelTest, DynamicFullyConnectedEqualsReference) {
  std::mt19937 rng(13);
  const int32_t nr = static_cast<int32_t>(kernel().nr);
  for (int32_t m : {1, 5, 17})
    for (int32_t n : {1, nr + 3})
      for (int32_t k : {3, 64, 129})
        for (int mode : {1, 2})
          for (int variant = 0; variant < 3; ++variant) {
            std::vector<float> x = random_floats(static_cast<size_t>(m) * k, rng, -2.f, variant == 1 ? -0.5f : 3.f);
            if (variant == 2) x[x.size() - 1] = -std::numeric_limits<float>::infinity();
            std::vector<int8_t> w = random_bytes<int8_t>(static_cast<size_t>(n) * k, rng, 0, 127);
            w[0] = -128;
            std::vector<float> w_scale = random_floats(static_cast<size_t>(n), rng, 1e-3f, 2e-2f);
            std::vector<float> bias = random_floats(static_cast<size_t>(n), rng, -1.f, 1.f);
            const bool per_channel = (m + k) % 2 == 0;
            const float lo = variant == 1 ? -0.5f : -INFINITY, hi = variant == 1 ? 0.5f : INFINITY;
            std::vector<float> want(static_cast<size_t>(m) * n), got(want.size());
            std::vector<uint8_t> scratch(static_cast<size_t>(m) * k);
            // Mode 1 takes weight zero points (ONNX Runtime's asymmetric weights): one for the
            // tensor (m 1), none (m 5), or one per column from -128 to 127 (m 17).
            const int32_t wz = mode == 1 && m == 1 ? (variant == 1 ? -100 : 37) : 0;
            std::vector<int32_t> wzs;
            if (mode == 1 && m == 17) {
              for (int32_t j = 0; j < n; ++j) wzs.push_back(j == 0 ? -128 : j == 1 ? 127 : static_cast<int32_t>(rng() % 256) - 128);
            }
            if (mode == 1) {
              ref::dynamic_fully_connected_per_tensor(m, n, k, x.data(), w.data(), wzs.empty() ? &wz : wzs.data(),
                                                      !wzs.empty(), w_scale.data(), per_channel, bias.data(), lo, hi,
                                                      scratch.data(), want.data());
            } else {
              ref::dynamic_fully_connected(m, n, k, x.data(), w.data(), w_scale.data(), per_channel, bias.data(), lo,
                                           hi, scratch.data(), want.data());
            }
            kern::QMatMulParams p;
            p.shape = shape_of({m, k}, {k, n});
            p.mode = mode;
            p.quantize_u8 = kern::kernel_set(GetParam()).misc.quantize_u8;
            p.weight = w.data();
            p.weight_zero_point = wz;
            if (!wzs.empty()) p.weight_zero_points = wzs.data();
            p.weight_scale = w_scale.data();
            p.per_channel = per_channel;
            p.bias = bias.data();
            p.act_min = lo;
            p.act_max = hi;
            kern::QMatMulOp op;
            ASSERT_TRUE(op.init(p, kernel()));
            op.run(x.data(), nullptr, got.data());
            expect_same_floats(got, want, "fc m " + std::to_string(m) + " n " + std::to_string(n) + " k " +
                                              std::to_string(k) + " mode " + std::to_string(mode) + " variant " +
                                              std::to_string(variant));
            if (HasFailure()) return;
          }
}

// Large enough for the scheduler to split every phase over a pool of 3 threads.
TEST_P(MatMulLevelTest, ThreadedEqualsReference) {
  std::mt19937 rng(14);
  const ref::MatMulShape s = shape_of({2, 2, 97, 40}, {2, 1, 40, 90});  // 34920 outputs, B shared
  pthreadpool_t pool = pthreadpool_create(3);
  ASSERT_NE(pool, nullptr);
  const Scheduler sched(pool);
  for (int mode : {0, 1, 2}) {
    for (int32_t zb : {128, 0}) {
      if (mode != 0 && zb == 0) continue;
      kern::QMatMulParams p;
      p.shape = s;
      p.mode = mode;
      p.quantize_u8 = kern::kernel_set(GetParam()).misc.quantize_u8;
      kern::QMatMulOp op;
      if (mode == 0) {
        const std::vector<uint8_t> a = random_bytes<uint8_t>(static_cast<size_t>(s.a_batches) * s.m * s.k + 128, rng,
                                                             128, 255);
        const std::vector<uint8_t> b =
            random_bytes<uint8_t>(static_cast<size_t>(s.b_batches) * s.k * s.n, rng, zb, zb == 128 ? 127 : 255);
        const float scale = 0.003f;
        p.rq.scale = &scale;
        p.rq.zero_point = 128;
        p.rq.qmin = 0;
        p.rq.qmax = 255;
        p.a_zero_point = 100;
        p.b_zero_point = zb;
        std::vector<uint8_t> want(static_cast<size_t>(s.batches) * s.m * s.n), got(want.size());
        ref::qmatmul<uint8_t, uint8_t, uint8_t>(s, a.data(), 100, b.data(), zb, p.rq, want.data());
        ASSERT_TRUE(op.init(p, kernel()));
        sched.run(op, a.data(), b.data(), got.data());
        EXPECT_EQ(got, want) << "zb " << zb;
        continue;
      }
      const std::vector<float> a = random_floats(static_cast<size_t>(s.a_batches) * s.m * s.k, rng, -1.f, 2.f);
      const std::vector<float> b = random_floats(static_cast<size_t>(s.b_batches) * s.k * s.n, rng, -3.f, 1.f);
      const std::vector<float> want = run_dynamic_ref(s, mode, a, b);
      std::vector<float> got(want.size());
      ASSERT_TRUE(op.init(p, kernel()));
      sched.run(op, a.data(), b.data(), got.data());
      expect_same_floats(got, want, "threaded mode " + std::to_string(mode));
    }
  }
  pthreadpool_destroy(pool);
}

INSTANTIATE_TEST_SUITE_P(Levels, MatMulLevelTest, ::testing::ValuesIn(kern::arch_levels()),
                         [](const ::testing::TestParamInfo<Isa>& info) { return std::string(kern::isa_name(info.param)); });

// ------------------------------------------------------------------ end to end

// x[2,8,24] -> MatMul(x, xT) quantized path: q = Quantize(x) (u8), kt = Transpose(q)
// [2,24,8], s = MatMul(q, kt) [2,8,8] s8, and a float head: MatMul(x, w_in) dynamic.
Graph attention_like(int dynamic) {
  Graph g;
  g.producer = "test";
  const DType f = DType::kF32;
  const int32_t x = g.add_tensor(make_tensor("x", f, {2, 8, 24}));
  const int32_t q = g.add_tensor(make_tensor("q", DType::kU8, {2, 8, 24}, 0.02f, 100));
  g.nodes.push_back(make_node("quant", OpType::kQuantize, {x}, {q}));
  const int32_t kt = g.add_tensor(make_tensor("kt", DType::kU8, {2, 24, 8}, 0.02f, 100));
  Node tr = make_node("transpose", OpType::kTranspose, {q}, {kt});
  tr.attrs.perm = {0, 2, 1};
  g.nodes.push_back(tr);
  const int32_t sc = g.add_tensor(make_tensor("scores", DType::kS8, {2, 8, 8}, 0.05f, -5));
  g.nodes.push_back(make_node("qk", OpType::kMatMul, {q, kt}, {sc}));
  const int32_t sf = g.add_tensor(make_tensor("scores_f", f, {2, 8, 8}));
  g.nodes.push_back(make_node("deq", OpType::kDequantize, {sc}, {sf}));
  const int32_t xt = g.add_tensor(make_tensor("xt", f, {2, 24, 8}));
  Node tr2 = make_node("transpose_f", OpType::kTranspose, {x}, {xt});
  tr2.attrs.perm = {0, 2, 1};
  g.nodes.push_back(tr2);
  const int32_t d = g.add_tensor(make_tensor("dyn", f, {2, 8, 8}));
  Node mm = make_node("qk_dynamic", OpType::kMatMul, {x, xt}, {d});
  mm.attrs.dynamic = dynamic;
  g.nodes.push_back(mm);
  g.inputs = {x};
  g.outputs = {sf, d};
  return g;
}

TEST(MatMulSession, EveryLevelEqualsTheReferenceAndNamesItsKernel) {
  for (int dynamic : {0, 1, 2}) {
    const Graph g = attention_like(dynamic);
    const std::shared_ptr<const Model> model = test_models::load_in_memory(g);
    ASSERT_NE(model, nullptr);
    const std::vector<float> x = testing_graphs::random_floats(2 * 8 * 24, 9, -1.f, 1.5f);
    std::vector<std::vector<float>> want;
    for (Isa isa : test_models::every_level()) {
      if (!kern::isa_supported(isa)) continue;
      const std::unique_ptr<Session> s = test_models::session_at(model, kern::isa_name(isa), isa == Isa::kRef ? 1 : 2);
      ASSERT_NE(s, nullptr);
      ASSERT_TRUE(s->set_input_f32(0, x.data(), x.size()).ok());
      s->run();
      std::vector<std::vector<float>> outs(2, std::vector<float>(128));
      for (size_t i = 0; i < 2; ++i) ASSERT_TRUE(s->get_output_f32(i, outs[i].data(), outs[i].size()).ok());
      const bool optimized = isa != Isa::kRef && kern::kernel_set(isa).gemm.int32_output;
      for (size_t node = 0; node < g.nodes.size(); ++node) {
        if (g.nodes[node].op != OpType::kMatMul) continue;
        const std::string name = s->op(node).kernel_name();
        if (g.nodes[node].name == "qk_dynamic" && dynamic == 0) {
          const kern::FGemmKernel& fk = kern::kernel_set(isa).fgemm;  // test/fmatmul_test.cc
          EXPECT_EQ(name, fk.fn != nullptr ? fk.name : "ref") << kern::isa_name(isa);
        } else {
          EXPECT_EQ(name != "ref", optimized) << kern::isa_name(isa) << " " << g.nodes[node].name << ": " << name;
        }
      }
      if (want.empty()) {
        want = outs;
        // The float product against a direct computation, loosely: the quantized one is
        // the reference's by construction.
        for (int t = 0; t < 2; ++t)
          for (int i = 0; i < 8; ++i)
            for (int j = 0; j < 8; ++j) {
              double sum = 0;
              for (int k = 0; k < 24; ++k) sum += double{x[t * 192 + i * 24 + k]} * x[t * 192 + j * 24 + k];
              EXPECT_NEAR(outs[1][t * 64 + i * 8 + j], sum, dynamic == 0 ? 1e-4 : 0.1) << dynamic;
            }
        continue;
      }
      // The float product (dynamic 0) runs on the level's float GEMM kernel, which may
      // fuse multiply and add: close to the reference, not equal (test/fmatmul_test.cc).
      for (size_t i = 0; i < 2; ++i) {
        if (i == 1 && dynamic == 0) {
          for (size_t e = 0; e < outs[i].size(); ++e) EXPECT_NEAR(outs[i][e], want[i][e], 1e-5f) << e;
        } else {
          expect_same_floats(outs[i], want[i], std::string(kern::isa_name(isa)));
        }
      }
    }
  }
}

TEST(MatMulSession, RefusesMixedFloatAndQuantizedNamingTheNode) {
  Graph g;
  g.producer = "test";
  const int32_t a = g.add_tensor(make_tensor("a", DType::kF32, {4, 4}));
  const int32_t b = g.add_tensor(make_tensor("b", DType::kS8, {4, 4}, 0.1f, 0));
  const int32_t y = g.add_tensor(make_tensor("y", DType::kF32, {4, 4}));
  g.nodes.push_back(make_node("mixed_mm", OpType::kMatMul, {a, b}, {y}));
  g.inputs = {a, b};
  g.outputs = {y};
  std::vector<uint8_t> bytes;
  const Status ser = serialize_graph(g, &bytes);
  std::shared_ptr<const Model> model;
  const Status st = ser.ok() ? Model::load_memory(bytes.data(), bytes.size(), &model) : ser;
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("mixed_mm"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace edgeq
