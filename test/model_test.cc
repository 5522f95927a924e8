// End-to-end model tests against ONNX Runtime. For every model in a manifest
// (test/data/manifest.json, written by tools/make_models.py with ONNX Runtime's
// outputs as goldens): import the ONNX file, check the memory plan, write and reload
// the .edgeq bytes, run the inputs, and compare with ONNX Runtime. Every model runs at
// every ISA level the host supports (with one thread and two): quantized outputs must
// be byte-identical to the reference level's.
//   quantized outputs: in quantization steps, q = round(y / scale) + zero_point;
//                      prints the fraction equal, within one step, and the largest
//                      difference; every element must be within one step, or,
//                      where the manifest records that ONNX Runtime's fused
//                      integer run and its float-simulated (DQ -> op -> Q) run
//                      of the model differ by k > 1 steps ("ort_spread"), k.
//   float outputs:     max |edgeq - ort| <= 1e-4 * max(1, max |ort|).
// The committed models run as the suite CommittedModels, the transformer encoders of
// test/data/transformer/ (int64 inputs, named input shapes) as TransformerModels. The
// torchvision models, generated at test time, run as GeneratedModels from the manifest in the directory
// named by EDGEQ_MODEL_DIR (ctest sets it; see test/sources.cmake). The small variants
// of the model zoo (tools/make_zoo.py --tiny) run as ZooModels from EDGEQ_ZOO_DIR. The
// zoo and the island_* models (tools/make_island_models.py) have one more check: at
// every SIMD level, no node that reads or writes an 8-bit tensor may run on the scalar
// reference kernels.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>

#include "graph/format.h"
#include "graph/onnx/importer.h"
#include "graph/shape.h"
#include "kernels/kernels.h"
#include "runtime/session.h"
#include "test/planner_check.h"
#include "tools/npy.h"

namespace edgeq {
namespace {

struct ModelCase {
  std::string dir, name, file;
  std::vector<std::string> inputs, goldens;
  std::vector<nlohmann::json> output_quant;  // null for float outputs
  // Quantization steps allowed between edgeq and ONNX Runtime: 1, or how far ONNX
  // Runtime's own two execution modes of the model are apart ("ort_spread").
  long tolerance_steps = 1;
  // Shapes of the inputs with symbolic dimensions (the manifest's "input_shapes").
  std::map<std::string, std::vector<int64_t>> input_shapes;
};

void PrintTo(const ModelCase& c, std::ostream* os) { *os << c.name; }

// ONNX Runtime's dynamic quantization (DynamicQuantizeLinear) imports as ops with
// `dynamic` 1 (ConvInteger's asymmetric uint8 weights included), compared like any float
// output.

std::vector<ModelCase> read_manifest(const std::string& dir) {
  std::vector<ModelCase> cases;
  std::ifstream f(dir + "/manifest.json");
  if (!f) return cases;
  const nlohmann::json m = nlohmann::json::parse(f, nullptr, /*allow_exceptions=*/false);
  if (m.is_discarded() || !m.contains("models")) return cases;
  for (const auto& e : m["models"]) {
    ModelCase c;
    c.dir = dir;
    c.name = e.value("name", "");
    c.file = e.value("file", "");
    for (const auto& s : e["inputs"]) c.inputs.push_back(s.get<std::string>());
    for (const auto& s : e["goldens"]) c.goldens.push_back(s.get<std::string>());
    for (const auto& o : e["graph_outputs"]) c.output_quant.push_back(o.contains("quant") ? o["quant"] : nullptr);
    if (e.contains("ort_spread")) c.tolerance_steps = std::max(1L, e["ort_spread"]["max_steps"].get<long>());
    for (size_t i = 0; e.contains("input_shapes") && i < e["graph_inputs"].size(); ++i) {
      const auto& gi = e["graph_inputs"][i];
      if (std::any_of(gi["shape"].begin(), gi["shape"].end(), [](const nlohmann::json& d) { return d.is_string(); }))
        c.input_shapes[gi["name"].get<std::string>()] = e["input_shapes"][i].get<std::vector<int64_t>>();
    }
    cases.push_back(c);
  }
  return cases;
}

std::string case_name(const ::testing::TestParamInfo<ModelCase>& info) {
  std::string n = info.param.name;
  for (char& ch : n)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return n;
}

class ModelTest : public ::testing::TestWithParam<ModelCase> {};

// Compares a session's outputs with ONNX Runtime's goldens (see the top of the file).
void compare_with_goldens(const ModelCase& c, const Session& session) {
  Status s;
  for (size_t o = 0; o < c.goldens.size(); ++o) {
    NpyArray gold;
    s = read_npy(c.dir + "/" + c.goldens[o], &gold);
    ASSERT_TRUE(s.ok()) << s.message();
    ASSERT_EQ(gold.dtype, "f4");
    const Tensor& t = session.output(o);
    ASSERT_EQ(static_cast<int64_t>(t.num_elements()), gold.num_elements());
    std::vector<float> got(static_cast<size_t>(t.num_elements()));
    ASSERT_TRUE(session.get_output_f32(o, got.data(), got.size()).ok());
    const float* want = reinterpret_cast<const float*>(gold.data.data());
    const nlohmann::json& q = c.output_quant[o];
    if (!q.is_null()) {
      const double scale = q["scale"].get<double>();
      const int zp = q["zero_point"].get<int>();
      size_t equal = 0, within1 = 0;
      long max_diff = 0;
      for (size_t i = 0; i < got.size(); ++i) {
        const long a = std::lrint(got[i] / scale) + zp, b = std::lrint(want[i] / scale) + zp;
        const long d = std::labs(a - b);
        equal += d == 0;
        within1 += d <= 1;
        max_diff = std::max(max_diff, d);
      }
      std::printf("[ compare ] %s output %zu: %zu elements, %.2f%% equal to ONNX Runtime, %.2f%% within 1 step, "
                  "max diff %ld steps\n",
                  c.name.c_str(), o, got.size(), 100.0 * equal / got.size(), 100.0 * within1 / got.size(), max_diff);
      if (c.tolerance_steps > 1)
        std::printf("[ compare ] %s: ONNX Runtime's fused and float-simulated runs of this model differ by up to "
                    "%ld steps; that is the tolerance\n",
                    c.name.c_str(), c.tolerance_steps);
      EXPECT_LE(max_diff, c.tolerance_steps) << c.name;
    } else {
      double max_err = 0, max_ref = 1;
      for (size_t i = 0; i < got.size(); ++i) {
        max_err = std::max(max_err, std::fabs(double(got[i]) - want[i]));
        max_ref = std::max(max_ref, std::fabs(double(want[i])));
      }
      std::printf("[ compare ] %s output %zu: %zu float elements, max abs error %.3g (relative %.3g)\n",
                  c.name.c_str(), o, got.size(), max_err, max_err / max_ref);
      EXPECT_LE(max_err, 1e-4 * max_ref) << c.name;
    }
  }
}

// The nodes of g that read or write an 8-bit tensor and run the reference kernels in
// `session`, as "Op xN, ..." (empty: none), and the first one's name. A node whose
// output is a view of its input (the planner aliases it: Reshape) runs no kernel.
std::string int8_nodes_on_ref(const Graph& g, const Session& session, std::string* first) {
  const auto& alias = session.memory_plan().tensor_alias;
  auto touches_int8 = [&](const Node& n) {
    for (const auto* list : {&n.inputs, &n.outputs})
      for (int32_t t : *list)
        if (t >= 0 && is_quantized_type(g.tensors[t].dtype)) return true;
    return false;
  };
  std::map<std::string, int> on_ref;  // op name -> nodes
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    const bool view = n.outputs.size() == 1 && alias[n.outputs[0]] != n.outputs[0];
    if (!touches_int8(n) || view || std::string(session.op(i).kernel_name()) != "ref") continue;
    on_ref[op_name(n.op)] += 1;
    if (first->empty()) *first = n.name;
  }
  std::string list;
  for (const auto& kv : on_ref) list += (list.empty() ? "" : ", ") + kv.first + " x" + std::to_string(kv.second);
  return list;
}

// Imports c's ONNX file, checks the graph and its plan, and loads the .edgeq bytes.
void import_and_load(const ModelCase& c, std::shared_ptr<const Model>* model) {
  Graph g;
  ImportOptions options;
  options.input_shapes = c.input_shapes;
  Status s = import_onnx_file(c.dir + "/" + c.file, options, &g);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_TRUE(validate_graph(g).ok());
  EXPECT_TRUE(check_plan_no_overlap(g));
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(serialize_graph(g, &bytes).ok());
  s = Model::load_memory(bytes.data(), bytes.size(), model);
  ASSERT_TRUE(s.ok()) << s.message();
}

void run_case(const ModelCase& case_in) {
  ModelCase c = case_in;
  std::shared_ptr<const Model> model;
  import_and_load(c, &model);
  if (::testing::Test::HasFatalFailure()) return;
  Status s;
  std::vector<NpyArray> inputs(c.inputs.size());
  const Graph& mg = model->graph();
  ASSERT_EQ(mg.inputs.size(), c.inputs.size());
  ASSERT_EQ(mg.outputs.size(), c.goldens.size());
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    s = read_npy(c.dir + "/" + c.inputs[i], &inputs[i]);
    ASSERT_TRUE(s.ok()) << s.message();
    ASSERT_TRUE(inputs[i].dtype == "f4" || inputs[i].dtype == "i8" || inputs[i].dtype == "i4" ||
                inputs[i].dtype == "b1")
        << c.inputs[i] << ": " << inputs[i].dtype;
  }

  // Every ISA level the host runs, one thread and two: the reference level first; the
  // others must give byte-identical outputs.
  std::vector<std::pair<std::string, int>> configs = {{"ref", 1}};
  for (int l = 1; l < static_cast<int>(kern::Isa::kCount); ++l)
    if (kern::isa_supported(static_cast<kern::Isa>(l))) {
      configs.push_back({kern::isa_name(static_cast<kern::Isa>(l)), 1});
      configs.push_back({kern::isa_name(static_cast<kern::Isa>(l)), 2});
    }
  std::vector<std::vector<uint8_t>> ref_outputs;
  for (const auto& cfg : configs) {
    SCOPED_TRACE("isa " + cfg.first + ", " + std::to_string(cfg.second) + " thread(s)");
    SessionOptions opts;
    opts.isa = cfg.first;
    opts.num_threads = cfg.second;
    std::unique_ptr<Session> session;
    s = Session::create(model, opts, &session);
    ASSERT_TRUE(s.ok()) << s.message();
    for (size_t i = 0; i < inputs.size(); ++i) {
      const size_t count = static_cast<size_t>(inputs[i].num_elements());
      if (inputs[i].dtype == "b1")  // bool padding masks: their bytes
        s = session->set_input_raw(i, inputs[i].data.data(), inputs[i].data.size());
      else if (inputs[i].dtype == "i8")  // token ids, attention masks
        s = session->set_input_s64(i, reinterpret_cast<const int64_t*>(inputs[i].data.data()), count);
      else if (inputs[i].dtype == "i4")  // int32 masks (ONNX Runtime's Attention)
        s = session->set_input_s32(i, reinterpret_cast<const int32_t*>(inputs[i].data.data()), count);
      else
        s = session->set_input_f32(i, reinterpret_cast<const float*>(inputs[i].data.data()), count);
      ASSERT_TRUE(s.ok()) << s.message();
    }
    if (cfg.first != "ref" && c.name.rfind("island_", 0) == 0) {
      std::string first;
      EXPECT_EQ(int8_nodes_on_ref(mg, *session, &first), "") << "first: " << first;
    }
    session->run();
    for (size_t o = 0; o < c.goldens.size(); ++o) {
      std::vector<uint8_t> raw(session->output(o).byte_size());
      ASSERT_TRUE(session->get_output_raw(o, raw.data(), raw.size()).ok());
      if (ref_outputs.size() < c.goldens.size()) {
        ref_outputs.push_back(raw);
      } else if (!c.output_quant[o].is_null()) {
        EXPECT_TRUE(raw == ref_outputs[o]) << c.name << " output " << o << " differs from the reference level";
      }
    }
    compare_with_goldens(c, *session);
  }
}

TEST_P(ModelTest, MatchesOnnxRuntime) { run_case(GetParam()); }

INSTANTIATE_TEST_SUITE_P(CommittedModels, ModelTest,
                         ::testing::ValuesIn(read_manifest(std::string(EDGEQ_SOURCE_DIR) + "/test/data")),
                         case_name);
// The transformer encoders (tools/make_transformer_models.py), float, ONNX Runtime's
// dynamic int8 and static QDQ, from their own manifest: int64 inputs, named input shapes.
INSTANTIATE_TEST_SUITE_P(TransformerModels, ModelTest,
                         ::testing::ValuesIn(read_manifest(std::string(EDGEQ_SOURCE_DIR) + "/test/data/transformer")),
                         case_name);

class GeneratedModelTest : public ModelTest {};
TEST_P(GeneratedModelTest, MatchesOnnxRuntime) { run_case(GetParam()); }

// The models listed in the manifest of the directory named by the environment variable
// `env`; none when it is unset.
std::vector<ModelCase> models_from_env(const char* env) {
  const char* dir = std::getenv(env);
  if (!dir) return {};
  std::vector<ModelCase> cases = read_manifest(dir);
  if (cases.empty()) {  // the generator failed: a case that fails, never an empty pass
    ModelCase missing;
    missing.dir = dir;
    missing.name = "missing_manifest";
    missing.file = "manifest.json (no models listed)";
    cases.push_back(missing);
  }
  return cases;
}
// Instantiated only where ctest provides the generated models (the e2e test).
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(GeneratedModelTest);
INSTANTIATE_TEST_SUITE_P(GeneratedModels, GeneratedModelTest,
                         ::testing::ValuesIn(models_from_env("EDGEQ_MODEL_DIR")), case_name);

// The model zoo: torchvision architectures (tools/make_zoo.py --tiny), same checks as
// above, and every node that reads or writes an 8-bit tensor on an optimized kernel at
// every SIMD level the host has.
class ZooModelTest : public ModelTest {};
TEST_P(ZooModelTest, MatchesOnnxRuntime) { run_case(GetParam()); }

TEST_P(ZooModelTest, NoInt8NodeOnReferenceKernels) {
  const ModelCase& c = GetParam();
  std::shared_ptr<const Model> model;
  import_and_load(c, &model);
  if (::testing::Test::HasFatalFailure()) return;
  const Graph& g = model->graph();
  int levels = 0;
  for (int l = 1; l < static_cast<int>(kern::Isa::kCount); ++l) {
    const auto isa = static_cast<kern::Isa>(l);
    if (!kern::isa_supported(isa)) continue;
    ++levels;
    SessionOptions opts;
    opts.isa = kern::isa_name(isa);
    std::unique_ptr<Session> session;
    Status s = Session::create(model, opts, &session);
    ASSERT_TRUE(s.ok()) << s.message();
    std::string first;
    const std::string list = int8_nodes_on_ref(g, *session, &first);
    EXPECT_EQ(list, "") << c.name << " at " << opts.isa << ": int8 nodes on the reference kernels: " << list
                        << " (first: " << first << ")";
  }
  if (levels == 0) GTEST_SKIP() << "this CPU has no SIMD level beyond the reference";
}

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ZooModelTest);
INSTANTIATE_TEST_SUITE_P(ZooModels, ZooModelTest, ::testing::ValuesIn(models_from_env("EDGEQ_ZOO_DIR")), case_name);

TEST(CommittedModels, ManifestIsPresentAndComplete) {
  const auto cases = read_manifest(std::string(EDGEQ_SOURCE_DIR) + "/test/data");
  ASSERT_GE(cases.size(), 3u);
  for (const auto& c : cases) {
    EXPECT_FALSE(c.inputs.empty()) << c.name;
    EXPECT_EQ(c.goldens.size(), c.output_quant.size()) << c.name;
  }
}

// The transformer models (tools/make_transformer_models.py) have their own manifest in
// test/data/transformer/ (run above as TransformerModels): every file a run needs is
// there and agrees with the manifest.
TEST(TransformerModelFiles, ManifestIsPresentAndComplete) {
  const std::string dir = std::string(EDGEQ_SOURCE_DIR) + "/test/data/transformer";
  std::ifstream f(dir + "/manifest.json");
  ASSERT_TRUE(f.good()) << dir << "/manifest.json";
  const nlohmann::json m = nlohmann::json::parse(f, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(m.is_discarded());
  ASSERT_GE(m["models"].size(), 15u);
  for (const auto& e : m["models"]) {
    const std::string name = e["name"].get<std::string>();
    ASSERT_EQ(e["inputs"].size(), e["graph_inputs"].size()) << name;
    ASSERT_EQ(e["input_shapes"].size(), e["graph_inputs"].size()) << name;
    ASSERT_EQ(e["goldens"].size(), e["graph_outputs"].size()) << name;
    for (size_t i = 0; i < e["inputs"].size(); ++i) {
      NpyArray a;
      Status s = read_npy(dir + "/" + e["inputs"][i].get<std::string>(), &a);
      ASSERT_TRUE(s.ok()) << s.message();
      const std::string dtype = e["graph_inputs"][i]["dtype"].get<std::string>();
      EXPECT_EQ(a.dtype, dtype == "int64" ? "i8" : dtype == "bool" ? "b1" : "f4") << name << " input " << i;
      EXPECT_EQ(a.shape, e["input_shapes"][i].get<std::vector<int64_t>>()) << name << " input " << i;
    }
    for (const auto& g : e["goldens"]) {
      NpyArray a;
      Status s = read_npy(dir + "/" + g.get<std::string>(), &a);
      ASSERT_TRUE(s.ok()) << s.message();
      EXPECT_EQ(a.dtype, "f4") << name;
    }
    // Here only the dynamic int8 models are QOperator models.
    EXPECT_EQ(e["dynamic_quantization"].get<bool>(), e["kind"] == "qop") << name;
  }
}

}  // namespace
}  // namespace edgeq
