// The op table (graph/op_table.h): names, properties and the node-level forms of the
// properties (graph/ir_util.h) that the importer and the quantizer ask.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>

#include "graph/ir.h"
#include "graph/ir_util.h"

namespace edgeq {
namespace {

constexpr size_t kOps = static_cast<size_t>(OpType::kCount);

TEST(OpTable, NamesAreUniqueAndKnown) {
  std::set<std::string> names;
  for (size_t i = 0; i < kOps; ++i) {
    const std::string name = op_name(static_cast<OpType>(i));
    EXPECT_NE(name, "?") << "op " << i;
    EXPECT_TRUE(names.insert(name).second) << name << " twice";
  }
  EXPECT_STREQ(op_name(OpType::kConv2D), "Conv2D");
  EXPECT_STREQ(op_name(OpType::kRequantize), "Requantize");
  EXPECT_STREQ(op_name(OpType::kCount), "?");
  EXPECT_EQ(op_flags(OpType::kCount), 0u);
}

TEST(OpTable, PropertiesAreConsistent) {
  for (size_t i = 0; i < kOps; ++i) {
    const OpType op = static_cast<OpType>(i);
    SCOPED_TRACE(op_name(op));
    // A view moves no data at all; it is data movement.
    if (op_has(op, kOpView)) {
      EXPECT_TRUE(op_has(op, kOpMovement));
    }
    // Moving data keeps the values, so the quantization parameters.
    if (op_has(op, kOpMovement)) {
      EXPECT_TRUE(op_has(op, kOpRangePreserving));
    }
    // Conversions are already in the integer domain; everything else has an int8 form,
    // but Lookup, which exists only in int8 (the importer makes it from float islands),
    // and the mask and reduction ops, which work on bools, integers and floats only, and
    // the float recurrent layers: they are neither.
    const bool no_int8_form = op == OpType::kReduceMean || op == OpType::kReduceSum || op == OpType::kEqual ||
                              op == OpType::kLess || op == OpType::kGreater || op == OpType::kAnd ||
                              op == OpType::kOr || op == OpType::kXor || op == OpType::kNot || op == OpType::kWhere ||
                              op == OpType::kReduceMax || op == OpType::kReduceMin || op == OpType::kCumSum ||
                              op == OpType::kResizeLinear || op == OpType::kResizeCubic || op == OpType::kMax ||
                              op == OpType::kMin ||
                              op == OpType::kArgMax || op == OpType::kTopK || op == OpType::kGatherElements ||
                              op == OpType::kScatterElements || op == OpType::kScatterND || op == OpType::kMod ||
                              op == OpType::kGridSample ||
                              op == OpType::kLSTM ||
                              op == OpType::kGRU;  // ResizeNearestTo: movement
    if (op == OpType::kLookup || no_int8_form) {
      EXPECT_EQ(op_flags(op), 0u);
    } else {
      EXPECT_NE(op_has(op, kOpConversion), op_has(op, kOpQuantizable));
    }
    // Weighted ops take a folded activation.
    if (op_has(op, kOpWeights)) {
      EXPECT_TRUE(op_has(op, kOpActRange));
    }
  }
  EXPECT_TRUE(op_has(OpType::kConv2D, kOpWeights | kOpActRange));
  EXPECT_TRUE(op_has(OpType::kReshape, kOpView));
  EXPECT_FALSE(op_has(OpType::kTranspose, kOpView));
  EXPECT_FALSE(op_has(OpType::kAdd, kOpMovement));
}

TEST(OpTable, NodeLevelProperties) {
  Node pad;
  pad.op = OpType::kPad;
  EXPECT_TRUE(is_data_movement(pad));  // fill 0: the zero point, commutes with quantization
  pad.attrs.pad_value = 1.f;
  EXPECT_FALSE(is_data_movement(pad));
  EXPECT_TRUE(preserves_range(pad));

  Node pool;
  pool.op = OpType::kMaxPool2D;
  EXPECT_TRUE(preserves_range(pool));
  pool.attrs.act_min = 0.f;  // a folded ReLU changes the range
  EXPECT_FALSE(preserves_range(pool));

  Node avg;
  avg.op = OpType::kAvgPool2D;
  EXPECT_FALSE(preserves_range(avg));
}

TEST(IrUtil, UsesSkipDeadNodes) {
  Graph g;
  for (int i = 0; i < 3; ++i) {
    Tensor t;
    t.name = "t" + std::to_string(i);
    g.add_tensor(t);
  }
  Node a;
  a.op = OpType::kRelu;
  a.inputs = {0};
  a.outputs = {1};
  Node b = a;
  b.inputs = {1};
  b.outputs = {2};
  g.nodes = {a, b};
  g.inputs = {0};
  g.outputs = {2};
  GraphUses u = compute_uses(g);
  EXPECT_EQ(u.producer[1], 0);
  EXPECT_TRUE(u.single_use(1));
  EXPECT_FALSE(u.single_use(2));  // a graph output
  g.nodes[1].op = OpType::kCount;  // dead
  u = compute_uses(g);
  EXPECT_TRUE(u.consumers[1].empty());
  EXPECT_EQ(u.producer[2], -1);
  replace_uses(&g, 2, 1);
  EXPECT_EQ(g.outputs[0], 1);
}

TEST(IrUtil, BiasRoundsTheFloat32Quotient) {
  // 1.5 / 1 ties to even; the quotient is formed in float32 before rounding.
  std::vector<int32_t> q;
  const std::vector<float> bias = {1.5f, 2.5f, -2.5f, 1e12f, -1e12f};
  ASSERT_TRUE(quantize_bias(bias.data(), bias.size(), 1.f, {1.f}, &q).ok());
  EXPECT_EQ(q, (std::vector<int32_t>{2, 2, -2, 2147483647, -2147483647 - 1}));
  const float b = 0.3f, sx = 0.1f, sw = 0.7f;
  ASSERT_TRUE(quantize_bias(&b, 1, sx, {sw}, &q).ok());
  EXPECT_EQ(q[0], static_cast<int32_t>(std::nearbyint(static_cast<double>(b / (sx * sw)))));
}

}  // namespace
}  // namespace edgeq
