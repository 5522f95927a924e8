// Packed weights of the fully connected layers that run on kern::QMatMulOp belong to the
// model: dynamically quantized fully connected layers (per row, per tensor), dynamically
// quantized convolutions and int8 fully connected layers with a float output take
// kern::QMatMulPacked from the model's PackCache. Checked here: an op given shared
// packed weights computes what an op packing its own does, bit for bit, and owns
// exactly those bytes less; sessions on every level the machine has pack each node
// once and equal the reference level bit for bit; the reference level still reads the
// raw weights after the packing dropped their pages; the C API reports one packed copy
// for four sessions.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "edgeq/edgeq.h"
#include "graph/format.h"
#include "graph/shape.h"
#include "kernels/kernels.h"
#include "kernels/memory.h"
#include "kernels/pack_layout.h"
#include "kernels/qmatmul.h"
#include "runtime/ops/ops.h"
#include "runtime/session.h"
#include "test/model_helpers.h"
#include "test/test_graphs.h"

namespace edgeq {
namespace {

using testing_graphs::bytes_of;
using testing_graphs::make_node;
using testing_graphs::make_tensor;

std::vector<int8_t> random_weights(size_t n, uint32_t seed, bool with_min) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> w8(-127, 127);
  std::vector<int8_t> v(n);
  for (auto& e : v) e = static_cast<int8_t>(w8(rng));
  if (with_min) v[n / 3] = -128;
  return v;
}

// An s8 constant of `shape` (zero points 0) with one scale per output channel, or one.
Tensor weight_tensor(const std::string& name, std::vector<int32_t> shape, bool per_channel, uint32_t seed,
                     bool with_min = false) {
  Tensor t = make_tensor(name, DType::kS8, shape);
  const int32_t out = shape[0];
  size_t count = 1;
  for (int32_t d : shape) count *= static_cast<size_t>(d);
  for (int32_t c = 0; c < (per_channel ? out : 1); ++c) {
    t.quant.scale.push_back(0.004f + 0.0003f * static_cast<float>(c));
    t.quant.zero_point.push_back(0);
  }
  t.quant.axis = 0;
  t.set_data(bytes_of(random_weights(count, seed, with_min)));
  return t;
}

Tensor float_const(const std::string& name, int32_t n, uint32_t seed) {
  Tensor t = make_tensor(name, DType::kF32, {n});
  t.set_data(bytes_of(testing_graphs::random_floats(static_cast<size_t>(n), seed, -1.f, 1.f)));
  return t;
}

// f32 x[1,6,6,8] -dynamic Conv3x3 pad 1-> [1,6,6,16] -Reshape-> [36,16] -dynamic FC per
// row (mode 2, ReLU)-> d[36,20] -dynamic FC per tensor (mode 1, asymmetric weights: zero
// point -3, ONNX Runtime's QUInt8 weights shifted)-> e[36,12] (output 0)
// -Quantize u8-> -FC with a float output-> y[36,10] (output 1): the three kinds of node
// on kern::QMatMulOp, odd sizes leaving partial blocks at every level.
Graph fc_net() {
  Graph g;
  g.producer = "test";
  const DType f = DType::kF32;
  const int32_t x = g.add_tensor(make_tensor("x", f, {1, 6, 6, 8}));
  const int32_t cw = g.add_tensor(weight_tensor("conv_w", {16, 3, 3, 8}, true, 1));
  const int32_t cb = g.add_tensor(float_const("conv_b", 16, 2));
  const int32_t c = g.add_tensor(make_tensor("conv_out", f, {1, 6, 6, 16}));
  Node conv = make_node("conv", OpType::kConv2D, {x, cw, cb}, {c});
  conv.attrs.pad_top = conv.attrs.pad_left = conv.attrs.pad_bottom = conv.attrs.pad_right = 1;
  conv.attrs.dynamic = 1;
  g.nodes.push_back(conv);
  const int32_t r = g.add_tensor(make_tensor("rows", f, {36, 16}));
  g.nodes.push_back(make_node("flatten", OpType::kReshape, {c}, {r}));
  const int32_t w2 = g.add_tensor(weight_tensor("fc_row_w", {20, 16}, true, 3, true));
  const int32_t b2 = g.add_tensor(float_const("fc_row_b", 20, 4));
  const int32_t d = g.add_tensor(make_tensor("fc_row_out", f, {36, 20}));
  Node fc_row = make_node("fc_row", OpType::kFullyConnected, {r, w2, b2}, {d});
  fc_row.attrs.dynamic = 2;
  fc_row.attrs.act_min = 0.f;
  g.nodes.push_back(fc_row);
  const int32_t w1 = g.add_tensor(weight_tensor("fc_tensor_w", {12, 20}, false, 5));
  g.tensors[w1].quant.zero_point = {-3};
  const int32_t e = g.add_tensor(make_tensor("fc_tensor_out", f, {36, 12}));
  Node fc_tensor = make_node("fc_tensor", OpType::kFullyConnected, {d, w1, -1}, {e});
  fc_tensor.attrs.dynamic = 1;
  g.nodes.push_back(fc_tensor);
  const int32_t q = g.add_tensor(make_tensor("q", DType::kU8, {36, 12}, 0.01f, 120));
  g.nodes.push_back(make_node("quant", OpType::kQuantize, {e}, {q}));
  const int32_t w3 = g.add_tensor(weight_tensor("fc_float_w", {10, 12}, true, 6));
  const int32_t b3 = g.add_tensor(float_const("fc_float_b", 10, 7));
  const int32_t y = g.add_tensor(make_tensor("y", f, {36, 10}));
  g.nodes.push_back(make_node("fc_float", OpType::kFullyConnected, {q, w3, b3}, {y}));
  g.inputs = {x};
  g.outputs = {e, y};
  return g;
}
constexpr size_t kEngineNodes = 4;  // conv, fc_row, fc_tensor, fc_float
constexpr size_t kOut0 = 36 * 12, kOut1 = 36 * 10;

const std::vector<float>& net_input() {
  static const std::vector<float> x = testing_graphs::random_floats(6 * 6 * 8, 11, -2.f, 2.f);
  return x;
}

std::vector<float> run_session(Session& s) {
  EXPECT_TRUE(s.set_input_f32(0, net_input().data(), net_input().size()).ok());
  s.run();
  std::vector<float> out(kOut0 + kOut1);
  EXPECT_TRUE(s.get_output_f32(0, out.data(), kOut0).ok());
  EXPECT_TRUE(s.get_output_f32(1, out.data() + kOut0, kOut1).ok());
  return out;
}

using test_models::capi_session_stats;
using test_models::CapiStats;
using test_models::expect_later_sessions_share;
using test_models::optimized_levels;
using test_models::expect_same_floats;
using test_models::session_at;


// The model written to a file and loaded from it (mapped: packing may drop pages).
std::shared_ptr<const Model> load_from_file(const Graph& g, std::string* path) {
  *path = testing::TempDir() + "shared_fc_" + std::to_string(reinterpret_cast<uintptr_t>(&g)) + ".edgeq";
  return test_models::load_via_file(g, *path);
}

// ------------------------------------------------------------------ the kernel layer

// The GEMM kernels of the machine's levels that store int32 tiles (QMatMulOp's).
std::vector<std::pair<std::string, const kern::QGemmKernel*>> matmul_kernels() {
  std::vector<std::pair<std::string, const kern::QGemmKernel*>> out;
  for (int l = 1; l < static_cast<int>(kern::Isa::kCount); ++l) {
    const kern::Isa isa = static_cast<kern::Isa>(l);
    if (!kern::isa_supported(isa)) continue;
    const kern::KernelSet& set = kern::kernel_set(isa);
    for (const kern::QGemmKernel* k : {&set.gemm, &set.gemm_w127})
      if (k->int32_output && k->u8 != nullptr) out.push_back({kern::isa_name(isa), k});
  }
  return out;
}

struct FcCase {
  const char* name;
  int mode;
  bool y_f32, a_s8;
  int32_t a_zero_point;
};

// A dynamic fully connected layer's weight zero points: in mode 1 any in [-128, 127], one
// for the tensor (fc_net's fc_tensor has -3) or one per output channel; only 0 in mode 2.
TEST(SharedFcPacking, WeightZeroPointsOnlyInModeOne) {
  ASSERT_TRUE(validate_graph(fc_net()).ok());
  Graph row = fc_net();  // fc_row: mode 2, a zero point per channel
  row.tensors[row.nodes[2].inputs[1]].quant.zero_point[5] = 1;
  EXPECT_FALSE(validate_graph(row).ok());
  Graph far = fc_net();
  far.tensors[far.nodes[3].inputs[1]].quant.zero_point = {-200};
  EXPECT_FALSE(validate_graph(far).ok());
  Graph cols = fc_net();  // fc_tensor: 12 output channels
  Tensor& w = cols.tensors[cols.nodes[3].inputs[1]];
  w.quant.scale.assign(12, w.quant.scale[0]);
  w.quant.zero_point.assign(12, 5);
  w.quant.zero_point[11] = -128;
  EXPECT_TRUE(validate_graph(cols).ok()) << validate_graph(cols).message();
  w.quant.zero_point.resize(2);  // neither one nor one per channel
  EXPECT_FALSE(validate_graph(cols).ok());
}

TEST(SharedFcPacking, SharedWeightsEqualOwnBitForBit) {
  const auto kernels = matmul_kernels();
  if (kernels.empty()) GTEST_SKIP() << "no level with int32 GEMM tiles on this host";
  constexpr int32_t m = 13, n = 21, k = 37;  // partial row tiles, column blocks, k blocks
  const std::vector<int8_t> w = random_weights(static_cast<size_t>(n) * k, 21, false);  // [-127, 127]: any kernel
  std::vector<float> w_scale(n), bias = testing_graphs::random_floats(n, 22, -1.f, 1.f);
  for (int32_t j = 0; j < n; ++j) w_scale[j] = 0.01f + 0.001f * static_cast<float>(j);
  const std::vector<float> xf = testing_graphs::random_floats(static_cast<size_t>(m) * k, 23, -3.f, 3.f);
  std::vector<uint8_t> xq(static_cast<size_t>(m) * k + 256);  // read slack past the rows
  std::mt19937 rng(24);
  for (auto& v : xq) v = static_cast<uint8_t>(rng());
  const FcCase cases[] = {{"dynamic per row", 2, false, false, 0},
                          {"dynamic per tensor", 1, false, false, 0},
                          {"float out u8", 0, true, false, 37},
                          {"float out s8", 0, true, true, -5}};
  int ran = 0;
  for (const auto& [level, kernel] : kernels) {
    for (const FcCase& c : cases) {
      SCOPED_TRACE(level + " " + kernel->name + " " + c.name);
      kern::QMatMulParams p;
      const int32_t a_shape[2] = {m, k}, b_shape[2] = {k, n};
      ref::make_matmul_shape(a_shape, 2, b_shape, 2, &p.shape);
      p.mode = c.mode;
      p.y_f32 = c.y_f32;
      p.a_s8 = c.a_s8;
      p.a_zero_point = c.a_zero_point;
      p.a_scale = 0.02f;
      p.weight = w.data();
      p.weight_scale = w_scale.data();
      p.per_channel = true;
      p.bias = bias.data();
      p.act_min = -0.75f;
      if (c.a_s8 && kernel->s8 == nullptr) continue;
      std::shared_ptr<const kern::QMatMulPacked> packed;
      ASSERT_EQ(kern::QMatMulPacked::pack_weights(p, *kernel, &packed).code(), kern::InitResult::kReady);
      ASSERT_NE(packed, nullptr);
      EXPECT_GE(packed->heap_bytes(), static_cast<size_t>(n) * k);
      kern::QMatMulOp own, shared1, shared2;
      ASSERT_EQ(own.init(p, *kernel).code(), kern::InitResult::kReady);
      ASSERT_EQ(shared1.init(p, *kernel, packed).code(), kern::InitResult::kReady);
      ASSERT_EQ(shared2.init(p, *kernel, packed).code(), kern::InitResult::kReady);
      // The shared ops hold what the op packing its own holds, less the packed weights.
      EXPECT_EQ(shared1.scratch_bytes() + packed->heap_bytes(), own.scratch_bytes());
      EXPECT_EQ(shared2.scratch_bytes(), shared1.scratch_bytes());
      const void* a = c.y_f32 ? static_cast<const void*>(xq.data()) : static_cast<const void*>(xf.data());
      std::vector<float> y_own(static_cast<size_t>(m) * n), y1(y_own.size()), y2(y_own.size());
      own.run(a, nullptr, y_own.data());
      shared1.run(a, nullptr, y1.data());
      shared2.run(a, nullptr, y2.data());
      expect_same_floats(y1, y_own, "first op on the shared weights");
      expect_same_floats(y2, y_own, "second op on the shared weights");
      ++ran;
      // Weights packed for another offset (another A zero point, or a dynamic mode's
      // offset for a float-output layer) do not fit: declined, never a wrong answer.
      kern::QMatMulParams other = p;
      if (c.y_f32) {
        other.a_zero_point = c.a_zero_point + 1;
      } else {
        other.mode = 0;
        other.y_f32 = true;
        other.a_zero_point = 1;
      }
      kern::QMatMulOp mismatched;
      EXPECT_EQ(mismatched.init(other, *kernel, packed).code(), kern::InitResult::kDeclined);
    }
  }
  EXPECT_GE(ran, 3 * static_cast<int>(kernels.size()));
}

// ------------------------------------------------------------------ sessions

// Four sessions on every level of one model loaded from a file: each node packed once
// per level, every output equal to the reference level's (from a model of its own) bit
// for bit; then the reference level on the same model, whose raw weights the packing
// dropped, still equals it.
TEST(SharedFcPacking, FourSessionsPerLevelPackOnceAndEqualTheReference) {
  const Graph g = fc_net();
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(serialize_graph(g, &bytes).ok());
  std::shared_ptr<const Model> plain;
  ASSERT_TRUE(Model::load_memory(bytes.data(), bytes.size(), &plain).ok());
  std::unique_ptr<Session> ref_session = session_at(plain, "ref");
  ASSERT_NE(ref_session, nullptr);
  const std::vector<float> want = run_session(*ref_session);
  bool some_nonzero = false;
  for (float v : want) some_nonzero = some_nonzero || (v != 0.f && std::isfinite(v));
  EXPECT_TRUE(some_nonzero);

  std::string path;
  std::shared_ptr<const Model> m = load_from_file(g, &path);
  ASSERT_NE(m, nullptr);
  for (const std::string& level : optimized_levels()) {
    SCOPED_TRACE(level);
    kern::Isa isa;
    ASSERT_TRUE(kern::parse_isa(level, &isa));
    const size_t builds = m->pack_cache().builds();
    size_t after_first = 0, heap_after_first = 0, own = 0;
    std::vector<std::unique_ptr<Session>> sessions;
    for (int i = 0; i < 4; ++i) {
      sessions.push_back(session_at(m, level, i % 2 + 1));
      ASSERT_NE(sessions.back(), nullptr);
      Session& s = *sessions.back();
      if (i == 0) {
        after_first = m->pack_cache().builds();
        heap_after_first = m->pack_cache().heap_bytes();
        size_t engines = 0;
        for (size_t node = 0; node < g.nodes.size(); ++node)
          if (op_has(g.nodes[node].op, kOpWeights) && std::string(s.op(node).kernel_name()) != "ref") ++engines;
        // Every level with int32 GEMM tiles runs the four nodes on its kernels.
        if (kern::kernel_set(isa).gemm.int32_output) {
          EXPECT_EQ(engines, kEngineNodes);
        }
        EXPECT_EQ(after_first - builds, engines);
        own = s.packed_bytes();
      } else {
        EXPECT_EQ(m->pack_cache().builds(), after_first) << "session " << i << " packed again";
        EXPECT_EQ(m->pack_cache().heap_bytes(), heap_after_first) << "session " << i;
        EXPECT_EQ(s.packed_bytes(), own) << "session " << i;
      }
      expect_same_floats(run_session(s), want, "session " + std::to_string(i));
    }
    // Sessions run again, in another order: still the same.
    for (auto it = sessions.rbegin(); it != sessions.rend(); ++it) expect_same_floats(run_session(**it), want, "again");
  }
  std::unique_ptr<Session> ref_again = session_at(m, "ref");
  ASSERT_NE(ref_again, nullptr);
  expect_same_floats(run_session(*ref_again), want, "reference level after packing");
  std::remove(path.c_str());
}

// fc_net() with its layers on kern::QMatMulOp pre-packed for every level's layouts
// (prepack_qmatmul, as `edgeq pack` does).
Graph prepacked_fc_net() {
  Graph g = fc_net();
  for (int l = 1; l < static_cast<int>(kern::Isa::kCount); ++l)
    for (const kern::QGemmKernel& layout : kern::gemm_pack_layouts(static_cast<kern::Isa>(l)))
      EXPECT_TRUE(prepack_qmatmul(g, layout, &g.packed).ok());
  return g;
}

// The pre-packed segments of a level: used in place (the model packs nothing for those
// nodes: its heap is the plain model's less their packed bytes), outputs equal to
// the reference level bit for bit; a segment of the wrong size is an error naming the
// node, one of another layout version is ignored with a note, and a segment's bytes
// are what the layer computes with.
TEST(SharedFcPacking, PrepackedEngineLayersRunInPlace) {
  Graph g = prepacked_fc_net();
  // The four nodes on kern::QMatMulOp (conv, fc_row, fc_tensor, fc_float) for every x86
  // level (one layout each) and for the neon level (AArch64's and ARMv7's layouts, each
  // node in the exact or the [-127, 127] one).
  for (int l = 1; l < static_cast<int>(kern::Isa::kCount); ++l) {
    size_t found = 0;
    for (const kern::QGemmKernel& layout : kern::gemm_pack_layouts(static_cast<kern::Isa>(l)))
      for (const PackedWeights& pw : g.packed)
        if (pw.kernel.rfind(kern::qmatmul_layout_prefix(layout.name), 0) == 0) ++found;
    EXPECT_GE(found, kEngineNodes) << kern::isa_name(static_cast<kern::Isa>(l));
  }
  const std::shared_ptr<const Model> plain = test_models::load_in_memory(fc_net());
  ASSERT_NE(plain, nullptr);
  const std::vector<float> want = run_session(*session_at(plain, "ref"));
  std::string path;
  const std::shared_ptr<const Model> m = load_from_file(g, &path);
  ASSERT_NE(m, nullptr);
  EXPECT_TRUE(m->notes().empty());
  for (const std::string& level : optimized_levels()) {
    SCOPED_TRACE(level);
    kern::Isa isa;
    ASSERT_TRUE(kern::parse_isa(level, &isa));
    if (!kern::kernel_set(isa).gemm.int32_output) continue;
    const size_t plain_heap = plain->pack_cache().heap_bytes(), heap = m->pack_cache().heap_bytes();
    std::unique_ptr<Session> a = session_at(plain, level), b = session_at(m, level);
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    size_t in_place = 0;
    for (const PackedWeights& pw : g.packed)
      for (const kern::QGemmKernel* k : {&kern::kernel_set(isa).gemm, &kern::kernel_set(isa).gemm_w127})
        if (k->name != nullptr && pw.kernel.rfind(kern::qmatmul_layout_prefix(k->name), 0) == 0) in_place += pw.nbytes;
    EXPECT_GT(in_place, 0u);
    EXPECT_EQ((m->pack_cache().heap_bytes() - heap) + in_place, plain->pack_cache().heap_bytes() - plain_heap);
    expect_same_floats(run_session(*b), want, "pre-packed");
  }
  std::remove(path.c_str());

  const std::vector<std::string> levels = optimized_levels();
  if (levels.empty()) return;
  kern::Isa best;
  ASSERT_TRUE(kern::parse_isa(levels.back(), &best));
  const kern::QGemmKernel& exact = kern::kernel_set(best).gemm;
  if (!exact.int32_output) return;
  // fc_row's weights hold -128: the exact kernel's segment is the one looked up.
  auto fc_row_segment = [&](Graph& graph) {
    for (PackedWeights& pw : graph.packed)
      if (graph.nodes[pw.node].name == "fc_row" && pw.kernel.rfind(kern::qmatmul_layout_prefix(exact.name), 0) == 0)
        return &pw;
    return static_cast<PackedWeights*>(nullptr);
  };
  for (int64_t delta : {-64, 64}) {
    Graph bad = prepacked_fc_net();
    PackedWeights* pw = fc_row_segment(bad);
    ASSERT_NE(pw, nullptr);
    test_models::resize_segment(pw, delta);
    const std::shared_ptr<const Model> mb = test_models::load_in_memory(bad);
    ASSERT_NE(mb, nullptr);
    SessionOptions o;
    o.isa = levels.back();
    std::unique_ptr<Session> s;
    const Status st = Session::create(mb, o, &s);
    EXPECT_FALSE(st.ok()) << delta;
    EXPECT_NE(st.message().find("fc_row"), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("pre-packed"), std::string::npos) << st.message();
  }
  {
    Graph other = prepacked_fc_net();
    PackedWeights* pw = fc_row_segment(other);
    ASSERT_NE(pw, nullptr);
    pw->layout = kern::kQMatMulPackLayout + 1;
    const std::shared_ptr<const Model> mo = test_models::load_in_memory(other);
    ASSERT_NE(mo, nullptr);
    ASSERT_EQ(mo->notes().size(), 1u);
    EXPECT_NE(mo->notes()[0].find("layout version"), std::string::npos) << mo->notes()[0];
    expect_same_floats(run_session(*session_at(mo, levels.back())), want, "another layout version");
  }
  {
    // Zeroed weight blocks: the layer computes with the segment's bytes, not the raw weights.
    Graph zeroed = prepacked_fc_net();
    PackedWeights* pw = fc_row_segment(zeroed);
    ASSERT_NE(pw, nullptr);
    test_models::resize_segment(pw, 0);
    std::memset(const_cast<uint8_t*>(pw->data), 0, pw->nbytes / 2);
    const std::shared_ptr<const Model> mz = test_models::load_in_memory(zeroed);
    ASSERT_NE(mz, nullptr);
    const std::vector<float> got = run_session(*session_at(mz, levels.back()));
    EXPECT_NE(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)), 0);
  }
}

// A failed allocation while a session packs keeps nothing in the model: the session
// fails with kOutOfMemory, and the next one packs, runs and equals the reference.
TEST(SharedFcPacking, OutOfMemoryWhilePackingLeavesTheModelUsable) {
  const std::vector<std::string> levels = optimized_levels();
  if (levels.empty()) GTEST_SKIP() << "no optimized level on this host";
  const Graph g = fc_net();
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(serialize_graph(g, &bytes).ok());
  std::shared_ptr<const Model> plain;
  ASSERT_TRUE(Model::load_memory(bytes.data(), bytes.size(), &plain).ok());
  const std::vector<float> want = run_session(*session_at(plain, "ref"));
  int failures = 0;
  for (int64_t n = 1; n <= 12; ++n) {
    std::shared_ptr<const Model> m;
    ASSERT_TRUE(Model::load_memory(bytes.data(), bytes.size(), &m).ok());
    SessionOptions o;
    o.isa = levels.back();
    std::unique_ptr<Session> s;
    kern::fail_nth_allocation(n);
    const Status st = Session::create(m, o, &s);
    const bool failed = kern::allocation_failure_happened();
    kern::fail_nth_allocation(0);
    if (!failed) {
      EXPECT_TRUE(st.ok()) << st.message();
      continue;
    }
    ++failures;
    EXPECT_EQ(st.code(), StatusCode::kOutOfMemory) << "allocation " << n << ": " << st.message();
    std::unique_ptr<Session> again = session_at(m, levels.back());
    ASSERT_NE(again, nullptr);
    expect_same_floats(run_session(*again), want, "after a failed allocation " + std::to_string(n));
  }
  EXPECT_GT(failures, 4);  // the four nodes' packed weights at least
}

// Through the C API: four sessions of one model hold one packed copy (the model's bytes
// do not grow after the first session) and each session's own bytes are the same.
TEST(SharedFcPacking, CApiReportsOnePackedCopyForFourSessions) {
  const Graph g = fc_net();
  std::string path;
  { ASSERT_NE(load_from_file(g, &path), nullptr); }
  edgeq_model* model = nullptr;
  ASSERT_EQ(edgeq_model_load_file(path.c_str(), &model), EDGEQ_OK) << edgeq_last_error();
  std::vector<edgeq_session*> sessions;
  const std::vector<CapiStats> stats = capi_session_stats(model, 4, &sessions);
  ASSERT_EQ(stats.size(), 4u);
  if (!optimized_levels().empty() && kern::kernel_set(kern::best_isa()).gemm.int32_output) {
    EXPECT_EQ(stats[0].packed_layers, kEngineNodes);
    // At least the weights, one byte each.
    EXPECT_GE(stats[0].packed_bytes, size_t{16 * 72 + 20 * 16 + 12 * 20 + 10 * 12});
    // A session holds per-run state only: less than the packed weights.
    EXPECT_LT(stats[0].own_bytes, stats[0].packed_bytes);
  }
  expect_later_sessions_share(stats);
  std::vector<float> first;
  for (edgeq_session* s : sessions) {
    std::vector<float> y(kOut1);
    ASSERT_EQ(edgeq_session_set_input_f32(s, 0, net_input().data(), net_input().size()), EDGEQ_OK);
    ASSERT_EQ(edgeq_session_run(s), EDGEQ_OK);
    ASSERT_EQ(edgeq_session_get_output_f32(s, 1, y.data(), y.size()), EDGEQ_OK);
    if (first.empty()) first = y;
    expect_same_floats(y, first, "C API session");
  }
  for (edgeq_session* s : sessions) edgeq_session_destroy(s);
  edgeq_model_release(model);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace edgeq
