// Tests of the ONNX importer (graph/onnx). Models are built in memory with the ONNX
// protobuf API (ModelBuilder below), imported, and the IR checked: constant folding,
// NHWC layout and weight permutation, batch-norm and activation folding, QDQ fusion,
// QOperator expansion, opset-dependent attributes, and errors for unsupported or
// malformed input (including truncated and mutated bytes, which must never crash).
#include "graph/onnx/importer.h"

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>  // onnx-ml.pb.h with ONNX_ML

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "graph/shape.h"
#include "test/onnx_model_builder.h"

namespace edgeq {
namespace {

using onnx::TensorProto;

using namespace test_onnx;  // NOLINT: the builder and graph queries

// ------------------------------------------------------------------ float graphs

// Conv weights become [Cout,KH,KW,Cin/g]; rank-4 inputs/outputs keep NCHW with a
// transpose on each side.
TEST(ImporterTest, ConvLayoutAndWeightPermutation) {
  ModelBuilder b;
  b.input("x", {1, 3, 8, 8});
  b.init_f("w", {4, 3, 2, 3}, iota_f(4 * 3 * 2 * 3, 0.01f));
  b.init_f("b", {4}, {1, 2, 3, 4});
  auto* c = b.node("Conv", {"x", "w", "b"}, {"y"}, "conv");
  ModelBuilder::ints(c, "pads", {1, 0, 0, 1});
  ModelBuilder::ints(c, "strides", {2, 1});
  b.output("y");
  Graph g;
  Status s = b.import(&g);
  ASSERT_TRUE(s.ok()) << s.message();
  expect_valid(g);

  ASSERT_EQ(g.inputs.size(), 1u);
  EXPECT_EQ(tensor(g, g.inputs[0]).shape, (std::vector<int32_t>{1, 3, 8, 8}));
  EXPECT_EQ(tensor(g, g.outputs[0]).shape, (std::vector<int32_t>{1, 4, 4, 7}));
  EXPECT_EQ(tensor(g, g.outputs[0]).name, "y");
  ASSERT_EQ(g.nodes.size(), 3u);
  EXPECT_EQ(g.nodes[0].op, OpType::kTranspose);
  EXPECT_EQ(g.nodes[0].attrs.perm, (std::vector<int32_t>{0, 2, 3, 1}));
  EXPECT_EQ(g.nodes[2].op, OpType::kTranspose);
  EXPECT_EQ(g.nodes[2].attrs.perm, (std::vector<int32_t>{0, 3, 1, 2}));

  const Node& conv = g.nodes[1];
  ASSERT_EQ(conv.op, OpType::kConv2D);
  EXPECT_EQ(conv.name, "conv");
  EXPECT_EQ(tensor(g, conv.outputs[0]).shape, (std::vector<int32_t>{1, 4, 7, 4}));
  EXPECT_EQ(conv.attrs.stride_h, 2);
  EXPECT_EQ(conv.attrs.stride_w, 1);
  EXPECT_EQ(conv.attrs.pad_top, 1);
  EXPECT_EQ(conv.attrs.pad_left, 0);
  EXPECT_EQ(conv.attrs.pad_bottom, 0);
  EXPECT_EQ(conv.attrs.pad_right, 1);
  EXPECT_EQ(conv.attrs.kernel_h, 2);
  EXPECT_EQ(conv.attrs.kernel_w, 3);
  const Tensor& w = tensor(g, conv.inputs[1]);
  ASSERT_TRUE(w.is_constant());
  ASSERT_EQ(w.shape, (std::vector<int32_t>{4, 2, 3, 3}));
  const std::vector<float> wv = floats(w), src = iota_f(72, 0.01f);
  for (int o = 0; o < 4; ++o)
    for (int h = 0; h < 2; ++h)
      for (int x = 0; x < 3; ++x)
        for (int i = 0; i < 3; ++i)
          ASSERT_EQ(wv[((o * 2 + h) * 3 + x) * 3 + i], src[((o * 3 + i) * 2 + h) * 3 + x]);
  EXPECT_EQ(floats(tensor(g, conv.inputs[2])), (std::vector<float>{1, 2, 3, 4}));
}

TEST(ImporterTest, DepthwiseAndAutoPad) {
  ModelBuilder b;
  b.input("x", {1, 4, 7, 7});
  b.init_f("w", {4, 1, 3, 3}, iota_f(36));
  auto* c = b.node("Conv", {"x", "w"}, {"y"});
  ModelBuilder::int_attr(c, "group", 4);
  ModelBuilder::string_attr(c, "auto_pad", "SAME_UPPER");
  ModelBuilder::ints(c, "strides", {2, 2});
  b.output("y");
  Graph g;
  ASSERT_TRUE(b.import(&g).ok());
  const Node* conv = find_op(g, OpType::kConv2D);
  ASSERT_NE(conv, nullptr);
  EXPECT_EQ(conv->attrs.groups, 4);
  EXPECT_EQ(tensor(g, conv->inputs[1]).shape, (std::vector<int32_t>{4, 3, 3, 1}));
  // in 7, stride 2 -> out 4, total pad 2 -> 1 + 1.
  EXPECT_EQ(tensor(g, conv->outputs[0]).shape, (std::vector<int32_t>{1, 4, 4, 4}));
  EXPECT_EQ(conv->attrs.pad_top, 1);
  EXPECT_EQ(conv->attrs.pad_bottom, 1);
  EXPECT_EQ(conv->inputs[2], -1);
}

// Shape -> Gather -> Unsqueeze -> Concat -> Reshape, Cast, ConstantOfShape, Constant and
// Identity fold away; the H*W > 1 reshape reads NCHW order through one transpose.
TEST(ImporterTest, ConstantSubgraphsFold) {
  ModelBuilder b;
  b.input("x", {1, 2, 3, 4});
  b.node("Shape", {"x"}, {"shape"});
  b.init_i64("zero", {}, {0});
  auto* gather = b.node("Gather", {"shape", "zero"}, {"batch"});
  ModelBuilder::int_attr(gather, "axis", 0);
  b.const_i64("axes0", {0});
  b.node("Unsqueeze", {"batch", "axes0"}, {"batch1"});
  b.const_i64("one", {1});
  auto* cos = b.node("ConstantOfShape", {"one"}, {"minus_one_f"});
  {
    auto* a = cos->add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto::TENSOR);
    ModelBuilder::fill(a->mutable_t(), "", {1}, TensorProto::FLOAT);
    a->mutable_t()->add_float_data(-1.f);
  }
  auto* cast = b.node("Cast", {"minus_one_f"}, {"minus_one"});
  ModelBuilder::int_attr(cast, "to", TensorProto::INT64);
  b.node("Identity", {"minus_one"}, {"minus_one_id"});
  auto* concat = b.node("Concat", {"batch1", "minus_one_id"}, {"new_shape"});
  ModelBuilder::int_attr(concat, "axis", 0);
  b.node("Reshape", {"x", "new_shape"}, {"y"}, "reshape");
  b.output("y");
  Graph g;
  Status s = b.import(&g);
  ASSERT_TRUE(s.ok()) << s.message();
  expect_valid(g);
  // input transpose to NHWC, back to NCHW for the reshape (collapsed), reshape.
  EXPECT_EQ(count_ops(g, OpType::kReshape), 1);
  const Node* r = find_op(g, OpType::kReshape);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(tensor(g, r->outputs[0]).shape, (std::vector<int32_t>{1, 24}));
  // The input's NCHW tensor feeds the reshape directly: the NHWC round trip cancels.
  EXPECT_EQ(r->inputs[0], g.inputs[0]);
  EXPECT_EQ(count_ops(g, OpType::kTranspose), 0);
  EXPECT_EQ(g.nodes.size(), 1u);
}

// Flatten after a global pool (H = W = 1): NHWC and NCHW orders coincide, no transpose.
TEST(ImporterTest, FlattenAfterGlobalPoolNeedsNoTranspose) {
  ModelBuilder b;
  b.input("x", {1, 8, 5, 5});
  b.node("GlobalAveragePool", {"x"}, {"p"});
  b.node("Flatten", {"p"}, {"f"});
  b.init_f("w", {8, 3}, iota_f(24, 0.1f));
  b.node("MatMul", {"f", "w"}, {"y"}, "mm");
  b.output("y");
  Graph g;
  Status s = b.import(&g);
  ASSERT_TRUE(s.ok()) << s.message();
  expect_valid(g);
  EXPECT_EQ(count_ops(g, OpType::kTranspose), 1);  // the input's only
  const Node* fc = find_op(g, OpType::kFullyConnected);
  ASSERT_NE(fc, nullptr);
  const Tensor& w = tensor(g, fc->inputs[1]);
  ASSERT_EQ(w.shape, (std::vector<int32_t>{3, 8}));  // [N, K]
  const std::vector<float> wv = floats(w), src = iota_f(24, 0.1f);
  for (int n = 0; n < 3; ++n)
    for (int k = 0; k < 8; ++k) EXPECT_EQ(wv[n * 8 + k], src[k * 3 + n]);
}

TEST(ImporterTest, BatchNormFoldsIntoConv) {
  const int C = 3;
  ModelBuilder b;
  b.input("x", {1, 2, 4, 4});
  const std::vector<float> w = iota_f(C * 2 * 1 * 1, 0.5f, -1.f);
  b.init_f("w", {C, 2, 1, 1}, w);
  b.init_f("cb", {C}, {0.1f, 0.2f, 0.3f});
  const std::vector<float> scale = {1.5f, -2.f, 0.5f}, bias = {0.25f, 0.5f, -1.f};
  const std::vector<float> mean = {0.1f, -0.3f, 2.f}, var = {4.f, 0.25f, 1.f};
  b.init_f("s", {C}, scale);
  b.init_f("bb", {C}, bias);
  b.init_f("m", {C}, mean);
  b.init_f("v", {C}, var);
  b.node("Conv", {"x", "w", "cb"}, {"c"});
  auto* bn = b.node("BatchNormalization", {"c", "s", "bb", "m", "v"}, {"y"});
  ModelBuilder::float_attr(bn, "epsilon", 1e-3f);
  b.output("y");
  Graph g;
  Status st = b.import(&g);
  ASSERT_TRUE(st.ok()) << st.message();
  expect_valid(g);
  EXPECT_EQ(count_ops(g, OpType::kMul), 0);
  EXPECT_EQ(count_ops(g, OpType::kAdd), 0);
  const Node* conv = find_op(g, OpType::kConv2D);
  ASSERT_NE(conv, nullptr);
  const std::vector<float> fw = floats(tensor(g, conv->inputs[1]));
  const std::vector<float> fb = floats(tensor(g, conv->inputs[2]));
  const float cb[C] = {0.1f, 0.2f, 0.3f};
  for (int c = 0; c < C; ++c) {
    const float a = scale[c] / std::sqrt(var[c] + 1e-3f);
    for (int i = 0; i < 2; ++i) EXPECT_NEAR(fw[c * 2 + i], w[c * 2 + i] * a, 1e-6f);
    EXPECT_NEAR(fb[c], (cb[c] - mean[c]) * a + bias[c], 1e-6f);
  }
}

// A BatchNormalization whose input has another consumer stays as Mul + Add with
// per-channel constants broadcast along the NHWC channel axis.
TEST(ImporterTest, BatchNormKeptAsMulAdd) {
  ModelBuilder b;
  b.input("x", {1, 3, 2, 2});
  b.init_f("s", {3}, {1, 2, 3});
  b.init_f("bb", {3}, {0, 0, 1});
  b.init_f("m", {3}, {0, 0, 0});
  b.init_f("v", {3}, {1, 1, 1});
  b.node("BatchNormalization", {"x", "s", "bb", "m", "v"}, {"y"});
  b.output("y");
  Graph g;
  ASSERT_TRUE(b.import(&g).ok());
  expect_valid(g);
  const Node* mul = find_op(g, OpType::kMul);
  const Node* add = find_op(g, OpType::kAdd);
  ASSERT_NE(mul, nullptr);
  ASSERT_NE(add, nullptr);
  EXPECT_EQ(tensor(g, mul->inputs[1]).shape, (std::vector<int32_t>{1, 1, 1, 3}));
  EXPECT_NEAR(floats(tensor(g, mul->inputs[1]))[2], 3.f / std::sqrt(1.f + 1e-5f), 1e-6f);
  EXPECT_EQ(floats(tensor(g, add->inputs[1]))[2], 1.f);
}

TEST(ImporterTest, ActivationsFoldIntoProducer) {
  ModelBuilder b;
  b.input("x", {1, 2, 4, 4});
  b.init_f("w", {2, 2, 1, 1}, {1, 0, 0, 1});
  b.node("Conv", {"x", "w"}, {"c"});
  b.node("Relu", {"c"}, {"r"});
  b.init_f("lo", {}, {-1.f});
  b.init_f("hi", {}, {6.f});
  b.node("Clip", {"r", "lo", "hi"}, {"y"});
  b.node("Add", {"y", "y"}, {"a"});
  b.node("Sigmoid", {"a"}, {"s"});
  b.node("Relu", {"s"}, {"z"});  // a Sigmoid has no fused activation
  b.output("z");
  Graph g;
  ASSERT_TRUE(b.import(&g).ok());
  expect_valid(g);
  const Node* conv = find_op(g, OpType::kConv2D);
  ASSERT_NE(conv, nullptr);
  EXPECT_EQ(conv->attrs.act_min, 0.f);
  EXPECT_EQ(conv->attrs.act_max, 6.f);
  EXPECT_EQ(count_ops(g, OpType::kClip), 0);
  EXPECT_EQ(count_ops(g, OpType::kRelu), 1);
}

TEST(ImporterTest, ActivationNotFoldedWhenProducerOutputIsShared) {
  ModelBuilder b;
  b.input("x", {1, 4});
  b.init_f("w", {4, 4}, iota_f(16));
  b.node("MatMul", {"x", "w"}, {"m"});
  b.node("Relu", {"m"}, {"r"});
  b.node("Add", {"m", "r"}, {"y"});
  b.output("y");
  Graph g;
  ASSERT_TRUE(b.import(&g).ok());
  EXPECT_EQ(count_ops(g, OpType::kRelu), 1);
  EXPECT_TRUE(std::isinf(find_op(g, OpType::kFullyConnected)->attrs.act_max));
}

TEST(ImporterTest, BroadcastConstantPermutedAndAxesRemapped) {
  ModelBuilder b;
  b.input("x", {1, 3, 2, 2});
  b.input("x2", {1, 5, 2, 2});
  b.init_f("c", {3, 1, 1}, {1, 2, 3});
  b.node("Mul", {"x", "c"}, {"m"});
  auto* cat = b.node("Concat", {"m", "x2"}, {"cat"});
  ModelBuilder::int_attr(cat, "axis", 1);
  auto* sm = b.node("Softmax", {"cat"}, {"sm"});
  ModelBuilder::int_attr(sm, "axis", 1);
  b.output("sm");
  Graph g;
  ASSERT_TRUE(b.import(&g).ok());
  expect_valid(g);
  const Node* mul = find_op(g, OpType::kMul);
  ASSERT_NE(mul, nullptr);
  EXPECT_EQ(tensor(g, mul->inputs[1]).shape, (std::vector<int32_t>{1, 1, 1, 3}));
  EXPECT_EQ(find_op(g, OpType::kConcat)->attrs.axis, 3);
  EXPECT_EQ(find_op(g, OpType::kSoftmax)->attrs.axis, 3);
  EXPECT_EQ(tensor(g, find_op(g, OpType::kConcat)->outputs[0]).shape,
            (std::vector<int32_t>{1, 2, 2, 8}));
}

TEST(ImporterTest, GemmAlphaBetaFoldedIntoConstants) {
  ModelBuilder b;
  b.input("x", {2, 3});
  b.init_f("w", {4, 3}, iota_f(12));
  b.init_f("c", {4}, {1, 2, 3, 4});
  auto* gm = b.node("Gemm", {"x", "w", "c"}, {"y"});
  ModelBuilder::int_attr(gm, "transB", 1);
  ModelBuilder::float_attr(gm, "alpha", 2.f);
  ModelBuilder::float_attr(gm, "beta", 0.5f);
  b.output("y");
  Graph g;
  ASSERT_TRUE(b.import(&g).ok());
  const Node* fc = find_op(g, OpType::kFullyConnected);
  ASSERT_NE(fc, nullptr);
  EXPECT_EQ(floats(tensor(g, fc->inputs[1]))[5], 10.f);
  EXPECT_EQ(floats(tensor(g, fc->inputs[2])), (std::vector<float>{0.5f, 1.f, 1.5f, 2.f}));
}

TEST(ImporterTest, SymbolicBatchUsesOption) {
  ModelBuilder b;
  b.input("x", {-1, 4});
  b.node("Relu", {"x"}, {"y"});
  b.output("y");
  Graph g;
  ImportOptions o;
  o.batch = 3;
  ASSERT_TRUE(b.import(&g, o).ok());
  EXPECT_EQ(tensor(g, g.inputs[0]).shape, (std::vector<int32_t>{3, 4}));
}

// Opset-dependent forms: Squeeze/Unsqueeze axes and Split sizes as attributes (opset
// 11) or inputs (opset 13), Clip bounds as inputs, Pad as inputs.
TEST(ImporterTest, OpsetDependentAttributes) {
  for (int opset : {11, 13}) {
    ModelBuilder b(opset);
    b.input("x", {1, 6, 1, 1});
    if (opset >= 13) {
      b.init_i64("ax", {1}, {2});
      b.node("Squeeze", {"x", "ax"}, {"s"});
      b.init_i64("sizes", {2}, {2, 4});
      auto* sp = b.node("Split", {"s", "sizes"}, {"a", "b"});
      ModelBuilder::int_attr(sp, "axis", 1);
    } else {
      auto* sq = b.node("Squeeze", {"x"}, {"s"});
      ModelBuilder::ints(sq, "axes", {2});
      auto* sp = b.node("Split", {"s"}, {"a", "b"});
      ModelBuilder::int_attr(sp, "axis", 1);
      ModelBuilder::ints(sp, "split", {2, 4});
    }
    b.init_i64("pads", {6}, {0, 1, 0, 0, 2, 0});
    b.node("Pad", {"b", "pads"}, {"p"});
    b.output("a");
    b.output("p");
    Graph g;
    Status s = b.import(&g);
    ASSERT_TRUE(s.ok()) << "opset " << opset << ": " << s.message();
    expect_valid(g);
    const Node* split = find_op(g, OpType::kSplit);
    ASSERT_NE(split, nullptr);
    EXPECT_EQ(tensor(g, split->outputs[1]).shape, (std::vector<int32_t>{1, 4, 1}));
    const Node* pad = find_op(g, OpType::kPad);
    ASSERT_NE(pad, nullptr);
    EXPECT_EQ(pad->attrs.pads, (std::vector<int32_t>{0, 1, 0, 0, 2, 0}));
    EXPECT_EQ(tensor(g, g.outputs[1]).shape, (std::vector<int32_t>{1, 7, 1}));
  }
}

TEST(ImporterTest, SliceNormalizedInNhwcOrder) {
  ModelBuilder b;
  b.input("x", {1, 4, 6, 6});
  b.init_i64("st", {2}, {1, -1});
  b.init_i64("en", {2}, {3, -100});
  b.init_i64("ax", {2}, {1, 3});
  b.init_i64("sp", {2}, {1, -2});
  b.node("Slice", {"x", "st", "en", "ax", "sp"}, {"y"});
  b.output("y");
  Graph g;
  ASSERT_TRUE(b.import(&g).ok());
  expect_valid(g);
  const Node* sl = find_op(g, OpType::kSlice);
  ASSERT_NE(sl, nullptr);
  EXPECT_EQ(sl->attrs.starts, (std::vector<int32_t>{0, 0, 5, 1}));
  EXPECT_EQ(sl->attrs.steps, (std::vector<int32_t>{1, 1, -2, 1}));
  EXPECT_EQ(tensor(g, sl->outputs[0]).shape, (std::vector<int32_t>{1, 6, 3, 2}));
}

TEST(ImporterTest, ResizeNearestModes) {
  auto build = [](const std::string& ctm, const std::string& nearest, Graph* g) {
    ModelBuilder b;
    b.input("x", {1, 2, 3, 3});
    b.init_f("scales", {4}, {1, 1, 2, 3});
    auto* r = b.node("Resize", {"x", "", "scales"}, {"y"}, "resize");
    ModelBuilder::string_attr(r, "mode", "nearest");
    ModelBuilder::string_attr(r, "coordinate_transformation_mode", ctm);
    ModelBuilder::string_attr(r, "nearest_mode", nearest);
    b.output("y");
    return b.import(g);
  };
  Graph g;
  ASSERT_TRUE(build("asymmetric", "floor", &g).ok());
  const Node* r = find_op(g, OpType::kResizeNearest);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->attrs.scale_h, 2);
  EXPECT_EQ(r->attrs.scale_w, 3);
  EXPECT_TRUE(build("half_pixel", "round_prefer_floor", &g).ok());
  EXPECT_NE(find_op(g, OpType::kResizeNearest), nullptr);
  // Other roundings read other pixels than a plain upsampling: index tables.
  ASSERT_TRUE(build("align_corners", "round_prefer_floor", &g).ok());
  const Node* t = find_op(g, OpType::kResizeNearestTo);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->attrs.coord_mode, 2);
  EXPECT_EQ(t->attrs.nearest_mode, 0);
  ASSERT_TRUE(build("asymmetric", "round_prefer_ceil", &g).ok());
  EXPECT_NE(find_op(g, OpType::kResizeNearestTo), nullptr);
  Status s = build("tf_crop_and_resize", "floor", &g);
  EXPECT_EQ(s.code(), StatusCode::kUnsupported);
  EXPECT_NE(s.message().find("tf_crop_and_resize"), std::string::npos) << s.message();
}

TEST(ImporterTest, MaxPoolAndAvgPoolCeilMode) {
  auto build = [](const std::string& op, Graph* g, bool padded_include = false) {
    ModelBuilder b;
    b.input("x", {1, 1, 6, 6});
    auto* p = b.node(op, {"x"}, {"y"}, "pool");
    ModelBuilder::ints(p, "kernel_shape", {3, 3});
    ModelBuilder::ints(p, "strides", {2, 2});
    ModelBuilder::int_attr(p, "ceil_mode", 1);
    if (padded_include) {
      ModelBuilder::ints(p, "pads", {1, 1, 1, 1});
      ModelBuilder::int_attr(p, "count_include_pad", 1);
    }
    b.output("y");
    return b.import(g);
  };
  Graph g;
  ASSERT_TRUE(build("MaxPool", &g).ok());
  const Node* mp = find_op(g, OpType::kMaxPool2D);
  EXPECT_EQ(tensor(g, mp->outputs[0]).shape, (std::vector<int32_t>{1, 3, 3, 1}));
  EXPECT_EQ(mp->attrs.pad_bottom, 1);
  // Average pooling: the extra window's divisor counts in-image taps (the end padding
  // is added with count_include_pad off) ...
  ASSERT_TRUE(build("AveragePool", &g).ok());
  const Node* ap = find_op(g, OpType::kAvgPool2D);
  EXPECT_EQ(ap->attrs.pad_bottom, 1);
  EXPECT_FALSE(ap->attrs.count_include_pad);
  // ... and declared pads counted in the divisor become an explicit zero Pad, the pool
  // counting the taps of the padded input only (not the last window's overhang).
  ASSERT_TRUE(build("AveragePool", &g, true).ok());
  const Node* pad = find_op(g, OpType::kPad);
  ASSERT_NE(pad, nullptr);
  EXPECT_EQ(pad->attrs.pads, (std::vector<int32_t>{0, 1, 1, 0, 0, 1, 1, 0}));
  ap = find_op(g, OpType::kAvgPool2D);
  EXPECT_EQ(ap->inputs[0], pad->outputs[0]);
  EXPECT_EQ(ap->attrs.pad_top, 0);
  EXPECT_EQ(ap->attrs.pad_bottom, 1);
  EXPECT_FALSE(ap->attrs.count_include_pad);
  EXPECT_EQ(tensor(g, ap->outputs[0]).shape, (std::vector<int32_t>{1, 4, 4, 1}));
}

// ------------------------------------------------------------------ quantized graphs

// x(f32) -> Q(u8) -> DQ -> Conv(DQ(w, per-channel int8), DQ(bias int32)) -> Relu -> Q -> DQ.
void build_qdq_conv(ModelBuilder* b, bool u8_weights, bool bias_scale_off) {
  const int cout = 3, cin = 2;
  b->input("x", {1, cin, 4, 4});
  b->scalar_f("xs", 0.02f);
  b->scalar_u8("xz", 128);
  b->node("QuantizeLinear", {"x", "xs", "xz"}, {"xq"});
  b->node("DequantizeLinear", {"xq", "xs", "xz"}, {"xd"});
  std::vector<int32_t> wq;
  for (int k = 0; k < cout * cin * 9; ++k) wq.push_back((k * 37) % 255 - 127);
  const std::vector<float> ws = {0.01f, 0.02f, 0.04f};
  if (u8_weights) {
    for (int32_t& v : wq) v += 128;
    b->init_int("w", TensorProto::UINT8, {cout, cin, 3, 3}, wq);
    b->init_int("wz", TensorProto::UINT8, {cout}, {128, 130, 120});
  } else {
    b->init_int("w", TensorProto::INT8, {cout, cin, 3, 3}, wq);
    b->init_int("wz", TensorProto::INT8, {cout}, {0, 0, 0});
  }
  b->init_f("ws", {cout}, ws);
  auto* dqw = b->node("DequantizeLinear", {"w", "ws", "wz"}, {"wd"});
  ModelBuilder::int_attr(dqw, "axis", 0);
  b->init_int("bias", TensorProto::INT32, {cout}, {100, -200, 300});
  std::vector<float> bs;
  for (float s : ws) bs.push_back(0.02f * s * (bias_scale_off ? 2.f : 1.f));
  b->init_f("bs", {cout}, bs);
  b->init_int("bz", TensorProto::INT32, {cout}, {0, 0, 0});
  auto* dqb = b->node("DequantizeLinear", {"bias", "bs", "bz"}, {"bd"});
  ModelBuilder::int_attr(dqb, "axis", 0);
  auto* conv = b->node("Conv", {"xd", "wd", "bd"}, {"c"}, "qconv");
  ModelBuilder::ints(conv, "pads", {1, 1, 1, 1});
  b->node("Relu", {"c"}, {"r"});
  b->scalar_f("ys", 0.05f);
  b->scalar_u8("yz", 3);
  b->node("QuantizeLinear", {"r", "ys", "yz"}, {"yq"});
  b->node("DequantizeLinear", {"yq", "ys", "yz"}, {"y"});
  b->output("y");
}

TEST(ImporterTest, QdqConvFusesPerChannel) {
  ModelBuilder b;
  build_qdq_conv(&b, false, false);
  Graph g;
  Status s = b.import(&g);
  ASSERT_TRUE(s.ok()) << s.message();
  expect_valid(g);
  // Quantized input and output; nodes: transpose(u8), conv(u8), transpose(u8).
  ASSERT_EQ(g.nodes.size(), 3u);
  const Tensor& in = tensor(g, g.inputs[0]);
  EXPECT_EQ(in.dtype, DType::kU8);
  EXPECT_EQ(in.shape, (std::vector<int32_t>{1, 2, 4, 4}));
  EXPECT_EQ(in.quant.scale, std::vector<float>{0.02f});
  EXPECT_EQ(in.quant.zero_point, std::vector<int32_t>{128});
  const Tensor& out = tensor(g, g.outputs[0]);
  EXPECT_EQ(out.dtype, DType::kU8);
  EXPECT_EQ(out.name, "y");
  EXPECT_EQ(out.quant.zero_point, std::vector<int32_t>{3});

  const Node* conv = find_op(g, OpType::kConv2D);
  ASSERT_NE(conv, nullptr);
  EXPECT_EQ(conv->name, "qconv");
  EXPECT_EQ(tensor(g, conv->inputs[0]).dtype, DType::kU8);
  const Tensor& w = tensor(g, conv->inputs[1]);
  EXPECT_EQ(w.dtype, DType::kS8);
  EXPECT_EQ(w.shape, (std::vector<int32_t>{3, 3, 3, 2}));
  EXPECT_EQ(w.quant.scale, (std::vector<float>{0.01f, 0.02f, 0.04f}));
  EXPECT_EQ(w.quant.axis, 0);
  // [o][h][w][i] <- [o][i][h][w]
  EXPECT_EQ(w.as<int8_t>()[((1 * 3 + 2) * 3 + 0) * 2 + 1],
            ((((1 * 2 + 1) * 3 + 2) * 3 + 0) * 37) % 255 - 127);
  const Tensor& bias = tensor(g, conv->inputs[2]);
  EXPECT_EQ(bias.dtype, DType::kS32);
  ASSERT_EQ(bias.quant.scale.size(), 3u);
  EXPECT_FLOAT_EQ(bias.quant.scale[2], 0.02f * 0.04f);
  EXPECT_EQ(bias.as<int32_t>()[1], -200);
  EXPECT_EQ(conv->attrs.act_min, 0.f);
  EXPECT_EQ(tensor(g, conv->outputs[0]).dtype, DType::kU8);
  EXPECT_EQ(tensor(g, conv->outputs[0]).quant.scale, std::vector<float>{0.05f});
}

TEST(ImporterTest, QdqWithoutQuantizedIoKeepsQuantizeAndDequantize) {
  ModelBuilder b;
  build_qdq_conv(&b, false, false);
  Graph g;
  ImportOptions o;
  o.quantized_io = false;
  ASSERT_TRUE(b.import(&g, o).ok());
  expect_valid(g);
  EXPECT_EQ(tensor(g, g.inputs[0]).dtype, DType::kF32);
  EXPECT_EQ(tensor(g, g.outputs[0]).dtype, DType::kF32);
  EXPECT_EQ(count_ops(g, OpType::kQuantize), 1);
  EXPECT_EQ(count_ops(g, OpType::kDequantize), 1);
  // Quantize first, then transpose the int8 data.
  EXPECT_EQ(g.nodes[0].op, OpType::kQuantize);
  EXPECT_EQ(g.nodes[0].inputs[0], g.inputs[0]);
}

TEST(ImporterTest, Uint8WeightsBecomeInt8AndBiasIsRescaled) {
  ModelBuilder b;
  build_qdq_conv(&b, true, true);
  Graph g;
  Status s = b.import(&g);
  ASSERT_TRUE(s.ok()) << s.message();
  expect_valid(g);
  const Node* conv = find_op(g, OpType::kConv2D);
  ASSERT_NE(conv, nullptr);
  const Tensor& w = tensor(g, conv->inputs[1]);
  EXPECT_EQ(w.dtype, DType::kS8);
  EXPECT_EQ(w.quant.zero_point, (std::vector<int32_t>{0, 2, -8}));
  EXPECT_EQ(w.as<int8_t>()[0], -127);
  // The bias was given with twice the expected scale: values doubled.
  const Tensor& bias = tensor(g, conv->inputs[2]);
  EXPECT_FLOAT_EQ(bias.quant.scale[0], 0.02f * 0.01f);
  EXPECT_EQ(bias.as<int32_t>()[0], 200);
  EXPECT_EQ(bias.as<int32_t>()[2], 600);
}

// DQ -> Q: equal parameters vanish, different ones become kRequantize; data movement
// between DQ and Q runs on int8.
TEST(ImporterTest, DequantizeQuantizePairs) {
  ModelBuilder b;
  b.input("x", {1, 4, 2, 2});
  b.scalar_f("s1", 0.1f);
  b.scalar_i8("z1", 1);
  b.scalar_f("s2", 0.2f);
  b.scalar_i8("z2", -3);
  b.node("QuantizeLinear", {"x", "s1", "z1"}, {"q"});
  b.node("DequantizeLinear", {"q", "s1", "z1"}, {"d"});
  b.init_i64("shape", {2}, {1, 16});
  b.node("Reshape", {"d", "shape"}, {"r"});
  b.node("QuantizeLinear", {"r", "s1", "z1"}, {"q2"});
  b.node("DequantizeLinear", {"q2", "s1", "z1"}, {"d2"});
  b.node("QuantizeLinear", {"d2", "s2", "z2"}, {"q3"});
  b.node("DequantizeLinear", {"q3", "s2", "z2"}, {"y"});
  b.output("y");
  Graph g;
  Status s = b.import(&g);
  ASSERT_TRUE(s.ok()) << s.message();
  expect_valid(g);
  EXPECT_EQ(count_ops(g, OpType::kQuantize), 0);
  EXPECT_EQ(count_ops(g, OpType::kDequantize), 0);
  EXPECT_EQ(count_ops(g, OpType::kRequantize), 1);
  for (const Tensor& t : g.tensors) EXPECT_EQ(t.dtype, DType::kS8) << t.name;
  EXPECT_EQ(tensor(g, g.outputs[0]).quant.zero_point, std::vector<int32_t>{-3});
}

// An op without a quantized pattern stays float between explicit DQ and Q nodes: here
// the Sigmoid's float output is also a graph output, so the island cannot become a table.
TEST(ImporterTest, UnfusedOpStaysFloat) {
  ModelBuilder b;
  b.input("x", {1, 4});
  b.scalar_f("s", 0.1f);
  b.scalar_u8("z", 10);
  b.node("QuantizeLinear", {"x", "s", "z"}, {"q"});
  b.node("DequantizeLinear", {"q", "s", "z"}, {"d"});
  b.node("Sigmoid", {"d"}, {"sg"});
  b.node("Mul", {"d", "sg"}, {"m"});
  b.node("QuantizeLinear", {"m", "s", "z"}, {"q2"});
  b.node("DequantizeLinear", {"q2", "s", "z"}, {"y"});
  b.output("y");
  b.output("sg");
  Graph g;
  ASSERT_TRUE(b.import(&g).ok());
  expect_valid(g);
  const Node* mul = find_op(g, OpType::kMul);
  ASSERT_NE(mul, nullptr);
  EXPECT_EQ(tensor(g, mul->outputs[0]).dtype, DType::kF32);
  EXPECT_EQ(count_ops(g, OpType::kLookup), 0);
  EXPECT_EQ(count_ops(g, OpType::kQuantize), 1);
}

// DQ -> float functions of that one tensor -> Q: one Lookup whose table is the island
// on the 256 inputs, within one output step of the functions computed in double.
struct IslandCase {
  const char* name;
  int opset;
  std::function<void(ModelBuilder*)> build;  // reads "d", writes "m"
  std::function<double(double)> f;
};

std::vector<IslandCase> island_cases() {
  const double kPi = 3.14159265358979323846;
  auto sigmoid = [](double x) { return 1.0 / (1.0 + std::exp(-x)); };
  auto softplus = [](double x) { return std::log1p(std::exp(x)); };
  return {
      {"silu", 13,
       [](ModelBuilder* b) {
         b->node("Sigmoid", {"d"}, {"sg"});
         b->node("Mul", {"d", "sg"}, {"m"});
       },
       [=](double x) { return x * sigmoid(x); }},
      {"gelu_erf", 13,
       [](ModelBuilder* b) {
         b->scalar_f("c_sqrt2", 1.4142135381698608f);
         b->scalar_f("c_one", 1.f);
         b->scalar_f("c_half", 0.5f);
         b->node("Div", {"d", "c_sqrt2"}, {"t1"});
         b->node("Erf", {"t1"}, {"t2"});
         b->node("Add", {"t2", "c_one"}, {"t3"});
         b->node("Mul", {"d", "t3"}, {"t4"});
         b->node("Mul", {"t4", "c_half"}, {"m"});
       },
       [](double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }},
      {"gelu_tanh", 13,
       [](ModelBuilder* b) {
         b->scalar_f("c_k", 0.044715f);
         b->scalar_f("c_s", 0.7978845834732056f);
         b->scalar_f("c_one", 1.f);
         b->scalar_f("c_half", 0.5f);
         b->node("Mul", {"d", "d"}, {"x2"});
         b->node("Mul", {"x2", "d"}, {"x3"});
         b->node("Mul", {"x3", "c_k"}, {"kx3"});
         b->node("Add", {"d", "kx3"}, {"inner"});
         b->node("Mul", {"inner", "c_s"}, {"arg"});
         b->node("Tanh", {"arg"}, {"th"});
         b->node("Add", {"th", "c_one"}, {"t3"});
         b->node("Mul", {"d", "t3"}, {"t4"});
         b->node("Mul", {"t4", "c_half"}, {"m"});
       },
       [=](double x) { return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / kPi) * (x + 0.044715 * x * x * x))); }},
      {"mish", 13,
       [](ModelBuilder* b) {
         b->node("Softplus", {"d"}, {"sp"});
         b->node("Tanh", {"sp"}, {"th"});
         b->node("Mul", {"d", "th"}, {"m"});
       },
       [=](double x) { return x * std::tanh(softplus(x)); }},
      {"mish_op", 18, [](ModelBuilder* b) { b->node("Mish", {"d"}, {"m"}); },
       [=](double x) { return x * std::tanh(softplus(x)); }},
      {"hardswish_decomposed", 13,
       [](ModelBuilder* b) {
         b->scalar_f("c3", 3.f);
         b->scalar_f("c0", 0.f);
         b->scalar_f("c6", 6.f);
         b->node("Add", {"d", "c3"}, {"t1"});
         b->node("Clip", {"t1", "c0", "c6"}, {"t2"});
         b->node("Div", {"t2", "c6"}, {"t3"});
         b->node("Mul", {"d", "t3"}, {"m"});
       },
       [](double x) { return x * std::min(std::max(x + 3.0, 0.0), 6.0) / 6.0; }},
      {"elu", 13,
       [](ModelBuilder* b) {
         auto* n = b->node("Elu", {"d"}, {"m"});
         ModelBuilder::float_attr(n, "alpha", 0.7f);
       },
       [](double x) { return x < 0 ? 0.7 * std::expm1(x) : x; }},
      {"sigmoid_tanh_chain", 13,
       [](ModelBuilder* b) {
         b->node("Sigmoid", {"d"}, {"sg"});
         b->node("Tanh", {"sg"}, {"m"});
       },
       [=](double x) { return std::tanh(sigmoid(x)); }},
  };
}

TEST(ImporterTest, UnaryIslandsBecomeLookups) {
  for (const IslandCase& c : island_cases()) {
    for (int dtype : {TensorProto::UINT8, TensorProto::INT8}) {
      SCOPED_TRACE(std::string(c.name) + (dtype == TensorProto::INT8 ? " int8" : " uint8"));
      const bool s8 = dtype == TensorProto::INT8;
      const float s_in = 0.047f, s_out = 0.031f;
      const int z_in = s8 ? 3 : 131, z_out = s8 ? -90 : 38;
      ModelBuilder b(c.opset);
      b.input("x", {1, 8, 4, 4});
      b.scalar_f("s", s_in);
      b.init_int("z", dtype, {}, {z_in});
      b.scalar_f("s2", s_out);
      b.init_int("z2", dtype, {}, {z_out});
      b.node("QuantizeLinear", {"x", "s", "z"}, {"q"});
      b.node("DequantizeLinear", {"q", "s", "z"}, {"d"});
      c.build(&b);
      b.node("QuantizeLinear", {"m", "s2", "z2"}, {"q2"});
      b.node("DequantizeLinear", {"q2", "s2", "z2"}, {"y"});
      b.output("y");
      Graph g;
      const Status st = b.import(&g);
      ASSERT_TRUE(st.ok()) << st.message();
      expect_valid(g);
      // Only the layout transposes at the NCHW input and output are left besides it.
      ASSERT_EQ(count_ops(g, OpType::kLookup), 1);
      ASSERT_EQ(count_ops(g, OpType::kTranspose) + 1, static_cast<int>(g.nodes.size()));
      const Node& lookup = *find_op(g, OpType::kLookup);
      const Tensor& table = tensor(g, lookup.inputs[1]);
      ASSERT_TRUE(table.is_constant());
      ASSERT_EQ(table.num_elements(), 256);
      const int qmin = s8 ? -128 : 0, qmax = s8 ? 127 : 255;
      for (int byte = 0; byte < 256; ++byte) {
        const int q = s8 && byte >= 128 ? byte - 256 : byte;
        const double want = std::nearbyint(c.f(static_cast<double>(s_in) * (q - z_in)) / s_out) + z_out;
        const int want_q = static_cast<int>(std::min<double>(std::max<double>(want, qmin), qmax));
        const int got = s8 ? static_cast<int>(static_cast<int8_t>(table.data[byte])) : table.data[byte];
        ASSERT_LE(std::abs(got - want_q), 1) << "byte " << byte << " (x = " << s_in * (q - z_in) << ")";
      }
    }
  }
}

TEST(ImporterTest, QLinearConvExpandsAndFuses) {
  ModelBuilder b;
  b.input("x", {1, 2, 3, 3}, TensorProto::UINT8);
  b.scalar_f("xs", 0.5f);
  b.scalar_u8("xz", 7);
  b.init_int("w", TensorProto::INT8, {2, 2, 1, 1}, {1, -2, 3, 4});
  b.init_f("ws", {2}, {0.25f, 0.125f});
  b.init_int("wz", TensorProto::INT8, {2}, {0, 0});
  b.scalar_f("ys", 1.f);
  b.scalar_u8("yz", 5);
  b.init_int("bias", TensorProto::INT32, {2}, {3, -3});
  b.node("QLinearConv", {"x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "bias"}, {"yq"}, "qlc");
  b.node("DequantizeLinear", {"yq", "ys", "yz"}, {"y"});
  b.output("y");
  Graph g;
  Status s = b.import(&g);
  ASSERT_TRUE(s.ok()) << s.message();
  expect_valid(g);
  const Node* conv = find_op(g, OpType::kConv2D);
  ASSERT_NE(conv, nullptr);
  EXPECT_EQ(tensor(g, conv->inputs[0]).dtype, DType::kU8);
  EXPECT_EQ(tensor(g, conv->inputs[0]).quant.zero_point, std::vector<int32_t>{7});
  EXPECT_EQ(tensor(g, conv->inputs[2]).quant.scale, (std::vector<float>{0.125f, 0.0625f}));
  EXPECT_EQ(tensor(g, g.inputs[0]).quant.zero_point, std::vector<int32_t>{7});
  EXPECT_EQ(count_ops(g, OpType::kDequantize) + count_ops(g, OpType::kQuantize), 0);
}

// DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul(x_scale) (weight scale 1):
// a dynamically quantized FullyConnected (the ORT forms: transformer_import_test.cc).
TEST(ImporterTest, DynamicQuantizationBecomesDynamicFullyConnected) {
  ModelBuilder b;
  b.input("x", {1, 4});
  b.node("DynamicQuantizeLinear", {"x"}, {"xq", "xs", "xz"}, "dql");
  b.init_int("w", TensorProto::INT8, {4, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  b.node("MatMulInteger", {"xq", "w", "xz"}, {"acc"});
  auto* c = b.node("Cast", {"acc"}, {"accf"});
  ModelBuilder::int_attr(c, "to", TensorProto::FLOAT);
  b.node("Mul", {"accf", "xs"}, {"y"});
  b.output("y");
  Graph g;
  Status s = b.import(&g);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(g.nodes[0].op, OpType::kFullyConnected);
  EXPECT_EQ(g.nodes[0].attrs.dynamic, 1);
  EXPECT_EQ(tensor(g, g.nodes[0].inputs[1]).quant.scale, (std::vector<float>{1.f}));
}

// PyTorch's pattern: Conv -> Q -> DQ -> Clip(0, 6) -> Q with the same parameters; the
// quantized Clip folds into the conv's activation range. Cast(uint8 -> uint8) and
// ConstantOfShape/Cast for the bias zero point fold away.
TEST(ImporterTest, TorchStyleQdqClipFolds) {
  ModelBuilder b;
  b.input("x", {1, 2, 3, 3});
  b.scalar_f("xs", 0.1f);
  b.scalar_u8("xz", 120);
  b.node("QuantizeLinear", {"x", "xs", "xz"}, {"xq"});
  auto* cast = b.node("Cast", {"xq"}, {"xc"});
  ModelBuilder::int_attr(cast, "to", TensorProto::UINT8);
  b.node("DequantizeLinear", {"xc", "xs", "xz"}, {"xd"});
  b.init_int("w", TensorProto::INT8, {2, 2, 1, 1}, {1, 2, 3, 4});
  b.init_f("ws", {1}, {0.5f});
  b.init_int("wz", TensorProto::INT8, {1}, {0});
  b.node("DequantizeLinear", {"w", "ws", "wz"}, {"wd"});
  b.init_int("bias", TensorProto::INT32, {2}, {5, 6});
  b.init_f("bs", {1}, {0.05f});
  b.const_i64("bz_shape", {1});
  auto* cos = b.node("ConstantOfShape", {"bz_shape"}, {"bz32"});
  {
    auto* a = cos->add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto::TENSOR);
    ModelBuilder::fill(a->mutable_t(), "", {1}, TensorProto::INT32);
    a->mutable_t()->add_int32_data(0);
  }
  auto* bcast = b.node("Cast", {"bz32"}, {"bz"});
  ModelBuilder::int_attr(bcast, "to", TensorProto::INT32);
  b.node("DequantizeLinear", {"bias", "bs", "bz"}, {"bd"});
  b.node("Conv", {"xd", "wd", "bd"}, {"c"}, "conv");
  b.scalar_f("cs", 0.05f);
  b.scalar_u8("cz", 10);
  b.node("QuantizeLinear", {"c", "cs", "cz"}, {"cq"});
  b.node("DequantizeLinear", {"cq", "cs", "cz"}, {"cd"});
  b.scalar_f("lo", 0.f);
  b.scalar_f("hi", 6.f);
  b.node("Clip", {"cd", "lo", "hi"}, {"clip"});
  b.node("QuantizeLinear", {"clip", "cs", "cz"}, {"yq"});
  b.node("DequantizeLinear", {"yq", "cs", "cz"}, {"y"});
  b.output("y");
  Graph g;
  Status s = b.import(&g);
  ASSERT_TRUE(s.ok()) << s.message();
  expect_valid(g);
  EXPECT_EQ(count_ops(g, OpType::kClip), 0);
  const Node* conv = find_op(g, OpType::kConv2D);
  ASSERT_NE(conv, nullptr);
  EXPECT_EQ(conv->attrs.act_min, 0.f);
  EXPECT_EQ(conv->attrs.act_max, 6.f);
  EXPECT_EQ(tensor(g, conv->inputs[2]).as<int32_t>()[1], 6);
  EXPECT_EQ(g.nodes.size(), 3u);  // transpose, conv, transpose
}

TEST(ImporterTest, HardSwishPatternAndReduceMean) {
  ModelBuilder b;
  b.input("x", {1, 4, 3, 3});
  auto* hs = b.node("HardSigmoid", {"x"}, {"h"});
  ModelBuilder::float_attr(hs, "alpha", 1.f / 6.f);
  b.node("Mul", {"x", "h"}, {"hsw"});
  auto* rm = b.node("ReduceMean", {"hsw"}, {"y"});
  ModelBuilder::ints(rm, "axes", {-1, -2});
  ModelBuilder::int_attr(rm, "keepdims", 0);
  b.output("y");
  Graph g;
  Status s = b.import(&g);
  ASSERT_TRUE(s.ok()) << s.message();
  expect_valid(g);
  EXPECT_EQ(count_ops(g, OpType::kHardSwish), 1);
  EXPECT_EQ(count_ops(g, OpType::kHardSigmoid), 0);
  EXPECT_EQ(count_ops(g, OpType::kMul), 0);
  EXPECT_EQ(count_ops(g, OpType::kGlobalAvgPool), 1);
  EXPECT_EQ(tensor(g, g.outputs[0]).shape, (std::vector<int32_t>{1, 4}));

  // Over the channels: a ReduceMean in ONNX order, not a pool.
  ModelBuilder channels;
  channels.input("x", {1, 4, 3, 3});
  ModelBuilder::ints(channels.node("ReduceMean", {"x"}, {"y"}, "rm"), "axes", {1});
  channels.output("y");
  s = channels.import(&g);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(count_ops(g, OpType::kReduceMean), 1);
  EXPECT_EQ(tensor(g, g.outputs[0]).shape, (std::vector<int32_t>{1, 1, 3, 3}));

  ModelBuilder bad;
  bad.input("x", {1, 4, 3, 3});
  auto* r = bad.node("ReduceProd", {"x"}, {"y"}, "rm");
  ModelBuilder::ints(r, "axes", {1});
  bad.output("y");
  s = bad.import(&g);
  EXPECT_EQ(s.code(), StatusCode::kUnsupported);
  EXPECT_NE(s.message().find("'rm' (ReduceProd)"), std::string::npos) << s.message();
}

// Static ConvInteger -> Cast -> Mul(scale) -> Add(bias) -> Q becomes one int8 conv.
TEST(ImporterTest, ConvIntegerPatternBecomesQuantizedConv) {
  ModelBuilder b;
  b.input("x", {1, 2, 3, 3});
  b.scalar_f("xs", 0.1f);
  b.scalar_u8("xz", 100);
  b.node("QuantizeLinear", {"x", "xs", "xz"}, {"xq"});
  b.init_int("w", TensorProto::INT8, {2, 2, 1, 1}, {1, -2, 3, 4});
  b.scalar_i8("wz", 0);
  b.node("ConvInteger", {"xq", "w", "xz", "wz"}, {"acc"}, "convint");
  auto* c = b.node("Cast", {"acc"}, {"accf"});
  ModelBuilder::int_attr(c, "to", TensorProto::FLOAT);
  b.scalar_f("sc", 0.1f * 0.25f);
  b.node("Mul", {"accf", "sc"}, {"scaled"});
  b.init_f("bias", {1, 2, 1, 1}, {0.5f, -0.25f});
  b.node("Add", {"scaled", "bias"}, {"yf"});
  b.scalar_f("ys", 0.2f);
  b.scalar_u8("yz", 128);
  b.node("QuantizeLinear", {"yf", "ys", "yz"}, {"yq"});
  b.node("DequantizeLinear", {"yq", "ys", "yz"}, {"y"});
  b.output("y");
  Graph g;
  Status s = b.import(&g);
  ASSERT_TRUE(s.ok()) << s.message();
  expect_valid(g);
  const Node* conv = find_op(g, OpType::kConv2D);
  ASSERT_NE(conv, nullptr);
  EXPECT_EQ(tensor(g, conv->outputs[0]).dtype, DType::kU8);
  const Tensor& w = tensor(g, conv->inputs[1]);
  ASSERT_EQ(w.quant.scale.size(), 1u);
  EXPECT_FLOAT_EQ(w.quant.scale[0], 0.25f);
  const Tensor& bias = tensor(g, conv->inputs[2]);
  EXPECT_EQ(bias.as<int32_t>()[0], 20);  // 0.5 / (0.1 * 0.25)
  EXPECT_EQ(bias.as<int32_t>()[1], -10);
  EXPECT_EQ(count_ops(g, OpType::kAdd), 0);
}

TEST(ImporterTest, NamesAreUnique) {
  ModelBuilder b;
  build_qdq_conv(&b, true, true);
  // A second, unnamed consumer path and an output name that collides with nothing.
  b.node("Relu", {"xd"}, {"r2"}, "");
  b.output("r2");
  Graph g;
  Status s = b.import(&g);
  ASSERT_TRUE(s.ok()) << s.message();
  std::set<std::string> tn, nn;
  for (const Tensor& t : g.tensors) EXPECT_TRUE(tn.insert(t.name).second) << t.name;
  for (const Node& n : g.nodes) EXPECT_TRUE(nn.insert(n.name).second) << n.name;
  EXPECT_EQ(g.producer.find("edgeq"), 0u);
}

// ------------------------------------------------------------------ errors

TEST(ImporterTest, UnknownOpNamesNodeAndType) {
  ModelBuilder b;
  b.input("x", {1, 4});
  b.node("Relu", {"x"}, {"r"});
  b.node("Col2Im", {"r"}, {"y"}, "my_col2im");
  b.output("y");
  Graph g;
  Status s = b.import(&g);
  EXPECT_EQ(s.code(), StatusCode::kUnsupported);
  EXPECT_NE(s.message().find("my_col2im"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("Col2Im"), std::string::npos) << s.message();
}

TEST(ImporterTest, MissingInitializer) {
  ModelBuilder b;
  b.input("x", {1, 2, 4, 4});
  b.node("Conv", {"x", "weights_not_there"}, {"y"}, "conv0");
  b.output("y");
  Graph g;
  Status s = b.import(&g);
  EXPECT_EQ(s.code(), StatusCode::kInvalidModel);
  EXPECT_NE(s.message().find("weights_not_there"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("conv0"), std::string::npos) << s.message();
}

// A node without outputs (here a Mul reading DynamicQuantizeLinear's scale, which
// the dynamic pattern matcher follows) is an error, never a read past the outputs.
TEST(ImporterTest, NodeWithoutOutputsIsRefused) {
  ModelBuilder b;
  b.input("x", {1, 4});
  b.node("DynamicQuantizeLinear", {"x"}, {"xq", "xs", "xz"}, "dql");
  onnx::NodeProto* mul = b.node("Mul", {"xs", "xs"}, {"unused"}, "no_outputs");
  mul->clear_output();
  b.node("Identity", {"x"}, {"y"});
  b.output("y");
  Graph g;
  Status s = b.import(&g);
  EXPECT_EQ(s.code(), StatusCode::kInvalidModel);
  EXPECT_NE(s.message().find("'no_outputs' (Mul) has no (first) output"), std::string::npos) << s.message();
}

// An input no output depends on stays a graph input, in its place, so that inputs given
// in the model's order keep their meaning (it was dropped, and a caller's second input
// went to the first); its symbolic dimensions take 1. An input listed twice is an error.
TEST(ImporterTest, UnusedInputsKeepTheirPlace) {
  ModelBuilder b;
  b.input("u", {2, -1});
  b.input("x", {2, 4});
  b.input("ids", {3}, TensorProto::INT64);
  b.node("Relu", {"x"}, {"y"});
  b.output("y");
  Graph g;
  ASSERT_TRUE(b.import(&g).ok());
  ASSERT_EQ(g.inputs.size(), 3u);
  EXPECT_EQ(g.tensors[g.inputs[0]].name, "u");
  EXPECT_EQ(g.tensors[g.inputs[0]].shape, (std::vector<int32_t>{2, 1}));
  EXPECT_EQ(g.tensors[g.inputs[1]].name, "x");
  EXPECT_EQ(g.tensors[g.inputs[2]].dtype, DType::kS64);
  ASSERT_TRUE(validate_graph(g).ok());

  ModelBuilder twice;
  twice.input("x", {2, 4});
  twice.input("x", {2, 4});
  twice.node("Relu", {"x"}, {"y"});
  twice.output("y");
  const Status s = twice.import(&g);
  EXPECT_EQ(s.code(), StatusCode::kInvalidModel);
  EXPECT_NE(s.message().find("'x' is listed twice"), std::string::npos) << s.message();
}

// Einsums with no MatMul form are refused naming the node and the reason.
TEST(ImporterTest, EinsumWithoutAMatMulFormIsRefused) {
  struct Case {
    const char* equation;
    int inputs;
    const char* message;
  };
  for (const Case& c : {Case{"ii->i", 1, "repeats in one operand"}, Case{"ij,jk,kl->il", 3, "more than two operands"},
                        Case{"ij,kl->il", 2, "summed within one operand"}}) {
    ModelBuilder b(13);
    std::vector<std::string> ins;
    for (int i = 0; i < c.inputs; ++i) {
      ins.push_back("x" + std::to_string(i));
      b.input(ins.back(), {3, 3});
    }
    ModelBuilder::string_attr(b.node("Einsum", ins, {"y"}, "ein"), "equation", c.equation);
    b.output("y");
    Graph g;
    const Status s = b.import(&g);
    EXPECT_EQ(s.code(), StatusCode::kUnsupported) << c.equation << ": " << s.message();
    EXPECT_NE(s.message().find("'ein' (Einsum)"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(c.message), std::string::npos) << s.message();
  }
}

// A reflect pad as wide as the dimension has nothing to mirror: an error naming the node.
TEST(ImporterTest, ReflectPadWiderThanItsDimensionIsRefused) {
  ModelBuilder b;
  b.input("x", {1, 2, 3, 3});
  b.init_i64("pads", {8}, {0, 0, 3, 0, 0, 0, 0, 0});
  ModelBuilder::string_attr(b.node("Pad", {"x", "pads"}, {"y"}, "reflect_pad"), "mode", "reflect");
  b.output("y");
  Graph g;
  Status s = b.import(&g);
  EXPECT_EQ(s.code(), StatusCode::kInvalidModel);
  EXPECT_NE(s.message().find("'reflect_pad' (Pad)"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("below the dimension"), std::string::npos) << s.message();
}

TEST(ImporterTest, OutOfRangeAttributes) {
  struct Case {
    const char* what;
    std::function<void(ModelBuilder*)> build;
    const char* needle;
  };
  const std::vector<Case> cases = {
      {"zero stride",
       [](ModelBuilder* b) {
         b->init_f("w", {2, 2, 1, 1}, {1, 2, 3, 4});
         auto* c = b->node("Conv", {"x", "w"}, {"y"}, "bad");
         ModelBuilder::ints(c, "strides", {0, 1});
       },
       "stride"},
      {"group does not divide",
       [](ModelBuilder* b) {
         b->init_f("w", {2, 2, 1, 1}, {1, 2, 3, 4});
         auto* c = b->node("Conv", {"x", "w"}, {"y"}, "bad");
         ModelBuilder::int_attr(c, "group", 3);
       },
       "group"},
      {"concat axis",
       [](ModelBuilder* b) {
         auto* c = b->node("Concat", {"x", "x"}, {"y"}, "bad");
         ModelBuilder::int_attr(c, "axis", 7);
       },
       "axis"},
      {"softmax axis",
       [](ModelBuilder* b) {
         auto* c = b->node("Softmax", {"x"}, {"y"}, "bad");
         ModelBuilder::int_attr(c, "axis", -5);
       },
       "axis"},
      {"transpose perm",
       [](ModelBuilder* b) {
         auto* c = b->node("Transpose", {"x"}, {"y"}, "bad");
         ModelBuilder::ints(c, "perm", {0, 1, 1, 2});
       },
       "perm"},
      {"gather index",
       [](ModelBuilder* b) {
         b->node("Shape", {"x"}, {"s"});
         b->init_i64("i", {1}, {9});
         b->node("Gather", {"s", "i"}, {"gi"}, "bad");
         b->node("Reshape", {"x", "gi"}, {"y"});
       },
       "index"},
      {"huge ConstantOfShape",
       [](ModelBuilder* b) {
         b->init_i64("dims", {3}, {1 << 20, 1 << 20, 1 << 20});
         b->node("ConstantOfShape", {"dims"}, {"big"}, "bad");
         b->node("Add", {"x", "big"}, {"y"});
       },
       "large"},
      {"split sizes",
       [](ModelBuilder* b) {
         b->init_i64("sz", {2}, {1, 5});
         auto* c = b->node("Split", {"x", "sz"}, {"y", "z"}, "bad");
         ModelBuilder::int_attr(c, "axis", 1);
       },
       "split"},
      {"reshape size",
       [](ModelBuilder* b) {
         b->init_i64("shape", {2}, {3, 5});
         b->node("Reshape", {"x", "shape"}, {"y"}, "bad");
       },
       "reshape"},
  };
  for (const Case& c : cases) {
    ModelBuilder b;
    b.input("x", {1, 2, 2, 2});
    c.build(&b);
    b.output("y");
    Graph g;
    Status s = b.import(&g);
    EXPECT_FALSE(s.ok()) << c.what;
    EXPECT_NE(s.message().find("'bad'"), std::string::npos) << c.what << ": " << s.message();
    EXPECT_NE(s.message().find(c.needle), std::string::npos) << c.what << ": " << s.message();
  }
}

TEST(ImporterTest, InitializerSizeMismatch) {
  ModelBuilder b;
  b.input("x", {1, 2});
  auto* t = b.proto().mutable_graph()->add_initializer();
  ModelBuilder::fill(t, "w", {2, 3}, TensorProto::FLOAT);
  t->set_raw_data(std::string(20, '\0'));  // 5 floats for 6
  b.node("MatMul", {"x", "w"}, {"y"});
  b.output("y");
  Graph g;
  Status s = b.import(&g);
  EXPECT_EQ(s.code(), StatusCode::kInvalidModel);
  EXPECT_NE(s.message().find("'w'"), std::string::npos) << s.message();
}

TEST(ImporterTest, GarbageAndTruncatedBytes) {
  Graph g;
  const char garbage[] = "\xff\xff\xff\xff this is not a protobuf \x01\x02";
  EXPECT_FALSE(import_onnx_bytes(garbage, sizeof(garbage), ImportOptions(), &g).ok());
  EXPECT_FALSE(import_onnx_bytes(nullptr, 0, ImportOptions(), &g).ok());
  EXPECT_EQ(import_onnx_file("/nonexistent/model.onnx", ImportOptions(), &g).code(),
            StatusCode::kIoError);

  ModelBuilder b;
  build_qdq_conv(&b, false, false);
  const std::string bytes = b.bytes();
  ASSERT_TRUE(import_onnx_bytes(bytes.data(), bytes.size(), ImportOptions(), &g).ok());
  int failures = 0;
  for (size_t len = 0; len < bytes.size(); len += 7) {
    Graph t;
    Status s = import_onnx_bytes(bytes.data(), len, ImportOptions(), &t);
    failures += !s.ok();
  }
  EXPECT_GT(failures, 0);
}

// Random byte mutations of a valid model: every import returns (ok or an error) and
// whatever it returns as ok validates.
TEST(ImporterTest, MutatedModelsNeverCrash) {
  ModelBuilder b;
  build_qdq_conv(&b, false, false);
  const std::string bytes = b.bytes();
  std::mt19937 rng(1234);
  int ok = 0;
  for (int iter = 0; iter < 400; ++iter) {
    std::string m = bytes;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) m[rng() % m.size()] = static_cast<char>(rng() & 0xff);
    Graph g;
    Status s = import_onnx_bytes(m.data(), m.size(), ImportOptions(), &g);
    if (s.ok()) {
      ++ok;
      EXPECT_TRUE(validate_graph(g).ok());
    } else {
      EXPECT_FALSE(s.message().empty());
    }
  }
  EXPECT_LT(ok, 400);
}

TEST(ImporterTest, UnsupportedOpsetAndDomain) {
  ModelBuilder old(6);
  old.input("x", {1});
  old.node("Relu", {"x"}, {"y"});
  old.output("y");
  Graph g;
  EXPECT_EQ(old.import(&g).code(), StatusCode::kUnsupported);

  ModelBuilder b;
  b.input("x", {1});
  b.node("Relu", {"x"}, {"y"}, "custom")->set_domain("com.example");
  b.output("y");
  Status s = b.import(&g);
  EXPECT_EQ(s.code(), StatusCode::kUnsupported);
  EXPECT_NE(s.message().find("com.example"), std::string::npos);
}

// ONNX Runtime's com.microsoft quantized ops with inputs missing give a clear error
// naming the node and op (never a crash); a com.microsoft op edgeq does not rewrite is
// reported as an unsupported domain, as any other.
TEST(ImporterTest, ContribQLinearOpsMissingInputs) {
  struct Case {
    const char* op;
    std::vector<std::string> inputs;
  };
  const Case cases[] = {{"QLinearAdd", {"x", "s", "z"}},
                        {"QLinearMul", {"x", "s", "z", "", "s", "z", "s", "z"}},
                        {"QLinearSigmoid", {"x", "s"}},
                        {"QLinearAveragePool", {"x", "", "z", "s", "z"}},
                        {"QLinearConcat", {"s", "z", "x", "s"}},
                        {"QGemm", {"x", "s", "z", "", "s", "z"}},
                        {"QLinearSoftmax", {"x", "s"}}};
  for (const Case& c : cases) {
    ModelBuilder b;
    b.input("x", {1, 4}, onnx::TensorProto::UINT8);
    b.scalar_f("s", 0.1f);
    b.scalar_u8("z", 128);
    b.node(c.op, c.inputs, {"y"}, "q")->set_domain("com.microsoft");
    b.output("y");
    Graph g;
    const Status s = b.import(&g);
    EXPECT_EQ(s.code(), StatusCode::kInvalidModel) << c.op << ": " << s.message();
    EXPECT_NE(s.message().find(c.op), std::string::npos) << s.message();
  }
  ModelBuilder b;
  b.input("x", {1, 4});
  b.node("GroupQueryAttention", {"x"}, {"y"}, "att")->set_domain("com.microsoft");
  b.output("y");
  Graph g;
  const Status s = b.import(&g);
  EXPECT_EQ(s.code(), StatusCode::kUnsupported);
  EXPECT_NE(s.message().find("com.microsoft"), std::string::npos) << s.message();
}

// The transformer contrib ops (contrib_ops.cc) with inputs missing, or outputs edgeq
// does not give, are errors naming the node and op.
TEST(ImporterTest, ContribTransformerOpsBadUses) {
  struct Case {
    const char* op;
    std::vector<std::string> inputs, outputs;
    StatusCode code;
    const char* says;
  };
  const Case cases[] = {
      {"SkipLayerNormalization", {"x", "x"}, {"y"}, StatusCode::kInvalidModel, "missing input 2"},
      {"SkipLayerNormalization", {"x", "x", "g"}, {"y", "mean"}, StatusCode::kUnsupported, "mean"},
      {"BiasGelu", {"x"}, {"y"}, StatusCode::kInvalidModel, "missing input 1"},
      {"MatMulIntegerToFloat", {"x", "x", "g"}, {"y"}, StatusCode::kInvalidModel, "missing input 3"},
      {"FusedMatMul", {"x", "x"}, {"y"}, StatusCode::kUnsupported, "transBatch"},
      {"Attention", {"x"}, {"y"}, StatusCode::kInvalidModel, "weights"},
      {"Attention", {"x", "g"}, {"y", "present"}, StatusCode::kUnsupported, "present"},
      {"Attention", {"x", "x"}, {"y"}, StatusCode::kUnsupported, "initializer"},
      {"Attention", {"q", "w", "", "ends"}, {"y"}, StatusCode::kUnsupported, "key_padding_mask"},
      {"QAttention", {"x", "w", "g", "s"}, {"y"}, StatusCode::kInvalidModel, "weight_scale"},
      {"QAttention", {"x", "w", "g", "s", "s", "", "", "", "g"}, {"y"}, StatusCode::kUnsupported, "past"},
      {"EmbedLayerNormalization", {"ids", "ids", "g", "g", "", "g", "g"}, {"y"}, StatusCode::kInvalidModel,
       "together"},
      {"SkipSimplifiedLayerNormalization", {"x", "x"}, {"y"}, StatusCode::kInvalidModel, "missing input 2"},
      {"SkipSimplifiedLayerNormalization", {"x", "x", "g"}, {"y", "mean"}, StatusCode::kUnsupported, "mean"},
      {"SimplifiedLayerNormalization", {"x", "g"}, {"y", "inv_std"}, StatusCode::kUnsupported, "inverse"},
      {"SimplifiedLayerNormalization", {"x"}, {"y"}, StatusCode::kInvalidModel, "scale"},
      {"QEmbedLayerNormalization", {"ids", "", "g", "g", "", "g", "g", "", "", "s", "", "s", "s"}, {"y"},
       StatusCode::kInvalidModel, "no scale"},
      {"MultiHeadAttention", {"q"}, {"y"}, StatusCode::kUnsupported, "packed"},
      {"MultiHeadAttention", {"q", "q", "q", "", "", "", "q"}, {"y"}, StatusCode::kUnsupported, "past"},
      {"MultiHeadAttention", {"q", "q", "q"}, {"y", "present"}, StatusCode::kUnsupported, "present"},
      {"MultiHeadAttention", {"q", "q", "q", "", "ends"}, {"y"}, StatusCode::kUnsupported, "key_padding_mask"},
      {"MultiHeadAttention", {"q", "q", "q", "g"}, {"y"}, StatusCode::kInvalidModel, "bias"},
      {"MultiHeadAttention", {"q", "x", "x"}, {"y"}, StatusCode::kUnsupported, "key and value"},
  };
  for (const Case& c : cases) {
    ModelBuilder b;
    b.input("x", {2, 4});
    b.input("ids", {2, 4}, onnx::TensorProto::INT32);
    b.init_f("g", {4}, {1.f, 1.f, 1.f, 1.f});
    b.init_f("w", {4, 12}, std::vector<float>(48, 0.1f));
    b.scalar_f("s", 0.1f);
    b.input("q", {2, 3, 4});
    b.input("ends", {6}, onnx::TensorProto::INT32);  // ONNX Runtime's [3B + 2] mask form: refused
    onnx::NodeProto* n = b.node(c.op, c.inputs, c.outputs, "contrib");
    n->set_domain("com.microsoft");
    const std::string op = c.op;
    const bool attention = op == "Attention" || op == "QAttention" || op == "MultiHeadAttention";
    if (op == "FusedMatMul" || attention) {
      auto* a = n->add_attribute();
      a->set_name(attention ? "num_heads" : "transBatchA");
      a->set_type(onnx::AttributeProto::INT);
      a->set_i(attention ? 2 : 1);
    }
    b.output("y");
    Graph g;
    const Status s = b.import(&g);
    EXPECT_EQ(s.code(), c.code) << c.op << ": " << s.message();
    EXPECT_NE(s.message().find(c.op), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(c.says), std::string::npos) << s.message();
  }
}

// A unidirectional MultiHeadAttention whose keys are fewer than its queries (cross
// attention) imports: the causal mask's rows before the first key hold only the filter
// (and no index leaves the mask, which the sanitizer builds check).
TEST(ImporterTest, CausalAttentionOverFewerKeys) {
  ModelBuilder b;
  b.input("q", {1, 4, 4});
  b.input("kv", {1, 2, 4});
  onnx::NodeProto* n = b.node("MultiHeadAttention", {"q", "kv", "kv"}, {"y"}, "mha");
  n->set_domain("com.microsoft");
  for (const char* name : {"num_heads", "unidirectional"}) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(std::string(name) == "num_heads" ? 2 : 1);
  }
  b.output("y");
  Graph g;
  const Status s = b.import(&g);
  ASSERT_TRUE(s.ok()) << s.message();
}

// ------------------------------------------------------------------ committed models

#ifdef EDGEQ_SOURCE_DIR
// A BatchNormalization that is a ConvTranspose's only reader folds into its weights and
// bias (grouped too); one after a ConvTranspose read elsewhere stays a Mul and an Add
// (the outputs are checked against ONNX Runtime by the committed-model tests).
TEST(ImporterTest, BatchNormFoldsIntoConvTranspose) {
  const std::string dir = std::string(EDGEQ_SOURCE_DIR) + "/test/data/ops/";
  Graph g;
  ASSERT_TRUE(import_onnx_file(dir + "conv_transpose_bn.onnx", ImportOptions(), &g).ok());
  int muls = 0, adds = 0;
  for (const Node& n : g.nodes) {
    muls += n.op == OpType::kMul;
    adds += n.op == OpType::kAdd;
  }
  EXPECT_EQ(muls, 1);
  EXPECT_EQ(adds, 1);
}

// A zero Pad read only by a Conv or an AveragePool becomes their padding (ir_passes.cc,
// fold_pad): no Pad node is left, and the padding adds up (the outputs are checked
// against ONNX Runtime by the committed-model tests).
TEST(ImporterTest, ZeroPadFoldsIntoConvAndAveragePool) {
  const std::string dir = std::string(EDGEQ_SOURCE_DIR) + "/test/data/ops/";
  Graph g;
  ASSERT_TRUE(import_onnx_file(dir + "pad_conv.onnx", ImportOptions(), &g).ok());
  int convs = 0;
  for (const Node& n : g.nodes) {
    EXPECT_NE(n.op, OpType::kPad) << n.name;
    if (n.op != OpType::kConv2D) continue;
    ++convs;  // ONNX pads [1, 2] begin / [2, 1] end on H / W, plus the Conv's [1, 0] / [0, 1]
    EXPECT_EQ(n.attrs.pad_top, 2);
    EXPECT_EQ(n.attrs.pad_left, 2);
    EXPECT_EQ(n.attrs.pad_bottom, 2);
    EXPECT_EQ(n.attrs.pad_right, 2);
  }
  EXPECT_EQ(convs, 1);
  ASSERT_TRUE(import_onnx_file(dir + "pad_avgpool.onnx", ImportOptions(), &g).ok());
  int pools = 0;
  for (const Node& n : g.nodes) {
    EXPECT_NE(n.op, OpType::kPad) << n.name;
    if (n.op != OpType::kAvgPool2D) continue;
    ++pools;
    EXPECT_TRUE(n.attrs.count_include_pad);
    EXPECT_EQ(n.attrs.pad_top + n.attrs.pad_bottom + n.attrs.pad_left + n.attrs.pad_right, 4);
  }
  EXPECT_EQ(pools, 1);
}

TEST(ImporterTest, CommittedModelsImport) {
  const std::string dir = std::string(EDGEQ_SOURCE_DIR) + "/test/data/";
  const std::vector<std::string> files = {"small_f32.onnx",
                                          "small_qdq.onnx",
                                          "small_qdq_perchannel.onnx",
                                          "qop/qlinearconv_u8_perchannel.onnx",
                                          "qop/convinteger_u8s8.onnx",
                                          "qop/matmulinteger_u8s8.onnx",
                                          "ops/conv_bn.onnx",
                                          "ops/resize_nearest_x2.onnx"};
  for (const std::string& f : files) {
    std::ifstream probe(dir + f);
    if (!probe) continue;  // the data set is regenerated separately
    Graph g;
    Status s = import_onnx_file(dir + f, ImportOptions(), &g);
    ASSERT_TRUE(s.ok()) << f << ": " << s.message();
    expect_valid(g);
    for (const Node& n : g.nodes) {
      if (f.find("qdq") == std::string::npos && f.find("qop/") == std::string::npos) continue;
      if (n.op == OpType::kConv2D || n.op == OpType::kFullyConnected) {
        EXPECT_TRUE(is_quantized_type(g.tensors[n.outputs[0]].dtype)) << f << " " << n.name;
      }
    }
  }
}
#endif

}  // namespace
}  // namespace edgeq
