// quantize_graph(): a float graph with measured activation ranges becomes an int8 graph
// that validates, runs, and tracks the float outputs within a few quantization steps;
// float islands get Dequantize/Quantize at their edges.
#include "quant/quantize_graph.h"
#include "quant/report.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "graph/format.h"
#include "graph/ir_util.h"
#include "graph/shape.h"
#include "runtime/session.h"
#include "test/test_graphs.h"

namespace edgeq {
namespace {

using testing_graphs::small_net;

std::unique_ptr<Session> make_session(const Graph& g) {
  std::vector<uint8_t> bytes;
  EXPECT_TRUE(serialize_graph(g, &bytes).ok());
  std::shared_ptr<const Model> m;
  Status s = Model::load_memory(bytes.data(), bytes.size(), &m);
  EXPECT_TRUE(s.ok()) << s.message();
  std::unique_ptr<Session> session;
  SessionOptions opts;
  opts.fold_views = false;  // run_observed reads every tensor
  s = Session::create(m, opts, &session);
  EXPECT_TRUE(s.ok()) << s.message();
  return session;
}

std::vector<float> random_batch(size_t n, uint32_t seed) { return testing_graphs::random_floats(n, seed, -1.f, 1.f); }

// Min/max of every float activation over `batches` random inputs, as uint8 qparams.
std::vector<QuantParams> calibrate_minmax(const Graph& g, int batches) {
  auto s = make_session(g);
  std::vector<float> lo(g.tensors.size(), 0.f), hi(g.tensors.size(), 0.f);
  auto observe = [&](int32_t t) {
    const float* p = reinterpret_cast<const float*>(s->tensor_data(t));
    for (int64_t i = 0; i < g.tensors[t].num_elements(); ++i) {
      lo[t] = std::min(lo[t], p[i]);
      hi[t] = std::max(hi[t], p[i]);
    }
  };
  for (int b = 0; b < batches; ++b) {
    const auto x = random_batch(static_cast<size_t>(g.tensors[g.inputs[0]].num_elements()), 100 + b);
    EXPECT_TRUE(s->set_input_f32(0, x.data(), x.size()).ok());
    observe(g.inputs[0]);
    s->run_observed([&](size_t node) {
      for (int32_t t : g.nodes[node].outputs) observe(t);
    });
  }
  std::vector<QuantParams> q(g.tensors.size());
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    if (g.tensors[t].is_constant()) continue;
    const float scale = std::max((hi[t] - lo[t]) / 255.f, 1e-6f);
    q[t].scale = {scale};
    q[t].zero_point = {static_cast<int32_t>(std::min(255.f, std::max(0.f, std::nearbyint(-lo[t] / scale))))};
  }
  return q;
}

// Largest |int8 model - float model| output difference, in units of the output scale,
// over inputs of the calibration set (so no value falls outside a calibrated range).
double max_steps(const Graph& fg, const Graph& qg) {
  auto fs = make_session(fg), qs = make_session(qg);
  const int32_t out = qg.outputs[0];
  const float scale = qg.tensors[out].quant.empty() ? 1.f : qg.tensors[out].quant.scale[0];
  double worst = 0;
  for (int b = 0; b < 4; ++b) {
    const auto x = random_batch(static_cast<size_t>(fg.tensors[fg.inputs[0]].num_elements()), 100 + b);
    EXPECT_TRUE(fs->set_input_f32(0, x.data(), x.size()).ok());
    EXPECT_TRUE(qs->set_input_f32(0, x.data(), x.size()).ok());
    fs->run();
    qs->run();
    const size_t n = static_cast<size_t>(fg.tensors[fg.outputs[0]].num_elements());
    std::vector<float> yf(n), yq(n);
    EXPECT_TRUE(fs->get_output_f32(0, yf.data(), n).ok());
    EXPECT_TRUE(qs->get_output_f32(0, yq.data(), n).ok());
    for (size_t i = 0; i < n; ++i) worst = std::max(worst, std::fabs(double(yf[i]) - yq[i]) / scale);
  }
  return worst;
}

TEST(QuantizeGraph, FloatNetBecomesInt8AndTracksFloat) {
  const Graph fg = small_net(false);
  const auto q = calibrate_minmax(fg, 8);
  for (bool per_channel : {true, false}) {
    quant::GraphQuantOptions opts;
    opts.per_channel_weights = per_channel;
    Graph qg;
    Status s = quant::quantize_graph(fg, q, opts, &qg);
    ASSERT_TRUE(s.ok()) << s.message();
    for (const Node& n : qg.nodes) {
      EXPECT_NE(n.op, OpType::kQuantize) << "no float islands were asked for";
      EXPECT_NE(n.op, OpType::kDequantize);
      for (int32_t t : n.outputs) EXPECT_EQ(qg.tensors[t].dtype, DType::kU8) << qg.tensors[t].name;
    }
    const Node& conv = qg.nodes[0];
    EXPECT_EQ(qg.tensors[conv.inputs[1]].dtype, DType::kS8);
    EXPECT_EQ(qg.tensors[conv.inputs[1]].quant.scale.size(), per_channel ? 6u : 1u);
    EXPECT_EQ(qg.tensors[conv.inputs[2]].dtype, DType::kS32);
    // Max pool and reshape pass their input's qparams on.
    EXPECT_EQ(qg.tensors[qg.nodes[1].outputs[0]].quant.scale, qg.tensors[qg.nodes[1].inputs[0]].quant.scale);
    EXPECT_EQ(qg.tensors[qg.nodes[3].outputs[0]].quant.scale, qg.tensors[qg.nodes[3].inputs[0]].quant.scale);
    // The float weights are gone from the file.
    for (const Tensor& t : qg.tensors) EXPECT_FALSE(t.is_constant() && t.dtype == DType::kF32) << t.name;
    EXPECT_LE(max_steps(fg, qg), 4.0) << (per_channel ? "per-channel" : "per-tensor");
  }
}

TEST(QuantizeGraph, FloatIslandsGetQuantizeAndDequantizeAtTheirEdges) {
  const Graph fg = small_net(false);
  const auto q = calibrate_minmax(fg, 8);
  quant::GraphQuantOptions opts;
  opts.float_nodes.assign(fg.nodes.size(), false);
  opts.float_nodes[2] = true;  // the global average pool stays float
  Graph qg;
  Status s = quant::quantize_graph(fg, q, opts, &qg);
  ASSERT_TRUE(s.ok()) << s.message();
  int quantize = 0, dequantize = 0;
  for (const Node& n : qg.nodes) {
    quantize += n.op == OpType::kQuantize;
    dequantize += n.op == OpType::kDequantize;
    if (n.op == OpType::kGlobalAvgPool) {
      EXPECT_EQ(qg.tensors[n.outputs[0]].dtype, DType::kF32);
    }
  }
  EXPECT_EQ(quantize, 1);
  EXPECT_EQ(dequantize, 1);
  EXPECT_LE(max_steps(fg, qg), 4.0);

  // The whole graph in float: the input and output stay float.
  opts.float_nodes.assign(fg.nodes.size(), true);
  ASSERT_TRUE(quant::quantize_graph(fg, q, opts, &qg).ok());
  EXPECT_EQ(qg.tensors[qg.inputs[0]].dtype, DType::kF32);
  EXPECT_EQ(qg.tensors[qg.outputs[0]].dtype, DType::kF32);
}

TEST(QuantizeGraph, DynamicQuantizesOnlyFullyConnectedWeights) {
  const Graph fg = small_net(false);
  quant::GraphQuantOptions opts;
  opts.dynamic = true;
  Graph qg;
  Status s = quant::quantize_graph(fg, std::vector<QuantParams>(fg.tensors.size()), opts, &qg);
  ASSERT_TRUE(s.ok()) << s.message();
  for (const Node& n : qg.nodes) {
    for (int32_t t : n.outputs) EXPECT_EQ(qg.tensors[t].dtype, DType::kF32);
    const DType w = qg.tensors[n.inputs.size() > 1 ? n.inputs[1] : n.inputs[0]].dtype;
    if (n.op == OpType::kFullyConnected || n.op == OpType::kConv2D) {
      EXPECT_EQ(w, n.op == OpType::kFullyConnected ? DType::kS8 : DType::kF32) << n.name;
    }
  }
  // The output is float: compare in units of 1% of the largest float output.
  auto fs = make_session(fg), qs = make_session(qg);
  for (int b = 0; b < 4; ++b) {
    const auto x = random_batch(192, 300 + b);
    ASSERT_TRUE(fs->set_input_f32(0, x.data(), x.size()).ok());
    ASSERT_TRUE(qs->set_input_f32(0, x.data(), x.size()).ok());
    fs->run();
    qs->run();
    std::vector<float> yf(4), yq(4);
    ASSERT_TRUE(fs->get_output_f32(0, yf.data(), 4).ok());
    ASSERT_TRUE(qs->get_output_f32(0, yq.data(), 4).ok());
    float big = 0.f;
    for (float v : yf) big = std::max(big, std::fabs(v));
    for (int i = 0; i < 4; ++i) EXPECT_NEAR(yq[i], yf[i], 0.02f * big) << i;
  }
}

std::shared_ptr<const Model> as_model(const Graph& g) {
  std::vector<uint8_t> bytes;
  EXPECT_TRUE(serialize_graph(g, &bytes).ok());
  std::shared_ptr<const Model> m;
  EXPECT_TRUE(Model::load_memory(bytes.data(), bytes.size(), &m).ok());
  return m;
}

TEST(ErrorReport, ComparesEveryLayerIsolatedAndPropagated) {
  const Graph fg = small_net(false);
  const auto q = calibrate_minmax(fg, 8);
  Graph qg;
  ASSERT_TRUE(quant::quantize_graph(fg, q, {}, &qg).ok());
  std::unique_ptr<quant::ErrorReport> r;
  Status s = quant::ErrorReport::create(as_model(fg), as_model(qg), SessionOptions(), &r);
  ASSERT_TRUE(s.ok()) << s.message();
  for (int b = 0; b < 4; ++b) {
    const auto x = random_batch(192, 100 + b);
    ASSERT_TRUE(r->add_batch({x.data()}).ok());
  }
  ASSERT_EQ(r->layers().size(), fg.nodes.size());
  for (const auto& l : r->layers()) {
    SCOPED_TRACE(l.node);
    EXPECT_TRUE(l.quantized);
    EXPECT_GT(l.propagated.count, 0);
    EXPECT_GT(l.isolated.count, 0);
    // uint8 activations: tens of dB, never perfect, never garbage.
    EXPECT_GT(l.propagated.sqnr_db(), 20.0);
    EXPECT_LT(l.propagated.sqnr_db(), 80.0);
    EXPECT_GT(l.isolated.cosine(), 0.99);
  }
  // The first layer's input is the float input itself: isolated == propagated there.
  EXPECT_DOUBLE_EQ(r->layers()[0].isolated.ee, r->layers()[0].propagated.ee);
  EXPECT_TRUE(r->classifier());
  EXPECT_EQ(r->samples(), 4);
  EXPECT_GE(r->top1_agreement(), 3);

  // A model kept entirely in float matches exactly: infinite SQNR, cosine 1.
  quant::GraphQuantOptions all_float;
  all_float.float_nodes.assign(fg.nodes.size(), true);
  ASSERT_TRUE(quant::quantize_graph(fg, q, all_float, &qg).ok());
  ASSERT_TRUE(quant::ErrorReport::create(as_model(fg), as_model(qg), SessionOptions(), &r).ok());
  const auto x = random_batch(192, 7);
  ASSERT_TRUE(r->add_batch({x.data()}).ok());
  for (const auto& l : r->layers()) {
    EXPECT_FALSE(l.quantized);
    EXPECT_TRUE(std::isinf(l.propagated.sqnr_db()) && l.propagated.sqnr_db() > 0) << l.node;
    EXPECT_DOUBLE_EQ(l.propagated.cosine(), 1.0);
  }
}

TEST(QuantizeGraph, MissingRangesAndBadArgumentsAreErrors) {
  const Graph fg = small_net(false);
  auto q = calibrate_minmax(fg, 1);
  Graph qg;
  std::vector<QuantParams> short_q(q.begin(), q.end() - 1);
  EXPECT_EQ(quant::quantize_graph(fg, short_q, {}, &qg).code(), StatusCode::kInvalidArgument);
  q[fg.nodes[0].outputs[0]] = QuantParams();
  Status s = quant::quantize_graph(fg, q, {}, &qg);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("conv_out"), std::string::npos) << s.message();
  quant::GraphQuantOptions f32;
  f32.act_dtype = DType::kF32;
  EXPECT_EQ(quant::quantize_graph(fg, calibrate_minmax(fg, 1), f32, &qg).code(), StatusCode::kInvalidArgument);
  const Graph already = small_net(true);
  EXPECT_EQ(quant::quantize_graph(already, std::vector<QuantParams>(already.tensors.size()), {}, &qg).code(),
            StatusCode::kInvalidArgument);
}

// Weights so large that s_in * s_w / s_out overflows float (fp32 scheme) or needs an
// exponent above 31 (fixed point): the runtime refuses such a node, so the rewrite must
// not write it. It is an error naming the node and --exclude; with the node kept float
// the model quantizes and loads. Found by the calibrator's fuzzer: before, the int8 file
// was written and Session::create refused it.
TEST(QuantizeGraph, UnrepresentableRequantizationIsAnErrorNamingTheNode) {
  struct Case {
    float weight_gain, out_scale;
    RequantScheme scheme;
  };
  // Input scale 2/255, weights up to 0.5 * gain: ratios of about 2.5e40 and 3e10.
  for (const Case& c : {Case{1.0e38f, 1.2e-7f, RequantScheme::kFp32}, Case{1.0e12f, 1e-3f, RequantScheme::kFixedPoint}}) {
    SCOPED_TRACE(c.weight_gain);
    Graph fg = small_net(false);
    const int32_t conv = 0;
    ASSERT_EQ(fg.nodes[conv].name, "conv");
    Tensor& w = fg.tensors[fg.nodes[conv].inputs[1]];
    std::vector<float> wv = floats_of(w);
    for (float& v : wv) v *= c.weight_gain;
    w.set_data(testing_graphs::bytes_of(wv));
    std::vector<QuantParams> q = calibrate_minmax(small_net(false), 1);
    q[fg.nodes[conv].outputs[0]].scale = {c.out_scale};
    quant::GraphQuantOptions o;
    o.requant = c.scheme;
    Graph qg;
    Status s = quant::quantize_graph(fg, q, o, &qg);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("node 'conv': requantization scale"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("--exclude conv"), std::string::npos) << s.message();
    // The node kept float quantizes and loads.
    o.float_nodes.assign(fg.nodes.size(), false);
    o.float_nodes[conv] = true;
    ASSERT_TRUE(quant::quantize_graph(fg, q, o, &qg).ok());
    EXPECT_TRUE(make_session(qg) != nullptr);
  }
  Graph fg = small_net(false);
  Tensor& w = fg.tensors[fg.nodes[0].inputs[1]];
  std::vector<float> wv = floats_of(w);
  for (float& v : wv) v *= 1.0e12f;
  w.set_data(testing_graphs::bytes_of(wv));
  std::vector<QuantParams> q = calibrate_minmax(small_net(false), 1);
  q[fg.nodes[0].outputs[0]].scale = {1e-3f};
  Graph qg;
  ASSERT_TRUE(quant::quantize_graph(fg, q, {}, &qg).ok());  // fp32: 3e10 ratios run
  EXPECT_TRUE(make_session(qg) != nullptr);
}

// x -MaxPool 2x2-> a -Sigmoid-> s, Mul(a, s) = SiLU(a) -Add(m, m)-> y: the SiLU island
// (two nodes, root a from a quantized node, end read by a quantized node) stays float
// through the rewrite and then becomes one Lookup, which tracks the float graph.
TEST(QuantizeGraph, UnaryIslandBecomesLookup) {
  using testing_graphs::make_tensor;
  Graph fg;
  fg.producer = "test";
  const std::vector<int32_t> shape = {1, 4, 4, 8};
  const int32_t x = fg.add_tensor(make_tensor("x", DType::kF32, {1, 8, 8, 8}));
  const int32_t a = fg.add_tensor(make_tensor("a", DType::kF32, shape));
  const int32_t sg = fg.add_tensor(make_tensor("s", DType::kF32, shape));
  const int32_t m = fg.add_tensor(make_tensor("m", DType::kF32, shape));
  const int32_t y = fg.add_tensor(make_tensor("y", DType::kF32, shape));
  auto node = [&](const char* name, OpType op, std::vector<int32_t> ins, int32_t out) {
    Node n;
    n.name = name;
    n.op = op;
    n.inputs = std::move(ins);
    n.outputs = {out};
    fg.nodes.push_back(n);
  };
  node("pool", OpType::kMaxPool2D, {x}, a);
  Attrs& pool = fg.nodes.back().attrs;
  pool.kernel_h = pool.kernel_w = pool.stride_h = pool.stride_w = 2;
  node("sigmoid", OpType::kSigmoid, {a}, sg);
  node("silu", OpType::kMul, {a, sg}, m);
  node("twice", OpType::kAdd, {m, m}, y);
  fg.inputs = {x};
  fg.outputs = {y};
  ASSERT_TRUE(validate_graph(fg).ok());
  const auto q = calibrate_minmax(fg, 8);
  Graph qg;
  Status s = quant::quantize_graph(fg, q, quant::GraphQuantOptions(), &qg);
  ASSERT_TRUE(s.ok()) << s.message();
  int lookups = 0;
  for (const Node& n : qg.nodes) {
    lookups += n.op == OpType::kLookup;
    EXPECT_NE(n.op, OpType::kSigmoid);
    EXPECT_NE(n.op, OpType::kMul);
    EXPECT_NE(n.op, OpType::kQuantize);
    EXPECT_NE(n.op, OpType::kDequantize);
  }
  EXPECT_EQ(lookups, 1);
  EXPECT_LE(max_steps(fg, qg), 4.0);
}

}  // namespace
}  // namespace edgeq
