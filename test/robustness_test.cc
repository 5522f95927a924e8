// Regression tests of hostile and unlucky conditions, each made from the input or
// condition that once crashed, hung or misbehaved: crafted files that pass the
// FlatBuffers verifier, misaligned tables, failed allocations, failed thread creation,
// absurd thread counts, files changed after loading, NaN and infinite inputs.
//
// Crafted files are made by editing a valid file's FlatBuffer the way an attacker
// would: bytes are appended to it and an offset is pointed at them (CraftedFile).
#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "edgeq/edgeq.h"
#include "edgeq_generated.h"
#include "graph/format.h"
#include "graph/write_file.h"
#include "kernels/memory.h"
#include "kernels/qconv.h"
#include "runtime/schedule.h"
#include "runtime/session.h"
#include "test/test_graphs.h"

namespace edgeq {
namespace {

using testing_graphs::bytes_of;
using testing_graphs::make_node;
using testing_graphs::make_tensor;

constexpr size_t kHeaderSize = 64;

// ------------------------------------------------------------------ test graphs

Tensor constant_f32(const std::string& name, std::vector<int32_t> shape, uint32_t seed) {
  Tensor t = make_tensor(name, DType::kF32, shape);
  t.set_data(bytes_of(testing_graphs::random_floats(static_cast<size_t>(t.num_elements()), seed, -1.f, 1.f)));
  return t;
}

// A float chain with a node of every options table of the file format:
//   x[1,4,4,2] -Conv3x3 pad 1-> [1,4,4,3] -Relu-> -MaxPool2x2-> [1,2,2,3]
//   -Pad(h, w +1 before)-> [1,3,3,3] -Slice-> [1,2,2,3] -Transpose(h<->w)->
//   -ResizeNearest x2-> [1,4,4,3] -Add const-> "mixed" [1,4,4,3] (graph output)
//   -GlobalAvgPool-> [1,1,1,3] -Reshape-> [1,3] -FC-> [1,5] -LayerNorm-> [1,5] -Softmax-> "probs"
//   (graph output)
// A NaN at x[0,0,0,0] reaches conv pixels (0..1, 0..1), pooled pixel (0,0), padded and
// sliced pixel (1,1), "mixed" pixels (2..3, 2..3), and every element of "probs".
Graph every_options_net() {
  Graph g;
  g.producer = "test";
  const DType f = DType::kF32;
  const int32_t x = g.add_tensor(make_tensor("x", f, {1, 4, 4, 2}));
  const int32_t w = g.add_tensor(constant_f32("conv_w", {3, 3, 3, 2}, 11));
  const int32_t b = g.add_tensor(constant_f32("conv_b", {3}, 12));
  const int32_t c = g.add_tensor(make_tensor("conv_out", f, {1, 4, 4, 3}));
  Node conv = make_node("conv", OpType::kConv2D, {x, w, b}, {c});
  conv.attrs.pad_top = conv.attrs.pad_left = conv.attrs.pad_bottom = conv.attrs.pad_right = 1;
  g.nodes.push_back(conv);

  const int32_t r = g.add_tensor(make_tensor("relu_out", f, {1, 4, 4, 3}));
  g.nodes.push_back(make_node("relu", OpType::kRelu, {c}, {r}));

  const int32_t p = g.add_tensor(make_tensor("pool_out", f, {1, 2, 2, 3}));
  Node pool = make_node("pool", OpType::kMaxPool2D, {r}, {p});
  pool.attrs.kernel_h = pool.attrs.kernel_w = 2;
  pool.attrs.stride_h = pool.attrs.stride_w = 2;
  g.nodes.push_back(pool);

  const int32_t pd = g.add_tensor(make_tensor("pad_out", f, {1, 3, 3, 3}));
  Node pad = make_node("pad", OpType::kPad, {p}, {pd});
  pad.attrs.pads = {0, 1, 1, 0, 0, 0, 0, 0};
  g.nodes.push_back(pad);

  const int32_t sl = g.add_tensor(make_tensor("slice_out", f, {1, 2, 2, 3}));
  Node slice = make_node("slice", OpType::kSlice, {pd}, {sl});
  slice.attrs.starts = {0, 0, 0, 0};
  slice.attrs.steps = {1, 1, 1, 1};
  g.nodes.push_back(slice);

  const int32_t tr = g.add_tensor(make_tensor("transpose_out", f, {1, 2, 2, 3}));
  Node transpose = make_node("transpose", OpType::kTranspose, {sl}, {tr});
  transpose.attrs.perm = {0, 2, 1, 3};
  g.nodes.push_back(transpose);

  const int32_t rs = g.add_tensor(make_tensor("resize_out", f, {1, 4, 4, 3}));
  Node resize = make_node("resize", OpType::kResizeNearest, {tr}, {rs});
  resize.attrs.scale_h = resize.attrs.scale_w = 2;
  g.nodes.push_back(resize);

  const int32_t k = g.add_tensor(constant_f32("add_const", {3}, 13));
  const int32_t mixed = g.add_tensor(make_tensor("mixed", f, {1, 4, 4, 3}));
  g.nodes.push_back(make_node("add", OpType::kAdd, {rs, k}, {mixed}));

  const int32_t gp = g.add_tensor(make_tensor("gap_out", f, {1, 1, 1, 3}));
  g.nodes.push_back(make_node("gap", OpType::kGlobalAvgPool, {mixed}, {gp}));

  const int32_t fl = g.add_tensor(make_tensor("flat", f, {1, 3}));
  g.nodes.push_back(make_node("flatten", OpType::kReshape, {gp}, {fl}));

  const int32_t fw = g.add_tensor(constant_f32("fc_w", {5, 3}, 14));
  const int32_t logits = g.add_tensor(make_tensor("logits", f, {1, 5}));
  g.nodes.push_back(make_node("fc", OpType::kFullyConnected, {fl, fw, -1}, {logits}));

  // MatMul (its options: `dynamic`): flat[1,3] x gap_out seen as [3,1], added to the logits.
  const int32_t col = g.add_tensor(make_tensor("gap_col", f, {3, 1}));
  g.nodes.push_back(make_node("gap_col", OpType::kReshape, {gp}, {col}));
  const int32_t mm = g.add_tensor(make_tensor("matmul_out", f, {1, 1}));
  Node matmul = make_node("matmul", OpType::kMatMul, {fl, col}, {mm});
  matmul.attrs.dynamic = 2;
  g.nodes.push_back(matmul);
  const int32_t mixed_logits = g.add_tensor(make_tensor("mixed_logits", f, {1, 5}));
  g.nodes.push_back(make_node("add_matmul", OpType::kAdd, {logits, mm}, {mixed_logits}));

  const int32_t lg = g.add_tensor(constant_f32("ln_gamma", {5}, 15));
  const int32_t lb = g.add_tensor(constant_f32("ln_beta", {5}, 16));
  const int32_t normed = g.add_tensor(make_tensor("normed", f, {1, 5}));
  Node layer_norm = make_node("layer_norm", OpType::kLayerNorm, {mixed_logits, lg, lb}, {normed});
  layer_norm.attrs.epsilon = 1e-5f;
  g.nodes.push_back(layer_norm);

  const int32_t probs = g.add_tensor(make_tensor("probs", f, {1, 5}));
  Node softmax = make_node("softmax", OpType::kSoftmax, {normed}, {probs});
  softmax.attrs.axis = 1;
  g.nodes.push_back(softmax);

  // A GRU (RecurrentOptions) over the probabilities as one step of one sequence.
  const int32_t seq = g.add_tensor(make_tensor("probs_seq", f, {1, 1, 5}));
  g.nodes.push_back(make_node("probs_seq", OpType::kReshape, {probs}, {seq}));
  const int32_t gw = g.add_tensor(constant_f32("gru_w", {1, 6, 5}, 17));
  const int32_t gr = g.add_tensor(constant_f32("gru_r", {1, 6, 2}, 18));
  const int32_t gb = g.add_tensor(constant_f32("gru_b", {1, 12}, 19));
  const int32_t gh0 = g.add_tensor(constant_f32("gru_h0", {1, 1, 2}, 20));
  const int32_t gy = g.add_tensor(make_tensor("gru_y", f, {1, 1, 1, 2}));
  const int32_t gh = g.add_tensor(make_tensor("gru_h", f, {1, 1, 2}));
  Node gru = make_node("gru", OpType::kGRU, {seq, gw, gr, gb, gh0}, {gy, gh});
  gru.attrs.hidden_size = 2;
  gru.attrs.linear_before_reset = 1;
  g.nodes.push_back(gru);

  // A TopK (TopKOptions) of the probabilities.
  const int32_t top = g.add_tensor(make_tensor("top", f, {1, 2}));
  const int32_t top_i = g.add_tensor(make_tensor("top_i", DType::kS64, {1, 2}));
  Node topk = make_node("topk", OpType::kTopK, {probs}, {top, top_i});
  topk.attrs.axis = 1;
  topk.attrs.k = 2;
  g.nodes.push_back(topk);

  // A ScatterElements (ScatterOptions) adding the top values back at their indices.
  const int32_t boosted = g.add_tensor(make_tensor("boosted", f, {1, 5}));
  Node scatter = make_node("scatter", OpType::kScatterElements, {probs, top_i, top}, {boosted});
  scatter.attrs.axis = 1;
  scatter.attrs.reduction = 1;
  g.nodes.push_back(scatter);

  // A Mod (ModOptions) of the top indices by 3.
  const int32_t three = g.add_tensor(make_tensor("three", DType::kS64, {1}));
  {
    const std::vector<int64_t> v = {3};
    g.tensors[three].set_data(testing_graphs::bytes_of(v));
  }
  const int32_t rem = g.add_tensor(make_tensor("top_i_mod3", DType::kS64, {1, 2}));
  Node mod = make_node("mod", OpType::kMod, {top_i, three}, {rem});
  mod.attrs.fmod = 0;
  g.nodes.push_back(mod);

  // A GridSample (GridSampleOptions) of "mixed" at a constant grid of 2 x 2 points.
  const int32_t grid = g.add_tensor(constant_f32("grid", {1, 2, 2, 2}, 21));
  const int32_t sampled = g.add_tensor(make_tensor("sampled", f, {1, 2, 2, 3}));
  Node grid_sample = make_node("grid_sample", OpType::kGridSample, {mixed, grid}, {sampled});
  grid_sample.attrs.grid_mode = 2;
  grid_sample.attrs.grid_padding = 2;
  grid_sample.attrs.align_corners = 1;
  g.nodes.push_back(grid_sample);

  g.inputs = {x};
  g.outputs = {mixed, gh};
  return g;
}

// Quantized (s8) x[1,8,8,3] -Conv3x3 pad 1-> [1,8,8,8] -depthwise Conv3x3 pad 1->
// [1,8,8,8] -GlobalAvgPool-> -Reshape-> [1,8] -FC-> y[1,4]: one node for each kernel
// driver that packs weights (GEMM conv, depthwise, GEMM fully connected).
Graph conv_dw_fc_net() {
  Graph g;
  g.producer = "test";
  const DType q = DType::kS8;
  std::vector<int8_t> wv(8 * 3 * 3 * 8);
  for (size_t i = 0; i < wv.size(); ++i) wv[i] = static_cast<int8_t>(static_cast<int>(i * 37 % 255) - 127);
  auto weights = [&](const std::string& name, std::vector<int32_t> shape) {
    Tensor t = make_tensor(name, DType::kS8, shape, 0.01f, 0);
    t.set_data(std::vector<uint8_t>(wv.begin(), wv.begin() + make_tensor("", q, shape).num_elements()));
    return t;
  };
  const int32_t x = g.add_tensor(make_tensor("x", q, {1, 8, 8, 3}, 0.02f, 3));
  const int32_t w1 = g.add_tensor(weights("conv_w", {8, 3, 3, 3}));
  const int32_t c1 = g.add_tensor(make_tensor("conv_out", q, {1, 8, 8, 8}, 0.03f, -5));
  Node conv = make_node("conv", OpType::kConv2D, {x, w1, -1}, {c1});
  conv.attrs.pad_top = conv.attrs.pad_left = conv.attrs.pad_bottom = conv.attrs.pad_right = 1;
  g.nodes.push_back(conv);
  const int32_t w2 = g.add_tensor(weights("dw_w", {8, 3, 3, 1}));
  const int32_t c2 = g.add_tensor(make_tensor("dw_out", q, {1, 8, 8, 8}, 0.03f, 2));
  Node dw = make_node("dw", OpType::kConv2D, {c1, w2, -1}, {c2});
  dw.attrs.pad_top = dw.attrs.pad_left = dw.attrs.pad_bottom = dw.attrs.pad_right = 1;
  dw.attrs.groups = 8;
  g.nodes.push_back(dw);
  const int32_t gp = g.add_tensor(make_tensor("gap_out", q, {1, 1, 1, 8}, 0.02f, 0));
  g.nodes.push_back(make_node("gap", OpType::kGlobalAvgPool, {c2}, {gp}));
  const int32_t fl = g.add_tensor(make_tensor("flat", q, {1, 8}, 0.02f, 0));
  g.nodes.push_back(make_node("flatten", OpType::kReshape, {gp}, {fl}));
  const int32_t w3 = g.add_tensor(weights("fc_w", {4, 8}));
  const int32_t y = g.add_tensor(make_tensor("y", q, {1, 4}, 0.05f, 1));
  g.nodes.push_back(make_node("fc", OpType::kFullyConnected, {fl, w3, -1}, {y}));
  g.inputs = {x};
  g.outputs = {y};
  return g;
}

// The kernel levels this host runs, the reference first.
std::vector<std::string> supported_levels() {
  std::vector<std::string> levels;
  for (int l = 0; l < static_cast<int>(kern::Isa::kCount); ++l)
    if (kern::isa_supported(static_cast<kern::Isa>(l))) levels.push_back(kern::isa_name(static_cast<kern::Isa>(l)));
  return levels;
}

std::vector<uint8_t> serialize(const Graph& g) {
  std::vector<uint8_t> bytes;
  EXPECT_TRUE(serialize_graph(g, &bytes).ok());
  return bytes;
}

// Loads a file's bytes as a model (copied into aligned memory by load_memory).
Status load(const std::vector<uint8_t>& file, std::shared_ptr<const Model>* model) {
  return Model::load_memory(file.data(), file.size(), model);
}

// Every output of one run of `model` on input `x`, as float.
std::vector<std::vector<float>> run_model(const std::shared_ptr<const Model>& model, const std::vector<float>& x,
                                          const SessionOptions& options = SessionOptions()) {
  std::unique_ptr<Session> s;
  const Status st = Session::create(model, options, &s);
  EXPECT_TRUE(st.ok()) << st.message();
  if (!st.ok()) return {};
  EXPECT_TRUE(s->set_input_f32(0, x.data(), x.size()).ok());
  s->run();
  std::vector<std::vector<float>> outs;
  for (size_t i = 0; i < s->graph().outputs.size(); ++i) {
    outs.emplace_back(static_cast<size_t>(s->output(i).num_elements()));
    EXPECT_TRUE(s->get_output_f32(i, outs.back().data(), outs.back().size()).ok());
  }
  return outs;
}

// ------------------------------------------------------------------ crafting files

void put_u32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }
uint64_t get_u64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
void put_u64(uint8_t* p, uint64_t v) { std::memcpy(p, &v, 8); }

// A valid .edgeq file taken apart to be edited: its header, its FlatBuffer and its
// constant data. join() lays them out again as the writer does (the data section at
// the next 64-byte boundary after the FlatBuffer), with the header's sizes updated.
class CraftedFile {
 public:
  explicit CraftedFile(const std::vector<uint8_t>& file) {
    const uint64_t fb_offset = get_u64(&file[16]), fb_size = get_u64(&file[24]);
    const uint64_t data_offset = get_u64(&file[32]), data_size = get_u64(&file[40]);
    header_.assign(file.begin(), file.begin() + kHeaderSize);
    fb_.assign(file.begin() + fb_offset, file.begin() + fb_offset + fb_size);
    data_.assign(file.begin() + data_offset, file.begin() + data_offset + data_size);
    EXPECT_EQ(fb_offset, kHeaderSize);
  }

  const fb::Model* model() const { return fb::GetModel(fb_.data()); }
  // Position in the FlatBuffer of something inside it.
  size_t pos(const void* p) const { return static_cast<size_t>(static_cast<const uint8_t*>(p) - fb_.data()); }
  uint8_t* at(size_t pos) { return fb_.data() + pos; }

  // Appends `n` bytes to the FlatBuffer at a position p with p % 8 == rem (zero
  // padding before them); returns p. The FlatBuffer starts 64-byte aligned in the
  // file, so p % 8 is also the address's alignment once loaded.
  size_t append(const uint8_t* bytes, size_t n, size_t rem) {
    while (fb_.size() % 8 != rem) fb_.push_back(0);
    const size_t p = fb_.size();
    fb_.insert(fb_.end(), bytes, bytes + n);
    return p;
  }

  std::vector<uint8_t> join() const {
    const size_t data_offset = (kHeaderSize + fb_.size() + 63) / 64 * 64;
    std::vector<uint8_t> file(data_offset + data_.size(), 0);
    std::memcpy(file.data(), header_.data(), kHeaderSize);
    put_u64(&file[24], fb_.size());
    put_u64(&file[32], data_offset);
    std::memcpy(&file[kHeaderSize], fb_.data(), fb_.size());
    if (!data_.empty()) std::memcpy(&file[data_offset], data_.data(), data_.size());
    return file;
  }

 private:
  std::vector<uint8_t> header_, fb_, data_;
};

// ------------------------------------------------------------------ 1. absent options tables

TEST(HostileFile, CraftingKeepsAValidFileValid) {
  const Graph g = every_options_net();
  const std::vector<uint8_t> file = serialize(g);
  CraftedFile crafted(file);
  EXPECT_EQ(crafted.join(), file);
  std::shared_ptr<const Model> m;
  ASSERT_TRUE(load(file, &m).ok());
  const auto outs = run_model(m, testing_graphs::random_floats(32, 5, -1.f, 1.f));
  ASSERT_EQ(outs.size(), 2u);
  for (float v : outs[1]) EXPECT_TRUE(std::isfinite(v));
}

// A node whose options type is set but whose options table is absent passes the
// FlatBuffers verifier (a union's table is optional to it); the loader once read the
// null table. Made for every node of a net that holds every options table: the node's
// vtable is copied to the end of the FlatBuffer with the options field cleared, and
// the node pointed at the copy (vtables are shared between nodes, so editing one in
// place would strip several).
TEST(HostileFile, OptionsTypeWithoutTableIsAnErrorNamingTheNode) {
  const Graph g = every_options_net();
  const std::vector<uint8_t> file = serialize(g);
  std::set<fb::Options> covered;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    CraftedFile crafted(file);
    const fb::Node* node = crafted.model()->nodes()->Get(static_cast<flatbuffers::uoffset_t>(i));
    if (node->options_type() == fb::Options::NONE) continue;
    covered.insert(node->options_type());
    const size_t table = crafted.pos(node);
    int32_t soffset;
    std::memcpy(&soffset, crafted.at(table), 4);
    const size_t vtable = table - static_cast<size_t>(soffset);
    uint16_t vsize;
    std::memcpy(&vsize, crafted.at(vtable), 2);
    ASSERT_GT(vsize, fb::Node::VT_OPTIONS) << "the writer wrote no options field";
    std::vector<uint8_t> copy(crafted.at(vtable), crafted.at(vtable) + vsize);
    std::memset(&copy[fb::Node::VT_OPTIONS], 0, 2);  // the field is absent
    const size_t new_vtable = crafted.append(copy.data(), copy.size(), 0);
    const int32_t new_soffset = static_cast<int32_t>(static_cast<int64_t>(table) - static_cast<int64_t>(new_vtable));
    std::memcpy(crafted.at(table), &new_soffset, 4);
    const std::vector<uint8_t> bad = crafted.join();

    // The verifier accepts it; the loader must not.
    flatbuffers::Verifier verifier(bad.data() + kHeaderSize, bad.size() - kHeaderSize, 64, 4000000);
    ASSERT_TRUE(fb::VerifyModelBuffer(verifier)) << g.nodes[i].name;
    const fb::Node* edited = fb::GetModel(bad.data() + kHeaderSize)->nodes()->Get(static_cast<flatbuffers::uoffset_t>(i));
    ASSERT_EQ(edited->options(), nullptr);
    ASSERT_NE(edited->options_type(), fb::Options::NONE);

    std::shared_ptr<const Model> m;
    const Status st = load(bad, &m);
    EXPECT_EQ(st.code(), StatusCode::kInvalidModel) << g.nodes[i].name;
    EXPECT_NE(st.message().find("'" + g.nodes[i].name + "'"), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("without an options table"), std::string::npos) << st.message();
  }
  // Every member of the union was covered.
  for (int t = static_cast<int>(fb::Options::MIN) + 1; t <= static_cast<int>(fb::Options::MAX); ++t)
    EXPECT_TRUE(covered.count(static_cast<fb::Options>(t))) << fb::EnumNameOptions(static_cast<fb::Options>(t));
}

// ------------------------------------------------------------------ 2. misaligned segments

// The verifier checks a vector of structs for 4-byte alignment only, so a file may
// place the Segment vector (8-byte integers) at an address that is 4 mod 8; the loader
// once read it through a misaligned pointer (undefined behaviour: UBSan reports it, some
// ARMv7 cores fault). The vector is copied to such a place and the model pointed at
// it: the file must load with the same constants and give the same outputs.
TEST(HostileFile, SegmentsFourByteAlignedLoadCorrectly) {
  const Graph g = every_options_net();
  const std::vector<uint8_t> file = serialize(g);
  CraftedFile crafted(file);
  const fb::Model* m = crafted.model();
  const size_t vec = crafted.pos(m->segments());  // the length field, then the structs
  const size_t bytes = 4 + m->segments()->size() * sizeof(fb::Segment);
  ASSERT_GT(m->segments()->size(), 0u);
  const std::vector<uint8_t> copy(crafted.at(vec), crafted.at(vec) + bytes);
  const size_t field = crafted.pos(reinterpret_cast<const flatbuffers::Table*>(m)->GetAddressOf(fb::Model::VT_SEGMENTS));
  const size_t moved = crafted.append(copy.data(), copy.size(), 0);  // structs at 4 mod 8
  put_u32(crafted.at(field), static_cast<uint32_t>(moved - field));
  const std::vector<uint8_t> odd = crafted.join();

  std::shared_ptr<const Model> original, edited;
  ASSERT_TRUE(load(file, &original).ok());
  const Status st = load(odd, &edited);
  ASSERT_TRUE(st.ok()) << st.message();
  // The structs sit at file offset 4 mod 8, so at an address 4 mod 8 in the loaded
  // (64-byte-aligned) copy.
  const size_t structs = static_cast<size_t>(fb::GetModel(odd.data() + kHeaderSize)->segments()->Data() - odd.data());
  ASSERT_EQ(structs, kHeaderSize + moved + 4);
  ASSERT_EQ(structs % 8, 4u);
  for (size_t i = 0; i < g.tensors.size(); ++i) {
    const Tensor &a = original->graph().tensors[i], &b = edited->graph().tensors[i];
    ASSERT_EQ(a.nbytes, b.nbytes) << a.name;
    if (a.is_constant()) {
      EXPECT_EQ(std::memcmp(a.data, b.data, a.nbytes), 0) << a.name;
    }
  }
  const std::vector<float> x = testing_graphs::random_floats(32, 6, -1.f, 1.f);
  EXPECT_EQ(run_model(original, x), run_model(edited, x));
}

// ------------------------------------------------------------------ 3. out of memory

// Every aligned allocation of loading and session creation (the model copy, the arena,
// each driver's packed weights and zero buffer) failed in turn, N = 1, 2, ... until
// creation succeeds, at every kernel level, with one and two threads: each must end in
// EDGEQ_OUT_OF_MEMORY with a message, never a crash. The GEMM and depthwise drivers
// once wrote through the null pointer of an unchecked aligned_alloc.
TEST(OutOfMemory, EveryAlignedAllocationOfLoadAndSessionCreation) {
  const std::vector<uint8_t> file = serialize(conv_dw_fc_net());
  for (const std::string& level : supported_levels()) {
    for (int32_t threads : {1, 2}) {
      SCOPED_TRACE(level + ", " + std::to_string(threads) + " threads");
      edgeq_session_options o;
      edgeq_session_options_init(&o);
      o.num_threads = threads;
      o.isa = level.c_str();
      int64_t n = 1;
      for (;; ++n) {
        kern::fail_nth_allocation(n);
        edgeq_model* model = nullptr;
        edgeq_session* session = nullptr;
        edgeq_status st = edgeq_model_load_memory(file.data(), file.size(), &model);
        if (st == EDGEQ_OK) st = edgeq_session_create(model, &o, &session);
        const bool failed = kern::allocation_failure_happened();
        kern::fail_nth_allocation(0);
        if (failed) {
          EXPECT_EQ(st, EDGEQ_OUT_OF_MEMORY) << "allocation " << n << ": " << edgeq_last_error();
          EXPECT_NE(std::string(edgeq_last_error()), "") << "allocation " << n;
          EXPECT_EQ(session, nullptr);
        } else {
          ASSERT_EQ(st, EDGEQ_OK) << edgeq_last_error();
          std::vector<int8_t> x(8 * 8 * 3, 7), y(4);
          EXPECT_EQ(edgeq_session_set_input_raw(session, 0, x.data(), x.size()), EDGEQ_OK);
          EXPECT_EQ(edgeq_session_run(session), EDGEQ_OK);
          EXPECT_EQ(edgeq_session_get_output_raw(session, 0, y.data(), y.size()), EDGEQ_OK);
        }
        edgeq_session_destroy(session);
        edgeq_model_release(model);
        if (!failed) break;
      }
      // The walk saw the model copy, the arena, and the packed weights and zero buffer
      // of every conv / fully connected node the level's drivers took, the edge windows
      // of the 3-channel conv where its window rows fold, and the flipped zero buffer of
      // each engine that flips its input once (kernels/qconv.h).
      std::shared_ptr<const Model> m;
      std::unique_ptr<Session> s;
      SessionOptions so;
      so.isa = level;
      ASSERT_TRUE(load(file, &m).ok());
      ASSERT_TRUE(Session::create(m, so, &s).ok());
      int64_t engines = 0, flips = 0;
      for (size_t i = 0; i < s->graph().nodes.size(); ++i) {
        if (op_has(s->graph().nodes[i].op, kOpWeights) && std::string(s->op(i).kernel_name()) != "ref") ++engines;
        // A GEMM engine that flips its int8 input once holds a flipped zero buffer too.
        if (op_has(s->graph().nodes[i].op, kOpWeights) && s->op(i).workspace_bytes() > 0) ++flips;
      }
#if defined(__x86_64__)
      if (level != "ref") {
        EXPECT_EQ(engines, 3);  // every x86 level takes the conv, the depthwise and the fc
      }
#endif
      kern::Isa isa = kern::Isa::kRef;
      ASSERT_TRUE(kern::parse_isa(level, &isa));
      const ref::ConvShape conv = {1, 8, 8, 3, 8, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1};
      const int64_t edges = isa != kern::Isa::kRef && kern::fold_window_rows(conv, kern::kernel_set(isa).gemm.kr).active;
      EXPECT_EQ(n - 1, 2 + 2 * engines + edges + flips);
    }
  }
}

// The node an out-of-memory error comes from is named.
TEST(OutOfMemory, PackingErrorNamesTheNode) {
  const std::vector<uint8_t> file = serialize(conv_dw_fc_net());
  std::shared_ptr<const Model> m;
  ASSERT_TRUE(load(file, &m).ok());
  SessionOptions o;
  o.isa = supported_levels().back();
  if (o.isa == "ref") GTEST_SKIP() << "no optimized level on this host";
  std::unique_ptr<Session> s;
  kern::fail_nth_allocation(2);  // the arena is first, then the conv's packed weights
  const Status st = Session::create(m, o, &s);
  kern::fail_nth_allocation(0);
  EXPECT_EQ(st.code(), StatusCode::kOutOfMemory);
  EXPECT_NE(st.message().find("'conv'"), std::string::npos) << st.message();
}

// ------------------------------------------------------------------ 4. thread creation failure

// In a child process: creates a 4-thread session with 1 MiB of address space left and
// exits 1 when that fails with an out-of-memory error about threads (0: created; 2:
// another out-of-memory error; 3: another status; 10 and up: setup failed). An alarm
// kills the child if creation hangs.
[[noreturn]] void create_session_under_address_space_limit(const std::vector<uint8_t>& file) {
  alarm(10);
  edgeq_model* model = nullptr;
  if (edgeq_model_load_memory(file.data(), file.size(), &model) != EDGEQ_OK) _exit(10);
  edgeq_session_options o;
  edgeq_session_options_init(&o);
  o.num_threads = 4;
  // Address space in use now, from /proc/self/statm (pages).
  FILE* statm = std::fopen("/proc/self/statm", "r");
  unsigned long pages = 0;
  if (!statm || std::fscanf(statm, "%lu", &pages) != 1) _exit(11);
  std::fclose(statm);
  const rlim_t limit = static_cast<rlim_t>(pages) * static_cast<rlim_t>(sysconf(_SC_PAGESIZE)) + (1 << 20);
  const struct rlimit rl = {limit, limit};
  if (setrlimit(RLIMIT_AS, &rl) != 0) _exit(12);
  edgeq_session* session = nullptr;
  const edgeq_status st = edgeq_session_create(model, &o, &session);
  if (st == EDGEQ_OK) _exit(0);
  if (st == EDGEQ_OUT_OF_MEMORY && std::strstr(edgeq_last_error(), "thread")) _exit(1);
  _exit(st == EDGEQ_OUT_OF_MEMORY ? 2 : 3);
}

// With a low address-space limit the pool's threads cannot get stacks; pthreadpool
// ignored the failed pthread_create() and waited for the missing workers forever, so
// session creation hung. In a child process (the limit must not touch this one) that
// is a fresh execution of the test binary ("threadsafe" death-test style: a forked
// child would inherit the thread stacks glibc cached for earlier tests, and the pool
// would get them without new memory), creation must return that error, not hang.
TEST(ThreadCreation, FailureUnderAnAddressSpaceLimitIsAnErrorNotAHang) {
#ifdef EDGEQ_TESTS_CROSS_BUILD
  // Cross builds run their tests under qemu-user, which can neither re-execute the
  // test binary for the child (the host's exec of an ARM file fails) nor limit the
  // guest's address space as a kernel does. The host build runs this test.
  GTEST_SKIP() << "needs a native process (re-exec and RLIMIT_AS); runs in the host build";
#endif
  const std::vector<uint8_t> file = serialize(conv_dw_fc_net());
  const std::string style = GTEST_FLAG_GET(death_test_style);
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(create_session_under_address_space_limit(file), ::testing::ExitedWithCode(1), "")
      << "exit 0: created; 2: another out-of-memory error; 3: another status; killed by SIGALRM: it hung";
  GTEST_FLAG_SET(death_test_style, style);
}

// ------------------------------------------------------------------ 5. thread count bound

// Threads of this process now (Linux: the entries of /proc/self/task).
int count_threads_now() {
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return -1;
  int n = 0;
  while (const dirent* e = readdir(dir))
    if (e->d_name[0] != '.') ++n;
  closedir(dir);
  return n;
}

// The thread count once it holds still for 50 ms (at most 5 s): the threads of a
// destroyed pool may leave the task list a little after pthreadpool_destroy() returns
// (under qemu-user, which runs each guest thread on a host thread, noticeably later).
int count_threads() {
  int last = count_threads_now();
  for (int waited = 0; waited < 5000; waited += 50) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const int now = count_threads_now();
    if (now == last) return now;
    last = now;
  }
  return last;
}

// num_threads had no upper bound in the C API: 3,000 created 3,000 threads and a run
// did not finish in two minutes; 100,000 exhausted the machine's thread limit. A
// session now runs at most kMaxThreadsPerCore threads per online core, with the same
// results as one thread; a negative count is an error.
TEST(ThreadCount, RequestsAboveTheCapAreCappedThroughTheCApi) {
  const std::vector<uint8_t> file = serialize(conv_dw_fc_net());
  edgeq_model* model = nullptr;
  ASSERT_EQ(edgeq_model_load_memory(file.data(), file.size(), &model), EDGEQ_OK);
  const int32_t cap = static_cast<int32_t>(sysconf(_SC_NPROCESSORS_ONLN)) * kMaxThreadsPerCore;
  std::vector<int8_t> x(8 * 8 * 3);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<int8_t>(i * 13);
  auto run = [&](int32_t threads, int* created) {
    edgeq_session_options o;
    edgeq_session_options_init(&o);
    o.num_threads = threads;
    const int before = count_threads();
    edgeq_session* session = nullptr;
    EXPECT_EQ(edgeq_session_create(model, &o, &session), EDGEQ_OK) << threads << ": " << edgeq_last_error();
    *created = count_threads() - before;
    std::vector<int8_t> y(4);
    if (session) {
      EXPECT_EQ(edgeq_session_set_input_raw(session, 0, x.data(), x.size()), EDGEQ_OK);
      EXPECT_EQ(edgeq_session_run(session), EDGEQ_OK);
      EXPECT_EQ(edgeq_session_get_output_raw(session, 0, y.data(), y.size()), EDGEQ_OK);
    }
    edgeq_session_destroy(session);
    return y;
  };
  int created = 0;
  const std::vector<int8_t> one = run(1, &created);
  EXPECT_EQ(created, 0);
  for (int32_t threads : {3000, 100000, std::numeric_limits<int32_t>::max()}) {
    EXPECT_EQ(run(threads, &created), one) << threads;
    EXPECT_EQ(created, cap - 1) << threads << " threads asked";  // the caller is the cap-th
  }
  edgeq_session_options o;
  edgeq_session_options_init(&o);
  o.num_threads = -1;
  edgeq_session* session = nullptr;
  EXPECT_EQ(edgeq_session_create(model, &o, &session), EDGEQ_INVALID_ARGUMENT);
  edgeq_model_release(model);
}

// ------------------------------------------------------------------ 6. partial files

// Names in a directory, sorted.
std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::string read_whole(const std::string& path) {
  std::string text;
  if (FILE* f = std::fopen(path.c_str(), "rb")) {
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof(buf), f)) > 0;) text.append(buf, n);
    std::fclose(f);
  }
  return text;
}

// Writes that fail part-way (the file size limit, with SIGXFSZ ignored as the edgeq
// tool does) once left an 8 KiB temporary file, or a truncated file in place. Every
// writer goes through write_file(): on failure the destination keeps its old bytes and
// nothing else is left in the directory; on success only the destination is there.
TEST(PartialFiles, AFailedWriteLeavesTheOldFileAndNothingElse) {
  const std::string dir = ::testing::TempDir() + "/edgeq_partial_files";
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(std::filesystem::create_directory(dir));
  const std::string path = dir + "/out.bin";
  const std::string old_bytes = "the old file";
  ASSERT_TRUE(write_file(path, old_bytes.data(), old_bytes.size()).ok());
  EXPECT_EQ(list_dir(dir), std::vector<std::string>{"out.bin"});
  EXPECT_EQ(read_whole(path), old_bytes);

  // In a child process (the limit must not touch this one): 16 KiB past an 8 KiB limit.
  const std::string big(16 << 10, 'x');
  auto write_past_the_limit = [&] {
    signal(SIGXFSZ, SIG_IGN);
    const struct rlimit rl = {8 << 10, 8 << 10};
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0) _exit(10);
    const Status st = write_file(path, big.data(), big.size());
    _exit(st.code() == StatusCode::kIoError && st.message().find("File too large") != std::string::npos ? 0 : 1);
  };
  EXPECT_EXIT(write_past_the_limit(), ::testing::ExitedWithCode(0), "") << "not an IoError saying EFBIG";
  EXPECT_EQ(list_dir(dir), std::vector<std::string>{"out.bin"});
  EXPECT_EQ(read_whole(path), old_bytes);

  // No such directory: an error, nothing created.
  EXPECT_EQ(write_file(dir + "/no/such/dir/f", big.data(), big.size()).code(), StatusCode::kIoError);
  ASSERT_TRUE(write_file(path, big.data(), big.size()).ok());
  EXPECT_EQ(read_whole(path), big);
  EXPECT_EQ(list_dir(dir), std::vector<std::string>{"out.bin"});
  std::filesystem::remove_all(dir);
}

// ------------------------------------------------------------------ 7. files changed after loading

// A mapped model file shrunk after loading killed the process with SIGBUS inside
// edgeq_session_create (documented in edgeq.h). edgeq_model_load_memory copies the
// bytes: truncating the file after loading (then replacing it) must change nothing.
TEST(ChangedFile, LoadMemoryIsUnaffectedByTruncatingTheFile) {
  const std::string dir = ::testing::TempDir() + "/edgeq_changed_file";
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(std::filesystem::create_directory(dir));
  const std::string path = dir + "/m.edgeq";
  const Graph g = conv_dw_fc_net();
  ASSERT_TRUE(write_graph_file(g, path).ok());
  const std::string bytes = read_whole(path);
  ASSERT_EQ(bytes.size(), serialize(g).size());

  edgeq_model* model = nullptr;
  ASSERT_EQ(edgeq_model_load_memory(bytes.data(), bytes.size(), &model), EDGEQ_OK);
  ASSERT_EQ(truncate(path.c_str(), 0), 0);
  ASSERT_TRUE(write_file(path, "junk", 4).ok());
  edgeq_session* session = nullptr;
  ASSERT_EQ(edgeq_session_create(model, nullptr, &session), EDGEQ_OK) << edgeq_last_error();
  std::vector<int8_t> x(8 * 8 * 3), y(4), expected(4);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<int8_t>(i * 7);
  EXPECT_EQ(edgeq_session_set_input_raw(session, 0, x.data(), x.size()), EDGEQ_OK);
  EXPECT_EQ(edgeq_session_run(session), EDGEQ_OK);
  EXPECT_EQ(edgeq_session_get_output_raw(session, 0, y.data(), y.size()), EDGEQ_OK);
  edgeq_session_destroy(session);
  edgeq_model_release(model);

  std::shared_ptr<const Model> m;
  std::unique_ptr<Session> s;
  ASSERT_TRUE(load(serialize(g), &m).ok());
  ASSERT_TRUE(Session::create(m, SessionOptions(), &s).ok());
  ASSERT_TRUE(s->set_input_raw(0, x.data(), x.size()).ok());
  s->run();
  ASSERT_TRUE(s->get_output_raw(0, expected.data(), expected.size()).ok());
  EXPECT_EQ(y, expected);
  std::filesystem::remove_all(dir);
}

// ------------------------------------------------------------------ 8. NaN and infinities

const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();

// Equal element for element, a NaN equal to a NaN.
bool same_floats(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
  return true;
}

// One NaN input element of a float model once vanished at the optimized levels: 0 of 20
// outputs were NaN, because XNNPACK's clamps map NaN to a bound (and the reference max
// pool skipped NaN taps). It must reach exactly the outputs that depend on it, at every
// level and thread count; such a run uses the reference ops, so it equals the
// reference level's run. Infinite inputs likewise give the reference level's outputs.
TEST(NanAndInf, NanReachesEveryOutputThatDependsOnIt) {
  std::shared_ptr<const Model> m;
  ASSERT_TRUE(load(serialize(every_options_net()), &m).ok());
  std::vector<float> x = testing_graphs::random_floats(32, 8, -1.f, 1.f);
  x[0] = kNaN;  // x[0, 0, 0, 0]
  std::vector<float> pinf = x, ninf = x;
  pinf[0] = kInf;
  ninf[0] = -kInf;
  SessionOptions ref;
  ref.isa = "ref";
  const auto want = run_model(m, x, ref), want_pinf = run_model(m, pinf, ref), want_ninf = run_model(m, ninf, ref);
  ASSERT_EQ(want.size(), 2u);
  for (int32_t h = 0; h < 4; ++h)
    for (int32_t w = 0; w < 4; ++w)
      for (int32_t c = 0; c < 3; ++c)
        EXPECT_EQ(std::isnan(want[0][(h * 4 + w) * 3 + c]), h >= 2 && w >= 2) << h << " " << w << " " << c;
  for (float v : want[1]) EXPECT_TRUE(std::isnan(v));
  for (const std::string& level : supported_levels()) {
    for (int32_t threads : {1, 2}) {
      SessionOptions o;
      o.isa = level;
      o.num_threads = threads;
      const auto got = run_model(m, x, o);
      ASSERT_EQ(got.size(), 2u);
      for (size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(same_floats(got[i], want[i])) << level << " output " << i;
      for (size_t i = 0; i < got.size(); ++i) {
        EXPECT_TRUE(same_floats(run_model(m, pinf, o)[i], want_pinf[i])) << level << " +inf output " << i;
        EXPECT_TRUE(same_floats(run_model(m, ninf, o)[i], want_ninf[i])) << level << " -inf output " << i;
      }
    }
  }
}

// Quantizing a float to int8 or uint8 (a Quantize node, or setting a quantized input
// from float) gives NaN -> the zero point, +inf -> the type's maximum, -inf -> its
// minimum, at every level (ref::quantize_value: no float-to-int conversion of NaN).
TEST(NanAndInf, QuantizedNanIsTheZeroPointAtEveryLevel) {
  const std::vector<float> x = {kNaN, kInf, -kInf, 1.f, -kNaN, 0.f, 1e30f, -2.f};
  for (DType t : {DType::kS8, DType::kU8}) {
    const int32_t zp = t == DType::kS8 ? 3 : 200;
    const int32_t lo = t == DType::kS8 ? -128 : 0, hi = t == DType::kS8 ? 127 : 255;
    const std::vector<int32_t> want = {zp, hi, lo, zp + 2, zp, zp, hi, zp - 4};  // scale 0.5
    Graph g;
    const int32_t xi = g.add_tensor(make_tensor("x", DType::kF32, {1, 8}));
    const int32_t q = g.add_tensor(make_tensor("q", t, {1, 8}, 0.5f, zp));
    const int32_t y = g.add_tensor(make_tensor("y", DType::kF32, {1, 8}));
    g.nodes.push_back(make_node("quantize", OpType::kQuantize, {xi}, {q}));
    g.nodes.push_back(make_node("dequantize", OpType::kDequantize, {q}, {y}));
    g.inputs = {xi};
    g.outputs = {q, y};
    std::shared_ptr<const Model> m;
    ASSERT_TRUE(load(serialize(g), &m).ok());
    for (const std::string& level : supported_levels()) {
      SessionOptions o;
      o.isa = level;
      const auto got = run_model(m, x, o);
      ASSERT_EQ(got.size(), 2u);
      for (size_t i = 0; i < x.size(); ++i) {
        EXPECT_EQ(got[0][i], 0.5f * static_cast<float>(want[i] - zp)) << level << " element " << i;
        EXPECT_EQ(got[1][i], 0.5f * static_cast<float>(want[i] - zp)) << level << " element " << i;
      }
    }
  }
  // A quantized input set from float.
  std::shared_ptr<const Model> m;
  ASSERT_TRUE(load(serialize(conv_dw_fc_net()), &m).ok());  // x: s8, scale 0.02, zero point 3
  for (const std::string& level : supported_levels()) {
    SessionOptions o;
    o.isa = level;
    std::unique_ptr<Session> s;
    ASSERT_TRUE(Session::create(m, o, &s).ok());
    std::vector<float> in(8 * 8 * 3, 0.f);
    in[0] = kNaN;
    in[1] = kInf;
    in[2] = -kInf;
    ASSERT_TRUE(s->set_input_f32(0, in.data(), in.size()).ok());
    const int8_t* raw = reinterpret_cast<const int8_t*>(s->tensor_data(s->graph().inputs[0]));
    EXPECT_EQ(raw[0], 3) << level;
    EXPECT_EQ(raw[1], 127) << level;
    EXPECT_EQ(raw[2], -128) << level;
  }
}

// A dynamically quantized fully connected layer (float in and out, int8 weights) once
// quantized a row holding NaN to the zero point and gave finite outputs. Such a row is
// computed in float: NaN gives NaN in the row's outputs; other rows are unchanged.
TEST(NanAndInf, DynamicFullyConnectedRowWithNanGivesNan) {
  Graph g;
  const int32_t xi = g.add_tensor(make_tensor("x", DType::kF32, {2, 4}));
  Tensor w = make_tensor("w", DType::kS8, {3, 4}, 0.05f, 0);
  w.set_data({1, 2, 3, 4, 255, 254, 253, 252, 10, 0, 246, 5});
  const int32_t wi = g.add_tensor(w);
  const int32_t bi = g.add_tensor(constant_f32("b", {3}, 21));
  const int32_t y = g.add_tensor(make_tensor("y", DType::kF32, {2, 3}));
  g.nodes.push_back(make_node("fc", OpType::kFullyConnected, {xi, wi, bi}, {y}));
  g.inputs = {xi};
  g.outputs = {y};
  std::shared_ptr<const Model> m;
  ASSERT_TRUE(load(serialize(g), &m).ok());
  const std::vector<float> clean = {0.5f, -1.f, 2.f, 0.25f, 1.f, 2.f, -3.f, 4.f};
  std::vector<float> x = clean;
  x[1] = kNaN;
  for (const std::string& level : supported_levels()) {
    SessionOptions o;
    o.isa = level;
    const auto want = run_model(m, clean, o), got = run_model(m, x, o);
    ASSERT_EQ(got.size(), 1u);
    for (int c = 0; c < 3; ++c) {
      EXPECT_TRUE(std::isnan(got[0][c])) << level << " column " << c;
      EXPECT_EQ(got[0][3 + c], want[0][3 + c]) << level << " column " << c;
    }
  }
}

}  // namespace
}  // namespace edgeq
