// The importer on ONNX Runtime's static QDQ form of a Linear / MatMul whose consumer is
// float (no QuantizeLinear after): DequantizeLinear -> MatMul / Gemm (dequantized
// constant weights) [-> Add(bias)] becomes a FullyConnected on the int8 input with a
// float output, and a MatMul of two dequantized activations one on the int8 operands
// with a float output (graph/op_table.h). With a QuantizeLinear after, both stay int8
// out. The imported graphs are run and compared with the float arithmetic of the
// dequantized model.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "graph/format.h"
#include "graph/onnx/importer.h"
#include "runtime/session.h"
#include "test/onnx_model_builder.h"

namespace edgeq {
namespace {

using namespace test_onnx;  // NOLINT: the builder and graph queries

// Runs g at `isa` on x (its one float input) and returns output 0.
std::vector<float> run_graph(const Graph& g, const std::vector<float>& x, size_t n_out, const char* isa = "ref") {
  std::vector<uint8_t> bytes;
  EXPECT_TRUE(serialize_graph(g, &bytes).ok());
  std::shared_ptr<const Model> model;
  Status st = Model::load_memory(bytes.data(), bytes.size(), &model);
  EXPECT_TRUE(st.ok()) << st.message();
  if (!st.ok()) return {};
  SessionOptions o;
  o.isa = isa;
  std::unique_ptr<Session> s;
  st = Session::create(model, o, &s);
  EXPECT_TRUE(st.ok()) << st.message();
  if (!st.ok()) return {};
  EXPECT_TRUE(s->set_input_f32(0, x.data(), x.size()).ok());
  s->run();
  std::vector<float> y(n_out);
  EXPECT_TRUE(s->get_output_f32(0, y.data(), y.size()).ok());
  return y;
}

// round_half_even(x / s) + z clamped to [lo, hi], then back to float.
float fake_quant(float x, float s, int z, int lo, int hi) {
  const float q = std::min(static_cast<float>(hi), std::max(static_cast<float>(lo), std::nearbyint(x / s) + z));
  return (q - static_cast<float>(z)) * s;
}

// x [1,3,4] -QDQ(u8)-> MatMul(DQ(W s8 [4,2] per channel, axis 1)) -> Add(bias) [-> QDQ].
void build_linear(ModelBuilder* b, bool q_after) {
  b->input("x", {1, 3, 4});
  b->scalar_f("sx", 0.05f);
  b->scalar_u8("zx", 128);
  b->node("QuantizeLinear", {"x", "sx", "zx"}, {"xq"});
  b->node("DequantizeLinear", {"xq", "sx", "zx"}, {"xd"});
  b->init_int("w", TensorProto::INT8, {4, 2}, {1, -2, 3, -4, 5, -6, 127, -128});
  b->init_f("ws", {2}, {0.1f, 0.2f});
  b->init_int("wz", TensorProto::INT8, {2}, {0, 0});
  auto* dq = b->node("DequantizeLinear", {"w", "ws", "wz"}, {"wd"});
  ModelBuilder::int_attr(dq, "axis", 1);
  b->node("MatMul", {"xd", "wd"}, {"mm"});
  b->init_f("bias", {2}, {0.5f, -1.f});
  if (!q_after) {
    b->node("Add", {"mm", "bias"}, {"y"});
    b->output("y");
    return;
  }
  b->node("Add", {"mm", "bias"}, {"yf"});
  b->scalar_f("sy", 0.1f);
  b->scalar_u8("zy", 100);
  b->node("QuantizeLinear", {"yf", "sy", "zy"}, {"yq"});
  b->node("DequantizeLinear", {"yq", "sy", "zy"}, {"y"});
  b->output("y");
}

TEST(QdqFloatOutImport, LinearWithoutQuantizeAfterIsInt8InFloatOut) {
  ModelBuilder b;
  build_linear(&b, false);
  Graph g;
  ASSERT_NO_FATAL_FAILURE(import_float_io(b, &g));
  EXPECT_EQ(count_ops(g, OpType::kDequantize), 0);
  const Node* fc = find_op(g, OpType::kFullyConnected);
  ASSERT_NE(fc, nullptr);
  EXPECT_EQ(tensor(g, fc->inputs[0]).dtype, DType::kU8);
  const Tensor& w = tensor(g, fc->inputs[1]);
  EXPECT_EQ(w.dtype, DType::kS8);
  EXPECT_EQ(w.shape, (std::vector<int32_t>{2, 4}));
  EXPECT_EQ(w.quant.scale, (std::vector<float>{0.1f, 0.2f}));
  EXPECT_EQ(tensor(g, fc->outputs[0]).dtype, DType::kF32);
  ASSERT_EQ(fc->inputs.size(), 3u);
  EXPECT_EQ(tensor(g, fc->inputs[2]).dtype, DType::kF32);
  EXPECT_EQ(floats(tensor(g, fc->inputs[2])), (std::vector<float>{0.5f, -1.f}));

  // Against the dequantized model in float.
  const std::vector<float> x = iota_f(12, 0.37f, -2.1f);
  const float wv[4][2] = {{1, -2}, {3, -4}, {5, -6}, {127, -128}};
  const std::vector<float> y = run_graph(g, x, 6);
  ASSERT_EQ(y.size(), 6u);
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 2; ++c) {
      double sum = 0;
      for (int k = 0; k < 4; ++k) sum += fake_quant(x[r * 4 + k], 0.05f, 128, 0, 255) * wv[k][c] * (c ? 0.2 : 0.1);
      EXPECT_NEAR(y[r * 2 + c], sum + (c ? -1.0 : 0.5), 1e-5) << r << "," << c;
    }
}

TEST(QdqFloatOutImport, LinearWithQuantizeAfterStaysInt8Out) {
  ModelBuilder b;
  build_linear(&b, true);
  Graph g;
  ASSERT_NO_FATAL_FAILURE(import_float_io(b, &g));
  const Node* fc = find_op(g, OpType::kFullyConnected);
  ASSERT_NE(fc, nullptr);
  EXPECT_EQ(tensor(g, fc->outputs[0]).dtype, DType::kU8);
  EXPECT_EQ(tensor(g, fc->inputs[2]).dtype, DType::kS32);
}

// Gemm(transB) with uint8 weights (zero point 120) and an int32 bias of scale s_x * s_w.
TEST(QdqFloatOutImport, GemmWithUint8WeightsAndInt32Bias) {
  ModelBuilder b;
  b.input("x", {3, 4});
  b.scalar_f("sx", 0.5f);
  b.scalar_u8("zx", 10);
  b.node("QuantizeLinear", {"x", "sx", "zx"}, {"xq"});
  b.node("DequantizeLinear", {"xq", "sx", "zx"}, {"xd"});
  b.init_int("w", TensorProto::UINT8, {2, 4}, {120, 121, 0, 255, 130, 100, 120, 7});
  b.scalar_f("ws", 0.25f);
  b.scalar_u8("wz", 120);
  b.node("DequantizeLinear", {"w", "ws", "wz"}, {"wd"});
  b.init_int("bq", TensorProto::INT32, {2}, {8, -3});
  b.scalar_f("bs", 0.125f);
  b.init_int("bz", TensorProto::INT32, {}, {0});
  b.node("DequantizeLinear", {"bq", "bs", "bz"}, {"bd"});
  auto* gemm = b.node("Gemm", {"xd", "wd", "bd"}, {"y"});
  ModelBuilder::int_attr(gemm, "transB", 1);
  b.output("y");
  Graph g;
  ASSERT_NO_FATAL_FAILURE(import_float_io(b, &g));
  const Node* fc = find_op(g, OpType::kFullyConnected);
  ASSERT_NE(fc, nullptr);
  EXPECT_EQ(tensor(g, fc->outputs[0]).dtype, DType::kF32);
  const Tensor& w = tensor(g, fc->inputs[1]);
  ASSERT_EQ(w.dtype, DType::kS8);
  EXPECT_EQ(w.quant.zero_point, (std::vector<int32_t>{-8}));  // 120 - 128
  EXPECT_EQ(floats(tensor(g, fc->inputs[2])), (std::vector<float>{1.f, -0.375f}));
  const std::vector<float> x = iota_f(12, 1.3f, -7.f);
  const int wv[2][4] = {{120, 121, 0, 255}, {130, 100, 120, 7}};
  const std::vector<float> y = run_graph(g, x, 6);
  ASSERT_EQ(y.size(), 6u);
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 2; ++c) {
      double sum = c ? -0.375 : 1.0;
      for (int k = 0; k < 4; ++k) sum += fake_quant(x[r * 4 + k], 0.5f, 10, 0, 255) * (wv[c][k] - 120) * 0.25;
      EXPECT_NEAR(y[r * 2 + c], sum, 1e-5) << r << "," << c;
    }
}

// Both operands of an attention MatMul dequantized, Softmax after: int8 in, float out.
TEST(QdqFloatOutImport, ActivationMatMulWithoutQuantizeAfter) {
  ModelBuilder b;
  b.input("a", {1, 2, 4, 8});
  b.scalar_f("sa", 0.05f);
  b.scalar_u8("za", 130);
  b.scalar_f("sb", 0.02f);
  b.scalar_i8("zb", -2);
  b.node("QuantizeLinear", {"a", "sa", "za"}, {"aq"});
  b.node("DequantizeLinear", {"aq", "sa", "za"}, {"ad"});
  auto* t = b.node("Transpose", {"a"}, {"bt"});
  ModelBuilder::ints(t, "perm", {0, 1, 3, 2});
  b.node("QuantizeLinear", {"bt", "sb", "zb"}, {"bq"});
  b.node("DequantizeLinear", {"bq", "sb", "zb"}, {"bd"});
  b.node("MatMul", {"ad", "bd"}, {"s"});
  auto* sm = b.node("Softmax", {"s"}, {"y"});
  ModelBuilder::int_attr(sm, "axis", -1);
  b.output("y");
  Graph g;
  ASSERT_NO_FATAL_FAILURE(import_float_io(b, &g));
  const Node* mm = find_op(g, OpType::kMatMul);
  ASSERT_NE(mm, nullptr);
  EXPECT_EQ(tensor(g, mm->inputs[0]).dtype, DType::kU8);
  EXPECT_EQ(tensor(g, mm->inputs[1]).dtype, DType::kS8);
  EXPECT_EQ(tensor(g, mm->outputs[0]).dtype, DType::kF32);
  EXPECT_EQ(count_ops(g, OpType::kDequantize), 0);
  const std::vector<float> x = iota_f(64, 0.031f, -1.f);
  const std::vector<float> y = run_graph(g, x, 32);
  ASSERT_EQ(y.size(), 32u);
  for (int h = 0; h < 2; ++h)
    for (int i = 0; i < 4; ++i) {
      double logits[4], mx = -1e30, total = 0;
      for (int j = 0; j < 4; ++j) {
        double sum = 0;
        for (int k = 0; k < 8; ++k)
          sum += fake_quant(x[h * 32 + i * 8 + k], 0.05f, 130, 0, 255) *
                 fake_quant(x[h * 32 + j * 8 + k], 0.02f, -2, -128, 127);
        logits[j] = sum;
        mx = std::max(mx, sum);
      }
      for (double& l : logits) total += (l = std::exp(l - mx));
      for (int j = 0; j < 4; ++j) EXPECT_NEAR(y[h * 16 + i * 4 + j], logits[j] / total, 1e-5);
    }
}

}  // namespace
}  // namespace edgeq
