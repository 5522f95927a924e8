// ONNX export (graph/onnx/exporter.h) checked by a round trip through edgeq's own
// importer, with no ONNX Runtime needed:
//  * every committed model in test/data (float op models, QDQ and QOperator int8 models)
//    is imported, exported, re-imported, and both graphs run on the committed inputs:
//    the outputs must be byte-identical;
//  * every float op model is also quantized (uint8 and int8 activations, min/max
//    calibrated on its input) and round-tripped the same way, which covers the
//    quantized form of every op;
//  * dynamically quantized fully connected graphs export as DequantizeLinear(W) + Gemm
//    in float; their re-import (a float FC) tracks them within the row quantization;
//  * models whose import has a Lookup (test/data/island) only export (the Cast + Gather
//    form is checked against ONNX Runtime by test/export_ort_test.sh);
//  * errors: a graph ONNX cannot hold in this form, an unwritable path (no file left).
// With EDGEQ_EXPORT_DUMP_DIR set, the quantized op graphs are also written there as
// .edgeq files with their inputs, for the ONNX Runtime check (test/export_ort_test.sh).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "graph/format.h"
#include "graph/onnx/exporter.h"
#include "graph/onnx/importer.h"
#include "graph/shape.h"
#include "quant/quantize_graph.h"
#include "runtime/session.h"
#include "tools/npy.h"

namespace edgeq {
namespace {

struct Case {
  std::string name, file, kind;  // kind: the manifest's ("float", "qdq", ...)
  std::vector<std::string> inputs;
};

std::string data_dir() { return std::string(EDGEQ_SOURCE_DIR) + "/test/data"; }

std::vector<Case> committed_cases() {
  std::vector<Case> cases;
  std::ifstream f(data_dir() + "/manifest.json");
  const nlohmann::json m = nlohmann::json::parse(f, nullptr, false);
  if (m.is_discarded()) return cases;
  for (const auto& e : m["models"]) {
    Case c;
    c.name = e.value("name", "");
    c.file = e.value("file", "");
    c.kind = e.value("kind", "");
    bool float_inputs = true;  // the exporter writes float graph inputs; bool / int64 masks have no export form
    for (const auto& s : e["inputs"]) {
      c.inputs.push_back(s.get<std::string>());
      NpyArray a;
      float_inputs = float_inputs && read_npy(data_dir() + "/" + c.inputs.back(), &a).ok() && a.dtype == "f4";
    }
    // Dynamically quantized layers export as their float products (exporter.cc), which
    // do not read back bit for bit: models with them (named *_dynamic*) are left out.
    if (c.name.find("_dynamic") == std::string::npos && float_inputs) cases.push_back(c);
  }
  return cases;
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  std::string n = info.param.name;
  for (char& ch : n)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return n;
}

std::unique_ptr<Session> make_session(const Graph& g) {
  std::vector<uint8_t> bytes;
  Status s = serialize_graph(g, &bytes);
  EXPECT_TRUE(s.ok()) << s.message();
  std::shared_ptr<const Model> m;
  s = Model::load_memory(bytes.data(), bytes.size(), &m);
  EXPECT_TRUE(s.ok()) << s.message();
  if (!s.ok()) return nullptr;
  std::unique_ptr<Session> session;
  // The reference level: the float path is then the same scalar code on both sides,
  // whatever graph shape the round trip gives (XNNPACK picks kernels by shape).
  SessionOptions opts;
  opts.isa = "ref";
  opts.fold_views = false;  // run_observed reads every tensor
  s = Session::create(m, opts, &session);
  EXPECT_TRUE(s.ok()) << s.message();
  return session;
}

std::vector<std::vector<float>> read_inputs(const Case& c) {
  std::vector<std::vector<float>> in;
  for (const auto& f : c.inputs) {
    NpyArray a;
    Status s = read_npy(data_dir() + "/" + f, &a);
    EXPECT_TRUE(s.ok()) << s.message();
    std::vector<float> v(static_cast<size_t>(a.num_elements()));
    if (!v.empty()) std::memcpy(v.data(), a.data.data(), v.size() * 4);
    in.push_back(std::move(v));
  }
  return in;
}

// Raw output bytes of `g` on float inputs.
std::vector<std::vector<uint8_t>> run_raw(const Graph& g, const std::vector<std::vector<float>>& inputs) {
  std::vector<std::vector<uint8_t>> outs;
  auto s = make_session(g);
  if (!s) return outs;
  EXPECT_EQ(g.inputs.size(), inputs.size());
  for (size_t i = 0; i < inputs.size() && i < g.inputs.size(); ++i)
    EXPECT_TRUE(s->set_input_f32(i, inputs[i].data(), inputs[i].size()).ok());
  s->run();
  for (size_t o = 0; o < g.outputs.size(); ++o) {
    std::vector<uint8_t> raw(s->output(o).byte_size());
    EXPECT_TRUE(s->get_output_raw(o, raw.data(), raw.size()).ok());
    outs.push_back(std::move(raw));
  }
  return outs;
}

// Exports g, re-imports it, and checks the interface and the outputs on `inputs`.
void round_trip(const Graph& g, const std::vector<std::vector<float>>& inputs, const std::string& what) {
  std::string bytes;
  Status s = export_onnx_bytes(g, &bytes);
  ASSERT_TRUE(s.ok()) << what << ": " << s.message();
  Graph back;
  s = import_onnx_bytes(bytes.data(), bytes.size(), ImportOptions(), &back);
  ASSERT_TRUE(s.ok()) << what << ": re-import: " << s.message();
  ASSERT_EQ(back.inputs.size(), g.inputs.size());
  ASSERT_EQ(back.outputs.size(), g.outputs.size());
  for (size_t k = 0; k < g.outputs.size(); ++k) {
    const Tensor &a = g.tensors[g.outputs[k]], &b = back.tensors[back.outputs[k]];
    EXPECT_EQ(a.name, b.name) << what;
    EXPECT_EQ(a.dtype, b.dtype) << what;
    EXPECT_EQ(a.shape, b.shape) << what;
    EXPECT_EQ(a.quant.scale, b.quant.scale) << what;
    EXPECT_EQ(a.quant.zero_point, b.quant.zero_point) << what;
  }
  for (size_t k = 0; k < g.inputs.size(); ++k)
    EXPECT_EQ(g.tensors[g.inputs[k]].shape, back.tensors[back.inputs[k]].shape) << what;
  const auto want = run_raw(g, inputs), got = run_raw(back, inputs);
  ASSERT_EQ(want.size(), got.size());
  for (size_t o = 0; o < want.size(); ++o) EXPECT_TRUE(want[o] == got[o]) << what << ": output " << o << " differs";
}

// Per-tensor min/max over one run on `inputs`, as qparams of `dt`.
std::vector<QuantParams> calibrate(const Graph& g, const std::vector<std::vector<float>>& inputs, DType dt) {
  auto s = make_session(g);
  std::vector<float> lo(g.tensors.size(), 0.f), hi(g.tensors.size(), 0.f);
  std::vector<QuantParams> q(g.tensors.size());
  if (!s) return q;
  auto observe = [&](int32_t t) {
    if (g.tensors[t].dtype != DType::kF32) return;
    const float* p = reinterpret_cast<const float*>(s->tensor_data(t));
    for (int64_t i = 0; i < g.tensors[t].num_elements(); ++i) {
      lo[t] = std::min(lo[t], p[i]);
      hi[t] = std::max(hi[t], p[i]);
    }
  };
  for (size_t i = 0; i < inputs.size(); ++i) {
    EXPECT_TRUE(s->set_input_f32(i, inputs[i].data(), inputs[i].size()).ok());
    observe(g.inputs[i]);
  }
  s->run_observed([&](size_t node) {
    for (int32_t t : g.nodes[node].outputs) observe(t);
  });
  const int32_t qmin = dt == DType::kS8 ? -128 : 0;
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    if (g.tensors[t].is_constant()) continue;
    const float scale = std::max((hi[t] - lo[t]) / 255.f, 1e-6f);
    const float zp = std::nearbyint(qmin - lo[t] / scale);
    q[t].scale = {scale};
    q[t].zero_point = {static_cast<int32_t>(std::min<float>(qmin + 255, std::max<float>(qmin, zp)))};
  }
  return q;
}

void dump(const Graph& g, const std::vector<std::vector<float>>& inputs, const std::string& name) {
  const char* dir = std::getenv("EDGEQ_EXPORT_DUMP_DIR");
  if (!dir) return;
  const std::string base = std::string(dir) + "/" + name;
  ASSERT_TRUE(write_graph_file(g, base + ".edgeq").ok());
  for (size_t i = 0; i < inputs.size(); ++i) {
    NpyArray a;
    a.dtype = "f4";
    const Tensor& t = g.tensors[g.inputs[i]];
    a.shape.assign(t.shape.begin(), t.shape.end());
    a.data.resize(inputs[i].size() * 4);
    std::memcpy(a.data.data(), inputs[i].data(), a.data.size());
    ASSERT_TRUE(write_npy(base + ".input" + std::to_string(i) + ".npy", a).ok());
  }
}

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class ExportRoundTrip : public ::testing::TestWithParam<Case> {};

bool has_op(const Graph& g, OpType op) {
  return std::any_of(g.nodes.begin(), g.nodes.end(), [&](const Node& n) { return n.op == op; });
}

// Ops the export has no ONNX form for (masks, integer ops): a model holding one is refused
// with the node named, which the round trips below check instead of the bytes.
bool has_unexportable_op(const Graph& g) {
  for (OpType op : {OpType::kEqual, OpType::kLess, OpType::kGreater, OpType::kAnd, OpType::kOr, OpType::kXor,
                    OpType::kNot, OpType::kWhere, OpType::kCumSum, OpType::kCast, OpType::kGridSample})
    if (has_op(g, op)) return true;
  // A resize whose coordinate scale does not give its output size (opset 18's
  // keep_aspect_ratio_policy rounds the size): at the export's opset, scales fix the size.
  for (const Node& n : g.nodes) {
    if (n.op != OpType::kResizeLinear && n.op != OpType::kResizeNearestTo && n.op != OpType::kResizeCubic) continue;
    const std::vector<int32_t>&x = g.tensors[n.inputs[0]].shape, &y = g.tensors[n.outputs[0]].shape;
    for (int k = 0; k < 2; ++k) {
      const float s = k == 0 ? n.attrs.coord_scale_h : n.attrs.coord_scale_w;
      if (s > 0.f && static_cast<int64_t>(std::floor(s * static_cast<float>(x[1 + k]))) != y[1 + k]) return true;
    }
  }
  return false;
}

void expect_refused_export(const Graph& g) {
  std::string bytes;
  const Status s = export_onnx_bytes(g, &bytes);
  EXPECT_EQ(s.code(), StatusCode::kUnsupported) << s.message();
  EXPECT_NE(s.message().find("has no ONNX form"), std::string::npos) << s.message();
}

TEST_P(ExportRoundTrip, CommittedModelIsByteIdentical) {
  const Case& c = GetParam();
  Graph g;
  Status s = import_onnx_file(data_dir() + "/" + c.file, ImportOptions(), &g);
  ASSERT_TRUE(s.ok()) << s.message();
  if (has_unexportable_op(g)) return expect_refused_export(g);
  // A Lookup (a float island's table) exports as Cast + Gather of the dequantized table
  // and reads back as those (Cast of the stored bytes, a Gather of the table).
  round_trip(g, read_inputs(c), c.name);
}

class QuantizedExportRoundTrip : public ::testing::TestWithParam<Case> {};

TEST_P(QuantizedExportRoundTrip, QuantizedOpModelIsByteIdentical) {
  const Case& c = GetParam();
  Graph g;
  Status s = import_onnx_file(data_dir() + "/" + c.file, ImportOptions(), &g);
  ASSERT_TRUE(s.ok()) << s.message();
  const auto inputs = read_inputs(c);
  for (DType dt : {DType::kU8, DType::kS8}) {
    quant::GraphQuantOptions opts;
    opts.act_dtype = dt;
    opts.per_channel_weights = dt == DType::kS8;
    // Ops other than conv/FC with a constant operand stay float (quantize_graph quantizes
    // only conv/FC constants): a mixed float/int8 graph.
    opts.float_nodes.assign(g.nodes.size(), false);
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      const Node& n = g.nodes[i];
      if (n.op == OpType::kConv2D || n.op == OpType::kFullyConnected) continue;
      for (int32_t t : n.inputs) opts.float_nodes[i] = opts.float_nodes[i] || (t >= 0 && g.tensors[t].is_constant());
    }
    Graph q;
    s = quant::quantize_graph(g, calibrate(g, inputs, dt), opts, &q);
    ASSERT_TRUE(s.ok()) << s.message();
    ASSERT_TRUE(validate_graph(q).ok());
    if (has_unexportable_op(q)) {
      expect_refused_export(q);
      continue;
    }
    const std::string what = c.name + (dt == DType::kS8 ? "_s8" : "_u8");
    round_trip(q, inputs, what);
    dump(q, inputs, what);
  }
}

std::vector<Case> float_op_cases() {
  std::vector<Case> cases;
  for (const Case& c : committed_cases())
    if (c.file.rfind("ops/", 0) == 0 && c.kind == "float") cases.push_back(c);
  return cases;
}

INSTANTIATE_TEST_SUITE_P(CommittedModels, ExportRoundTrip, ::testing::ValuesIn(committed_cases()), case_name);
INSTANTIATE_TEST_SUITE_P(FloatOpModels, QuantizedExportRoundTrip, ::testing::ValuesIn(float_op_cases()), case_name);

TEST(Export, CoversEveryCommittedModel) {
  EXPECT_GE(committed_cases().size(), 50u);
  EXPECT_GE(float_op_cases().size(), 40u);
}

// Dynamic FC (float X, s8 W, f32 bias) -> DequantizeLinear(W) + Gemm: the importer reads
// it back as a float FC on the dequantized weights, which differs from the dynamic
// kernel only by the run-time quantization of each row.
TEST(Export, DynamicFullyConnectedBecomesFloatGemm) {
  for (const char* name : {"gemm", "matmul_3d_const_weight"}) {
    SCOPED_TRACE(name);
    Case c;
    c.inputs = {std::string("ops/") + name + ".input.npy"};
    Graph g, dyn, back;
    ASSERT_TRUE(import_onnx_file(data_dir() + "/ops/" + name + ".onnx", ImportOptions(), &g).ok());
    quant::GraphQuantOptions opts;
    opts.dynamic = true;
    Status s = quant::quantize_graph(g, std::vector<QuantParams>(g.tensors.size()), opts, &dyn);
    ASSERT_TRUE(s.ok()) << s.message();
    bool has_dynamic_fc = false;
    for (const Node& n : dyn.nodes)
      has_dynamic_fc |= n.op == OpType::kFullyConnected && dyn.tensors[n.inputs[1]].dtype == DType::kS8;
    ASSERT_TRUE(has_dynamic_fc);
    std::string bytes;
    s = export_onnx_bytes(dyn, &bytes);
    ASSERT_TRUE(s.ok()) << s.message();
    ASSERT_TRUE(import_onnx_bytes(bytes.data(), bytes.size(), ImportOptions(), &back).ok());
    const auto inputs = read_inputs(c);
    const auto a = run_raw(dyn, inputs), b = run_raw(back, inputs);
    ASSERT_EQ(a.size(), 1u);
    ASSERT_EQ(b.size(), 1u);
    ASSERT_EQ(a[0].size(), b[0].size());
    const float* fa = reinterpret_cast<const float*>(a[0].data());
    const float* fb = reinterpret_cast<const float*>(b[0].data());
    double max_err = 0, max_ref = 1e-6;
    for (size_t i = 0; i < a[0].size() / 4; ++i) {
      max_err = std::max(max_err, std::fabs(double(fa[i]) - fb[i]));
      max_ref = std::max(max_ref, std::fabs(double(fb[i])));
    }
    EXPECT_LT(max_err / max_ref, 0.05);
    EXPECT_GT(max_err, 0.0) << "the dynamic kernel should differ from float by its row quantization";
  }
}

TEST(Export, RefusesWhatOnnxCannotHold) {
  // A graph output that is also its input has no ONNX form with one name per value.
  Graph g;
  Tensor t;
  t.name = "x";
  t.shape = {1, 4};
  const int32_t x = g.add_tensor(t);
  g.inputs = {x};
  g.outputs = {x};
  std::string bytes;
  Status s = export_onnx_bytes(g, &bytes);
  EXPECT_EQ(s.code(), StatusCode::kUnsupported);
  EXPECT_NE(s.message().find("also a graph input"), std::string::npos) << s.message();

  // A quantized tensor without parameters.
  Graph q;
  ASSERT_TRUE(import_onnx_file(data_dir() + "/small_qdq.onnx", ImportOptions(), &q).ok());
  q.tensors[q.outputs[0]].quant = QuantParams();
  s = export_onnx_bytes(q, &bytes);
  EXPECT_EQ(s.code(), StatusCode::kUnsupported);
  EXPECT_NE(s.message().find("without quantization parameters"), std::string::npos) << s.message();
}

TEST(Export, UnwritablePathLeavesNoFile) {
  Graph g;
  ASSERT_TRUE(import_onnx_file(data_dir() + "/small_qdq.onnx", ImportOptions(), &g).ok());
  const std::string dir = ::testing::TempDir() + "/edgeq_export_no_such_dir";
  Status s = export_onnx(g, dir + "/m.onnx");
  EXPECT_EQ(s.code(), StatusCode::kIoError);

  // A written file leaves no temporary file ("<path>.tmp.*") beside it.
  const std::string dir_ok = ::testing::TempDir() + "/edgeq_export_ok";
  std::filesystem::remove_all(dir_ok);
  std::filesystem::create_directory(dir_ok);
  ASSERT_TRUE(export_onnx(g, dir_ok + "/m.onnx").ok());
  Graph back;
  EXPECT_TRUE(import_onnx_file(dir_ok + "/m.onnx", ImportOptions(), &back).ok());
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir_ok)) names.push_back(e.path().filename().string());
  EXPECT_EQ(names, std::vector<std::string>{"m.onnx"});
  std::filesystem::remove_all(dir_ok);
}

}  // namespace
}  // namespace edgeq
