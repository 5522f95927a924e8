// Float fully connected layers on edgeq's own float GEMM (kernels/ffc.h,
// runtime/ops/float_fc.cc), their packed weights the model's.
// Checked here: kern::FFcOp on every level's float GEMM kernel agrees with
// ref::fully_connected_f32 within 1e-5 of sum |x * w| + |bias| (float sums in k order
// against the reference's double), over odd sizes (partial row and column tiles), with
// and without a bias and a clamp, and propagates NaN and infinities to the outputs the
// reference gives them; two ops on one packed copy equal bit for bit. Sessions: four
// sessions on every level of a float model loaded from a file pack each node once,
// agree with the reference level, equal each other bit for bit, and the reference level
// still reads the raw weights whose pages the packing dropped; with XNNPACK switched
// off (EDGEQ_XNNPACK=0) every level's kernel runs the layers. Through the C API, four
// sessions hold one packed copy. Pre-packed files (prepack_float_fc): used in place
// with the same outputs bit for bit, another layout version ignored with a note, a
// wrong size an error naming the node.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "edgeq/edgeq.h"
#include "graph/format.h"
#include "kernels/ffc.h"
#include "kernels/kernels.h"
#include "kernels/ref/ref.h"
#include "runtime/session.h"
#include "test/model_helpers.h"
#include "test/float_conv_graphs.h"
#include "test/scoped_env.h"
#include "test/test_graphs.h"

namespace edgeq {
namespace {

using testing_graphs::bytes_of;
using testing_graphs::float_const;
using testing_graphs::FloatConvSpec;
using testing_graphs::levels_with_fgemm;
using testing_graphs::make_node;
using testing_graphs::make_tensor;
using testing_graphs::random_floats;

constexpr float kInf = std::numeric_limits<float>::infinity();

using testing_env::ScopedEnv;

// |got - want| <= 1e-5 * (sum_k |x w| + |bias|) per element; NaN where the reference
// has NaN, the same infinity where it has one.
void expect_agree(int32_t m, int32_t n, int32_t k, const std::vector<float>& x, const std::vector<float>& w,
                  const float* bias, const std::vector<float>& got, const std::vector<float>& want) {
  int failures = 0;
  for (int32_t r = 0; r < m; ++r) {
    for (int32_t c = 0; c < n; ++c) {
      const size_t i = static_cast<size_t>(r) * n + c;
      const float g = got[i], e = want[i];
      bool ok;
      if (std::isnan(e)) {
        ok = std::isnan(g);
      } else if (std::isinf(e)) {
        ok = g == e;
      } else {
        double mag = bias ? std::fabs(bias[c]) : 0.0;
        for (int32_t j = 0; j < k; ++j) mag += std::fabs(double{x[static_cast<size_t>(r) * k + j]} * w[static_cast<size_t>(c) * k + j]);
        ok = std::fabs(double{g} - e) <= 1e-5 * mag + 1e-30;
      }
      if (!ok && failures++ < 5) ADD_FAILURE() << "row " << r << " col " << c << ": got " << g << " want " << e;
    }
  }
  EXPECT_EQ(failures, 0);
}

struct Shape {
  int32_t m, n, k;
};

TEST(FloatFc, AgreesWithTheReferenceOnEveryLevel) {
  const auto levels = levels_with_fgemm();
  if (levels.empty()) GTEST_SKIP() << "no level with a float GEMM kernel on this host";
  const Shape shapes[] = {{1, 1, 1}, {13, 37, 19}, {8, 32, 64}, {9, 33, 65}, {6, 16, 7}, {25, 70, 130}, {3, 5, 300}};
  int ran = 0;
  for (kern::Isa isa : levels) {
    const kern::FGemmKernel& kernel = kern::kernel_set(isa).fgemm;
    for (const Shape& s : shapes) {
      for (int variant = 0; variant < 4; ++variant) {
        const bool with_bias = variant & 1, clamp = variant & 2;
        SCOPED_TRACE(std::string(kern::isa_name(isa)) + " " + kernel.name + " " + std::to_string(s.m) + "x" +
                     std::to_string(s.n) + "x" + std::to_string(s.k) + " variant " + std::to_string(variant));
        const std::vector<float> x = random_floats(static_cast<size_t>(s.m) * s.k, 1 + variant, -2.f, 2.f);
        const std::vector<float> w = random_floats(static_cast<size_t>(s.n) * s.k, 2 + variant, -1.f, 1.f);
        const std::vector<float> b = random_floats(static_cast<size_t>(s.n), 3 + variant, -1.f, 1.f);
        const float lo = clamp ? -0.5f : -kInf, hi = clamp ? 0.75f : kInf;
        const float* bias = with_bias ? b.data() : nullptr;
        std::shared_ptr<const kern::FFcPacked> packed;
        ASSERT_EQ(kern::FFcPacked::pack(w.data(), s.n, s.k, kernel.nr, &packed).code(), kern::InitResult::kReady);
        EXPECT_EQ(packed->heap_bytes(), kern::FFcPacked::packed_bytes(s.n, s.k, kernel.nr));
        kern::FFcOp op1, op2;
        ASSERT_TRUE(op1.init(s.m, packed, kernel, bias, lo, hi));
        ASSERT_TRUE(op2.init(s.m, packed, kernel, bias, lo, hi));
        std::vector<float> want(static_cast<size_t>(s.m) * s.n), got(want.size(), 7.f), split(want.size(), 9.f);
        ref::fully_connected_f32(s.m, s.n, s.k, x.data(), w.data(), bias, lo, hi, want.data());
        op1.run_rows(x.data(), got.data(), 0, op1.row_blocks());
        // Another op on the same packed copy, its row blocks one by one: bit for bit.
        for (size_t r = 0; r < op2.row_blocks(); ++r) op2.run_rows(x.data(), split.data(), r, r + 1);
        expect_agree(s.m, s.n, s.k, x, w, bias, got, want);
        EXPECT_EQ(std::memcmp(got.data(), split.data(), got.size() * sizeof(float)), 0);
        ++ran;
      }
    }
  }
  EXPECT_EQ(ran, static_cast<int>(levels.size() * 7 * 4));
}

TEST(FloatFc, PropagatesNanAndInfinityAsTheReference) {
  const auto levels = levels_with_fgemm();
  if (levels.empty()) GTEST_SKIP() << "no level with a float GEMM kernel on this host";
  constexpr int32_t m = 11, n = 19, k = 23;
  std::vector<float> x = random_floats(static_cast<size_t>(m) * k, 5, -1.f, 1.f);
  std::vector<float> w = random_floats(static_cast<size_t>(n) * k, 6, -1.f, 1.f);
  const std::vector<float> b = random_floats(static_cast<size_t>(n), 7, -1.f, 1.f);
  x[2 * k + 4] = std::numeric_limits<float>::quiet_NaN();  // row 2: NaN everywhere
  x[5 * k + 1] = kInf;                                      // row 5: +-inf, NaN where w is 0
  x[9 * k + 3] = kInf;                                      // row 9: inf and -inf meet in col 3
  x[9 * k + 8] = -kInf;
  w[3 * k + 1] = 0.f;
  w[3 * k + 3] = 1.f;
  w[3 * k + 8] = 1.f;
  for (const bool clamp : {false, true}) {
    const float lo = clamp ? -0.25f : -kInf, hi = clamp ? 0.25f : kInf;
    std::vector<float> want(static_cast<size_t>(m) * n);
    ref::fully_connected_f32(m, n, k, x.data(), w.data(), b.data(), lo, hi, want.data());
    int nonfinite = 0;
    for (float v : want) nonfinite += !std::isfinite(v);
    EXPECT_GE(nonfinite, n + 1);
    for (kern::Isa isa : levels) {
      SCOPED_TRACE(std::string(kern::isa_name(isa)) + (clamp ? " clamped" : ""));
      const kern::FGemmKernel& kernel = kern::kernel_set(isa).fgemm;
      std::shared_ptr<const kern::FFcPacked> packed;
      ASSERT_EQ(kern::FFcPacked::pack(w.data(), n, k, kernel.nr, &packed).code(), kern::InitResult::kReady);
      kern::FFcOp op;
      ASSERT_TRUE(op.init(m, packed, kernel, b.data(), lo, hi));
      std::vector<float> got(want.size());
      op.run_rows(x.data(), got.data(), 0, op.row_blocks());
      expect_agree(m, n, k, x, w, b.data(), got, want);
    }
  }
}

TEST(FloatFc, DeclinesWhatItCannotRun) {
  const auto levels = levels_with_fgemm();
  if (levels.empty()) GTEST_SKIP() << "no level with a float GEMM kernel on this host";
  const kern::FGemmKernel& kernel = kern::kernel_set(levels[0]).fgemm;
  const std::vector<float> w(64, 1.f);
  std::shared_ptr<const kern::FFcPacked> packed;
  EXPECT_EQ(kern::FFcPacked::pack(w.data(), 4, 0, kernel.nr, &packed).code(), kern::InitResult::kDeclined);
  EXPECT_EQ(packed, nullptr);
  EXPECT_EQ(kern::FFcPacked::pack(w.data(), 4, 4, 0, &packed).code(), kern::InitResult::kDeclined);
  ASSERT_EQ(kern::FFcPacked::pack(w.data(), 4, 4, kernel.nr, &packed).code(), kern::InitResult::kReady);
  kern::FFcOp op;
  EXPECT_EQ(op.init(0, packed, kernel, nullptr, -kInf, kInf).code(), kern::InitResult::kDeclined);
  kern::FGemmKernel other = kernel;
  other.nr = kernel.nr * 2;  // packed for another panel width
  EXPECT_EQ(op.init(3, packed, other, nullptr, -kInf, kInf).code(), kern::InitResult::kDeclined);
}

// ------------------------------------------------------------------ sessions

// x[2,21,24] -FC+bias-> [2,21,37] -FC ReLU6 clamp-> [2,21,20] -FC no bias-> y[2,21,9]:
// 42 rows (partial row tiles at every MR), odd widths (partial column tiles).
Graph float_net() {
  Graph g;
  g.producer = "test";
  const DType f = DType::kF32;
  const int32_t x = g.add_tensor(make_tensor("x", f, {2, 21, 24}));
  const int32_t w1 = g.add_tensor(float_const("w1", {37, 24}, 1));
  const int32_t b1 = g.add_tensor(float_const("b1", {37}, 2));
  const int32_t h1 = g.add_tensor(make_tensor("h1", f, {2, 21, 37}));
  g.nodes.push_back(make_node("fc1", OpType::kFullyConnected, {x, w1, b1}, {h1}));
  const int32_t w2 = g.add_tensor(float_const("w2", {20, 37}, 3));
  const int32_t b2 = g.add_tensor(float_const("b2", {20}, 4));
  const int32_t h2 = g.add_tensor(make_tensor("h2", f, {2, 21, 20}));
  Node fc2 = make_node("fc2", OpType::kFullyConnected, {h1, w2, b2}, {h2});
  fc2.attrs.act_min = 0.f;
  fc2.attrs.act_max = 0.3f;
  g.nodes.push_back(fc2);
  const int32_t w3 = g.add_tensor(float_const("w3", {9, 20}, 5));
  const int32_t y = g.add_tensor(make_tensor("y", f, {2, 21, 9}));
  g.nodes.push_back(make_node("fc3", OpType::kFullyConnected, {h2, w3, -1}, {y}));
  g.inputs = {x};
  g.outputs = {y};
  return g;
}
constexpr size_t kFcNodes = 3, kIn = 2 * 21 * 24, kOut = 2 * 21 * 9;

std::vector<float> run_session(Session& s, const std::vector<float>& x) {
  EXPECT_TRUE(s.set_input_f32(0, x.data(), x.size()).ok());
  s.run();
  std::vector<float> out(kOut);
  EXPECT_TRUE(s.get_output_f32(0, out.data(), out.size()).ok());
  return out;
}

using test_models::load_in_memory;
using test_models::load_via_file;
using test_models::expect_same_floats;
using test_models::session_at;

// |got - want| <= 1e-4 relative to the output's largest magnitude (three layers deep).
void expect_close(const std::vector<float>& got, const std::vector<float>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  double scale = 0.0;
  for (float v : want) scale = std::max(scale, std::fabs(double{v}));
  ASSERT_GT(scale, 0.0);
  int failures = 0;
  for (size_t i = 0; i < got.size(); ++i)
    if (!(std::fabs(double{got[i]} - want[i]) <= 1e-4 * scale) && failures++ < 5)
      ADD_FAILURE() << what << ": element " << i << " got " << got[i] << " want " << want[i];
  EXPECT_EQ(failures, 0) << what;
}


// Four sessions per level: the level's float GEMM runs the layers, XNNPACK on or off
// (`xnnpack_off`); each node packed once per layout.
void four_sessions_per_level(bool xnnpack_off) {
  const Graph g = float_net();
  const std::vector<float> x = random_floats(kIn, 9, -1.f, 1.f);
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(serialize_graph(g, &bytes).ok());
  std::shared_ptr<const Model> plain;
  ASSERT_TRUE(Model::load_memory(bytes.data(), bytes.size(), &plain).ok());
  const std::vector<float> want = run_session(*session_at(plain, "ref"), x);

  const std::string path = testing::TempDir() + "float_fc_" + (xnnpack_off ? "own" : "default") + ".edgeq";
  std::shared_ptr<const Model> m = load_via_file(g, path);
  ASSERT_NE(m, nullptr);
  std::set<std::string> packed_layouts;
  for (kern::Isa isa : levels_with_fgemm()) {
    const kern::FGemmKernel& kernel = kern::kernel_set(isa).fgemm;
    SCOPED_TRACE(std::string(kern::isa_name(isa)) + " " + kernel.name);
    const size_t builds = m->pack_cache().builds();
    size_t after_first = 0, heap_after_first = 0;
    std::vector<std::unique_ptr<Session>> sessions;
    std::vector<float> first;
    for (int i = 0; i < 4; ++i) {
      sessions.push_back(session_at(m, kern::isa_name(isa), i % 2 + 1));
      ASSERT_NE(sessions.back(), nullptr);
      Session& s = *sessions.back();
      if (i == 0) {
        after_first = m->pack_cache().builds();
        heap_after_first = m->pack_cache().heap_bytes();
        size_t on_kernel = 0;
        for (size_t node = 0; node < g.nodes.size(); ++node)
          if (std::string(s.op(node).kernel_name()) == kernel.name) ++on_kernel;
        EXPECT_EQ(on_kernel, kFcNodes);
        // Levels with the same kernel share its layout: packed by the first of them.
        EXPECT_EQ(after_first - builds, packed_layouts.insert(kernel.name).second ? on_kernel : 0);
      } else {
        EXPECT_EQ(m->pack_cache().builds(), after_first) << "session " << i << " packed again";
        EXPECT_EQ(m->pack_cache().heap_bytes(), heap_after_first) << "session " << i;
      }
      const std::vector<float> y = run_session(s, x);
      expect_close(y, want, "session " + std::to_string(i));
      if (i == 0) first = y;
      expect_same_floats(y, first, "session " + std::to_string(i) + " against the first");
    }
  }
  // The reference level reads the raw weights, whose pages the packing dropped.
  expect_same_floats(run_session(*session_at(m, "ref"), x), want, "reference level after packing");
  std::remove(path.c_str());
}

TEST(FloatFc, FourSessionsPerLevelPackOnce) { four_sessions_per_level(false); }

TEST(FloatFc, FourSessionsPerLevelPackOnceWithoutXnnpack) {
  ScopedEnv off("EDGEQ_XNNPACK", "0");
  four_sessions_per_level(true);
}

// A NaN or an infinity in the input reaches the output as in the reference level.
TEST(FloatFc, SessionPropagatesNonFiniteInputs) {
  ScopedEnv off("EDGEQ_XNNPACK", "0");
  const Graph g = float_net();
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(serialize_graph(g, &bytes).ok());
  std::shared_ptr<const Model> m;
  ASSERT_TRUE(Model::load_memory(bytes.data(), bytes.size(), &m).ok());
  std::vector<float> x = random_floats(kIn, 10, -1.f, 1.f);
  x[3 * 24 + 5] = std::numeric_limits<float>::quiet_NaN();
  x[30 * 24 + 2] = kInf;
  const std::vector<float> want = run_session(*session_at(m, "ref"), x);
  for (kern::Isa isa : levels_with_fgemm()) {
    SCOPED_TRACE(kern::isa_name(isa));
    const std::vector<float> got = run_session(*session_at(m, kern::isa_name(isa)), x);
    int nan_rows = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(std::isnan(got[i]), std::isnan(want[i])) << "element " << i;
      if (!std::isnan(want[i])) {
        EXPECT_NEAR(got[i], want[i], 1e-4) << "element " << i;
      }
      nan_rows += std::isnan(want[i]);
    }
    EXPECT_GE(nan_rows, 9);
  }
}

// Float convolutions (not depthwise) run on the level's float GEMM as a fully connected
// layer per group over their windows: patch embeddings (stride = window, with rows and
// columns left over past the last window), padded 3x3 at strides 1 and 2, dilation, a
// 7x7 stem, 1x1 read in place and 1x1 at stride 2, a 2x2 image with 70 output channels
// (fewer row chunks than tasks: the panels are split over the threads too), 64 input
// channels (several row chunks on a 256 KiB-1 MiB L2), two, three and four groups, and
// a depthwise convolution with a channel multiplier of 2; batch 2, with and without a
// bias, a clamp. 1 and 2 threads within 1e-4 of the reference level and equal bit for
// bit to each other (each output's sum runs in k order in one kernel call, whatever the
// split); the op names the float GEMM.
TEST(FloatFc, ConvolutionsRunOnTheFloatGemm) {
  ScopedEnv off("EDGEQ_XNNPACK", "0");  // the level's float GEMM wherever it runs float FCs
  // in_h, in_w, c, oc, kh, kw, stride_h, stride_w, pads (top, left, bottom, right),
  // dilation, groups, bias
  const FloatConvSpec cases[] = {
      {14, 17, 5, 37, 4, 3, 4, 3, 0, 0, 0, 0, 1, 1, true},   // patch embedding: stride = window
      {14, 17, 5, 37, 4, 3, 4, 3, 1, 1, 1, 1, 1, 1, true},   // padded patch embedding
      {13, 11, 6, 21, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true},   // 3x3, padding 1
      {13, 11, 6, 21, 3, 3, 2, 2, 1, 0, 0, 1, 1, 1, false},  // 3x3, stride 2, uneven padding, no bias
      {15, 12, 4, 19, 3, 3, 1, 1, 2, 2, 2, 2, 2, 1, true},   // 3x3, dilation 2
      {23, 20, 3, 16, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, true},   // 7x7 stem
      {9, 10, 24, 33, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, true},   // 1x1, input rows in place
      {9, 10, 24, 33, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, true},   // 1x1, stride 2
      {2, 2, 48, 70, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true},    // a tiny image: panels split over threads
      {12, 12, 64, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true},  // several row chunks
      {8, 8, 8, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 2, true},     // two groups
      {9, 7, 24, 40, 1, 1, 1, 1, 0, 0, 0, 0, 1, 4, true},    // four groups, 1x1 in place
      {11, 10, 12, 36, 3, 3, 2, 2, 1, 1, 1, 1, 1, 3, false},  // three groups, stride 2
      {7, 8, 6, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 6, true},     // depthwise, multiplier 2
  };
  for (const FloatConvSpec& k : cases) {
    SCOPED_TRACE(testing_graphs::describe(k));
    size_t out_count = 0;
    const Graph g = testing_graphs::float_conv_graph(k, 2, -0.2f, 0.25f, &out_count);
    const std::shared_ptr<const Model> m = load_in_memory(g);
    ASSERT_NE(m, nullptr);
    const std::vector<float> in = random_floats(static_cast<size_t>(2 * k.in_h * k.in_w * k.c), 23, -1.f, 1.f);
    auto run = [&](Session& s) {
      EXPECT_TRUE(s.set_input_f32(0, in.data(), in.size()).ok());
      s.run();
      std::vector<float> out(out_count);
      EXPECT_TRUE(s.get_output_f32(0, out.data(), out.size()).ok());
      return out;
    };
    const std::vector<float> want = run(*session_at(m, "ref"));
    for (kern::Isa isa : levels_with_fgemm()) {
      std::vector<float> one_thread;
      for (int threads : {1, 2}) {
        SCOPED_TRACE(std::string(kern::isa_name(isa)) + " threads " + std::to_string(threads));
        std::unique_ptr<Session> s = session_at(m, kern::isa_name(isa), threads);
        ASSERT_NE(s, nullptr);
        const std::vector<float> got = run(*s);
        expect_close(got, want, "convolution");
        if (threads == 1) one_thread = got;
        expect_same_floats(got, one_thread, "2 threads against 1");
        EXPECT_STREQ(s->op(0).kernel_name(), kern::kernel_set(isa).fgemm.name);
      }
    }
  }
}

// Through the C API: four sessions of a float model hold one packed copy.
TEST(FloatFc, CApiReportsOnePackedCopyForFourSessions) {
  ScopedEnv off("EDGEQ_XNNPACK", "0");  // the best level's float GEMM, on any CPU
  const Graph g = float_net();
  const std::string path = testing::TempDir() + "float_fc_capi.edgeq";
  { ASSERT_NE(load_via_file(g, path), nullptr); }
  edgeq_model* model = nullptr;
  ASSERT_EQ(edgeq_model_load_file(path.c_str(), &model), EDGEQ_OK) << edgeq_last_error();
  const bool has_kernel = kern::kernel_set(kern::best_isa()).fgemm.fn != nullptr;
  std::vector<edgeq_session*> sessions;
  const std::vector<test_models::CapiStats> stats = test_models::capi_session_stats(model, 4, &sessions);
  ASSERT_EQ(stats.size(), 4u);
  if (has_kernel) {
    EXPECT_EQ(stats[0].packed_layers, kFcNodes);
    EXPECT_GE(stats[0].packed_bytes, sizeof(float) * (37 * 24 + 20 * 37 + 9 * 20));
    EXPECT_LT(stats[0].own_bytes, stats[0].packed_bytes);
  }
  test_models::expect_later_sessions_share(stats);
  for (edgeq_session* s : sessions) edgeq_session_destroy(s);
  edgeq_model_release(model);
  std::remove(path.c_str());
}

// ------------------------------------------------------------------ pre-packed files

// Every level's float GEMM kernel has the NR that a pre-packed file packs for it.
TEST(FloatFcPrepacked, LayoutTableEqualsTheRegisteredKernels) {
  for (kern::Isa isa : levels_with_fgemm()) {
    SCOPED_TRACE(kern::isa_name(isa));
    EXPECT_EQ(kern::ffc_pack_nr(isa), kern::kernel_set(isa).fgemm.nr);
  }
  EXPECT_EQ(kern::ffc_pack_nr(kern::Isa::kRef), 0u);
  EXPECT_TRUE(kern::is_ffc_layout(kern::ffc_layout_name(16)));
  EXPECT_FALSE(kern::is_ffc_layout("f32_gemm_ukernel_6x16__fma3"));
}

// float_net() with its float FC panels pre-packed for every level (ARM's too).
Graph prepacked_float_net() {
  Graph g = float_net();
  for (int l = 1; l < static_cast<int>(kern::Isa::kCount); ++l) {
    std::vector<PackedWeights> more;
    EXPECT_TRUE(prepack_float_fc(g, static_cast<kern::Isa>(l), &more).ok());
    for (PackedWeights& pw : more)
      if (std::none_of(g.packed.begin(), g.packed.end(),
                       [&](const PackedWeights& o) { return o.kernel == pw.kernel && o.node == pw.node; }))
        g.packed.push_back(std::move(pw));
  }
  return g;
}


// The outputs of a session on `level`; *status its creation's (error: empty outputs).
std::vector<float> run_level(const std::shared_ptr<const Model>& m, const std::string& level, const std::vector<float>& x,
                             Status* status = nullptr) {
  SessionOptions o;
  o.isa = level;
  std::unique_ptr<Session> s;
  const Status st = Session::create(m, o, &s);
  if (status != nullptr) *status = st;
  if (!st.ok()) return {};
  return run_session(*s, x);
}

// Used in place: the same outputs, bit for bit, as the layers packed at session
// creation, and nothing packed or allocated for them.
TEST(FloatFcPrepacked, UsedInPlaceWithTheSameOutputs) {
  ScopedEnv off("EDGEQ_XNNPACK", "0");
  const auto levels = levels_with_fgemm();
  if (levels.empty()) GTEST_SKIP() << "no level with a float GEMM kernel on this host";
  const Graph g = prepacked_float_net();
  EXPECT_EQ(g.packed.size(), kFcNodes * 3);  // panels of 16 (avx2, avxvnni), 32, 8 (neon*)
  const std::vector<float> x = random_floats(kIn, 12, -1.f, 1.f);
  for (kern::Isa isa : levels) {
    SCOPED_TRACE(kern::isa_name(isa));
    std::shared_ptr<const Model> plain = load_in_memory(float_net()), packed = load_in_memory(g);
    ASSERT_NE(packed, nullptr);
    EXPECT_TRUE(packed->notes().empty());
    EXPECT_GT(packed->prepacked_bytes(), 0u);
    const std::vector<float> want = run_level(plain, kern::isa_name(isa), x);
    expect_same_floats(run_level(packed, kern::isa_name(isa), x), want, "pre-packed");
    EXPECT_EQ(plain->pack_cache().builds(), kFcNodes);
    EXPECT_GT(plain->pack_cache().heap_bytes(), 0u);
    EXPECT_EQ(packed->pack_cache().builds(), kFcNodes);  // entries, wrapping the file's bytes
    EXPECT_EQ(packed->pack_cache().heap_bytes(), 0u);
  }
  // The reference level ignores them.
  std::shared_ptr<const Model> m = load_in_memory(g);
  const std::vector<float> x2 = random_floats(kIn, 13, -1.f, 1.f);
  expect_same_floats(run_level(m, "ref", x2), run_level(load_in_memory(float_net()), "ref", x2), "reference level");
}

// Another layout version is ignored with a note (its bytes would change the outputs).
TEST(FloatFcPrepacked, OtherLayoutVersionIsIgnoredWithANote) {
  ScopedEnv off("EDGEQ_XNNPACK", "0");
  const auto levels = levels_with_fgemm();
  if (levels.empty()) GTEST_SKIP() << "no level with a float GEMM kernel on this host";
  Graph g = prepacked_float_net();
  for (PackedWeights& pw : g.packed) {
    pw.layout += 1;
    auto junk = std::make_shared<std::vector<uint8_t>>(pw.nbytes + 64, 0x5a);
    pw.data = junk->data() + (64 - reinterpret_cast<uintptr_t>(junk->data()) % 64) % 64;
    pw.owner = junk;
  }
  std::shared_ptr<const Model> m = load_in_memory(g);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->notes().size(), g.packed.size());
  EXPECT_NE(m->notes()[0].find("layout version"), std::string::npos) << m->notes()[0];
  EXPECT_EQ(m->prepacked_bytes(), 0u);
  const std::vector<float> x = random_floats(kIn, 14, -1.f, 1.f);
  const std::string level = kern::isa_name(levels.back());
  expect_same_floats(run_level(m, level, x), run_level(load_in_memory(float_net()), level, x), "version ignored");
}

// A segment whose size is not the layout's: an error naming the node at session
// creation on a level that reads it; the reference level runs.
TEST(FloatFcPrepacked, WrongSizeIsAnErrorNamingTheNode) {
  ScopedEnv off("EDGEQ_XNNPACK", "0");
  const auto levels = levels_with_fgemm();
  if (levels.empty()) GTEST_SKIP() << "no level with a float GEMM kernel on this host";
  const kern::Isa isa = levels.back();
  const std::string layout = kern::ffc_layout_name(kern::kernel_set(isa).fgemm.nr);
  for (int64_t delta : {-64, 64}) {
    SCOPED_TRACE(delta);
    Graph g = prepacked_float_net();
    auto it = std::find_if(g.packed.begin(), g.packed.end(), [&](const PackedWeights& pw) {
      return pw.kernel == layout && g.nodes[pw.node].name == "fc2";
    });
    ASSERT_NE(it, g.packed.end());
    test_models::resize_segment(&*it, delta);
    std::shared_ptr<const Model> m = load_in_memory(g);
    ASSERT_NE(m, nullptr);
    const std::vector<float> x = random_floats(kIn, 15, -1.f, 1.f);
    Status st;
    run_level(m, kern::isa_name(isa), x, &st);
    EXPECT_EQ(st.code(), StatusCode::kInvalidModel);
    EXPECT_NE(st.message().find("'fc2'"), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("pre-packed"), std::string::npos) << st.message();
    Status ref_status;
    EXPECT_FALSE(run_level(m, "ref", x, &ref_status).empty());
    EXPECT_TRUE(ref_status.ok()) << ref_status.message();
  }
}

// A grouped convolution's pre-packed segment (the groups' panels one after another,
// each from a 64-byte boundary): used in place with the same outputs bit for bit; one of
// the wrong size is an error naming the node.
TEST(FloatFcPrepacked, GroupedConvolutionInPlace) {
  ScopedEnv off("EDGEQ_XNNPACK", "0");
  const auto levels = levels_with_fgemm();
  if (levels.empty()) GTEST_SKIP() << "no level with a float GEMM kernel on this host";
  const FloatConvSpec k{9, 8, 15, 21, 3, 3, 1, 1, 1, 1, 1, 1, 1, 3, true};
  size_t out_count = 0;
  const Graph plain = testing_graphs::float_conv_graph(k, 1, -0.2f, 0.25f, &out_count);
  const std::vector<float> in = random_floats(static_cast<size_t>(k.in_h * k.in_w * k.c), 41, -1.f, 1.f);
  auto run = [&](const std::shared_ptr<const Model>& m, const std::string& level, Status* st) {
    SessionOptions o;
    o.isa = level;
    std::unique_ptr<Session> s;
    *st = Session::create(m, o, &s);
    std::vector<float> out(out_count);
    if (!st->ok()) return out;
    EXPECT_TRUE(s->set_input_f32(0, in.data(), in.size()).ok());
    s->run();
    EXPECT_TRUE(s->get_output_f32(0, out.data(), out.size()).ok());
    return out;
  };
  for (kern::Isa isa : levels) {
    SCOPED_TRACE(kern::isa_name(isa));
    Graph packed = plain;
    ASSERT_TRUE(prepack_float_fc(packed, isa, &packed.packed).ok());
    ASSERT_EQ(packed.packed.size(), 1u);
    std::shared_ptr<const Model> a = load_in_memory(plain), b = load_in_memory(packed);
    ASSERT_NE(b, nullptr);
    EXPECT_TRUE(b->notes().empty());
    Status st;
    const std::vector<float> want = run(a, kern::isa_name(isa), &st);
    ASSERT_TRUE(st.ok()) << st.message();
    expect_same_floats(run(b, kern::isa_name(isa), &st), want, "pre-packed");
    ASSERT_TRUE(st.ok()) << st.message();
    EXPECT_EQ(b->pack_cache().heap_bytes(), 0u);
    EXPECT_GT(a->pack_cache().heap_bytes(), 0u);
    test_models::resize_segment(&packed.packed[0], -64);
    std::shared_ptr<const Model> bad = load_in_memory(packed);
    ASSERT_NE(bad, nullptr);
    run(bad, kern::isa_name(isa), &st);
    EXPECT_EQ(st.code(), StatusCode::kInvalidModel);
    EXPECT_NE(st.message().find("'conv'"), std::string::npos) << st.message();
  }
}

}  // namespace
}  // namespace edgeq
