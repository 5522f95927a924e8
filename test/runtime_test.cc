// Tests of the .edgeq format, graph validation, the memory planner, sessions and the
// C API, on graphs built in code (test_graphs.h). Model-file tests that need the
// importer live in model_test.cc.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <thread>

#include "edgeq/edgeq.h"
#include "edgeq/edgeq.hpp"
#include "graph/format.h"
#include "graph/shape.h"
#include "kernels/gemm_pick.h"
#include "kernels/kernels.h"
#include "kernels/ref/ref.h"
#include "runtime/planner.h"
#include "runtime/session.h"
#include "test/planner_check.h"
#include "test/test_graphs.h"

namespace edgeq {
namespace {

using testing_graphs::small_net;
using testing_graphs::make_node;
using testing_graphs::make_tensor;

// 64-byte-aligned copy of a serialized model.
struct Aligned {
  explicit Aligned(const std::vector<uint8_t>& b) : size(b.size()) {
    p = static_cast<uint8_t*>(std::aligned_alloc(64, (b.size() + 63) / 64 * 64 + 64));
    if (!b.empty()) std::memcpy(p, b.data(), b.size());
  }
  ~Aligned() { std::free(p); }
  uint8_t* p;
  size_t size;
};

std::vector<uint8_t> serialize(const Graph& g) {
  std::vector<uint8_t> bytes;
  EXPECT_TRUE(serialize_graph(g, &bytes).ok());
  return bytes;
}

Status parse(const std::vector<uint8_t>& bytes, Graph* g) {
  Aligned a(bytes);
  Graph tmp;
  Status s = parse_graph(a.p, a.size, &tmp);
  if (s.ok()) {  // detach constants from the temporary buffer
    for (Tensor& t : tmp.tensors)
      if (t.is_constant()) t.set_data(std::vector<uint8_t>(t.data, t.data + t.nbytes));
    *g = std::move(tmp);
  }
  return s;
}

TEST(Format, RoundTripKeepsEverything) {
  for (bool q : {false, true}) {
    const Graph g = small_net(q);
    Graph back;
    ASSERT_TRUE(parse(serialize(g), &back).ok());
    ASSERT_EQ(back.tensors.size(), g.tensors.size());
    for (size_t i = 0; i < g.tensors.size(); ++i) {
      const Tensor &a = g.tensors[i], &b = back.tensors[i];
      EXPECT_EQ(a.name, b.name);
      EXPECT_EQ(a.dtype, b.dtype);
      EXPECT_EQ(a.shape, b.shape);
      EXPECT_EQ(a.quant.scale, b.quant.scale);
      EXPECT_EQ(a.quant.zero_point, b.quant.zero_point);
      ASSERT_EQ(a.nbytes, b.nbytes);
      if (a.nbytes) {
        EXPECT_EQ(0, std::memcmp(a.data, b.data, a.nbytes));
      }
    }
    ASSERT_EQ(back.nodes.size(), g.nodes.size());
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      EXPECT_EQ(g.nodes[i].op, back.nodes[i].op);
      EXPECT_EQ(g.nodes[i].inputs, back.nodes[i].inputs);
      EXPECT_EQ(g.nodes[i].attrs.pad_top, back.nodes[i].attrs.pad_top);
      EXPECT_EQ(g.nodes[i].attrs.act_min, back.nodes[i].attrs.act_min);
      EXPECT_EQ(g.nodes[i].attrs.act_max, back.nodes[i].attrs.act_max);
    }
    EXPECT_EQ(back.inputs, g.inputs);
    EXPECT_EQ(back.outputs, g.outputs);
  }
}

TEST(Format, ConstantsAre64ByteAlignedInPlace) {
  const std::vector<uint8_t> bytes = serialize(small_net(true));
  Aligned a(bytes);
  Graph g;
  ASSERT_TRUE(parse_graph(a.p, a.size, &g).ok());
  int constants = 0;
  for (const Tensor& t : g.tensors) {
    if (!t.is_constant()) continue;
    ++constants;
    EXPECT_GE(t.data, a.p);
    EXPECT_LT(t.data, a.p + a.size);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data) % 64, 0u) << t.name;
  }
  EXPECT_EQ(constants, 3);
}

TEST(Format, EveryTruncationIsAnError) {
  const std::vector<uint8_t> bytes = serialize(small_net(true));
  for (size_t len = 0; len < bytes.size(); len += (len < 256 ? 1 : 7)) {
    Graph g;
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + len);
    EXPECT_FALSE(parse(cut, &g).ok()) << "length " << len;
  }
}

TEST(Format, FlippedBytesNeverCrash) {
  const std::vector<uint8_t> bytes = serialize(small_net(true));
  std::mt19937 rng(7);
  int rejected = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::vector<uint8_t> bad = bytes;
    const int flips = 1 + trial % 4;
    for (int f = 0; f < flips; ++f) bad[rng() % bad.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
    Graph g;
    Status s = parse(bad, &g);
    if (!s.ok()) {
      ++rejected;
      EXPECT_FALSE(s.message().empty());
      continue;
    }
    // A flip that survives verification must still give a valid, runnable graph.
    ASSERT_TRUE(validate_graph(g).ok());
    auto model_bytes = std::make_shared<std::vector<uint8_t>>(bad);
    std::shared_ptr<const Model> m;
    if (!Model::load_memory(model_bytes->data(), model_bytes->size(), &m).ok()) continue;
    std::unique_ptr<Session> session;
    if (Session::create(m, SessionOptions(), &session).ok()) session->run();
  }
  EXPECT_GT(rejected, 100);
}

TEST(Format, RejectsWrongMagicAndVersion) {
  std::vector<uint8_t> bytes = serialize(small_net(false));
  Graph g;
  std::vector<uint8_t> bad = bytes;
  bad[0] = 'X';
  Status s = parse(bad, &g);
  EXPECT_EQ(s.code(), StatusCode::kInvalidModel);
  EXPECT_NE(s.message().find("magic"), std::string::npos);
  bad = bytes;
  bad[8] = 99;  // format version
  s = parse(bad, &g);
  EXPECT_NE(s.message().find("version 99"), std::string::npos) << s.message();
}

TEST(Validate, AcceptsTheTestNets) {
  EXPECT_TRUE(validate_graph(small_net(false)).ok());
  EXPECT_TRUE(validate_graph(small_net(true)).ok());
}

TEST(Validate, WrongStoredShapeNamesTheNode) {
  Graph g = small_net(true);
  g.tensors[g.nodes[1].outputs[0]].shape = {1, 5, 4, 6};
  Status s = validate_graph(g);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("'pool'"), std::string::npos) << s.message();
}

TEST(Validate, OutOfOrderNodesAreRejected) {
  Graph g = small_net(false);
  std::swap(g.nodes[0], g.nodes[1]);
  Status s = validate_graph(g);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("not computed before"), std::string::npos) << s.message();
}

TEST(Validate, BadQuantizationIsRejected) {
  for (float bad_scale : {0.f, -1.f, NAN, INFINITY}) {
    Graph g = small_net(true);
    g.tensors[0].quant.scale[0] = bad_scale;
    Status s = validate_graph(g);
    EXPECT_EQ(s.code(), StatusCode::kInvalidModel);
    EXPECT_NE(s.message().find("'x'"), std::string::npos) << s.message();
  }
  Graph g = small_net(true);
  g.tensors[0].quant.zero_point[0] = 128;  // outside s8
  EXPECT_FALSE(validate_graph(g).ok());
  g = small_net(true);
  g.tensors[1].quant.scale.pop_back();  // per-channel count != channels
  EXPECT_FALSE(validate_graph(g).ok());
}

TEST(Validate, BadAttributesAndOperands) {
  Graph g = small_net(true);
  g.nodes[0].attrs.stride_h = 0;
  EXPECT_FALSE(validate_graph(g).ok());
  g = small_net(true);
  g.nodes[0].attrs.groups = 4;  // 3 input channels
  EXPECT_FALSE(validate_graph(g).ok());
  g = small_net(true);
  g.nodes[0].inputs[0] = 1000;
  EXPECT_FALSE(validate_graph(g).ok());
  g = small_net(true);
  g.nodes[1].inputs.clear();
  EXPECT_FALSE(validate_graph(g).ok());
  g = small_net(true);
  g.nodes[0].attrs.act_min = 2.f;
  g.nodes[0].attrs.act_max = 1.f;
  EXPECT_FALSE(validate_graph(g).ok());
}

TEST(Validate, UnknownOpInFileIsRejected) {
  Graph g = small_net(false);
  g.nodes[1].op = OpType::kCount;
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(serialize_graph(g, &bytes).ok());
  Graph back;
  Status s = parse(bytes, &back);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("unknown op"), std::string::npos) << s.message();
}

TEST(Planner, RandomBuffersNeverOverlapWhileAlive) {
  std::mt19937 rng(3);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<BufferRequest> reqs(1 + rng() % 40);
    for (auto& r : reqs) {
      r.size = 1 + rng() % 5000;
      r.first = static_cast<int32_t>(rng() % 30);
      r.last = r.first + static_cast<int32_t>(rng() % 10);
    }
    const MemoryPlan p = plan_buffers(reqs);
    EXPECT_GE(p.arena_size, p.lower_bound + kArenaSlack);
    EXPECT_LE(p.arena_size, p.naive_size + kArenaSlack);
    for (size_t i = 0; i < reqs.size(); ++i) {
      EXPECT_EQ(p.offsets[i] % kArenaAlign, 0u);
      EXPECT_LE(p.offsets[i] + reqs[i].size + kArenaSlack, p.arena_size);
      for (size_t j = i + 1; j < reqs.size(); ++j) {
        const bool live = reqs[i].first <= reqs[j].last && reqs[j].first <= reqs[i].last;
        const bool mem = p.offsets[i] < p.offsets[j] + reqs[j].size && p.offsets[j] < p.offsets[i] + reqs[i].size;
        EXPECT_FALSE(live && mem) << "trial " << trial << " buffers " << i << "," << j;
      }
    }
  }
}

TEST(Planner, ChainReusesMemory) {
  // a -> b -> c -> d, equal sizes: two buffers suffice.
  std::vector<BufferRequest> reqs = {{1000, 0, 0}, {1000, 0, 1}, {1000, 1, 2}, {1000, 2, 2}};
  const MemoryPlan p = plan_buffers(reqs);
  EXPECT_EQ(p.arena_size, 2 * 1024 + kArenaSlack);
  EXPECT_EQ(p.naive_size, 4 * 1024u);
  EXPECT_EQ(p.lower_bound, 2 * 1024u);
}

TEST(Planner, GraphTensorsAliveTogetherDoNotOverlap) {
  for (bool q : {false, true}) {
    const Graph g = small_net(q);
    EXPECT_TRUE(check_plan_no_overlap(g)) << "quantized=" << q;
    const GraphMemoryPlan p = plan_graph(g);
    // The Reshape output is a view of its input.
    const Node& reshape = g.nodes[3];
    EXPECT_EQ(p.tensor_buffer[reshape.inputs[0]], p.tensor_buffer[reshape.outputs[0]]);
  }
}

// A node's workspace is alive at its own step only: it never overlaps the tensors that
// node reads or writes, and workspaces of different nodes may share memory.
TEST(Planner, WorkspacesLiveOnlyAtTheirNode) {
  const Graph g = small_net(true);
  std::vector<size_t> ws(g.nodes.size(), 0);
  for (size_t i = 0; i < ws.size(); ++i) ws[i] = 3000 + 100 * i;
  const GraphMemoryPlan p = plan_graph(g, ws);
  ASSERT_EQ(p.node_workspace.size(), g.nodes.size());
  auto overlaps = [&](int32_t a, int32_t b) {
    const size_t oa = p.plan.offsets[a], ob = p.plan.offsets[b];
    return oa < ob + p.buffers[b].size && ob < oa + p.buffers[a].size;
  };
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const int32_t w = p.node_workspace[i];
    ASSERT_GE(w, 0);
    EXPECT_EQ(p.buffers[w].size, ws[i]);
    EXPECT_EQ(p.buffers[w].first, static_cast<int32_t>(i));
    EXPECT_EQ(p.buffers[w].last, static_cast<int32_t>(i));
    for (const auto* list : {&g.nodes[i].inputs, &g.nodes[i].outputs})
      for (int32_t t : *list)
        if (t >= 0 && p.tensor_buffer[t] >= 0) {
          EXPECT_FALSE(overlaps(w, p.tensor_buffer[t])) << "node " << i;
        }
  }
  // Only the largest workspace counts towards the arena: the others reuse its memory.
  const GraphMemoryPlan none = plan_graph(g);
  const size_t largest = (ws.back() + kArenaAlign - 1) / kArenaAlign * kArenaAlign;
  EXPECT_LE(p.plan.arena_size, none.plan.arena_size + largest);
  std::vector<size_t> no_ws(g.nodes.size(), 0);
  const GraphMemoryPlan zero = plan_graph(g, no_ws);
  for (int32_t w : zero.node_workspace) EXPECT_EQ(w, -1);
  EXPECT_EQ(zero.plan.arena_size, none.plan.arena_size);
}

// Float reference of small_net, written out directly (double accumulation).
std::vector<float> small_net_float_reference(const Graph& g, const std::vector<float>& x) {
  auto deq = [&](const Tensor& t, size_t i) -> float {
    if (t.dtype == DType::kF32) return t.as<float>()[i];
    const size_t c = t.quant.per_tensor() ? 0 : i / (t.shape[1] * t.shape[2] * t.shape[3]);
    if (t.dtype == DType::kS32) return float(t.as<int32_t>()[i]) * g.tensors[0].quant.scale[0] * t.quant.scale[c];
    return float(t.as<int8_t>()[i] - t.quant.zero_point[c]) * t.quant.scale[c];
  };
  const Tensor &w = g.tensors[1], &b = g.tensors[2], &fw = g.tensors[g.nodes[4].inputs[1]];
  std::vector<double> conv(8 * 8 * 6);
  for (int y = 0; y < 8; ++y)
    for (int xx = 0; xx < 8; ++xx)
      for (int o = 0; o < 6; ++o) {
        double acc = b.dtype == DType::kS32 ? double(b.as<int32_t>()[o]) * g.tensors[0].quant.scale[0] * w.quant.scale[o]
                                            : b.as<float>()[o];
        for (int ky = 0; ky < 3; ++ky)
          for (int kx = 0; kx < 3; ++kx)
            for (int c = 0; c < 3; ++c) {
              const int iy = y + ky - 1, ix = xx + kx - 1;
              if (iy < 0 || iy >= 8 || ix < 0 || ix >= 8) continue;
              acc += double(x[(iy * 8 + ix) * 3 + c]) * deq(w, ((o * 3 + ky) * 3 + kx) * 3 + c);
            }
        conv[(y * 8 + xx) * 6 + o] = std::max(0.0, acc);
      }
  std::vector<double> gap(6, 0.0);
  for (int y = 0; y < 4; ++y)
    for (int xx = 0; xx < 4; ++xx)
      for (int c = 0; c < 6; ++c) {
        double m = -1e30;
        for (int dy = 0; dy < 2; ++dy)
          for (int dx = 0; dx < 2; ++dx) m = std::max(m, conv[((2 * y + dy) * 8 + 2 * xx + dx) * 6 + c]);
        gap[c] += m / 16.0;
      }
  std::vector<float> out(4);
  for (int n = 0; n < 4; ++n) {
    double acc = 0;
    for (int k = 0; k < 6; ++k) acc += gap[k] * deq(fw, n * 6 + k);
    out[n] = float(acc);
  }
  return out;
}

std::vector<float> random_input(size_t n, uint32_t seed) { return testing_graphs::random_floats(n, seed, -1.f, 1.5f); }

std::shared_ptr<const Model> load(const Graph& g) {
  std::vector<uint8_t> bytes;
  EXPECT_TRUE(serialize_graph(g, &bytes).ok());
  std::shared_ptr<const Model> m;
  Status s = Model::load_memory(bytes.data(), bytes.size(), &m);
  EXPECT_TRUE(s.ok()) << s.message();
  return m;
}

TEST(Session, FloatNetMatchesDirectComputation) {
  const Graph g = small_net(false);
  auto m = load(g);
  std::unique_ptr<Session> s;
  ASSERT_TRUE(Session::create(m, SessionOptions(), &s).ok());
  const std::vector<float> x = random_input(192, 11);
  ASSERT_TRUE(s->set_input_f32(0, x.data(), x.size()).ok());
  s->run();
  std::vector<float> y(4);
  ASSERT_TRUE(s->get_output_f32(0, y.data(), 4).ok());
  const std::vector<float> ref = small_net_float_reference(g, x);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(y[i], ref[i], 1e-4f * (1 + std::fabs(ref[i]))) << i;
}

// Graph g (one node) on raw inputs x at every level the host runs: output 0's bytes
// equal `want`, and above the reference level the node reports a kernel of the level.
void expect_every_level(const Graph& g, const std::vector<std::vector<uint8_t>>& x, const std::vector<uint8_t>& want,
                        const std::string& label) {
  auto m = load(g);
  ASSERT_NE(m, nullptr);
  for (int l = 0; l < static_cast<int>(kern::Isa::kCount); ++l) {
    const auto isa = static_cast<kern::Isa>(l);
    if (!kern::isa_supported(isa)) continue;
    SCOPED_TRACE(std::string(kern::isa_name(isa)) + " " + label);
    SessionOptions opts;
    opts.isa = kern::isa_name(isa);
    std::unique_ptr<Session> s;
    ASSERT_TRUE(Session::create(m, opts, &s).ok());
    if (isa != kern::Isa::kRef) {
      EXPECT_STRNE(s->op(0).kernel_name(), "ref");
    }
    for (size_t i = 0; i < x.size(); ++i) ASSERT_TRUE(s->set_input_raw(i, x[i].data(), x[i].size()).ok());
    ASSERT_TRUE(s->run().ok());
    std::vector<uint8_t> got(want.size());
    ASSERT_TRUE(s->get_output_raw(0, got.data(), got.size()).ok());
    EXPECT_EQ(got, want);
  }
}

// Requantize between every pair of 8-bit types, at every level the host runs: each of
// the 256 input bytes (and a second pass, so that the lookup kernels' vector and tail
// paths both run) gives the reference's requantization; the level runs no `ref` kernel.
TEST(Session, RequantizeEqualsTheReferenceAtEveryLevel) {
  const std::pair<DType, DType> pairs[] = {
      {DType::kS8, DType::kS8}, {DType::kS8, DType::kU8}, {DType::kU8, DType::kS8}, {DType::kU8, DType::kU8}};
  constexpr int32_t kCount = 256 * 2 + 37;
  std::vector<uint8_t> x(kCount);
  for (int32_t i = 0; i < kCount; ++i) x[i] = static_cast<uint8_t>(i * 7 + i / 256);
  for (const auto& pair : pairs) {
    const DType ti = pair.first, to = pair.second;  // (the lambda below captures them)
    Graph g;
    g.tensors.push_back(make_tensor("x", ti, {1, kCount}, 0.037f, ti == DType::kS8 ? -3 : 131));
    g.tensors.push_back(make_tensor("y", to, {1, kCount}, 0.05f, to == DType::kS8 ? 9 : 120));
    g.nodes.push_back(make_node("rq", OpType::kRequantize, {0}, {1}));
    g.inputs = {0};
    g.outputs = {1};
    std::vector<uint8_t> want(kCount);
    const int32_t qmin = dtype_min(to), qmax = dtype_max(to);
    auto reference = [&](auto in_tag, auto out_tag) {
      using TI = decltype(in_tag);
      using TO = decltype(out_tag);
      ref::requantize_tensor<TI, TO>(kCount, reinterpret_cast<const TI*>(x.data()), 0.037f,
                                     ti == DType::kS8 ? -3 : 131, 0.05f, to == DType::kS8 ? 9 : 120, qmin, qmax,
                                     reinterpret_cast<TO*>(want.data()));
    };
    if (ti == DType::kS8 && to == DType::kS8) reference(int8_t{}, int8_t{});
    if (ti == DType::kS8 && to == DType::kU8) reference(int8_t{}, uint8_t{});
    if (ti == DType::kU8 && to == DType::kS8) reference(uint8_t{}, int8_t{});
    if (ti == DType::kU8 && to == DType::kU8) reference(uint8_t{}, uint8_t{});
    expect_every_level(g, {x}, want, std::string(dtype_name(ti)) + " -> " + dtype_name(to));
  }
}

// Concat whose inputs have other parameters than its output (Inception's branches
// joined, as PyTorch's FX quantization leaves them): each such input goes through its
// requantization table on the level's lookup kernel, the others are copied; the bytes
// are the reference's requantization of every value, at every level, and no level
// above the reference runs a `ref` kernel.
TEST(Session, RequantizingConcatEqualsTheReferenceAtEveryLevel) {
  for (DType t : {DType::kU8, DType::kS8}) {
    const int32_t sizes[3] = {3, 37, 64};  // channels of the three inputs
    const float scales[3] = {0.05f, 0.037f, 0.11f};
    const int32_t zps[3] = {t == DType::kS8 ? 9 : 120, t == DType::kS8 ? -3 : 131, t == DType::kS8 ? 0 : 7};
    constexpr int32_t kPixels = 2 * 5 * 7;
    Graph g;
    std::vector<std::vector<uint8_t>> x(3);
    for (int i = 0; i < 3; ++i) {
      g.tensors.push_back(make_tensor("x" + std::to_string(i), t, {2, 5, 7, sizes[i]}, scales[i], zps[i]));
      x[i].resize(static_cast<size_t>(kPixels * sizes[i]));
      for (size_t e = 0; e < x[i].size(); ++e) x[i][e] = static_cast<uint8_t>(e * 7 + e / 256 + i);
    }
    g.tensors.push_back(make_tensor("y", t, {2, 5, 7, 104}, scales[0], zps[0]));  // input 0's parameters
    Node n = make_node("cat", OpType::kConcat, {0, 1, 2}, {3});
    n.attrs.axis = 3;
    g.nodes.push_back(n);
    g.inputs = {0, 1, 2};
    g.outputs = {3};
    std::vector<uint8_t> want(kPixels * 104);
    for (int i = 0, offset = 0; i < 3; offset += sizes[i], ++i) {
      for (int32_t p = 0; p < kPixels; ++p) {
        const uint8_t* src = x[i].data() + p * sizes[i];
        uint8_t* dst = want.data() + p * 104 + offset;
        if (t == DType::kS8) {
          ref::requantize_tensor<int8_t, int8_t>(sizes[i], reinterpret_cast<const int8_t*>(src), scales[i], zps[i],
                                                 scales[0], zps[0], -128, 127, reinterpret_cast<int8_t*>(dst));
        } else {
          ref::requantize_tensor<uint8_t, uint8_t>(sizes[i], src, scales[i], zps[i], scales[0], zps[0], 0, 255, dst);
        }
      }
    }
    expect_every_level(g, x, want, dtype_name(t));
  }
}

TEST(Session, QuantizedNetTracksFloatWithinAFewSteps) {
  const Graph g = small_net(true);
  auto m = load(g);
  std::unique_ptr<Session> s;
  ASSERT_TRUE(Session::create(m, SessionOptions(), &s).ok());
  const std::vector<float> x = random_input(192, 12);
  ASSERT_TRUE(s->set_input_f32(0, x.data(), x.size()).ok());
  s->run();
  std::vector<float> y(4);
  ASSERT_TRUE(s->get_output_f32(0, y.data(), 4).ok());
  // The float reference sees the quantized input, as the int8 net does.
  std::vector<float> xq(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const float q = std::min(127.f, std::max(-128.f, std::nearbyint(x[i] / 0.02f) + 3));
    xq[i] = (q - 3) * 0.02f;
  }
  const std::vector<float> ref = small_net_float_reference(g, xq);
  const float out_scale = 0.05f;
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(y[i], ref[i], 3 * out_scale) << i;
}

TEST(Session, ModelSharedBySessionsOnThreads) {
  const Graph g = small_net(true);
  auto m = load(g);
  const std::vector<float> x = random_input(192, 13);
  std::unique_ptr<Session> s0;
  ASSERT_TRUE(Session::create(m, SessionOptions(), &s0).ok());
  ASSERT_TRUE(s0->set_input_f32(0, x.data(), x.size()).ok());
  s0->run();
  std::vector<int8_t> want(4);
  ASSERT_TRUE(s0->get_output_raw(0, want.data(), 4).ok());
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      std::unique_ptr<Session> s;
      if (!Session::create(m, SessionOptions(), &s).ok()) {
        mismatches[t] = -1;
        return;
      }
      for (int r = 0; r < 200; ++r) {
        std::vector<int8_t> got(4);
        if (!s->set_input_f32(0, x.data(), x.size()).ok()) ++mismatches[t];
        s->run();
        if (!s->get_output_raw(0, got.data(), 4).ok() || got != want) ++mismatches[t];
      }
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(mismatches[t], 0) << "thread " << t;
}

TEST(Session, WrongInputsAreErrors) {
  auto m = load(small_net(true));
  std::unique_ptr<Session> s;
  ASSERT_TRUE(Session::create(m, SessionOptions(), &s).ok());
  std::vector<float> x(192);
  EXPECT_EQ(s->set_input_f32(0, x.data(), 191).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s->set_input_f32(1, x.data(), 192).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s->set_input_f32(0, nullptr, 192).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s->set_input_raw(0, x.data(), 193).code(), StatusCode::kInvalidArgument);
  std::vector<float> y(3);
  EXPECT_EQ(s->get_output_f32(0, y.data(), 3).code(), StatusCode::kInvalidArgument);
  SessionOptions bad;
  bad.isa = "avx9000";
  std::unique_ptr<Session> s2;
  Status st = Session::create(m, bad, &s2);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("avx9000"), std::string::npos);
}

TEST(CApi, EndToEndAndErrors) {
  const Graph g = small_net(true);
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(serialize_graph(g, &bytes).ok());
  edgeq_model* model = nullptr;
  ASSERT_EQ(edgeq_model_load_memory(bytes.data(), bytes.size(), &model), EDGEQ_OK);
  edgeq_session* session = nullptr;
  ASSERT_EQ(edgeq_session_create(model, nullptr, &session), EDGEQ_OK);
  edgeq_model_release(model);  // the session keeps the model alive
  EXPECT_EQ(edgeq_session_input_count(session), 1u);
  edgeq_tensor_info info;
  ASSERT_EQ(edgeq_session_input_info(session, 0, &info), EDGEQ_OK);
  EXPECT_STREQ(info.name, "x");
  EXPECT_EQ(info.dtype, EDGEQ_S8);
  EXPECT_EQ(info.rank, 4);
  EXPECT_EQ(info.num_elements, 192u);
  ASSERT_EQ(info.num_scales, 1);
  EXPECT_FLOAT_EQ(info.scales[0], 0.02f);
  size_t index = 99;
  EXPECT_EQ(edgeq_session_find_output(session, "y", &index), EDGEQ_OK);
  EXPECT_EQ(index, 0u);
  EXPECT_EQ(edgeq_session_find_output(session, "nope", &index), EDGEQ_INVALID_ARGUMENT);
  EXPECT_NE(std::string(edgeq_last_error()).find("nope"), std::string::npos);

  const std::vector<float> x = random_input(192, 5);
  EXPECT_EQ(edgeq_session_set_input_f32(session, 0, x.data(), 10), EDGEQ_INVALID_ARGUMENT);
  EXPECT_NE(std::string(edgeq_last_error()).find("192"), std::string::npos);
  ASSERT_EQ(edgeq_session_set_input_f32(session, 0, x.data(), x.size()), EDGEQ_OK);
  ASSERT_EQ(edgeq_session_run(session), EDGEQ_OK);
  float y[4];
  int8_t yq[4];
  ASSERT_EQ(edgeq_session_get_output_f32(session, 0, y, 4), EDGEQ_OK);
  ASSERT_EQ(edgeq_session_get_output_raw(session, 0, yq, 4), EDGEQ_OK);
  for (int i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(y[i], (yq[i] - 5) * 0.05f);
  EXPECT_GT(edgeq_session_arena_bytes(session), 0u);
  edgeq_session_destroy(session);

  // Null arguments and bad files.
  EXPECT_EQ(edgeq_model_load_file(nullptr, &model), EDGEQ_INVALID_ARGUMENT);
  EXPECT_EQ(edgeq_model_load_memory(bytes.data(), bytes.size(), nullptr), EDGEQ_INVALID_ARGUMENT);
  EXPECT_EQ(edgeq_model_load_file("/nonexistent/model.edgeq", &model), EDGEQ_IO_ERROR);
  EXPECT_EQ(model, nullptr);
  EXPECT_NE(std::string(edgeq_last_error()).find("/nonexistent/model.edgeq"), std::string::npos);
  EXPECT_EQ(edgeq_model_load_file("/", &model), EDGEQ_IO_ERROR);
  const char junk[] = "definitely not a model";
  EXPECT_EQ(edgeq_model_load_memory(junk, sizeof(junk), &model), EDGEQ_INVALID_MODEL);
  EXPECT_EQ(edgeq_session_create(nullptr, nullptr, &session), EDGEQ_INVALID_ARGUMENT);
  EXPECT_EQ(edgeq_session_run(nullptr), EDGEQ_INVALID_ARGUMENT);
  EXPECT_EQ(edgeq_session_input_count(nullptr), 0u);
  edgeq_session_options opts{};  // not initialized
  ASSERT_EQ(edgeq_model_load_memory(bytes.data(), bytes.size(), &model), EDGEQ_OK);
  EXPECT_EQ(edgeq_session_create(model, &opts, &session), EDGEQ_INVALID_ARGUMENT);
  edgeq_session_options_init(&opts);
#if defined(__aarch64__) || defined(__arm__)
  opts.isa = "avx2";  // a level of another architecture
#else
  opts.isa = "neon";
#endif
  EXPECT_EQ(edgeq_session_create(model, &opts, &session), EDGEQ_UNSUPPORTED);
  edgeq_model_release(model);
}

// Calibration through the C API: a float model, a few batches, an int8 model written to
// disk that loads and tracks the float outputs; bad arguments are errors.
TEST(CApi, CalibratesAFloatModel) {
  const Graph g = small_net(false);
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(serialize_graph(g, &bytes).ok());
  edgeq_model* model = nullptr;
  ASSERT_EQ(edgeq_model_load_memory(bytes.data(), bytes.size(), &model), EDGEQ_OK);
  edgeq_calibrator* cal = nullptr;
  ASSERT_EQ(edgeq_calibrator_create(model, nullptr, &cal), EDGEQ_OK) << edgeq_last_error();
  std::vector<std::vector<float>> batches;
  for (uint32_t b = 0; b < 8; ++b) {
    batches.push_back(random_input(192, 40 + b));
    const float* in[1] = {batches.back().data()};
    ASSERT_EQ(edgeq_calibrator_add_batch(cal, in, 1), EDGEQ_OK) << edgeq_last_error();
  }
  const float* two[2] = {batches[0].data(), batches[1].data()};
  EXPECT_EQ(edgeq_calibrator_add_batch(cal, two, 2), EDGEQ_INVALID_ARGUMENT);
  edgeq_calibration_options opts;
  edgeq_calibration_options_init(&opts);
  opts.method = "histogram";
  const std::string path = ::testing::TempDir() + "/capi_int8.edgeq";
  ASSERT_EQ(edgeq_calibrator_write(cal, &opts, path.c_str()), EDGEQ_OK) << edgeq_last_error();
  opts.method = "magic";
  EXPECT_EQ(edgeq_calibrator_write(cal, &opts, path.c_str()), EDGEQ_INVALID_ARGUMENT);
  EXPECT_NE(std::string(edgeq_last_error()).find("magic"), std::string::npos);
  const std::string stats = ::testing::TempDir() + "/capi.stats";
  EXPECT_EQ(edgeq_calibrator_save_stats(cal, stats.c_str()), EDGEQ_OK) << edgeq_last_error();
  EXPECT_EQ(edgeq_calibrator_load_stats(cal, "/nonexistent/stats"), EDGEQ_IO_ERROR);
  edgeq_calibrator_destroy(cal);
  EXPECT_EQ(edgeq_calibrator_create(nullptr, nullptr, &cal), EDGEQ_INVALID_ARGUMENT);

  // The int8 model loads, is int8 inside, and stays close to the float one.
  api::Model fmodel, qmodel;
  ASSERT_EQ(fmodel.load(bytes.data(), bytes.size()), EDGEQ_OK);
  edgeq_model_release(model);
  ASSERT_EQ(qmodel.load(path), EDGEQ_OK) << api::error();
  api::Session fs, qs;
  ASSERT_EQ(fs.create(fmodel), EDGEQ_OK);
  ASSERT_EQ(qs.create(qmodel), EDGEQ_OK);
  EXPECT_EQ(qs.input_info(0).dtype, EDGEQ_U8);
  ASSERT_EQ(fs.set_input(0, batches[0]), EDGEQ_OK);
  ASSERT_EQ(qs.set_input(0, batches[0]), EDGEQ_OK);
  ASSERT_EQ(fs.run(), EDGEQ_OK);
  ASSERT_EQ(qs.run(), EDGEQ_OK);
  const std::vector<float> yf = fs.output_f32(0), yq = qs.output_f32(0);
  ASSERT_EQ(yf.size(), 4u);
  ASSERT_EQ(yq.size(), 4u);
  float big = 0.f;
  for (float v : yf) big = std::max(big, std::fabs(v));
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(yq[i], yf[i], 0.05f * big) << i;
}

TEST(CApi, LoadFileFromDisk) {
  const Graph g = small_net(false);
  const std::string path = ::testing::TempDir() + "/small_net.edgeq";
  ASSERT_TRUE(write_graph_file(g, path).ok());
  api::Model model;
  ASSERT_EQ(model.load(path), EDGEQ_OK) << api::error();
  api::Session session;
  ASSERT_EQ(session.create(model), EDGEQ_OK) << api::error();
  ASSERT_EQ(session.set_input(0, random_input(192, 9)), EDGEQ_OK);
  ASSERT_EQ(session.run(), EDGEQ_OK);
  EXPECT_EQ(session.output_f32(0).size(), 4u);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace edgeq

namespace edgeq {
namespace {

// x[2,45,47,32] -MaxPool3x3 s2 pad 1-> m[2,23,24,32] -AvgPool3x3 s1 pad 1 (valid taps
// only)-> a -Add(a, m)-> y: big enough that sessions with a pool split the pools and
// the add into row ranges (runtime/ops/elementwise.cc, runtime/schedule.h), whose outputs must equal the one-thread run
// and the reference level's byte for byte, for int8 and uint8.
Graph split_ops_net(DType act) {
  using testing_graphs::make_tensor;
  const int32_t zp = act == DType::kS8 ? -5 : 120;
  Graph g;
  g.producer = "test";
  const int32_t x = g.add_tensor(make_tensor("x", act, {2, 45, 47, 32}, 0.02f, zp));
  const int32_t m = g.add_tensor(make_tensor("m", act, {2, 23, 24, 32}, 0.02f, zp));
  const int32_t a = g.add_tensor(make_tensor("a", act, {2, 23, 24, 32}, 0.015f, zp + 3));
  const int32_t y = g.add_tensor(make_tensor("y", act, {2, 23, 24, 32}, 0.03f, zp - 2));
  Node maxpool;
  maxpool.name = "maxpool";
  maxpool.op = OpType::kMaxPool2D;
  maxpool.inputs = {x};
  maxpool.outputs = {m};
  maxpool.attrs.kernel_h = maxpool.attrs.kernel_w = 3;
  maxpool.attrs.stride_h = maxpool.attrs.stride_w = 2;
  maxpool.attrs.pad_top = maxpool.attrs.pad_left = maxpool.attrs.pad_bottom = maxpool.attrs.pad_right = 1;
  g.nodes.push_back(maxpool);
  Node avgpool = maxpool;
  avgpool.name = "avgpool";
  avgpool.op = OpType::kAvgPool2D;
  avgpool.inputs = {m};
  avgpool.outputs = {a};
  avgpool.attrs.stride_h = avgpool.attrs.stride_w = 1;
  avgpool.attrs.count_include_pad = false;
  g.nodes.push_back(avgpool);
  Node add;
  add.name = "add";
  add.op = OpType::kAdd;
  add.inputs = {a, m};
  add.outputs = {y};
  g.nodes.push_back(add);
  g.inputs = {x};
  g.outputs = {y};
  return g;
}

TEST(Session, SplitPoolsAndAddsEqualOneThread) {
  for (DType act : {DType::kS8, DType::kU8}) {
    auto m = load(split_ops_net(act));
    const std::vector<float> x = random_input(2 * 45 * 47 * 32, 21);
    const size_t out_bytes = 2 * 23 * 24 * 32;
    std::vector<uint8_t> want;
    for (const char* isa : {"ref", ""}) {
      for (int32_t threads : {1, 2, 3}) {
        SessionOptions opts;
        opts.isa = isa;
        opts.num_threads = threads;
        std::unique_ptr<Session> s;
        ASSERT_TRUE(Session::create(m, opts, &s).ok());
        ASSERT_TRUE(s->set_input_f32(0, x.data(), x.size()).ok());
        s->run();
        std::vector<uint8_t> y(out_bytes);
        ASSERT_TRUE(s->get_output_raw(0, y.data(), y.size()).ok());
        if (want.empty()) {
          want = y;
          continue;
        }
        EXPECT_EQ(y, want) << "isa '" << isa << "', " << threads << " threads, "
                           << (act == DType::kS8 ? "int8" : "uint8");
      }
    }
  }
}

// Profiles name the kernel each node runs: the GEMM function's symbol for the
// activation type, the misc family's name, or "ref" at the reference level.
TEST(Session, KernelNames) {
  for (const char* isa : {"ref", ""}) {
    SessionOptions opts;
    opts.isa = isa;
    std::unique_ptr<Session> s;
    ASSERT_TRUE(Session::create(load(split_ops_net(DType::kS8)), opts, &s).ok());
    const kern::KernelSet& k = kern::kernel_set(kern::best_isa());
    const bool ref = std::string(isa) == "ref" || k.misc.qmaxpool_s8 == nullptr;
    EXPECT_STREQ(s->op(0).kernel_name(), ref ? "ref" : k.misc.names.qmaxpool);
    EXPECT_STREQ(s->op(1).kernel_name(), ref ? "ref" : k.misc.names.qavgpool);
    EXPECT_STREQ(s->op(2).kernel_name(), ref ? "ref" : k.misc.names.qbinary);

    const std::shared_ptr<const Model> small = load(testing_graphs::small_net(true));
    ASSERT_TRUE(Session::create(small, opts, &s).ok());
    const bool gemm = std::string(isa) != "ref" && k.gemm.s8 != nullptr;
    // The level's exact kernel, or its kernel for weights in [-127, 127] when the
    // convolution's weights allow (kernels/gemm_pick.h).
    const Tensor& w = small->graph().tensors[small->graph().nodes[0].inputs[1]];
    const kern::QGemmKernel& picked = kern::gemm_for_weights(k, w.as<int8_t>(), w.nbytes, static_cast<size_t>(w.shape.back()));
    EXPECT_STREQ(s->op(0).kernel_name(), gemm ? picked.name_s8 : "ref");  // an int8 convolution
    if (gemm) {
      EXPECT_EQ(std::string(picked.name_s8).rfind("qs8_igemm_", 0), 0u) << picked.name_s8;
    }
  }
}

}  // namespace
}  // namespace edgeq
