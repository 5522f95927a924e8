// Tests of the importer on the patterns of transformer encoders (BERT, ViT,
// nn.TransformerEncoder as PyTorch exports them): attention MatMuls of two activations in
// ONNX order with no layout transposes beyond the model's own, GELU and LayerNorm
// subgraphs fused to one op, embeddings (int64 ids -> Gather), attention masks (int64 ->
// Cast), shape chains folded, static QDQ attention, ONNX Runtime's dynamic quantization,
// named input shapes, and the errors for what stays unsupported.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "graph/onnx/importer.h"
#include "runtime/session.h"
#include "test/model_helpers.h"
#include "test/onnx_model_builder.h"

namespace edgeq {
namespace {

using namespace test_onnx;  // NOLINT: the builder and graph queries
using test_models::every_level;
using test_models::load_in_memory;
using test_models::session_at;

void scalar_const(ModelBuilder* b, const std::string& out, float v) {
  auto* n = b->node("Constant", {}, {out});
  ModelBuilder::float_attr(n, "value_float", v);
}

// One attention head split as PyTorch writes it: [B,S,D] -> MatMul(W) -> Reshape
// [B,S,H,d] -> Transpose -> [B,H,S,d] (perm) .
std::string head_split(ModelBuilder* b, const std::string& x, const std::string& tag,
                       const std::vector<int64_t>& perm) {
  b->init_f("w_" + tag, {8, 8}, iota_f(64, 0.01f, -0.3f));
  b->node("MatMul", {x, "w_" + tag}, {tag + "_lin"});
  b->init_i64("shape4_" + tag, {4}, {1, 4, 2, 4});
  b->node("Reshape", {tag + "_lin", "shape4_" + tag}, {tag + "_heads"});
  auto* t = b->node("Transpose", {tag + "_heads"}, {tag + "_t"});
  ModelBuilder::ints(t, "perm", perm);
  return tag + "_t";
}

// Self-attention on x [1,4,8] with 2 heads of 4, an additive mask `mask_add` [1,1,1,4]
// (empty: none), and the output projection.
void build_attention(ModelBuilder* b, const std::string& mask_add) {
  const std::string q = head_split(b, "x", "q", {0, 2, 1, 3});
  const std::string k = head_split(b, "x", "k", {0, 2, 3, 1});
  const std::string v = head_split(b, "x", "v", {0, 2, 1, 3});
  b->node("MatMul", {q, k}, {"scores"});
  scalar_const(b, "sqrt_d", 2.f);
  b->node("Div", {"scores", "sqrt_d"}, {"scaled"});
  std::string logits = "scaled";
  if (!mask_add.empty()) {
    b->node("Add", {"scaled", mask_add}, {"masked"});
    logits = "masked";
  }
  auto* sm = b->node("Softmax", {logits}, {"probs"});
  ModelBuilder::int_attr(sm, "axis", -1);
  b->node("MatMul", {"probs", v}, {"ctx"});
  auto* t = b->node("Transpose", {"ctx"}, {"ctx_t"});
  ModelBuilder::ints(t, "perm", {0, 2, 1, 3});
  b->init_i64("shape3", {3}, {1, 4, 8});
  b->node("Reshape", {"ctx_t", "shape3"}, {"ctx3"});
  b->init_f("w_o", {8, 8}, iota_f(64, -0.01f, 0.2f));
  b->node("MatMul", {"ctx3", "w_o"}, {"y"});
  b->output("y");
}

// The attention's [B,H,S,d] tensors are not images: the import keeps them in ONNX order,
// so the only transposes are the model's four (and no NHWC conversions).
TEST(TransformerImportTest, AttentionKeepsOnnxOrderWithoutExtraTransposes) {
  ModelBuilder b;
  b.input("x", {1, 4, 8});
  build_attention(&b, "");
  Graph g;
  Status s = b.import(&g);
  ASSERT_TRUE(s.ok()) << s.message();
  expect_valid(g);
  EXPECT_EQ(count_ops(g, OpType::kMatMul), 2);
  EXPECT_EQ(count_ops(g, OpType::kFullyConnected), 4);
  EXPECT_EQ(count_ops(g, OpType::kTranspose), 4);
  const Node* sm = find_op(g, OpType::kSoftmax);
  ASSERT_NE(sm, nullptr);
  EXPECT_EQ(sm->attrs.axis, 3);
  EXPECT_EQ(tensor(g, sm->inputs[0]).shape, (std::vector<int32_t>{1, 2, 4, 4}));
  for (const Node& n : g.nodes) {
    if (n.op != OpType::kTranspose) continue;
    // Each is one of the model's: [0,2,1,3] or [0,2,3,1] on ONNX-order tensors.
    EXPECT_TRUE(n.attrs.perm == std::vector<int32_t>({0, 2, 1, 3}) ||
                n.attrs.perm == std::vector<int32_t>({0, 2, 3, 1}))
        << n.name;
  }
  const Node* mm = find_op(g, OpType::kMatMul);
  EXPECT_EQ(mm->attrs.dynamic, 0);
  EXPECT_EQ(tensor(g, mm->outputs[0]).shape, (std::vector<int32_t>{1, 2, 4, 4}));
}

// BERT: int64 ids [1, seq] -> Gather on the embedding tables, the segment ids constant,
// the int64 mask [1, seq] -> Unsqueeze x2 -> Cast -> (1 - m) * -10000 added to the scores.
TEST(TransformerImportTest, BertEmbeddingsAndMask) {
  ModelBuilder b;
  b.input("ids", {1, 4}, TensorProto::INT64);
  b.input("mask", {1, 4}, TensorProto::INT64);
  b.init_f("word_emb", {10, 8}, iota_f(80, 0.01f));
  b.init_f("pos_emb", {6, 8}, iota_f(48, -0.01f));
  b.init_i64("pos_ids", {1, 4}, {0, 1, 2, 3});
  b.node("Gather", {"word_emb", "ids"}, {"we"});
  b.node("Gather", {"pos_emb", "pos_ids"}, {"pe"});  // constant: folded
  b.node("Add", {"we", "pe"}, {"x"});
  b.init_i64("ax1", {1}, {1});
  b.init_i64("ax2", {1}, {2});
  b.node("Unsqueeze", {"mask", "ax1"}, {"m1"});
  b.node("Unsqueeze", {"m1", "ax2"}, {"m2"});
  auto* c = b.node("Cast", {"m2"}, {"mf"});
  ModelBuilder::int_attr(c, "to", TensorProto::FLOAT);
  scalar_const(&b, "one", 1.f);
  b.node("Sub", {"one", "mf"}, {"inv"});
  scalar_const(&b, "neg", -10000.f);
  b.node("Mul", {"inv", "neg"}, {"mask_add"});
  build_attention(&b, "mask_add");
  Graph g;
  Status s = b.import(&g);
  ASSERT_TRUE(s.ok()) << s.message();
  expect_valid(g);
  ASSERT_EQ(count_ops(g, OpType::kGather), 1);
  const Node* ga = find_op(g, OpType::kGather);
  EXPECT_EQ(tensor(g, ga->inputs[1]).dtype, DType::kS64);
  EXPECT_TRUE(tensor(g, ga->inputs[0]).is_constant());
  EXPECT_EQ(tensor(g, ga->outputs[0]).shape, (std::vector<int32_t>{1, 4, 8}));
  ASSERT_EQ(count_ops(g, OpType::kCast), 1);
  const Node* cast = find_op(g, OpType::kCast);
  EXPECT_EQ(tensor(g, cast->inputs[0]).dtype, DType::kS64);
  EXPECT_EQ(tensor(g, cast->outputs[0]).dtype, DType::kF32);
  EXPECT_EQ(tensor(g, cast->outputs[0]).shape, (std::vector<int32_t>{1, 1, 1, 4}));
  EXPECT_EQ(count_ops(g, OpType::kTranspose), 4);
  EXPECT_EQ(g.inputs.size(), 2u);
  EXPECT_EQ(tensor(g, g.inputs[0]).dtype, DType::kS64);
}

// Symbolic sequence lengths take their value from ImportOptions::input_shapes; without
// one the error names the input and the dimension.
TEST(TransformerImportTest, NamedInputShapes) {
  ModelBuilder b;
  b.input("ids", {1, 4}, TensorProto::INT64);
  auto* dim = b.proto().mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()
                  ->mutable_shape()->mutable_dim(1);
  dim->set_dim_param("seq");
  b.init_f("emb", {10, 8}, iota_f(80, 0.01f));
  b.node("Gather", {"emb", "ids"}, {"y"});
  b.output("y");
  Graph g;
  Status s = b.import(&g);
  EXPECT_EQ(s.code(), StatusCode::kUnsupported);
  EXPECT_NE(s.message().find("graph input 'ids': dimension 1 ('seq')"), std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("--shape"), std::string::npos) << s.message();

  ImportOptions opts;
  ASSERT_TRUE(parse_input_shapes("ids=1x16", &opts.input_shapes).ok());
  s = b.import(&g, opts);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(tensor(g, g.inputs[0]).shape, (std::vector<int32_t>{1, 16}));
  EXPECT_EQ(tensor(g, g.outputs[0]).shape, (std::vector<int32_t>{1, 16, 8}));

  // A fixed dimension must agree with the shape given.
  opts.input_shapes["ids"] = {2, 16};
  s = b.import(&g, opts);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("dimension 0 is 1 in the model"), std::string::npos) << s.message();

  opts.input_shapes["ids"] = {1, 16, 1};
  s = b.import(&g, opts);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("rank"), std::string::npos) << s.message();

  std::map<std::string, std::vector<int64_t>> shapes;
  EXPECT_FALSE(parse_input_shapes("ids=2xq", &shapes).ok());
  EXPECT_FALSE(parse_input_shapes("ids", &shapes).ok());
  EXPECT_FALSE(parse_input_shapes("ids=0x4", &shapes).ok());
  ASSERT_TRUE(parse_input_shapes("a=1x128,mask=1x128", &shapes).ok());
  EXPECT_EQ(shapes["mask"], (std::vector<int64_t>{1, 128}));
}

// Integer Div and Mod of run-time values (a heatmap's argmax split into row and column,
// PyTorch's floor division written as Div, Mod and a correction): Div truncates, Mod
// takes the divisor's sign with fmod 0 and the dividend's with fmod 1, x / 0 and x mod 0
// are 0; float Mod with fmod 1 is std::fmod.
TEST(TransformerImportTest, IntegerDivisionAndModRun) {
  ModelBuilder b;
  b.input("ids", {1, 6}, TensorProto::INT64);
  b.input("den", {1, 6}, TensorProto::INT64);
  b.input("x", {1, 6});
  b.init_i64("three", {}, {3});
  b.node("Div", {"ids", "den"}, {"q"}, "div_ids");
  auto* py = b.node("Mod", {"ids", "three"}, {"py"}, "mod_py");
  ModelBuilder::int_attr(py, "fmod", 0);
  auto* c = b.node("Mod", {"ids", "den"}, {"c"}, "mod_c");
  ModelBuilder::int_attr(c, "fmod", 1);
  b.init_f("f_den", {}, {0.75f});
  auto* fm = b.node("Mod", {"x", "f_den"}, {"fm"}, "mod_f");
  ModelBuilder::int_attr(fm, "fmod", 1);
  for (const char* out : {"q", "py", "c", "fm"}) b.output(out);
  Graph g;
  Status s = b.import(&g);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_NE(find_op(g, OpType::kDiv), nullptr);
  ASSERT_NE(find_op(g, OpType::kMod), nullptr);
  const std::shared_ptr<const Model> m = load_in_memory(g);
  ASSERT_NE(m, nullptr);
  const int64_t ids[6] = {7, -7, 7, -7, 5, INT64_MIN};
  const int64_t den[6] = {2, 2, -2, -2, 0, -1};
  const float x[6] = {2.f, -2.f, 0.5f, -0.5f, 1.5f, 7.f};
  for (kern::Isa isa : every_level()) {
    if (!kern::isa_supported(isa)) continue;
    SCOPED_TRACE(kern::isa_name(isa));
    std::unique_ptr<Session> sess = session_at(m, kern::isa_name(isa));
    ASSERT_NE(sess, nullptr);
    ASSERT_TRUE(sess->set_input_s64(0, ids, 6).ok());
    ASSERT_TRUE(sess->set_input_s64(1, den, 6).ok());
    ASSERT_TRUE(sess->set_input_f32(2, x, 6).ok());
    ASSERT_TRUE(sess->run().ok());
    std::vector<int64_t> q(6), py(6), c(6);
    std::vector<float> fm(6);
    ASSERT_TRUE(sess->get_output_s64(0, q.data(), 6).ok());
    ASSERT_TRUE(sess->get_output_s64(1, py.data(), 6).ok());
    ASSERT_TRUE(sess->get_output_s64(2, c.data(), 6).ok());
    ASSERT_TRUE(sess->get_output_f32(3, fm.data(), 6).ok());
    EXPECT_EQ(q, (std::vector<int64_t>{3, -3, -3, 3, 0, INT64_MIN}));
    EXPECT_EQ(py, (std::vector<int64_t>{1, 2, 1, 2, 2, 1}));  // INT64_MIN = -3074457345618258603 * 3 + 1
    EXPECT_EQ(c, (std::vector<int64_t>{1, -1, 1, -1, 0, 0}));
    EXPECT_EQ(fm, (std::vector<float>{0.5f, -0.5f, 0.5f, -0.5f, 0.f, 0.25f}));
  }
}

// x * 0.5 * (1 + erf(x / sqrt(2))) in the orders PyTorch and hand-written code use.
TEST(TransformerImportTest, GeluErfPatternsFuse) {
  for (int order = 0; order < 3; ++order) {
    SCOPED_TRACE(order);
    ModelBuilder b;
    b.input("x", {2, 3, 8});
    scalar_const(&b, "half", 0.5f);
    scalar_const(&b, "one", 1.f);
    if (order == 2) {
      scalar_const(&b, "rsqrt2", 0.70710678f);
      b.node("Mul", {"rsqrt2", "x"}, {"d"});
    } else {
      scalar_const(&b, "sqrt2", 1.4142135f);
      b.node("Div", {"x", "sqrt2"}, {"d"});
    }
    b.node("Erf", {"d"}, {"e"});
    b.node("Add", {"e", "one"}, {"a"});
    if (order == 0) {  // PyTorch: Mul(x, a) -> Mul(_, 0.5)
      b.node("Mul", {"x", "a"}, {"m"});
      b.node("Mul", {"m", "half"}, {"y"});
    } else {  // (x * 0.5) * a
      b.node("Mul", {"half", "x"}, {"m"});
      b.node("Mul", {"a", "m"}, {"y"});
    }
    b.init_f("w", {8, 4}, iota_f(32, 0.1f));
    b.node("MatMul", {"y", "w"}, {"out"});
    b.output("out");
    Graph g;
    Status s = b.import(&g);
    ASSERT_TRUE(s.ok()) << s.message();
    expect_valid(g);
    ASSERT_EQ(count_ops(g, OpType::kGelu), 1);
    EXPECT_EQ(find_op(g, OpType::kGelu)->attrs.alpha, 0.f);
    EXPECT_EQ(count_ops(g, OpType::kErf), 0);
    EXPECT_EQ(count_ops(g, OpType::kMul), 0);
    EXPECT_EQ(count_ops(g, OpType::kAdd), 0);
  }
}

// A wrong constant is not a GELU: the ops stay as they are.
TEST(TransformerImportTest, GeluLookalikeIsNotFused) {
  ModelBuilder b;
  b.input("x", {2, 8});
  scalar_const(&b, "half", 0.25f);
  scalar_const(&b, "one", 1.f);
  scalar_const(&b, "sqrt2", 1.4142135f);
  b.node("Div", {"x", "sqrt2"}, {"d"});
  b.node("Erf", {"d"}, {"e"});
  b.node("Add", {"e", "one"}, {"a"});
  b.node("Mul", {"x", "a"}, {"m"});
  b.node("Mul", {"m", "half"}, {"y"});
  b.output("y");
  Graph g;
  Status s = b.import(&g);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(count_ops(g, OpType::kGelu), 0);
  EXPECT_EQ(count_ops(g, OpType::kErf), 1);
}

// 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3))), x^3 as Pow and as x*x*x.
TEST(TransformerImportTest, GeluTanhPatternsFuse) {
  for (bool pow : {true, false}) {
    SCOPED_TRACE(pow);
    ModelBuilder b;
    b.input("x", {4, 8});
    scalar_const(&b, "half", 0.5f);
    scalar_const(&b, "one", 1.f);
    scalar_const(&b, "beta", 0.7978845608f);
    scalar_const(&b, "kappa", 0.044715f);
    if (pow) {
      scalar_const(&b, "three", 3.f);
      b.node("Pow", {"x", "three"}, {"cube"});
    } else {
      b.node("Mul", {"x", "x"}, {"sq"});
      b.node("Mul", {"x", "sq"}, {"cube"});
    }
    b.node("Mul", {"kappa", "cube"}, {"kc"});
    b.node("Add", {"x", "kc"}, {"inner"});
    b.node("Mul", {"beta", "inner"}, {"arg"});
    b.node("Tanh", {"arg"}, {"t"});
    b.node("Add", {"one", "t"}, {"a"});
    b.node("Mul", {"x", "a"}, {"m"});
    b.node("Mul", {"half", "m"}, {"y"});
    b.output("y");
    Graph g;
    Status s = b.import(&g);
    ASSERT_TRUE(s.ok()) << s.message();
    expect_valid(g);
    ASSERT_EQ(count_ops(g, OpType::kGelu), 1);
    EXPECT_EQ(find_op(g, OpType::kGelu)->attrs.alpha, 1.f);
    EXPECT_EQ(g.nodes.size(), 1u);
  }
}

// PyTorch's LayerNorm below opset 17, and LayerNormalization at 17: one IR LayerNorm.
TEST(TransformerImportTest, LayerNormDecomposedAndOp) {
  for (int opset : {13, 17}) {
    SCOPED_TRACE(opset);
    ModelBuilder b(opset);
    b.input("x", {1, 5, 8});
    b.init_f("gamma", {8}, iota_f(8, 0.1f, 1.f));
    b.init_f("beta", {8}, iota_f(8, -0.1f));
    if (opset == 17) {
      auto* n = b.node("LayerNormalization", {"x", "gamma", "beta"}, {"y"});
      ModelBuilder::float_attr(n, "epsilon", 1e-6f);
      ModelBuilder::int_attr(n, "axis", -1);
    } else {
      auto* m = b.node("ReduceMean", {"x"}, {"mean"});
      ModelBuilder::ints(m, "axes", {-1});
      b.node("Sub", {"x", "mean"}, {"d"});
      scalar_const(&b, "two", 2.f);
      b.node("Pow", {"d", "two"}, {"d2"});
      auto* v = b.node("ReduceMean", {"d2"}, {"var"});
      ModelBuilder::ints(v, "axes", {-1});
      scalar_const(&b, "eps", 1e-6f);
      b.node("Add", {"var", "eps"}, {"ve"});
      b.node("Sqrt", {"ve"}, {"std"});
      b.node("Div", {"d", "std"}, {"norm"});
      b.node("Mul", {"norm", "gamma"}, {"scaled"});
      b.node("Add", {"scaled", "beta"}, {"y"});
    }
    b.output("y");
    Graph g;
    Status s = b.import(&g);
    ASSERT_TRUE(s.ok()) << s.message();
    expect_valid(g);
    ASSERT_EQ(g.nodes.size(), 1u);
    const Node& ln = g.nodes[0];
    EXPECT_EQ(ln.op, OpType::kLayerNorm);
    EXPECT_FLOAT_EQ(ln.attrs.epsilon, 1e-6f);
    ASSERT_EQ(ln.inputs.size(), 3u);
    EXPECT_EQ(floats(tensor(g, ln.inputs[1])), iota_f(8, 0.1f, 1.f));
    EXPECT_EQ(floats(tensor(g, ln.inputs[2])), iota_f(8, -0.1f));
  }
}

// ViT: patch Conv (NHWC) -> Reshape [B,C,HW] -> Transpose [B,HW,C]; a class token
// expanded through a folded Shape/Equal/Where chain, concatenated, a position embedding
// added; the first token taken by Gather(axis 1, index 0).
TEST(TransformerImportTest, VitPatchEmbeddingClassTokenAndPooling) {
  ModelBuilder b;
  b.input("img", {1, 3, 8, 8});
  b.init_f("pw", {8, 3, 4, 4}, iota_f(8 * 3 * 16, 0.001f));
  b.init_f("pb", {8}, iota_f(8, 0.1f));
  auto* conv = b.node("Conv", {"img", "pw", "pb"}, {"patches"});
  ModelBuilder::ints(conv, "kernel_shape", {4, 4});
  ModelBuilder::ints(conv, "strides", {4, 4});
  b.init_i64("flat", {3}, {1, 8, 4});
  b.node("Reshape", {"patches", "flat"}, {"p3"});
  auto* t = b.node("Transpose", {"p3"}, {"tokens"});
  ModelBuilder::ints(t, "perm", {0, 2, 1});
  // expand(cls, [B, -1, -1]) as torch writes it: Where(Equal(shape, -1), 1, shape).
  b.init_f("cls", {1, 1, 8}, iota_f(8, 0.5f));
  b.node("Shape", {"tokens"}, {"tshape"});
  b.init_i64("i0", {}, {0});
  b.node("Gather", {"tshape", "i0"}, {"batch"});
  b.init_i64("a0", {1}, {0});
  b.node("Unsqueeze", {"batch", "a0"}, {"batch1"});
  b.init_i64("minus", {2}, {-1, -1});
  auto* cat = b.node("Concat", {"batch1", "minus"}, {"want"});
  ModelBuilder::int_attr(cat, "axis", 0);
  b.init_i64("neg1", {}, {-1});
  b.node("Equal", {"want", "neg1"}, {"is_neg"});
  b.init_i64("ones3", {3}, {1, 1, 1});
  b.node("Where", {"is_neg", "ones3", "want"}, {"eshape"});
  b.node("Expand", {"cls", "eshape"}, {"cls_b"});
  auto* cc = b.node("Concat", {"cls_b", "tokens"}, {"seq"});
  ModelBuilder::int_attr(cc, "axis", 1);
  b.init_f("pos", {1, 5, 8}, iota_f(40, 0.01f));
  b.node("Add", {"seq", "pos"}, {"emb"});
  auto* g0 = b.node("Gather", {"emb", "i0"}, {"first"});
  ModelBuilder::int_attr(g0, "axis", 1);
  b.output("first");
  Graph g;
  Status s = b.import(&g);
  ASSERT_TRUE(s.ok()) << s.message();
  expect_valid(g);
  // Only the input's to-NHWC transpose: the NHWC conv output flattened in NCHW order
  // and transposed to [1,4,8] is the NHWC data itself (one Reshape).
  EXPECT_EQ(count_ops(g, OpType::kTranspose), 1);
  EXPECT_EQ(count_ops(g, OpType::kConcat), 1);
  EXPECT_EQ(count_ops(g, OpType::kSlice), 1);
  EXPECT_EQ(tensor(g, g.outputs[0]).shape, (std::vector<int32_t>{1, 8}));
}

// ONNX Runtime's quantized embedding: Gather(uint8 table) -> DequantizeLinear.
TEST(TransformerImportTest, QuantizedEmbeddingTable) {
  ModelBuilder b;
  b.input("ids", {1, 3}, TensorProto::INT64);
  std::vector<int32_t> table(5 * 4);
  for (size_t k = 0; k < table.size(); ++k) table[k] = static_cast<int32_t>(k * 7 % 256);
  b.init_int("emb_q", TensorProto::UINT8, {5, 4}, table);
  b.scalar_f("emb_s", 0.02f);
  b.scalar_u8("emb_z", 120);
  b.node("Gather", {"emb_q", "ids"}, {"g"});
  b.node("DequantizeLinear", {"g", "emb_s", "emb_z"}, {"y"});
  b.output("y");
  Graph g;
  ASSERT_NO_FATAL_FAILURE(import_float_io(b, &g));
  const Node* ga = find_op(g, OpType::kGather);
  ASSERT_NE(ga, nullptr);
  const Tensor& t = tensor(g, ga->inputs[0]);
  EXPECT_EQ(t.dtype, DType::kU8);
  EXPECT_EQ(t.quant.zero_point, (std::vector<int32_t>{120}));
  EXPECT_EQ(t.data[3], 21);
  EXPECT_EQ(tensor(g, ga->outputs[0]).quant.scale, (std::vector<float>{0.02f}));
  EXPECT_EQ(count_ops(g, OpType::kDequantize), 1);
}

// A runtime mask [B,1,1,S] expanded to every head: Concat of copies, ONNX order.
TEST(TransformerImportTest, ExpandOfRuntimeTensor) {
  ModelBuilder b;
  b.input("m", {1, 4});
  b.init_i64("shape", {4}, {1, 3, 2, 4});
  b.node("Expand", {"m", "shape"}, {"y"});
  b.output("y");
  Graph g;
  Status s = b.import(&g);
  ASSERT_TRUE(s.ok()) << s.message();
  expect_valid(g);
  EXPECT_EQ(count_ops(g, OpType::kConcat), 2);
  EXPECT_EQ(count_ops(g, OpType::kTranspose), 0);
  EXPECT_EQ(tensor(g, g.outputs[0]).shape, (std::vector<int32_t>{1, 3, 2, 4}));
}

// Scalar math and ranges on constants fold: x + Sqrt(Pow(Cast(Range(0, 4, 1)), 2)) * Max(.5, 2)
// adds the constant [0, 2, 4, 6].
TEST(TransformerImportTest, ConstantMathFolds) {
  ModelBuilder b;
  b.input("x", {1, 4});
  b.init_i64("r0", {}, {0});
  b.init_i64("r1", {}, {4});
  b.init_i64("r2", {}, {1});
  b.node("Range", {"r0", "r1", "r2"}, {"r"});
  auto* c = b.node("Cast", {"r"}, {"rf"});
  ModelBuilder::int_attr(c, "to", TensorProto::FLOAT);
  scalar_const(&b, "two", 2.f);
  scalar_const(&b, "half", 0.5f);
  b.node("Pow", {"rf", "two"}, {"sq"});
  b.node("Sqrt", {"sq"}, {"rt"});
  b.node("Max", {"half", "two"}, {"mx"});
  b.node("Mul", {"rt", "mx"}, {"k"});
  b.node("Add", {"x", "k"}, {"y"});
  b.output("y");
  Graph g;
  Status s = b.import(&g);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(g.nodes.size(), 1u);
  ASSERT_EQ(g.nodes[0].op, OpType::kAdd);
  EXPECT_EQ(floats(tensor(g, g.nodes[0].inputs[1])), (std::vector<float>{0, 2, 4, 6}));
}

// Masks built at run time, as PyTorch exports them: an int64 attention mask compared
// with 0 (DistilBERT), merged with a bool padding mask input, inverted, and applied to
// float scores with Where; every level gives the masked values.
TEST(TransformerImportTest, RuntimeMasksFromIntAndBoolInputs) {
  ModelBuilder b;
  b.input("x", {2, 3});
  b.input("m", {2, 3}, TensorProto::INT64);
  b.input("pad", {1, 3}, TensorProto::BOOL);
  b.init_i64("zero", {}, {0});
  b.init_f("neg", {}, {-1000.f});
  b.node("Equal", {"m", "zero"}, {"unmasked"}, "eq_m");
  b.node("Or", {"unmasked", "pad"}, {"drop"});
  b.node("Not", {"drop"}, {"keep"});
  b.node("Where", {"keep", "x", "neg"}, {"y"});
  b.node("LessOrEqual", {"x", "neg"}, {"le"});
  ModelBuilder::int_attr(b.node("Cast", {"le"}, {"le_f"}), "to", TensorProto::FLOAT);
  b.output("y");
  b.output("le_f");
  Graph g;
  Status s = b.import(&g);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(tensor(g, g.inputs[2]).dtype, DType::kBool);
  const Node* eq = find_op(g, OpType::kEqual);
  ASSERT_NE(eq, nullptr);
  EXPECT_EQ(tensor(g, eq->inputs[0]).dtype, DType::kS64);
  EXPECT_EQ(tensor(g, eq->outputs[0]).dtype, DType::kBool);
  ASSERT_NE(find_op(g, OpType::kWhere), nullptr);
  const std::shared_ptr<const Model> m = load_in_memory(g);
  ASSERT_NE(m, nullptr);
  const float x[6] = {1, 2, 3, 4, 5, -1000};
  const int64_t mask[6] = {1, 1, 0, 1, 7, 1};
  const uint8_t pad[3] = {0, 1, 0};
  for (kern::Isa isa : every_level()) {
    if (!kern::isa_supported(isa)) continue;
    SCOPED_TRACE(kern::isa_name(isa));
    std::unique_ptr<Session> sess = session_at(m, kern::isa_name(isa));
    ASSERT_NE(sess, nullptr);
    ASSERT_TRUE(sess->set_input_f32(0, x, 6).ok());
    ASSERT_TRUE(sess->set_input_s64(1, mask, 6).ok());
    ASSERT_TRUE(sess->set_input_raw(2, pad, 3).ok());
    ASSERT_TRUE(sess->run().ok());
    std::vector<float> y(6), le(6);
    ASSERT_TRUE(sess->get_output_f32(0, y.data(), 6).ok());
    ASSERT_TRUE(sess->get_output_f32(1, le.data(), 6).ok());
    EXPECT_EQ(y, (std::vector<float>{1, -1000, -1000, 4, -1000, -1000}));
    EXPECT_EQ(le, (std::vector<float>{0, 0, 0, 0, 0, 1}));
  }
}

// RMSNorm as T5 / LLaMA write it: Pow(x, 2), ReduceMean over the last axis, Sqrt,
// Reciprocal; the ops run at every level and agree with the formula.
TEST(TransformerImportTest, RmsNormFromItsPieces) {
  ModelBuilder b;
  b.input("x", {2, 4});
  b.init_f("two", {}, {2.f});
  b.init_f("eps", {}, {1e-6f});
  b.node("Pow", {"x", "two"}, {"sq"});
  ModelBuilder::ints(b.node("ReduceMean", {"sq"}, {"ms"}), "axes", {-1});
  b.node("Add", {"ms", "eps"}, {"ms_eps"});
  b.node("Sqrt", {"ms_eps"}, {"rms"});
  b.node("Reciprocal", {"rms"}, {"inv"});
  b.node("Mul", {"x", "inv"}, {"y"});
  b.output("y");
  Graph g;
  Status s = b.import(&g);
  ASSERT_TRUE(s.ok()) << s.message();
  const Node* pow = find_op(g, OpType::kPow);
  ASSERT_NE(pow, nullptr);
  EXPECT_EQ(pow->attrs.alpha, 2.f);
  ASSERT_NE(find_op(g, OpType::kReduceMean), nullptr);
  const std::shared_ptr<const Model> m = load_in_memory(g);
  ASSERT_NE(m, nullptr);
  const float x[8] = {1, -2, 3, -4, 0.5f, 0.5f, 0.5f, 0.5f};
  for (kern::Isa isa : every_level()) {
    if (!kern::isa_supported(isa)) continue;
    std::unique_ptr<Session> sess = session_at(m, kern::isa_name(isa));
    ASSERT_NE(sess, nullptr);
    ASSERT_TRUE(sess->set_input_f32(0, x, 8).ok());
    ASSERT_TRUE(sess->run().ok());
    std::vector<float> y(8);
    ASSERT_TRUE(sess->get_output_f32(0, y.data(), 8).ok());
    for (int r = 0; r < 2; ++r) {
      float ms = 0.f;
      for (int c = 0; c < 4; ++c) ms += x[r * 4 + c] * x[r * 4 + c];
      const float inv = 1.f / std::sqrt(ms / 4.f + 1e-6f);
      for (int c = 0; c < 4; ++c) EXPECT_EQ(y[r * 4 + c], x[r * 4 + c] * inv) << kern::isa_name(isa);
    }
  }
}

TEST(TransformerImportTest, UnsupportedMaskAndReduceFormsAreRefused) {
  {
    ModelBuilder b;  // a run-time exponent
    b.input("x", {1, 4});
    b.input("e", {1, 4});
    b.node("Pow", {"x", "e"}, {"y"}, "pow_x");
    b.output("y");
    Graph g;
    Status s = b.import(&g);
    EXPECT_EQ(s.code(), StatusCode::kUnsupported);
    EXPECT_NE(s.message().find("'pow_x' (Pow)"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("input 'e' must be a constant"), std::string::npos) << s.message();
  }
  {
    ModelBuilder b;  // an L2 norm over axes 0 and 2 of [2,3,4]: not one block
    b.input("x", {2, 3, 4});
    ModelBuilder::ints(b.node("ReduceL2", {"x"}, {"y"}, "sum_x"), "axes", {0, 2});
    b.output("y");
    Graph g;
    Status s = b.import(&g);
    EXPECT_EQ(s.code(), StatusCode::kUnsupported);
    EXPECT_NE(s.message().find("reduced axes must be contiguous"), std::string::npos) << s.message();
  }
  {
    ModelBuilder b;  // Range from a run-time value has no run-time form
    b.input("x", {});
    b.init_f("ten", {}, {10.f});
    b.init_f("one", {}, {1.f});
    b.node("Range", {"x", "ten", "one"}, {"y"}, "range_x");
    b.output("y");
    Graph g;
    Status s = b.import(&g);
    EXPECT_EQ(s.code(), StatusCode::kUnsupported);
    EXPECT_NE(s.message().find("'x' is computed at run time"), std::string::npos) << s.message();
  }
  {
    ModelBuilder b;  // a float condition
    b.input("c", {1, 4});
    b.input("x", {1, 4});
    b.node("Where", {"c", "x", "x"}, {"y"}, "where_x");
    b.output("y");
    Graph g;
    Status s = b.import(&g);
    EXPECT_FALSE(s.ok());
    EXPECT_NE(s.message().find("is not bool"), std::string::npos) << s.message();
  }
}

// Static QDQ around both inputs of the scores MatMul and its output: quantized MatMul.
TEST(TransformerImportTest, QdqAttentionMatMulIsQuantized) {
  ModelBuilder b;
  b.input("a", {1, 2, 4, 8});
  b.input("bt", {1, 2, 8, 4});
  b.scalar_f("sa", 0.05f);
  b.scalar_i8("za", 3);
  b.scalar_f("sb", 0.02f);
  b.scalar_i8("zb", -2);
  b.scalar_f("sy", 0.1f);
  b.scalar_i8("zy", 0);
  b.node("QuantizeLinear", {"a", "sa", "za"}, {"aq"});
  b.node("DequantizeLinear", {"aq", "sa", "za"}, {"ad"});
  b.node("QuantizeLinear", {"bt", "sb", "zb"}, {"bq"});
  b.node("DequantizeLinear", {"bq", "sb", "zb"}, {"bd"});
  b.node("MatMul", {"ad", "bd"}, {"y"});
  b.node("QuantizeLinear", {"y", "sy", "zy"}, {"yq"});
  b.node("DequantizeLinear", {"yq", "sy", "zy"}, {"yd"});
  b.output("yd");
  Graph g;
  ASSERT_NO_FATAL_FAILURE(import_float_io(b, &g));
  const Node* mm = find_op(g, OpType::kMatMul);
  ASSERT_NE(mm, nullptr);
  EXPECT_EQ(tensor(g, mm->inputs[0]).dtype, DType::kS8);
  EXPECT_EQ(tensor(g, mm->inputs[1]).dtype, DType::kS8);
  EXPECT_EQ(tensor(g, mm->outputs[0]).dtype, DType::kS8);
  EXPECT_EQ(tensor(g, mm->inputs[1]).quant.zero_point[0], -2);
  // The rank-4 inputs feed only a MatMul (through QDQ): not images, no transposes.
  EXPECT_EQ(tensor(g, mm->outputs[0]).shape, (std::vector<int32_t>{1, 2, 4, 4}));
  EXPECT_EQ(count_ops(g, OpType::kTranspose), 0);
}

// ONNX Runtime's quantize_dynamic form of Linear: DynamicQuantizeLinear -> MatMulInteger
// -> Cast -> Mul(Mul(x_scale, w_scale)) -> Add(bias): FullyConnected dynamic 1.
void build_dynamic_linear(ModelBuilder* b, int w_type, std::vector<int32_t> w_zp) {
  b->input("x", {1, 3, 4});
  b->node("DynamicQuantizeLinear", {"x"}, {"xq", "xs", "xz"}, "dql");
  std::vector<int32_t> w(8);
  for (int k = 0; k < 8; ++k) w[k] = (w_type == TensorProto::INT8 ? -4 : 124) + k;
  b->init_int("w", w_type, {4, 2}, w);
  const std::vector<int64_t> zp_shape = w_zp.size() == 1 ? std::vector<int64_t>{} : std::vector<int64_t>{2};
  b->init_int("wz", w_type, zp_shape, w_zp);
  b->node("MatMulInteger", {"xq", "w", "xz", "wz"}, {"acc"}, "mmi");
  auto* c = b->node("Cast", {"acc"}, {"accf"});
  ModelBuilder::int_attr(c, "to", TensorProto::FLOAT);
  b->scalar_f("ws", 0.25f);
  b->node("Mul", {"xs", "ws"}, {"scale"});
  b->node("Mul", {"accf", "scale"}, {"mm"});
  b->init_f("bias", {2}, {0.5f, -1.f});
  b->node("Add", {"mm", "bias"}, {"y"});
  b->output("y");
}

TEST(TransformerImportTest, OrtDynamicLinearBecomesDynamicFullyConnected) {
  // int8 around 0, uint8 around 128, uint8 around 120 (one zero point: s8 weights with
  // zero point -8), uint8 with a zero point per column (s8 weights with -8 and -7, the
  // scale repeated per column).
  struct Case {
    int type;
    std::vector<int32_t> zp;
    std::vector<int32_t> stored_zp;  // the s8 weights' zero points
  };
  for (const Case& c : {Case{TensorProto::INT8, {0}, {0}}, Case{TensorProto::UINT8, {128}, {0}},
                        Case{TensorProto::UINT8, {120}, {-8}}, Case{TensorProto::UINT8, {120, 121}, {-8, -7}}}) {
    SCOPED_TRACE(c.zp.size() > 1 ? -1 : c.zp[0]);
    ModelBuilder b;
    build_dynamic_linear(&b, c.type, c.zp);
    Graph g;
    Status s = b.import(&g);
    ASSERT_TRUE(s.ok()) << s.message();
    expect_valid(g);
    ASSERT_EQ(g.nodes.size(), 1u);
    const Node& fc = g.nodes[0];
    ASSERT_EQ(fc.op, OpType::kFullyConnected);
    const Tensor& w = tensor(g, fc.inputs[1]);
    ASSERT_EQ(w.shape, (std::vector<int32_t>{2, 4}));
    ASSERT_EQ(fc.inputs.size(), 3u);
    EXPECT_EQ(floats(tensor(g, fc.inputs[2])), (std::vector<float>{0.5f, -1.f}));
    EXPECT_EQ(fc.attrs.dynamic, 1);
    ASSERT_EQ(w.dtype, DType::kS8);
    EXPECT_EQ(w.quant.scale, std::vector<float>(c.stored_zp.size(), 0.25f));
    EXPECT_EQ(w.quant.zero_point, c.stored_zp);
    // W [K=4, N=2] stored [N, K]: row 0 is column 0 of W: -4, -2, 0, 2.
    const int8_t* d = reinterpret_cast<const int8_t*>(w.data);
    EXPECT_EQ(d[0], -4);
    EXPECT_EQ(d[1], -2);
    EXPECT_EQ(d[4], -3);
  }
}

// Two dynamically quantized activations into one MatMulInteger: MatMul dynamic 1.
TEST(TransformerImportTest, OrtDynamicActivationMatMul) {
  ModelBuilder b;
  b.input("a", {1, 3, 4});
  b.input("bb", {1, 4, 5});
  b.node("DynamicQuantizeLinear", {"a"}, {"aq", "as", "az"});
  b.node("DynamicQuantizeLinear", {"bb"}, {"bq", "bs", "bz"});
  b.node("MatMulInteger", {"aq", "bq", "az", "bz"}, {"acc"});
  auto* c = b.node("Cast", {"acc"}, {"accf"});
  ModelBuilder::int_attr(c, "to", TensorProto::FLOAT);
  b.node("Mul", {"as", "bs"}, {"scale"});
  b.node("Mul", {"accf", "scale"}, {"y"});
  b.output("y");
  Graph g;
  Status s = b.import(&g);
  ASSERT_TRUE(s.ok()) << s.message();
  expect_valid(g);
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(g.nodes[0].op, OpType::kMatMul);
  EXPECT_EQ(g.nodes[0].attrs.dynamic, 1);
  EXPECT_EQ(tensor(g, g.nodes[0].outputs[0]).shape, (std::vector<int32_t>{1, 3, 5}));
}

// A dynamically quantized tensor used by anything but the integer ops is refused,
// naming the DynamicQuantizeLinear node and the user.
TEST(TransformerImportTest, OrtDynamicOtherUseIsRefused) {
  ModelBuilder b;
  b.input("x", {1, 4});
  b.node("DynamicQuantizeLinear", {"x"}, {"xq", "xs", "xz"}, "dql");
  auto* c = b.node("Cast", {"xq"}, {"y"}, "cast_q");
  ModelBuilder::int_attr(c, "to", TensorProto::FLOAT);
  b.output("y");
  Graph g;
  Status s = b.import(&g);
  EXPECT_EQ(s.code(), StatusCode::kUnsupported);
  EXPECT_NE(s.message().find("'dql' (DynamicQuantizeLinear)"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("'cast_q' (Cast)"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace edgeq
