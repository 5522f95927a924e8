// Int8 products with a float output (FullyConnected and MatMul with quantized inputs and
// an F32 result, ONNX Runtime's MatMulIntegerToFloat): the reference against values
// worked out by hand; every level's GEMM driver (kern::QMatMulOp with y_f32) bit-exact
// with the reference over sizes below, at and above the tiles, broadcast batches,
// operand types, extreme zero points, per-tensor and per-channel weight scales, bias and
// clamps; and a session running both nodes at every level, with the validator's errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "graph/format.h"
#include "kernels/kernels.h"
#include "kernels/qmatmul.h"
#include "kernels/ref/ref.h"
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

bool same_bits(float x, float y) { return std::memcmp(&x, &y, sizeof(float)) == 0; }

// ------------------------------------------------------------------ reference

TEST(QGemmFloatRef, FullyConnectedByHand) {
  // x u8 [2,3] zp 10 scale 0.5; w s8 [2,3] per channel zp {0, 1}, scales {0.25, 2}.
  const uint8_t x[6] = {12, 10, 7, 0, 255, 10};
  const int8_t w[6] = {1, -2, 3, 4, 1, -128};
  const int32_t wzp[2] = {0, 1};
  const float ws[2] = {0.25f, 2.f}, bias[2] = {1.f, -0.5f};
  float y[4];
  ref::qfully_connected_float<uint8_t>(2, 2, 3, x, 10, 0.5f, w, wzp, ws, true, bias, -INFINITY, INFINITY, y);
  // row 0: (2, 0, -3); col 0: 2*1 + 0 - 9 = -7 -> -7 * 0.125 + 1 = 0.125
  //                    col 1: 2*3 + 0 + (-3)(-129) = 393 -> 393 * 1 - 0.5 = 392.5
  // row 1: (-10, 245, 0); col 0: -10 - 490 = -500 -> -62.5 + 1 = -61.5
  //                       col 1: -30 + 0 = -30 -> -30 - 0.5 = -30.5
  EXPECT_EQ(y[0], 0.125f);
  EXPECT_EQ(y[1], 392.5f);
  EXPECT_EQ(y[2], -61.5f);
  EXPECT_EQ(y[3], -30.5f);
  // per tensor, no bias, clamped to [-10, 100]
  ref::qfully_connected_float<uint8_t>(2, 2, 3, x, 10, 0.5f, w, wzp, ws, false, nullptr, -10.f, 100.f, y);
  // (zero point 0, scale 0.25 * 0.5 for every column)
  EXPECT_EQ(y[0], -0.875f);  // -7 * 0.125
  EXPECT_EQ(y[1], 49.f);     // (8 + 0 + 384) * 0.125
  EXPECT_EQ(y[2], -10.f);    // -62.5, clamped
  EXPECT_EQ(y[3], 25.625f);  // (-40 + 245 + 0) * 0.125
}

TEST(QGemmFloatRef, ScaleProductRoundedBeforeTheMultiply) {
  // s_a * s_b is rounded to float first, then multiplies float(acc).
  const float sa = 0.1f, sb = 0.3f;
  const int8_t a[1] = {127}, b[1] = {-113};
  const ref::MatMulShape s = shape_of({1, 1}, {1, 1});
  float y;
  ref::qmatmul_float<int8_t, int8_t>(s, a, 0, sa, b, 0, sb, &y);
  const float scale = sa * sb;
  EXPECT_TRUE(same_bits(y, static_cast<float>(127 * -113) * scale));
}

TEST(QGemmFloatRef, MatMulBroadcastByHand) {
  // A s8 [2,1,2] zp -1 scale 2 (two matrices), B u8 [2,1] zp 128 scale 0.25 (shared).
  const int8_t a[4] = {1, -1, 3, 4};
  const uint8_t b[2] = {130, 120};
  const ref::MatMulShape s = shape_of({2, 1, 2}, {2, 1});
  float y[2];
  ref::qmatmul_float<int8_t, uint8_t>(s, a, -1, 2.f, b, 128, 0.25f, y);
  // (2)(2) + (0)(-8) = 4 -> 2; (4)(2) + (5)(-8) = -32 -> -16
  EXPECT_EQ(y[0], 2.f);
  EXPECT_EQ(y[1], -16.f);
}

// ------------------------------------------------------------------ levels

class QGemmFloatLevelTest : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    if (!kern::isa_supported(GetParam())) GTEST_SKIP() << kern::isa_name(GetParam()) << " not supported";
    if (!kernel().int32_output) GTEST_SKIP() << "the level's GEMM kernels do not store int32 tiles";
  }
  const kern::QGemmKernel& kernel() const { return kern::kernel_set(GetParam()).gemm; }
  std::vector<int32_t> ms() const { return {1, mr() - 1, mr() + 1, 2 * mr() + 3}; }
  std::vector<int32_t> ns() const { return {1, nr() + 1, 2 * nr() - 3}; }
  std::vector<int32_t> ks() const { return {1, static_cast<int32_t>(kernel().kr) + 1, 67}; }
  int32_t mr() const { return static_cast<int32_t>(kernel().mr); }
  int32_t nr() const { return static_cast<int32_t>(kernel().nr); }
};

template <typename T>
std::vector<T> random_bytes(size_t n, std::mt19937& rng, int32_t center, int32_t spread) {
  std::uniform_int_distribution<int32_t> d(-spread, spread);
  const int32_t lo = std::is_same<T, int8_t>::value ? -128 : 0, hi = lo + 255;
  std::vector<T> v(n);
  for (T& x : v) x = static_cast<T>(std::min(hi, std::max(lo, center + d(rng))));
  return v;
}

void expect_same_floats(const float* got, const std::vector<float>& want, const std::string& what) {
  for (size_t i = 0; i < want.size(); ++i)
    ASSERT_TRUE(same_bits(got[i], want[i])) << what << " at " << i << ": " << got[i] << " vs " << want[i];
}

template <typename TA, typename TB>
void check_matmul(const kern::QGemmKernel& kernel, const std::vector<int32_t>& as, const std::vector<int32_t>& bs,
                  int32_t za, int32_t zb, float sa, float sb, int32_t spread, std::mt19937& rng,
                  const std::string& what) {
  const ref::MatMulShape s = shape_of(as, bs);
  // A with slack after it, as the arena has.
  std::vector<TA> a = random_bytes<TA>(static_cast<size_t>(s.a_batches) * s.m * s.k + 128, rng, za, spread);
  const std::vector<TB> b = random_bytes<TB>(static_cast<size_t>(s.b_batches) * s.k * s.n, rng, zb, spread);
  const size_t ny = static_cast<size_t>(s.batches) * s.m * s.n;
  std::vector<float> want(ny), got(ny + 16, 1234.5f);
  ref::qmatmul_float<TA, TB>(s, a.data(), za, sa, b.data(), zb, sb, want.data());
  kern::QMatMulParams p;
  p.shape = s;
  p.y_f32 = true;
  p.a_s8 = std::is_same<TA, int8_t>::value;
  p.b_s8 = std::is_same<TB, int8_t>::value;
  p.a_zero_point = za;
  p.b_zero_point = zb;
  p.a_scale = sa;
  p.b_scale = sb;
  kern::QMatMulOp op;
  ASSERT_TRUE(op.init(p, kernel)) << what;
  op.run(a.data(), b.data(), got.data());
  expect_same_floats(got.data(), want, what);
  for (size_t i = ny; i < got.size(); ++i) ASSERT_EQ(got[i], 1234.5f) << what << ": wrote past the output";
}

TEST_P(QGemmFloatLevelTest, MatMulEqualsReference) {
  std::mt19937 rng(21);
  std::vector<std::pair<std::vector<int32_t>, std::vector<int32_t>>> cases;
  for (int32_t m : ms())
    for (int32_t n : ns())
      for (int32_t k : ks()) cases.push_back({{m, k}, {k, n}});
  cases.push_back({{2, 3, mr() + 2, 17}, {17, nr() + 5}});  // B shared by heads
  cases.push_back({{2, 3, mr(), 16}, {3, 16, 9}});
  cases.push_back({{5, 8}, {4, 8, 2 * nr()}});              // A shared
  cases.push_back({{2, 1, 3, 9}, {1, 4, 9, 7}});
  cases.push_back({{3, 197, 64}, {3, 64, 197}});            // attention's QK^T
  for (const auto& c : cases)
    for (int spread : {255, 20}) {  // full-range bytes (row term) and values near zb
      const std::string what = std::string(kern::isa_name(GetParam())) + " A[" + std::to_string(c.first.size()) +
                                "d m " + std::to_string(c.first[c.first.size() - 2]) + " k " +
                                std::to_string(c.first.back()) + "] n " + std::to_string(c.second.back()) +
                                " spread " + std::to_string(spread);
      check_matmul<uint8_t, uint8_t>(kernel(), c.first, c.second, 255, 0, 0.02f, 0.0371f, spread, rng, what + " u8 u8");
      check_matmul<uint8_t, uint8_t>(kernel(), c.first, c.second, 3, 128, 1e-3f, 3.f, spread, rng, what + " zb 128");
      check_matmul<int8_t, int8_t>(kernel(), c.first, c.second, -128, 127, 0.1f, 0.3f, spread, rng, what + " s8 s8");
      check_matmul<int8_t, int8_t>(kernel(), c.first, c.second, 5, 0, 7.5f, 1e-5f, spread, rng, what + " s8 zb 0");
      check_matmul<uint8_t, int8_t>(kernel(), c.first, c.second, 0, -128, 0.5f, 0.5f, spread, rng, what + " u8 s8");
      check_matmul<int8_t, uint8_t>(kernel(), c.first, c.second, 5, 255, 0.013f, 0.07f, spread, rng, what + " s8 u8");
      if (HasFailure()) return;
    }
}

template <typename T>
void check_fc(const kern::QGemmKernel& kernel, int32_t m, int32_t n, int32_t k, int32_t zx, bool per_channel,
              bool with_bias, float act_min, float act_max, std::mt19937& rng, const std::string& what) {
  std::vector<T> x = random_bytes<T>(static_cast<size_t>(m) * k + 128, rng, zx, 255);
  const std::vector<int8_t> w = random_bytes<int8_t>(static_cast<size_t>(n) * k, rng, 0, 127);
  std::uniform_real_distribution<float> scale(1e-4f, 0.05f), bias_d(-20.f, 20.f);
  std::vector<float> ws(per_channel ? n : 1), bias(n);
  for (float& v : ws) v = scale(rng);
  for (float& v : bias) v = bias_d(rng);
  const std::vector<int32_t> wzp(ws.size(), 0);
  const float xs = 0.0173f;
  const size_t ny = static_cast<size_t>(m) * n;
  std::vector<float> want(ny), got(ny + 16, 1234.5f);
  ref::qfully_connected_float<T>(m, n, k, x.data(), zx, xs, w.data(), wzp.data(), ws.data(), per_channel,
                                 with_bias ? bias.data() : nullptr, act_min, act_max, want.data());
  kern::QMatMulParams p;
  const int32_t a_shape[2] = {m, k}, b_shape[2] = {k, n};
  ref::make_matmul_shape(a_shape, 2, b_shape, 2, &p.shape);
  p.y_f32 = true;
  p.a_s8 = std::is_same<T, int8_t>::value;
  p.a_zero_point = zx;
  p.a_scale = xs;
  p.weight = w.data();
  p.weight_scale = ws.data();
  p.per_channel = per_channel;
  p.bias = with_bias ? bias.data() : nullptr;
  p.act_min = act_min;
  p.act_max = act_max;
  kern::QMatMulOp op;
  ASSERT_TRUE(op.init(p, kernel)) << what;
  for (int rep = 0; rep < 2; ++rep) {  // the weights are packed once, at init
    op.run(x.data(), nullptr, got.data());
    expect_same_floats(got.data(), want, what);
  }
  for (size_t i = ny; i < got.size(); ++i) ASSERT_EQ(got[i], 1234.5f) << what << ": wrote past the output";
}

TEST_P(QGemmFloatLevelTest, FullyConnectedEqualsReference) {
  std::mt19937 rng(22);
  for (int32_t m : ms())
    for (int32_t n : ns())
      for (int32_t k : ks())
        for (int variant = 0; variant < 4; ++variant) {
          const bool pc = variant & 1, bias = variant != 2;
          const float lo = variant == 3 ? -1.f : -INFINITY, hi = variant == 3 ? 2.f : INFINITY;
          const std::string what = std::string(kern::isa_name(GetParam())) + " m " + std::to_string(m) + " n " +
                                   std::to_string(n) + " k " + std::to_string(k) + " variant " +
                                   std::to_string(variant);
          check_fc<uint8_t>(kernel(), m, n, k, 131, pc, bias, lo, hi, rng, what + " u8");
          check_fc<uint8_t>(kernel(), m, n, k, 0, pc, bias, lo, hi, rng, what + " u8 zp 0");
          check_fc<int8_t>(kernel(), m, n, k, -128, pc, bias, lo, hi, rng, what + " s8 zp -128");
          check_fc<int8_t>(kernel(), m, n, k, 127, pc, bias, lo, hi, rng, what + " s8 zp 127");
          if (HasFailure()) return;
        }
}

INSTANTIATE_TEST_SUITE_P(Levels, QGemmFloatLevelTest, ::testing::ValuesIn(kern::arch_levels()),
                         [](const ::testing::TestParamInfo<Isa>& info) { return std::string(kern::isa_name(info.param)); });

// ------------------------------------------------------------------ end to end

// x[2,9,40] f32 -Quantize-> q u8 -FullyConnected(w s8 [24,40] per channel, f32 bias)-> h
// f32 [2,9,24] (output 0); q -Transpose-> qt [2,40,9], MatMul(q, qt) -> s f32 [2,9,9]
// (output 1). weight_zp: the FC weights' zero point (0 runs the kernels, else the reference).
Graph float_out_net(int32_t weight_zp) {
  Graph g;
  g.producer = "test";
  const int32_t x = g.add_tensor(make_tensor("x", DType::kF32, {2, 9, 40}));
  const int32_t q = g.add_tensor(make_tensor("q", DType::kU8, {2, 9, 40}, 0.02f, 120));
  g.nodes.push_back(make_node("quant", OpType::kQuantize, {x}, {q}));
  Tensor w = make_tensor("w", DType::kS8, {24, 40});
  std::mt19937 rng(5);
  w.set_data(testing_graphs::bytes_of(random_bytes<int8_t>(24 * 40, rng, 0, 127)));
  std::vector<float> bias(24);
  for (int c = 0; c < 24; ++c) {
    w.quant.scale.push_back(0.003f + 0.0005f * c);
    w.quant.zero_point.push_back(weight_zp);
    bias[c] = 0.1f * c - 1.f;
  }
  w.quant.axis = 0;
  Tensor b = make_tensor("bias", DType::kF32, {24});
  b.set_data(testing_graphs::bytes_of(bias));
  const int32_t wi = g.add_tensor(w), bi = g.add_tensor(b);
  const int32_t h = g.add_tensor(make_tensor("h", DType::kF32, {2, 9, 24}));
  Node fc = make_node("fc", OpType::kFullyConnected, {q, wi, bi}, {h});
  fc.attrs.act_min = -0.5f;
  g.nodes.push_back(fc);
  const int32_t qt = g.add_tensor(make_tensor("qt", DType::kU8, {2, 40, 9}, 0.02f, 120));
  Node tr = make_node("transpose", OpType::kTranspose, {q}, {qt});
  tr.attrs.perm = {0, 2, 1};
  g.nodes.push_back(tr);
  const int32_t s = g.add_tensor(make_tensor("s", DType::kF32, {2, 9, 9}));
  g.nodes.push_back(make_node("qk", OpType::kMatMul, {q, qt}, {s}));
  g.inputs = {x};
  g.outputs = {h, s};
  return g;
}

TEST(QGemmFloatSession, EveryLevelEqualsTheReferenceAndNamesItsKernel) {
  for (int32_t weight_zp : {0, 3}) {
    const Graph g = float_out_net(weight_zp);
    const std::shared_ptr<const Model> model = test_models::load_in_memory(g);
    ASSERT_NE(model, nullptr);
    const std::vector<float> x = testing_graphs::random_floats(2 * 9 * 40, 9, -2.f, 3.f);
    std::vector<std::vector<float>> want;
    for (Isa isa : test_models::every_level()) {
      if (!kern::isa_supported(isa)) continue;
      const std::unique_ptr<Session> s = test_models::session_at(model, kern::isa_name(isa), isa == Isa::kRef ? 1 : 2);
      ASSERT_NE(s, nullptr);
      ASSERT_TRUE(s->set_input_f32(0, x.data(), x.size()).ok());
      s->run();
      std::vector<std::vector<float>> outs = {std::vector<float>(2 * 9 * 24), std::vector<float>(2 * 9 * 9)};
      for (size_t i = 0; i < 2; ++i) ASSERT_TRUE(s->get_output_f32(i, outs[i].data(), outs[i].size()).ok());
      const bool optimized = isa != Isa::kRef && kern::kernel_set(isa).gemm.int32_output;
      EXPECT_EQ(std::string(s->op(1).kernel_name()) != "ref", optimized && weight_zp == 0) << kern::isa_name(isa);
      EXPECT_EQ(std::string(s->op(3).kernel_name()) != "ref", optimized) << kern::isa_name(isa);
      // The product's packed right operand is a workspace in the arena, not the op's own.
      if (optimized) {
        EXPECT_GT(s->op(3).workspace_bytes(), 0u) << kern::isa_name(isa);
        EXPECT_GE(s->memory_plan().node_workspace[3], 0) << kern::isa_name(isa);
      }
      if (want.empty()) {
        want = outs;
        // Loosely against float arithmetic on the dequantized input: the clamp applies.
        for (float v : outs[0]) EXPECT_GE(v, -0.5f);
        for (int t = 0; t < 2; ++t)
          for (int i = 0; i < 9; ++i) {
            double sum = 0;
            for (int k = 0; k < 40; ++k) {
              const double d = (std::min(255.f, std::max(0.f, std::nearbyint(x[t * 360 + i * 40 + k] / 0.02f) + 120)) -
                                120) * 0.02;
              sum += d * d;
            }
            EXPECT_NEAR(outs[1][t * 81 + i * 9 + i], sum, 1e-3 * sum + 1e-5);
          }
        continue;
      }
      for (size_t i = 0; i < 2; ++i) expect_same_floats(outs[i].data(), want[i], kern::isa_name(isa));
    }
  }
}

Status load(const Graph& g) {
  std::vector<uint8_t> bytes;
  const Status ser = serialize_graph(g, &bytes);
  std::shared_ptr<const Model> model;
  return ser.ok() ? Model::load_memory(bytes.data(), bytes.size(), &model) : ser;
}

TEST(QGemmFloatSession, RefusesAnIntegerBiasOrMixedOperandsNamingTheNode) {
  Graph g = float_out_net(0);
  Tensor b = make_tensor("bias32", DType::kS32, {24});
  b.set_data(std::vector<uint8_t>(24 * 4, 0));
  g.nodes[1].inputs[2] = g.add_tensor(b);
  Status st = load(g);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("'fc'"), std::string::npos) << st.message();
  g = float_out_net(0);
  // A quantized A with a float B.
  const int32_t bf = g.add_tensor(make_tensor("bf", DType::kF32, {2, 40, 9}));
  g.inputs.push_back(bf);
  g.nodes[3].inputs[1] = bf;
  st = load(g);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("qk"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace edgeq
