// Float depthwise convolutions on kern::FDwConvOp (kernels/fdwconv.h,
// runtime/ops/float_dw.cc), their packed weights the model's.
// Checked here, with XNNPACK off (EDGEQ_XNNPACK=0) so that every level with a float GEMM
// runs them on its own microkernel: windows 3x3 (stride 1 and 2), 5x5 (the unrolled
// instances), 2x4 with dilation 2 and 9x9 (81 taps: more than one call per pixel),
// padding on every side, channel counts that leave every tail (1, 7, 20 and 83
// channels against tiles of 4 / 16, 8 / 32 and 16 / 64), batch 2, with and without a
// bias, a clamp: within 1e-4 of the output's scale of the reference level, 1 and 2
// threads equal bit for bit, NaN and infinities where the reference has them; the op
// names the level's microkernel. Four sessions of a model pack each node once (and,
// through the C API, a model of a convolution, a depthwise and a grouped convolution
// holds one packed copy for four sessions on the default float path); a
// pre-packed file's segments are used in place with the same outputs, and one of the
// wrong size is an error naming the node.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "edgeq/edgeq.h"
#include "kernels/fdwconv.h"
#include "kernels/kernels.h"
#include "runtime/ops/ops.h"
#include "runtime/session.h"
#include "test/float_conv_graphs.h"
#include "test/model_helpers.h"
#include "test/scoped_env.h"
#include "test/test_graphs.h"

namespace edgeq {
namespace {

using test_models::expect_same_floats;
using test_models::load_in_memory;
using test_models::session_at;
using testing_env::ScopedEnv;
using testing_graphs::FloatConvSpec;
using testing_graphs::levels_with_fgemm;
using testing_graphs::random_floats;

// A depthwise spec: groups = in_c = out_c = c, stride in both directions.
FloatConvSpec dw(int32_t in_h, int32_t in_w, int32_t c, int32_t kh, int32_t kw, int32_t stride, int32_t pad_top,
                 int32_t pad_left, int32_t pad_bottom, int32_t pad_right, int32_t dilation, bool bias) {
  return FloatConvSpec{in_h,    in_w,     c,          c,         kh,       kw, stride, stride,
                       pad_top, pad_left, pad_bottom, pad_right, dilation, c,  bias};
}

Graph dw_graph(const FloatConvSpec& k, int32_t batch, size_t* out_count) {
  return testing_graphs::float_conv_graph(k, batch, -0.3f, 0.35f, out_count);
}

std::vector<float> run(Session& s, const std::vector<float>& in, size_t out_count) {
  EXPECT_TRUE(s.set_input_f32(0, in.data(), in.size()).ok());
  s.run();
  std::vector<float> out(out_count);
  EXPECT_TRUE(s.get_output_f32(0, out.data(), out.size()).ok());
  return out;
}

// Within 1e-4 of the largest |want|; NaN where want has NaN, the same infinity.
void expect_close(const std::vector<float>& got, const std::vector<float>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  double scale = 0.0;
  for (float v : want)
    if (std::isfinite(v)) scale = std::max(scale, std::fabs(double{v}));
  int failures = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const bool ok = std::isnan(want[i])   ? std::isnan(got[i])
                    : std::isinf(want[i]) ? got[i] == want[i]
                                          : std::fabs(double{got[i]} - want[i]) <= 1e-4 * scale;
    if (!ok && failures++ < 5) ADD_FAILURE() << what << ": element " << i << " got " << got[i] << " want " << want[i];
  }
  EXPECT_EQ(failures, 0) << what;
}

const char* level_kernel_name(kern::Isa isa) {
  const kern::FDwKernel& k = kern::kernel_set(isa).fdw;
  return k.fn != nullptr ? k.name : kern::fdw_kernel_portable().name;
}

TEST(FloatDw, AgreesWithTheReferenceOnEveryLevel) {
  ScopedEnv off("EDGEQ_XNNPACK", "0");
  const auto levels = levels_with_fgemm();
  if (levels.empty()) GTEST_SKIP() << "no level with a float GEMM kernel on this host";
  // in_h, in_w, c, kh, kw, stride, pads (top, left, bottom, right), dilation, bias
  const FloatConvSpec cases[] = {
      dw(12, 13, 83, 3, 3, 1, 1, 1, 1, 1, 1, true),  // 3x3: every tail of every tile
      dw(11, 14, 20, 3, 3, 2, 1, 1, 0, 1, 1, true),  // stride 2, uneven padding
      dw(10, 9, 7, 5, 5, 1, 2, 2, 2, 2, 1, false),   // 5x5, no bias
      dw(13, 12, 37, 5, 5, 2, 2, 1, 2, 2, 1, true),  // 5x5, stride 2
      dw(9, 11, 16, 2, 4, 1, 1, 3, 2, 0, 2, true),   // 2x4, dilation 2
      dw(12, 12, 20, 9, 9, 1, 4, 4, 4, 4, 1, true),  // 81 taps: two calls a pixel
      dw(5, 6, 1, 3, 3, 1, 1, 1, 1, 1, 1, true),     // one channel
      dw(4, 3, 64, 3, 3, 1, 3, 3, 3, 3, 1, true),    // pixels with no tap inside
  };
  for (const FloatConvSpec& k : cases) {
    SCOPED_TRACE(testing_graphs::describe(k));
    size_t out_count = 0;
    const std::shared_ptr<const Model> m = load_in_memory(dw_graph(k, 2, &out_count));
    ASSERT_NE(m, nullptr);
    const std::vector<float> in = random_floats(static_cast<size_t>(2 * k.in_h * k.in_w * k.c), 33, -1.f, 1.f);
    const std::vector<float> want = run(*session_at(m, "ref"), in, out_count);
    for (kern::Isa isa : levels) {
      std::vector<float> one_thread;
      for (int threads : {1, 2}) {
        SCOPED_TRACE(std::string(kern::isa_name(isa)) + " threads " + std::to_string(threads));
        std::unique_ptr<Session> s = session_at(m, kern::isa_name(isa), threads);
        ASSERT_NE(s, nullptr);
        // One channel is also a convolution of one group: the float GEMM's.
        EXPECT_STREQ(s->op(0).kernel_name(), k.c == 1 ? kern::kernel_set(isa).fgemm.name : level_kernel_name(isa));
        const std::vector<float> got = run(*s, in, out_count);
        expect_close(got, want, "depthwise");
        if (threads == 1) one_thread = got;
        expect_same_floats(got, one_thread, "2 threads against 1");
      }
    }
  }
}

TEST(FloatDw, PropagatesNanAndInfinityAsTheReference) {
  ScopedEnv off("EDGEQ_XNNPACK", "0");
  const FloatConvSpec k = dw(8, 9, 41, 3, 3, 1, 1, 1, 1, 1, 1, true);
  size_t out_count = 0;
  const std::shared_ptr<const Model> m = load_in_memory(dw_graph(k, 1, &out_count));
  ASSERT_NE(m, nullptr);
  std::vector<float> in = random_floats(static_cast<size_t>(k.in_h * k.in_w * k.c), 34, -1.f, 1.f);
  in[(2 * k.in_w + 3) * k.c + 5] = std::numeric_limits<float>::quiet_NaN();
  in[(6 * k.in_w + 0) * k.c + 40] = std::numeric_limits<float>::infinity();
  in[(0 * k.in_w + 8) * k.c + 17] = -std::numeric_limits<float>::infinity();
  const std::vector<float> want = run(*session_at(m, "ref"), in, out_count);
  size_t non_finite = 0;
  for (float v : want) non_finite += !std::isfinite(v);
  ASSERT_GE(non_finite, 9u);
  for (kern::Isa isa : levels_with_fgemm()) {
    SCOPED_TRACE(kern::isa_name(isa));
    expect_close(run(*session_at(m, kern::isa_name(isa)), in, out_count), want, "non-finite inputs");
  }
}

// Four sessions pack each node once (the model's PackCache), and the reference level
// still reads the raw weights.
TEST(FloatDw, FourSessionsPackOnce) {
  ScopedEnv off("EDGEQ_XNNPACK", "0");
  const auto levels = levels_with_fgemm();
  if (levels.empty()) GTEST_SKIP() << "no level with a float GEMM kernel on this host";
  const FloatConvSpec k = dw(10, 10, 24, 3, 3, 1, 1, 1, 1, 1, 1, true);
  size_t out_count = 0;
  const Graph g = dw_graph(k, 1, &out_count);
  const std::string path = testing::TempDir() + "float_dw_sessions.edgeq";
  std::shared_ptr<const Model> m = test_models::load_via_file(g, path);
  ASSERT_NE(m, nullptr);
  const std::vector<float> in = random_floats(static_cast<size_t>(k.in_h * k.in_w * k.c), 35, -1.f, 1.f);
  const std::vector<float> want = run(*session_at(m, "ref"), in, out_count);
  std::vector<std::unique_ptr<Session>> sessions;
  for (int i = 0; i < 4; ++i) {
    sessions.push_back(session_at(m, kern::isa_name(levels.back()), i % 2 + 1));
    ASSERT_NE(sessions.back(), nullptr);
    EXPECT_EQ(m->pack_cache().builds(), 1u) << "session " << i;
    EXPECT_EQ(m->pack_cache().heap_bytes(), kern::FDwPacked::packed_bytes(k.c, 9)) << "session " << i;
    expect_close(run(*sessions.back(), in, out_count), want, "session " + std::to_string(i));
  }
  expect_same_floats(run(*session_at(m, "ref"), in, out_count), want, "reference level after packing");
  std::remove(path.c_str());
}

// prepack_float_dw: the segment is used in place (nothing packed at run time) with the
// same outputs; one of the wrong size is an error naming the node on a level that reads
// it, and the reference level runs.
TEST(FloatDw, PrepackedSegmentInPlaceAndWrongSizeRefused) {
  ScopedEnv off("EDGEQ_XNNPACK", "0");
  const auto levels = levels_with_fgemm();
  if (levels.empty()) GTEST_SKIP() << "no level with a float GEMM kernel on this host";
  const FloatConvSpec k = dw(9, 7, 19, 5, 5, 1, 2, 2, 2, 2, 1, true);
  size_t out_count = 0;
  const Graph plain = dw_graph(k, 1, &out_count);
  Graph packed = plain;
  ASSERT_TRUE(prepack_float_dw(packed, &packed.packed).ok());
  ASSERT_EQ(packed.packed.size(), 1u);
  EXPECT_EQ(packed.packed[0].kernel, kern::kFDwLayoutName);
  const std::vector<float> in = random_floats(static_cast<size_t>(k.in_h * k.in_w * k.c), 36, -1.f, 1.f);
  const std::string level = kern::isa_name(levels.back());
  std::shared_ptr<const Model> a = load_in_memory(plain), b = load_in_memory(packed);
  ASSERT_NE(b, nullptr);
  EXPECT_TRUE(b->notes().empty());
  expect_same_floats(run(*session_at(b, level), in, out_count), run(*session_at(a, level), in, out_count),
                     "pre-packed");
  EXPECT_EQ(b->pack_cache().heap_bytes(), 0u);
  EXPECT_GT(a->pack_cache().heap_bytes(), 0u);
  for (int64_t delta : {-64, 64}) {
    SCOPED_TRACE(delta);
    Graph bad = packed;
    test_models::resize_segment(&bad.packed[0], delta);
    std::shared_ptr<const Model> m = load_in_memory(bad);
    ASSERT_NE(m, nullptr);
    SessionOptions o;
    o.isa = level;
    std::unique_ptr<Session> s;
    const Status st = Session::create(m, o, &s);
    EXPECT_EQ(st.code(), StatusCode::kInvalidModel);
    EXPECT_NE(st.message().find("'conv'"), std::string::npos) << st.message();
    EXPECT_NE(session_at(m, "ref"), nullptr);
  }
}

// Through the C API, with the default float path: four sessions of a float model with
// a convolution, a depthwise convolution and a grouped convolution hold one packed copy
// (three packed layers) where the best level runs float layers on edgeq's kernels.
TEST(FloatDw, CApiReportsOnePackedCopyForFourSessions) {
  size_t count = 0;
  Graph g = testing_graphs::float_conv_graph({10, 9, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true}, 1, -1.f, 1.f, &count);
  // conv [1,10,9,16] -> depthwise 3x3 -> grouped 1x1 (4 groups) -> y
  const int32_t mid = g.outputs[0];
  const int32_t dw_w = g.add_tensor(testing_graphs::float_const("dw_w", {16, 3, 3, 1}, 51));
  const int32_t dw_y = g.add_tensor(testing_graphs::make_tensor("dw_y", DType::kF32, {1, 10, 9, 16}));
  Node dwn = testing_graphs::make_node("dw", OpType::kConv2D, {mid, dw_w}, {dw_y});
  dwn.attrs.kernel_h = dwn.attrs.kernel_w = 3;
  dwn.attrs.pad_top = dwn.attrs.pad_left = dwn.attrs.pad_bottom = dwn.attrs.pad_right = 1;
  dwn.attrs.groups = 16;
  g.nodes.push_back(dwn);
  const int32_t gw = g.add_tensor(testing_graphs::float_const("g_w", {12, 1, 1, 4}, 52));
  const int32_t y = g.add_tensor(testing_graphs::make_tensor("y2", DType::kF32, {1, 10, 9, 12}));
  Node grouped = testing_graphs::make_node("grouped", OpType::kConv2D, {dw_y, gw}, {y});
  grouped.attrs.groups = 4;
  g.nodes.push_back(grouped);
  g.outputs = {y};
  const std::string path = testing::TempDir() + "float_conv_capi.edgeq";
  { ASSERT_NE(test_models::load_via_file(g, path), nullptr); }
  edgeq_model* model = nullptr;
  ASSERT_EQ(edgeq_model_load_file(path.c_str(), &model), EDGEQ_OK) << edgeq_last_error();
  const kern::KernelSet& best = kern::kernel_set(kern::best_isa());
  const bool own = best.fgemm.fn != nullptr;
  std::vector<edgeq_session*> sessions;
  const std::vector<test_models::CapiStats> stats = test_models::capi_session_stats(model, 4, &sessions);
  ASSERT_EQ(stats.size(), 4u);
  if (own) {
    EXPECT_EQ(stats[0].packed_layers, 3u);
    // Panels of the first convolution, the depthwise taps and bias, the grouped panels.
    EXPECT_GE(stats[0].packed_bytes, sizeof(float) * (16 * 72 + 17 * 9 + 12 * 4));
    EXPECT_EQ(stats[0].own_bytes, 0u);
  }
  test_models::expect_later_sessions_share(stats);
  if (!own) std::printf("the best level leaves float layers to XNNPACK here: only the sharing is checked\n");
  for (edgeq_session* s : sessions) edgeq_session_destroy(s);
  edgeq_model_release(model);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace edgeq
