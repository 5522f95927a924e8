// Packed weights owned by the model: one packed copy per (node, kernel layout) shared by
// every session of a model on any thread, pre-packed files (edgeq pack / convert
// --pack; GEMM and depthwise weights) used in place, and what happens with pre-packed
// segments that do not fit.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "edgeq/edgeq.h"
#include "graph/format.h"
#include "kernels/dw_pack_layout.h"
#include "kernels/gemm_pick.h"
#include "kernels/memory.h"
#include "kernels/pack_layout.h"
#include "kernels/qdwconv.h"
#include "runtime/ops/ops.h"
#include "runtime/session.h"
#include "test/model_helpers.h"
#include "test/test_graphs.h"

namespace edgeq {
namespace {

using testing_graphs::bytes_of;
using testing_graphs::make_node;
using testing_graphs::make_tensor;

// s8 x[1,12,12,16] -Conv3x3 pad 1-> [1,12,12,40] -depthwise 3x3 pad 1-> -GAP-> -Reshape->
// [1,40] -FC-> y[1,10]: every driver that packs (GEMM conv, depthwise, GEMM fully
// connected), channel counts that leave partial blocks at every level. The conv's
// weights lie in [-127, 127] and the fc's hold a -128, so on levels with a kernel for
// weights in [-127, 127] (neon) the two nodes pick different kernels and layouts.
Graph pack_net() {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> w8(-127, 127);
  auto weights = [&](const std::string& name, std::vector<int32_t> shape, bool with_min = false) {
    Tensor t = make_tensor(name, DType::kS8, shape, 0.01f, 0);
    std::vector<int8_t> v(static_cast<size_t>(t.num_elements()));
    for (auto& e : v) e = static_cast<int8_t>(w8(rng));
    if (with_min) v[v.size() / 3] = -128;
    t.set_data(bytes_of(v));
    return t;
  };
  auto bias = [&](const std::string& name, int32_t n) {
    Tensor t = make_tensor(name, DType::kS32, {n});
    std::vector<int32_t> v(static_cast<size_t>(n));
    for (auto& e : v) e = w8(rng) * 20;
    t.set_data(bytes_of(v));
    return t;
  };
  const DType q = DType::kS8;
  Graph g;
  g.producer = "test";
  const int32_t x = g.add_tensor(make_tensor("x", q, {1, 12, 12, 16}, 0.02f, 3));
  const int32_t w1 = g.add_tensor(weights("conv_w", {40, 3, 3, 16})), b1 = g.add_tensor(bias("conv_b", 40));
  const int32_t c1 = g.add_tensor(make_tensor("conv_out", q, {1, 12, 12, 40}, 0.2f, -5));
  Node conv = make_node("conv", OpType::kConv2D, {x, w1, b1}, {c1});
  conv.attrs.pad_top = conv.attrs.pad_left = conv.attrs.pad_bottom = conv.attrs.pad_right = 1;
  g.nodes.push_back(conv);
  const int32_t w2 = g.add_tensor(weights("dw_w", {40, 3, 3, 1})), b2 = g.add_tensor(bias("dw_b", 40));
  const int32_t c2 = g.add_tensor(make_tensor("dw_out", q, {1, 12, 12, 40}, 0.1f, 2));
  Node dw = make_node("dw", OpType::kConv2D, {c1, w2, b2}, {c2});
  dw.attrs.pad_top = dw.attrs.pad_left = dw.attrs.pad_bottom = dw.attrs.pad_right = 1;
  dw.attrs.groups = 40;
  g.nodes.push_back(dw);
  const int32_t gp = g.add_tensor(make_tensor("gap_out", q, {1, 1, 1, 40}, 0.05f, 0));
  g.nodes.push_back(make_node("gap", OpType::kGlobalAvgPool, {c2}, {gp}));
  const int32_t fl = g.add_tensor(make_tensor("flat", q, {1, 40}, 0.05f, 0));
  g.nodes.push_back(make_node("flatten", OpType::kReshape, {gp}, {fl}));
  const int32_t w3 = g.add_tensor(weights("fc_w", {10, 40}, true)), b3 = g.add_tensor(bias("fc_b", 10));
  const int32_t y = g.add_tensor(make_tensor("y", q, {1, 10}, 0.1f, 1));
  g.nodes.push_back(make_node("fc", OpType::kFullyConnected, {fl, w3, b3}, {y}));
  g.inputs = {x};
  g.outputs = {y};
  return g;
}

std::vector<uint8_t> serialize(const Graph& g) {
  std::vector<uint8_t> bytes;
  const Status s = serialize_graph(g, &bytes);
  EXPECT_TRUE(s.ok()) << s.message();
  return bytes;
}

Status load(const std::vector<uint8_t>& file, std::shared_ptr<const Model>* m) {
  return Model::load_memory(file.data(), file.size(), m);
}

using test_models::optimized_levels;

const std::vector<int8_t>& input() {
  static const std::vector<int8_t> x = [] {
    std::mt19937 rng(3);
    std::vector<int8_t> v(12 * 12 * 16);
    for (auto& e : v) e = static_cast<int8_t>(static_cast<int>(rng() % 256) - 128);
    return v;
  }();
  return x;
}

// The output of a session on `level` (Status error: empty).
std::vector<int8_t> run(const std::shared_ptr<const Model>& m, const std::string& level, Status* status = nullptr) {
  SessionOptions o;
  o.isa = level;
  std::unique_ptr<Session> s;
  const Status st = Session::create(m, o, &s);
  if (status) *status = st;
  if (!st.ok()) return {};
  EXPECT_TRUE(s->set_input_raw(0, input().data(), input().size()).ok());
  s->run();
  std::vector<int8_t> y(10);
  EXPECT_TRUE(s->get_output_raw(0, y.data(), y.size()).ok());
  return y;
}

// The reference level's output, from a model of its own.
std::vector<int8_t> reference_output() {
  std::shared_ptr<const Model> m;
  EXPECT_TRUE(load(serialize(pack_net()), &m).ok());
  return run(m, "ref");
}

// The graph with weights pre-packed for `levels`' layouts, GEMM and depthwise (a
// depthwise layout shared by two levels, neondot's and neoni8mm's, once).
Graph prepacked(const std::vector<kern::Isa>& levels) {
  Graph g = pack_net();
  for (kern::Isa isa : levels) {
    for (const kern::QGemmKernel& layout : kern::gemm_pack_layouts(isa))
      EXPECT_TRUE(prepack_gemm(g, layout, &g.packed).ok());
    std::vector<PackedWeights> dw;
    EXPECT_TRUE(prepack_depthwise(g, isa, &dw).ok());
    for (PackedWeights& pw : dw)
      if (std::none_of(g.packed.begin(), g.packed.end(), [&](const PackedWeights& o) { return o.kernel == pw.kernel; }))
        g.packed.push_back(std::move(pw));
  }
  return g;
}

// The depthwise segment of the kernel a session on `isa` runs the dw node with.
bool is_level_dw_segment(const PackedWeights& pw, kern::Isa isa) {
  const kern::DwKernel* k = kern::pick_dw_kernel(kern::kernel_set(isa).dw, 40);
  return k != nullptr && pw.kernel == k->name;
}

TEST(PackLayout, TableEqualsTheRegisteredKernels) {
  for (int l = 1; l < static_cast<int>(kern::Isa::kCount); ++l) {
    const kern::Isa isa = static_cast<kern::Isa>(l);
    const std::vector<kern::QGemmKernel> layouts = kern::gemm_pack_layouts(isa);
    EXPECT_FALSE(layouts.empty()) << kern::isa_name(isa);
    if (!kern::isa_supported(isa)) continue;
    // The exact kernel and, where the level has one, its kernel for weights in [-127, 127].
    for (const kern::QGemmKernel* k : {&kern::kernel_set(isa).gemm, &kern::kernel_set(isa).gemm_w127}) {
      if (k->u8 == nullptr) continue;
      int found = 0;
      for (const kern::QGemmKernel& p : layouts) {
        if (std::string(p.name) != k->name) continue;
        ++found;
        EXPECT_STREQ(p.name_s8, k->name_s8);
        EXPECT_EQ(p.mr, k->mr);
        EXPECT_EQ(p.nr, k->nr);
        EXPECT_EQ(p.kr, k->kr);
        EXPECT_EQ(p.s8_act_offset, k->s8_act_offset);
        EXPECT_EQ(p.u8_act_offset, k->u8_act_offset);
        EXPECT_EQ(p.wide_weights, k->wide_weights);
        EXPECT_EQ(p.w127_only, k->w127_only);
        EXPECT_STREQ(p.w127_name ? p.w127_name : "", k->w127_name ? k->w127_name : "");
      }
      EXPECT_EQ(found, 1) << kern::isa_name(isa) << ": no layout named " << k->name;
    }
  }
}

TEST(PackLayout, DepthwiseTableEqualsTheRegisteredKernels) {
  for (int l = 1; l < static_cast<int>(kern::Isa::kCount); ++l) {
    const kern::Isa isa = static_cast<kern::Isa>(l);
    const kern::DwKernels layouts = kern::dw_pack_layouts(isa);
    EXPECT_NE(layouts.kernel[0].name, nullptr) << kern::isa_name(isa);
    if (!kern::isa_supported(isa)) continue;
    const kern::DwKernels& set = kern::kernel_set(isa).dw;
    for (int i = 0; i < kern::DwKernels::kMax; ++i) {
      SCOPED_TRACE(std::string(kern::isa_name(isa)) + " kernel " + std::to_string(i));
      const kern::DwKernel &p = layouts.kernel[i], &k = set.kernel[i];
      EXPECT_STREQ(p.name ? p.name : "", k.name ? k.name : "");
      EXPECT_EQ(p.tile, k.tile);
      if (k.tile == 0) continue;
      EXPECT_EQ(p.group, k.group);
      EXPECT_EQ(p.s8_act_offset, k.s8_act_offset);
      EXPECT_EQ(p.u8_act_offset, k.u8_act_offset);
      EXPECT_EQ(p.tile_cost, k.tile_cost);
      EXPECT_TRUE(std::equal(p.order, p.order + p.tile, k.order));
    }
    // Both pick the same kernel for every channel count.
    for (int32_t c = 1; c <= 200; ++c)
      EXPECT_STREQ(kern::pick_dw_kernel(layouts, c)->name, kern::pick_dw_kernel(set, c)->name) << c << " channels";
  }
}

// Four sessions of one model hold one packed copy: the model's packed bytes do not
// grow after the first session, and each session's own bytes are a small part.
TEST(SharedPacking, FourSessionsHoldOnePackedCopy) {
  const std::vector<std::string> levels = optimized_levels();
  if (levels.empty()) GTEST_SKIP() << "no optimized level on this host";
  const std::vector<uint8_t> file = serialize(pack_net());
  const std::vector<int8_t> want = reference_output();
  edgeq_model* model = nullptr;
  ASSERT_EQ(edgeq_model_load_memory(file.data(), file.size(), &model), EDGEQ_OK);
  edgeq_model_stats ms;
  ms.struct_size = sizeof(ms);
  ASSERT_EQ(edgeq_model_get_stats(model, &ms), EDGEQ_OK);
  EXPECT_EQ(ms.packed_bytes, 0u);
  EXPECT_EQ(ms.packed_layers, 0u);
  EXPECT_EQ(ms.file_bytes, file.size());
  edgeq_session* sessions[4] = {};
  size_t after_first = 0, own = 0;
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(edgeq_session_create(model, nullptr, &sessions[i]), EDGEQ_OK) << edgeq_last_error();
    ASSERT_EQ(edgeq_model_get_stats(model, &ms), EDGEQ_OK);
    if (i == 0) after_first = ms.packed_bytes;
    EXPECT_EQ(ms.packed_bytes, after_first) << "session " << i;
    EXPECT_EQ(ms.packed_layers, 3u) << "session " << i;  // conv, depthwise, fc
    edgeq_session_stats ss;
    ss.struct_size = sizeof(ss);
    ASSERT_EQ(edgeq_session_get_stats(sessions[i], &ss), EDGEQ_OK);
    EXPECT_GT(ss.create_seconds, 0.0);
    EXPECT_EQ(ss.arena_bytes, edgeq_session_arena_bytes(sessions[i]));
    // Beside the arena only the conv's tile offsets (taps x mr, mr at most 32), the fc's
    // one tile of pointers (1 x mr) and, on levels that flip an int8 input once, a
    // flipped zero buffer per GEMM node (its K rounded up plus 64 bytes of slack): the
    // others are built per task on the stack.
    EXPECT_GT(ss.own_bytes, 0u) << "session " << i;
    EXPECT_LE(ss.own_bytes, (9u + 1) * 32 * sizeof(ptrdiff_t) + 2 * 192) << "session " << i;
    if (i > 0) {
      EXPECT_EQ(ss.own_bytes, own) << "session " << i;
    }
    own = ss.own_bytes;
  }
  // The conv's weights alone, packed: at least 40 x 144 bytes.
  EXPECT_GE(after_first, 40u * 144u);
  for (edgeq_session* s : sessions) {
    std::vector<int8_t> y(10);
    ASSERT_EQ(edgeq_session_set_input_raw(s, 0, input().data(), input().size()), EDGEQ_OK);
    ASSERT_EQ(edgeq_session_run(s), EDGEQ_OK);
    ASSERT_EQ(edgeq_session_get_output_raw(s, 0, y.data(), y.size()), EDGEQ_OK);
    EXPECT_EQ(y, want);
  }
  // The packed data outlives the sessions that used it; a new session still shares it.
  for (edgeq_session* s : sessions) edgeq_session_destroy(s);
  edgeq_session* again = nullptr;
  ASSERT_EQ(edgeq_session_create(model, nullptr, &again), EDGEQ_OK);
  ASSERT_EQ(edgeq_model_get_stats(model, &ms), EDGEQ_OK);
  EXPECT_EQ(ms.packed_bytes, after_first);
  edgeq_session_destroy(again);
  edgeq_model_release(model);

  edgeq_model_stats bad;
  bad.struct_size = 3;
  EXPECT_EQ(edgeq_model_get_stats(nullptr, &bad), EDGEQ_INVALID_ARGUMENT);
}

// Sessions on every level, created at the same time from many threads, each run a few
// times: every level's data is packed once, every output equals the reference.
TEST(SharedPacking, ConcurrentSessionsOnEveryLevel) {
  std::vector<std::string> levels = optimized_levels();
  levels.push_back("ref");
  const std::vector<int8_t> want = reference_output();
  std::shared_ptr<const Model> m;
  ASSERT_TRUE(load(serialize(pack_net()), &m).ok());
  constexpr int kPerLevel = 4;
  std::vector<std::thread> threads;
  std::vector<int> bad(levels.size() * kPerLevel, 0);
  for (size_t l = 0; l < levels.size(); ++l)
    for (int t = 0; t < kPerLevel; ++t)
      threads.emplace_back([&, l, t] {
        SessionOptions o;
        o.isa = levels[l];
        o.num_threads = t % 2 + 1;
        std::unique_ptr<Session> s;
        int& b = bad[l * kPerLevel + t];
        if (!Session::create(m, o, &s).ok()) {
          b = -1;
          return;
        }
        for (int r = 0; r < 5; ++r) {
          std::vector<int8_t> y(10);
          if (!s->set_input_raw(0, input().data(), input().size()).ok()) ++b;
          s->run();
          if (!s->get_output_raw(0, y.data(), y.size()).ok() || y != want) ++b;
        }
      });
  for (auto& th : threads) th.join();
  for (size_t i = 0; i < bad.size(); ++i) EXPECT_EQ(bad[i], 0) << levels[i / kPerLevel] << " #" << i % kPerLevel;
  // One build for each distinct (node, kernel) the levels use: levels may share a
  // kernel (and its layout) for some nodes, e.g. a depthwise kernel on ARM.
  const size_t builds = m->pack_cache().builds();
  std::set<std::pair<size_t, std::string>> distinct;
  for (const std::string& level : levels) {
    if (level == "ref") continue;
    SessionOptions o;
    o.isa = level;
    std::unique_ptr<Session> s;
    ASSERT_TRUE(Session::create(m, o, &s).ok());
    for (size_t i = 0; i < m->graph().nodes.size(); ++i)
      if (op_has(m->graph().nodes[i].op, kOpWeights) && std::string(s->op(i).kernel_name()) != "ref")
        distinct.insert({i, s->op(i).kernel_name()});
  }
  EXPECT_GE(distinct.size(), levels.size() - 1);
  EXPECT_EQ(builds, distinct.size());
  EXPECT_EQ(m->pack_cache().builds(), builds) << "sessions after the first of each kernel packed again";
}

// A failed allocation while packing keeps nothing: the next session packs and runs.
TEST(SharedPacking, OutOfMemoryWhilePackingLeavesTheModelUsable) {
  const std::vector<std::string> levels = optimized_levels();
  if (levels.empty()) GTEST_SKIP() << "no optimized level on this host";
  std::shared_ptr<const Model> m;
  ASSERT_TRUE(load(serialize(pack_net()), &m).ok());
  for (int64_t n = 2; n <= 4; ++n) {
    kern::fail_nth_allocation(n);
    Status st;
    run(m, levels.back(), &st);
    const bool failed = kern::allocation_failure_happened();
    kern::fail_nth_allocation(0);
    EXPECT_TRUE(failed);
    EXPECT_EQ(st.code(), StatusCode::kOutOfMemory) << st.message();
  }
  EXPECT_EQ(run(m, levels.back()), reference_output());
}

// A file pre-packed for the host's levels (and for ARM's, unused here): the sessions
// use the GEMM and depthwise weights in place, so the model packs only what the file
// lacks (requantization arrays of the GEMM nodes, zero buffers), and outputs are
// unchanged.
TEST(Prepacked, UsedInPlaceWithTheSameOutputs) {
  const std::vector<std::string> levels = optimized_levels();
  if (levels.empty()) GTEST_SKIP() << "no optimized level on this host";
  std::vector<kern::Isa> all;
  for (int l = 1; l < static_cast<int>(kern::Isa::kCount); ++l) all.push_back(static_cast<kern::Isa>(l));
  const Graph g = prepacked(all);
  // conv and fc for every level: neon has four layouts (AArch64's and ARMv7's, exact
  // and for weights in [-127, 127]), each node in the one its weights pick; the
  // depthwise node for avx2, avxvnni, avx512vnni (= amx's), neon and neondot (=
  // neoni8mm's).
  EXPECT_EQ(g.packed.size(), 2 * 8u + 5u);
  const std::vector<uint8_t> file = serialize(g);
  const std::vector<int8_t> want = reference_output();
  for (const std::string& level : levels) {
    SCOPED_TRACE(level);
    std::shared_ptr<const Model> plain, packed;
    ASSERT_TRUE(load(serialize(pack_net()), &plain).ok());
    ASSERT_TRUE(load(file, &packed).ok());
    EXPECT_TRUE(packed->notes().empty());
    EXPECT_EQ(run(plain, level), want);
    EXPECT_EQ(run(packed, level), want);
    // Exactly the GEMM weight blocks and the depthwise weights of this level are not on
    // the heap.
    kern::Isa isa;
    ASSERT_TRUE(kern::parse_isa(level, &isa));
    size_t in_place = 0;
    for (const PackedWeights& pw : packed->graph().packed)
      if (pw.kernel == kern::kernel_set(isa).gemm.name_s8 ||
          (kern::kernel_set(isa).gemm_w127.name_s8 && pw.kernel == kern::kernel_set(isa).gemm_w127.name_s8) ||
          is_level_dw_segment(pw, isa))
        in_place += pw.nbytes;
    EXPECT_GT(in_place, 0u);
    // The depthwise node's packed bytes: the segment's, byte for byte.
    const PackedWeights* dw_seg = nullptr;
    for (const PackedWeights& pw : packed->graph().packed)
      if (is_level_dw_segment(pw, isa)) dw_seg = &pw;
    ASSERT_NE(dw_seg, nullptr);
    // Packed again here from the node (as a session without the file would).
    std::vector<PackedWeights> again;
    ASSERT_TRUE(prepack_depthwise(packed->graph(), isa, &again).ok());
    ASSERT_EQ(again.size(), 1u);
    ASSERT_EQ(again[0].nbytes, dw_seg->nbytes);
    EXPECT_EQ(std::memcmp(again[0].data, dw_seg->data, dw_seg->nbytes), 0);
    EXPECT_EQ(packed->pack_cache().heap_bytes() + in_place, plain->pack_cache().heap_bytes());
    EXPECT_EQ(packed->pack_cache().builds(), plain->pack_cache().builds());
  }
  // The reference level ignores them.
  std::shared_ptr<const Model> m;
  ASSERT_TRUE(load(file, &m).ok());
  EXPECT_EQ(run(m, "ref"), want);
  // Round trip: a file written from the loaded graph carries the same segments.
  Graph copy = m->graph();
  const std::vector<uint8_t> again = serialize(copy);
  EXPECT_EQ(again, file);
}

// A pre-packed file keeps its large raw weights off the folios that sessions read: the
// small constants first, the large raw weights from a 2 MiB boundary of the file, the
// packed segments from another. (A kernel that maps the file in 2 MiB folios would
// otherwise bring the raw weights in beside a bias or a packed segment.)
TEST(Prepacked, LargeRawWeightsShareNoHugePageWithWhatRuns) {
  const std::vector<std::string> levels = optimized_levels();
  if (levels.empty()) GTEST_SKIP() << "no optimized level on this host";
  Graph g;
  g.producer = "test";
  const int32_t k = 1024, n_out = 1024;  // 4 MiB of float weights
  const int32_t x = g.add_tensor(testing_graphs::make_tensor("x", DType::kF32, {4, k}));
  Tensor w = testing_graphs::make_tensor("w", DType::kF32, {n_out, k});
  w.set_data(testing_graphs::bytes_of(testing_graphs::random_floats(static_cast<size_t>(n_out) * k, 3, -1.f, 1.f)));
  Tensor b = testing_graphs::make_tensor("b", DType::kF32, {n_out});
  b.set_data(testing_graphs::bytes_of(testing_graphs::random_floats(n_out, 4, -1.f, 1.f)));
  const int32_t wi = g.add_tensor(std::move(w)), bi = g.add_tensor(std::move(b));
  const int32_t y = g.add_tensor(testing_graphs::make_tensor("y", DType::kF32, {4, n_out}));
  g.nodes.push_back(testing_graphs::make_node("fc", OpType::kFullyConnected, {x, wi, bi}, {y}));
  g.inputs = {x};
  g.outputs = {y};
  const std::vector<uint8_t> plain = serialize(g);
  kern::Isa isa;
  ASSERT_TRUE(kern::parse_isa(levels[0], &isa));
  ASSERT_TRUE(prepack_float_fc(g, isa, &g.packed).ok());
  ASSERT_FALSE(g.packed.empty());
  const std::vector<uint8_t> file = serialize(g);
  const kern::AlignedBuffer mem = kern::aligned_buffer(file.size());  // parse_graph wants 64-byte alignment
  std::memcpy(mem.get(), file.data(), file.size());
  Graph back;
  ASSERT_TRUE(parse_graph(mem.get(), file.size(), &back).ok());
  auto offset = [&](const uint8_t* p) { return static_cast<size_t>(p - mem.get()); };
  constexpr size_t kHuge = size_t{2} << 20;
  EXPECT_LT(offset(back.tensors[bi].data), offset(back.tensors[wi].data));
  EXPECT_EQ(offset(back.tensors[wi].data) % kHuge, 0u);
  for (const PackedWeights& pw : back.packed) EXPECT_GE(offset(pw.data), offset(back.tensors[wi].data) + 4u * n_out * k);
  EXPECT_EQ(offset(back.packed[0].data) % kHuge, 0u);
  EXPECT_EQ(std::memcmp(back.tensors[wi].data, g.tensors[wi].data, g.tensors[wi].nbytes), 0);
  // A file without pre-packed weights keeps tensor order and no padding.
  const kern::AlignedBuffer plain_mem = kern::aligned_buffer(plain.size());
  std::memcpy(plain_mem.get(), plain.data(), plain.size());
  Graph plain_back;
  ASSERT_TRUE(parse_graph(plain_mem.get(), plain.size(), &plain_back).ok());
  EXPECT_GT(plain_back.tensors[bi].data, plain_back.tensors[wi].data);
  EXPECT_LT(plain.size(), g.tensors[wi].nbytes + kHuge / 4);
  // Both run to the same outputs.
  std::shared_ptr<const Model> a, c;
  ASSERT_TRUE(load(plain, &a).ok());
  ASSERT_TRUE(load(file, &c).ok());
  const std::vector<float> in = testing_graphs::random_floats(4 * k, 5, -1.f, 1.f);
  std::vector<float> ya(4 * n_out), yc(4 * n_out);
  for (auto [m, out] : {std::make_pair(a, &ya), std::make_pair(c, &yc)}) {
    const std::unique_ptr<Session> s = test_models::session_at(m, levels[0]);
    ASSERT_NE(s, nullptr);
    ASSERT_TRUE(s->set_input_f32(0, in.data(), in.size()).ok());
    ASSERT_TRUE(s->run().ok());
    ASSERT_TRUE(s->get_output_f32(0, out->data(), out->size()).ok());
  }
  test_models::expect_same_floats(yc, ya, levels[0]);
}

// Pre-packed weights of another layout version are ignored with a note; outputs do not
// change.
TEST(Prepacked, OtherLayoutVersionIsIgnoredWithANote) {
  const std::vector<std::string> levels = optimized_levels();
  if (levels.empty()) GTEST_SKIP() << "no optimized level on this host";
  kern::Isa isa;
  ASSERT_TRUE(kern::parse_isa(levels.back(), &isa));
  Graph g = prepacked({isa});
  ASSERT_FALSE(g.packed.empty());
  for (PackedWeights& pw : g.packed) {
    pw.layout += 1;
    // Bytes that would give a wrong answer if they were used.
    auto junk = std::make_shared<std::vector<uint8_t>>(pw.nbytes + 64, 0x5a);
    pw.data = junk->data() + (64 - reinterpret_cast<uintptr_t>(junk->data()) % 64) % 64;
    pw.owner = junk;
  }
  std::shared_ptr<const Model> m;
  ASSERT_TRUE(load(serialize(g), &m).ok());
  EXPECT_EQ(m->notes().size(), g.packed.size());
  EXPECT_NE(m->notes()[0].find("layout version"), std::string::npos) << m->notes()[0];
  EXPECT_EQ(m->prepacked_bytes(), 0u);
  EXPECT_EQ(run(m, levels.back()), reference_output());
}

// A pre-packed segment whose size does not fit its node and layout is an error naming
// the node, at session creation; the reference level, which does not read it, runs.
// For the conv's segment of the layout this host's session uses (a level may list
// several layouts: neon has AArch64's and ARMv7's) and for the depthwise node's.
TEST(Prepacked, WrongSizeIsAnErrorNamingTheNode) {
  const std::vector<std::string> levels = optimized_levels();
  if (levels.empty()) GTEST_SKIP() << "no optimized level on this host";
  kern::Isa isa;
  ASSERT_TRUE(kern::parse_isa(levels.back(), &isa));
  const Graph plain = pack_net();
  const Tensor& conv_w = plain.tensors[plain.nodes[0].inputs[1]];
  const kern::QGemmKernel& k = kern::gemm_for_weights(kern::kernel_set(isa), conv_w.as<int8_t>(), conv_w.nbytes,
                                                   static_cast<size_t>(conv_w.shape.back()));
  auto conv_segment = [&](const PackedWeights& pw) { return pw.kernel == k.name || pw.kernel == k.name_s8; };
  auto dw_segment = [&](const PackedWeights& pw) { return is_level_dw_segment(pw, isa); };
  for (const auto& which :
       {std::pair<std::string, std::function<bool(const PackedWeights&)>>{"conv", conv_segment}, {"dw", dw_segment}}) {
    // Plain names: a lambda may not capture a structured binding before C++20 (clang).
    const std::string& node = which.first;
    const std::function<bool(const PackedWeights&)>& is_segment = which.second;
    for (int64_t delta : {-64, 64}) {
      SCOPED_TRACE(node + " " + std::to_string(delta));
      Graph g = prepacked({isa});
      auto it = std::find_if(g.packed.begin(), g.packed.end(), [&](const PackedWeights& pw) {
        return is_segment(pw) && g.nodes[pw.node].name == node;
      });
      ASSERT_NE(it, g.packed.end());
      test_models::resize_segment(&*it, delta);  // only the size is wrong
      std::shared_ptr<const Model> m;
      ASSERT_TRUE(load(serialize(g), &m).ok());
      Status st;
      run(m, levels.back(), &st);
      EXPECT_EQ(st.code(), StatusCode::kInvalidModel);
      EXPECT_NE(st.message().find("'" + node + "'"), std::string::npos) << st.message();
      EXPECT_NE(st.message().find("pre-packed"), std::string::npos) << st.message();
      EXPECT_EQ(run(m, "ref"), reference_output());
    }
  }
}

// neon packs each node for the kernel its weights pick: the conv (no -128) for the
// kernels for weights in [-127, 127], the fc (a -128) for the exact ones, on any host.
// A segment of a [-127, 127] layout on a node whose weights hold -128 is ignored with a
// note, and the outputs do not change.
TEST(Prepacked, NeonNodesGoToTheLayoutTheirWeightsPick) {
  const Graph g = prepacked({kern::Isa::kNeon});
  std::set<std::pair<std::string, std::string>> got;
  for (const PackedWeights& pw : g.packed) got.insert({g.nodes[pw.node].name, pw.kernel});
  const std::set<std::pair<std::string, std::string>> want = {
      {"conv", "qs8_igemm_minmax_ukernel_2x8c16__neon_mlal"},
      {"conv", "qs8_igemm_minmax_ukernel_2x4c16__neon_mlal"},
      {"fc", "qs8_igemm_minmax_ukernel_2x8c8__neon"},
      {"fc", "qs8_igemm_minmax_ukernel_2x4c8__neon"},
      {"dw", "q8_dwconv_minmax_ukernel_8c2__neon"},  // 40 channels: 5 tiles of 8 cost less than 3 of 16
  };
  EXPECT_EQ(got, want);

  // The fc's weights packed for the [-127, 127] kernels anyway (a packer that ignored
  // the rule): the loader notes it and sessions do not read the segment.
  Graph bad = pack_net();
  for (const kern::QGemmKernel& layout : kern::gemm_pack_layouts(kern::Isa::kNeon)) {
    if (!layout.w127_only) continue;
    kern::QGemmKernel as_exact = layout;
    as_exact.w127_only = false;  // takes every node
    std::vector<PackedWeights> segs;
    ASSERT_TRUE(prepack_gemm(bad, as_exact, &segs).ok());
    for (PackedWeights& pw : segs) {
      if (bad.nodes[pw.node].name != "fc") continue;
      auto junk = std::make_shared<std::vector<uint8_t>>(pw.nbytes + 64, 0x5a);
      pw.data = junk->data() + (64 - reinterpret_cast<uintptr_t>(junk->data()) % 64) % 64;
      pw.owner = junk;
      bad.packed.push_back(pw);
    }
  }
  ASSERT_EQ(bad.packed.size(), 2u);
  std::shared_ptr<const Model> m;
  ASSERT_TRUE(load(serialize(bad), &m).ok());
  ASSERT_EQ(m->notes().size(), 2u);
  for (const std::string& note : m->notes()) {
    EXPECT_NE(note.find("'fc'"), std::string::npos) << note;
    EXPECT_NE(note.find("hold -128: ignored"), std::string::npos) << note;
  }
  for (const std::string& level : optimized_levels()) EXPECT_EQ(run(m, level), reference_output()) << level;
}

// What the loader checks itself: node index, node kind, layout name, duplicates, bounds.
TEST(Prepacked, BadSegmentsAreLoadErrors) {
  const kern::Isa isa = kern::Isa::kNeonDot;  // packed on any host
  auto expect_error = [](const Graph& g, const std::string& what) {
    std::shared_ptr<const Model> m;
    const Status st = load(serialize(g), &m);
    EXPECT_EQ(st.code(), StatusCode::kInvalidModel) << what;
    EXPECT_NE(st.message().find("pre-packed"), std::string::npos) << what << ": " << st.message();
  };
  {
    Graph g = prepacked({isa});
    g.packed[0].node = 99;
    expect_error(g, "node out of range");
  }
  {
    Graph g = prepacked({isa});
    g.packed[0].node = 2;  // the global average pool
    expect_error(g, "not a conv or fc");
  }
  {
    Graph g = prepacked({isa});
    g.packed[0].kernel.clear();
    expect_error(g, "no layout name");
  }
  {
    Graph g = prepacked({isa});
    g.packed.push_back(g.packed[0]);
    expect_error(g, "duplicate");
  }
  {
    // The data section's size cut short of the last (packed) segment: out of bounds.
    const Graph g = prepacked({isa});
    std::vector<uint8_t> file = serialize(g);
    uint64_t data_size;
    std::memcpy(&data_size, file.data() + 40, 8);
    data_size -= 64;
    std::memcpy(file.data() + 40, &data_size, 8);
    std::shared_ptr<const Model> m;
    const Status st = load(file, &m);
    EXPECT_EQ(st.code(), StatusCode::kInvalidModel);
    EXPECT_NE(st.message().find("out of bounds"), std::string::npos) << st.message();
  }
  // Flipped bytes anywhere in a pre-packed file: an error or a file that loads, never a
  // crash; a file that loads runs at the reference level.
  const std::vector<uint8_t> file = serialize(prepacked({isa}));
  std::mt19937 rng(5);
  for (int i = 0; i < 300; ++i) {
    std::vector<uint8_t> bad = file;
    bad[rng() % bad.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
    std::shared_ptr<const Model> m;
    if (load(bad, &m).ok()) run(m, "ref");
  }
}

}  // namespace
}  // namespace edgeq
