// Calibration of transformer graphs at the graph level (quant/quantize_graph.h): which
// nodes of an encoder block run int8 by default (GEMMs and MatMuls, with LayerNorm,
// Softmax, GELU and the residual Adds as float islands) and with full_int8 (all of
// them), Gather tables and integer index tensors, the dynamic modes, and fallback of
// a MatMul. The graphs are hand-built (test/encoder_graph.h); every result must pass
// validate_graph, which quantize_graph runs.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "graph/ir_util.h"
#include "quant/quantize_graph.h"
#include "test/encoder_graph.h"

namespace edgeq {
namespace {

using testing_graphs::encoder_block;
using testing_graphs::GraphBuilder;

// Made-up calibration results: every float activation gets a per-tensor range of
// [-6.4, 6.35] in the activation dtype (enough for quantize_graph, which only needs
// qparams; tests that run the graphs calibrate for real).
std::vector<QuantParams> fake_ranges(const Graph& g, DType dtype) {
  std::vector<QuantParams> q(g.tensors.size());
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    if (g.tensors[t].is_constant() || g.tensors[t].dtype != DType::kF32) continue;
    q[t].scale = {0.05f};
    q[t].zero_point = {dtype == DType::kU8 ? 128 : 0};
  }
  return q;
}

const Node& node_named(const Graph& g, const std::string& name) {
  for (const Node& n : g.nodes)
    if (n.name == name) return n;
  ADD_FAILURE() << "no node '" << name << "'";
  return g.nodes.front();
}

DType out_dtype(const Graph& g, const std::string& name) { return g.tensors[node_named(g, name).outputs[0]].dtype; }

int count_op(const Graph& g, OpType op) {
  int c = 0;
  for (const Node& n : g.nodes) c += n.op == op;
  return c;
}

Status quantize(const Graph& fg, quant::GraphQuantOptions opts, Graph* qg) {
  return quant::quantize_graph(fg, fake_ranges(fg, opts.act_dtype), opts, qg);
}

TEST(TransformerQuant, DefaultRunsGemmsInt8AndKeepsNormsSoftmaxGeluFloat) {
  const Graph fg = encoder_block();
  for (DType act : {DType::kU8, DType::kS8}) {
    quant::GraphQuantOptions opts;
    opts.act_dtype = act;
    Graph qg;
    Status s = quantize(fg, opts, &qg);
    ASSERT_TRUE(s.ok()) << s.message();
    for (const char* gemm : {"q", "k", "v", "attn_out", "ffn1", "ffn2"}) {
      SCOPED_TRACE(gemm);
      const Node& n = node_named(qg, gemm);
      EXPECT_EQ(qg.tensors[n.outputs[0]].dtype, act);
      EXPECT_EQ(qg.tensors[n.inputs[1]].dtype, DType::kS8);
      EXPECT_EQ(qg.tensors[n.inputs[2]].dtype, DType::kS32);
    }
    // Both operands of each MatMul are activations quantized per tensor in `act`.
    for (const char* mm : {"qk", "pv"}) {
      SCOPED_TRACE(mm);
      const Node& n = node_named(qg, mm);
      for (int32_t t : {n.inputs[0], n.inputs[1], n.outputs[0]}) {
        EXPECT_EQ(qg.tensors[t].dtype, act) << qg.tensors[t].name;
        EXPECT_EQ(qg.tensors[t].quant.scale.size(), 1u);
        EXPECT_FALSE(qg.tensors[t].is_constant());
      }
    }
    for (const char* island : {"ln1", "ln2", "softmax", "gelu", "residual1", "residual2"})
      EXPECT_EQ(out_dtype(qg, island), DType::kF32) << island;
    // The heads' reshapes and transposes move int8 data and keep their input's qparams.
    const Node& heads = node_named(qg, "k_heads");
    EXPECT_EQ(qg.tensors[heads.outputs[0]].dtype, act);
    EXPECT_EQ(qg.tensors[heads.outputs[0]].quant.scale, qg.tensors[heads.inputs[0]].quant.scale);
    // The residual stream stays float from the input to the output.
    EXPECT_EQ(qg.tensors[qg.inputs[0]].dtype, DType::kF32);
    EXPECT_EQ(qg.tensors[qg.outputs[0]].dtype, DType::kF32);
    // Conversions at the islands' edges only: LayerNorm -> q/k/v (one Quantize shared
    // by three FCs), Softmax -> pv, ln2 -> ffn1, gelu -> ffn2; and back: qk -> softmax,
    // attn_out -> residual1, ffn1 -> gelu, ffn2 -> residual2.
    EXPECT_EQ(count_op(qg, OpType::kQuantize), 4);
    EXPECT_EQ(count_op(qg, OpType::kDequantize), 4);
  }
}

TEST(TransformerQuant, FullInt8RunsEveryNodeInt8) {
  const Graph fg = encoder_block();
  quant::GraphQuantOptions opts;
  opts.full_int8 = true;
  Graph qg;
  Status s = quantize(fg, opts, &qg);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(count_op(qg, OpType::kQuantize), 0);
  EXPECT_EQ(count_op(qg, OpType::kDequantize), 0);
  for (const Node& n : qg.nodes) EXPECT_EQ(qg.tensors[n.outputs[0]].dtype, DType::kU8) << n.name;
  // LayerNorm keeps its float gamma and beta (the op table's quantized LayerNorm).
  const Node& ln = node_named(qg, "ln2");
  EXPECT_EQ(qg.tensors[ln.inputs[1]].dtype, DType::kF32);
  EXPECT_EQ(qg.tensors[ln.inputs[2]].dtype, DType::kF32);
  EXPECT_EQ(qg.tensors[qg.inputs[0]].dtype, DType::kU8);
}

TEST(TransformerQuant, FallbackKeepsAMatMulFloatBetweenInt8Neighbours) {
  const Graph fg = encoder_block();
  quant::GraphQuantOptions opts;
  opts.full_int8 = true;
  opts.float_nodes.assign(fg.nodes.size(), false);
  for (size_t i = 0; i < fg.nodes.size(); ++i) opts.float_nodes[i] = fg.nodes[i].name == "qk";
  Graph qg;
  Status s = quantize(fg, opts, &qg);
  ASSERT_TRUE(s.ok()) << s.message();
  const Node& qk = node_named(qg, "qk");
  for (int32_t t : {qk.inputs[0], qk.inputs[1], qk.outputs[0]}) EXPECT_EQ(qg.tensors[t].dtype, DType::kF32);
  EXPECT_EQ(out_dtype(qg, "softmax"), DType::kU8);
  EXPECT_EQ(count_op(qg, OpType::kDequantize), 2);  // q and k^T
  EXPECT_EQ(count_op(qg, OpType::kQuantize), 1);    // the scores
}

// ids (s64) -Cast-> s32 -Gather(table)-> [1,S,D] -LayerNorm-> -FC-> y
Graph embedding_graph(float table_lo, float table_hi) {
  GraphBuilder b(7);
  const int32_t S = testing_graphs::kSeq, D = testing_graphs::kWidth;
  const int32_t ids = b.input("ids", DType::kS64, {1, S});
  const int32_t ids32 = b.node("cast", OpType::kCast, {ids}, {1, S}, Attrs(), DType::kS32);
  const int32_t table = b.constant("table", {11, D}, table_lo, table_hi);
  const int32_t e = b.node("embed", OpType::kGather, {table, ids32}, {1, S, D});
  const int32_t h = b.layer_norm("ln", e, D);
  return b.finish({b.fc("fc", h, {1, S, D}, D)});
}

TEST(TransformerQuant, GatherTableIsQuantizedOverItsOwnRangeAndIndicesStayIntegers) {
  const Graph fg = embedding_graph(-0.3f, 0.9f);
  for (bool full : {false, true}) {
    SCOPED_TRACE(full ? "full int8" : "default");
    quant::GraphQuantOptions opts;
    opts.full_int8 = full;
    Graph qg;
    Status s = quantize(fg, opts, &qg);
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(qg.tensors[qg.inputs[0]].dtype, DType::kS64);
    EXPECT_EQ(out_dtype(qg, "cast"), DType::kS32);
    const Node& g = node_named(qg, "embed");
    const Tensor& table = qg.tensors[g.inputs[0]];
    const Tensor& y = qg.tensors[g.outputs[0]];
    ASSERT_EQ(table.dtype, DType::kU8);
    ASSERT_TRUE(table.is_constant());
    EXPECT_EQ(y.dtype, DType::kU8);
    EXPECT_EQ(y.quant.scale, table.quant.scale);
    EXPECT_EQ(y.quant.zero_point, table.quant.zero_point);
    // The table's own range, not the made-up activation ranges: [min(0, lo), hi] / 255.
    const std::vector<float> f = floats_of(fg.tensors[fg.nodes[1].inputs[0]]);
    float lo = 0.f, hi = 0.f;
    for (float v : f) lo = std::min(lo, v), hi = std::max(hi, v);
    const float scale = table.quant.scale[0];
    EXPECT_NEAR(scale, (hi - lo) / 255.f, 1e-6f);
    const uint8_t* q = table.data;
    for (size_t i = 0; i < f.size(); ++i)
      EXPECT_NEAR(scale * (static_cast<int32_t>(q[i]) - table.quant.zero_point[0]), f[i], 0.5001f * scale) << i;
    EXPECT_EQ(out_dtype(qg, "ln"), full ? DType::kU8 : DType::kF32);
    EXPECT_EQ(out_dtype(qg, "fc"), DType::kU8);
  }
}

// x -FC-> a; a * 0.5 * (1 + erf(a / sqrt(2))) written out; -FC-> y
TEST(TransformerQuant, ArithmeticAroundAnIslandJoinsIt) {
  GraphBuilder b(3);
  const int32_t x = b.input("x", DType::kF32, {1, 4, 8});
  const int32_t a = b.fc("fc1", x, {1, 4, 8}, 8);
  const int32_t d = b.node("div", OpType::kDiv, {a, b.constant_values("sqrt2", {1}, {1.4142135f})}, {1, 4, 8});
  const int32_t e = b.node("erf", OpType::kErf, {d}, {1, 4, 8});
  const int32_t p = b.node("plus1", OpType::kAdd, {e, b.constant_values("one", {1}, {1.f})}, {1, 4, 8});
  const int32_t m = b.node("times_x", OpType::kMul, {a, p}, {1, 4, 8});
  const int32_t h = b.node("half", OpType::kMul, {m, b.constant_values("half_c", {1}, {0.5f})}, {1, 4, 8});
  const Graph fg = b.finish({b.fc("fc2", h, {1, 4, 8}, 8)});
  Graph qg;
  Status s = quantize(fg, quant::GraphQuantOptions(), &qg);
  ASSERT_TRUE(s.ok()) << s.message();
  for (const char* island : {"div", "erf", "plus1", "times_x", "half"})
    EXPECT_EQ(out_dtype(qg, island), DType::kF32) << island;
  EXPECT_EQ(out_dtype(qg, "fc1"), DType::kU8);
  EXPECT_EQ(out_dtype(qg, "fc2"), DType::kU8);
  EXPECT_EQ(count_op(qg, OpType::kDequantize), 1);  // fc1's output, read twice
  EXPECT_EQ(count_op(qg, OpType::kQuantize), 1);
  // Fully int8: the written-out GELU is a unary island of fc1's output, one Lookup.
  quant::GraphQuantOptions full;
  full.full_int8 = true;
  s = quantize(fg, full, &qg);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(count_op(qg, OpType::kLookup), 1);
  EXPECT_EQ(count_op(qg, OpType::kErf), 0);
  EXPECT_EQ(count_op(qg, OpType::kQuantize) + count_op(qg, OpType::kDequantize), 0);
}

// x -FC-> + position embedding (a constant) -FC-> y: fully int8, the constant operand is
// quantized over its own range.
TEST(TransformerQuant, BinaryOpConstantIsQuantizedOverItsOwnRange) {
  GraphBuilder b(4);
  const int32_t x = b.input("x", DType::kF32, {1, 4, 8});
  const int32_t a = b.fc("fc1", x, {1, 4, 8}, 8);
  const int32_t pos = b.constant("pos", {1, 4, 8}, -0.5f, 2.f);
  const int32_t e = b.node("add_pos", OpType::kAdd, {a, pos}, {1, 4, 8});
  const Graph fg = b.finish({b.fc("fc2", e, {1, 4, 8}, 8)});
  quant::GraphQuantOptions full;
  full.full_int8 = true;
  Graph qg;
  Status s = quantize(fg, full, &qg);
  ASSERT_TRUE(s.ok()) << s.message();
  const Node& add = node_named(qg, "add_pos");
  const Tensor& c = qg.tensors[add.inputs[1]];
  ASSERT_TRUE(c.is_constant());
  EXPECT_EQ(c.dtype, DType::kU8);
  EXPECT_EQ(qg.tensors[add.outputs[0]].dtype, DType::kU8);
  const std::vector<float> f = floats_of(fg.tensors[pos]);
  for (size_t i = 0; i < f.size(); ++i)
    EXPECT_NEAR(c.quant.scale[0] * (c.data[i] - c.quant.zero_point[0]), f[i], 0.5001f * c.quant.scale[0]) << i;
}

TEST(TransformerQuant, DynamicQuantizesEveryConstantGemmAndMarksMatMuls) {
  Graph fg = encoder_block();
  // A MatMul with a constant B[D, 5] too, as exporters write nn.Linear without bias.
  const int32_t y = fg.outputs[0];
  GraphBuilder b(5);
  b.graph() = fg;
  const int32_t w = b.constant("proj", {testing_graphs::kWidth, 5}, -1.f, 1.f);
  const int32_t z = b.node("proj_mm", OpType::kMatMul, {y, w}, {1, testing_graphs::kSeq, 5});
  const Graph g2 = b.finish({z});
  const std::vector<float> bf = floats_of(g2.tensors[w]);
  for (const bool attention : {false, true})
  for (quant::DynamicMode mode : {quant::DynamicMode::kRow, quant::DynamicMode::kTensor}) {
    SCOPED_TRACE(std::string(quant::dynamic_mode_name(mode)) + (attention ? ", dynamic attention" : ""));
    quant::GraphQuantOptions opts;
    opts.dynamic = true;
    opts.dynamic_attention = attention;
    opts.dynamic_mode = mode;
    Graph qg;
    Status s = quant::quantize_graph(g2, {}, opts, &qg);
    ASSERT_TRUE(s.ok()) << s.message();
    for (const Node& n : qg.nodes) {
      for (int32_t t : n.outputs) EXPECT_EQ(qg.tensors[t].dtype, DType::kF32) << n.name;
      if (n.op == OpType::kFullyConnected) {
        EXPECT_EQ(qg.tensors[n.inputs[1]].dtype, DType::kS8) << n.name;
        EXPECT_EQ(n.attrs.dynamic, mode == quant::DynamicMode::kRow ? 0 : 1) << n.name;
      } else if (n.op == OpType::kMatMul) {
        EXPECT_EQ(n.attrs.dynamic, !attention ? 0 : mode == quant::DynamicMode::kRow ? 2 : 1) << n.name;
      }
    }
    EXPECT_EQ(count_op(qg, OpType::kMatMul), 2);  // qk and pv: two activations
    // proj_mm became a FullyConnected with W = B^T.
    const Node& proj = node_named(qg, "proj_mm");
    ASSERT_EQ(proj.op, OpType::kFullyConnected);
    const Tensor& wq = qg.tensors[proj.inputs[1]];
    ASSERT_EQ(wq.shape, (std::vector<int32_t>{5, testing_graphs::kWidth}));
    const int8_t* q = wq.as<int8_t>();
    for (int32_t n = 0; n < 5; ++n)
      for (int32_t k = 0; k < testing_graphs::kWidth; ++k) {
        const float s_n = wq.quant.scale[wq.quant.scale.size() == 1 ? 0 : n];
        EXPECT_NEAR(s_n * q[n * testing_graphs::kWidth + k], bf[k * 5 + n], 0.5001f * s_n) << n << "," << k;
      }
  }
}

TEST(TransformerQuant, QuantizedOrBadInputsAreErrors) {
  Graph fg = encoder_block();
  fg.tensors[fg.nodes[0].outputs[0]].dtype = DType::kS8;
  Graph qg;
  const Status s = quantize(fg, quant::GraphQuantOptions(), &qg);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("ln1"), std::string::npos) << s.message();
  quant::DynamicMode m;
  EXPECT_FALSE(quant::parse_dynamic_mode("column", &m));
  EXPECT_TRUE(quant::parse_dynamic_mode("tensor", &m));
  EXPECT_EQ(m, quant::DynamicMode::kTensor);
}

}  // namespace
}  // namespace edgeq
