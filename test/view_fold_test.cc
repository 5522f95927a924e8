// The view fold (runtime/view_fold.h): float MatMuls reading Slice / Reshape / Transpose
// chains in place. The reference and the float GEMM driver through strided views against
// the same products on dense copies, bit for bit; an attention block as PyTorch exports
// it folded at model load, giving the unfolded graph's output bit for bit at every
// level, with the folded nodes named; and the chains that must not fold.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/fmatmul.h"
#include "kernels/kernels.h"
#include "kernels/ref/ref.h"
#include "runtime/session.h"
#include "runtime/view_fold.h"
#include "test/model_helpers.h"
#include "test/test_graphs.h"

namespace edgeq {
namespace {

using kern::Isa;
using testing_graphs::make_node;
using testing_graphs::make_tensor;

using test_models::shape_of;

// Heads split out of a [tokens, heads * width] buffer with a gap between rows (a fused
// projection): A = Q as [heads, tokens, width], B = K^T as [heads, width, tokens] read
// from K's rows, Y written as [tokens, heads, tokens'] rows. Against dense copies.
TEST(ViewFold, StridedProductsEqualDenseCopies) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  for (const int tokens : {1, 7, 19, 40}) {
    const int heads = 3, width = 13, row = 3 * heads * width + 5;  // q, k, v and a gap
    std::vector<float> qkv(static_cast<size_t>(tokens) * row);
    for (float& v : qkv) v = d(rng);
    const ref::MatMulShape s = shape_of({heads, tokens, width}, {heads, width, tokens});
    std::vector<float> a(static_cast<size_t>(heads) * tokens * width), b(a.size());
    for (int h = 0; h < heads; ++h)
      for (int t = 0; t < tokens; ++t)
        for (int c = 0; c < width; ++c) {
          a[(h * tokens + t) * width + c] = qkv[t * row + h * width + c];
          b[(h * width + c) * tokens + t] = qkv[t * row + heads * width + h * width + c];
        }
    ref::MatMulViews v = ref::dense_matmul_views(s);
    v.a.offset = 0, v.a.row = row, v.a.col = 1, v.a.batch[0] = width;
    v.b.offset = heads * width, v.b.row = 1, v.b.col = row, v.b.batch[0] = width;
    const int y_row = heads * tokens + 2;  // Y rows [tokens][heads][tokens] with a gap
    v.y.offset = 1, v.y.row = y_row, v.y.col = 1, v.y.batch[0] = tokens;
    const size_t y_dense = static_cast<size_t>(heads) * tokens * tokens, y_size = 1 + tokens * y_row;
    std::vector<float> want(y_dense), got(y_size, 7.f);
    ref::matmul_f32(s, a.data(), b.data(), want.data());
    ref::matmul_f32(s, v, qkv.data(), qkv.data(), got.data());
    auto at = [&](const std::vector<float>& y, int h, int i, int j) { return y[1 + i * y_row + h * tokens + j]; };
    for (int h = 0; h < heads; ++h)
      for (int i = 0; i < tokens; ++i)
        for (int j = 0; j < tokens; ++j)
          ASSERT_EQ(at(got, h, i, j), want[(h * tokens + i) * tokens + j]) << tokens << " " << h << " " << i << " " << j;
    EXPECT_EQ(got[0], 7.f);  // before the offset: untouched
    for (Isa isa : test_models::every_level()) {
      if (isa == Isa::kRef || !kern::isa_supported(isa) || kern::kernel_set(isa).fgemm.fn == nullptr) continue;
      kern::FMatMulOp dense_op, view_op;
      ASSERT_TRUE(dense_op.init(s, kern::kernel_set(isa).fgemm));
      ASSERT_TRUE(view_op.init(s, v, kern::kernel_set(isa).fgemm));
      kern::AlignedBuffer w1 = kern::aligned_buffer(dense_op.workspace_bytes());
      kern::AlignedBuffer w2 = kern::aligned_buffer(view_op.workspace_bytes());
      dense_op.set_workspace(w1.get());
      view_op.set_workspace(w2.get());
      std::vector<float> kd(y_dense), kv(y_size, 7.f);
      dense_op.run(a.data(), b.data(), kd.data());
      view_op.run(qkv.data(), qkv.data(), kv.data());
      for (int h = 0; h < heads; ++h)
        for (int i = 0; i < tokens; ++i)
          for (int j = 0; j < tokens; ++j)
            ASSERT_EQ(at(kv, h, i, j), kd[(h * tokens + i) * tokens + j]) << kern::isa_name(isa) << " " << tokens;
      EXPECT_EQ(kv[0], 7.f);
    }
    // Rows that are not contiguous are declined, never read wrong.
    ref::MatMulViews bad = v;
    bad.a.col = 2;
    kern::FMatMulOp declined;
    for (Isa isa : test_models::every_level()) {
      if (isa == Isa::kRef || !kern::isa_supported(isa) || kern::kernel_set(isa).fgemm.fn == nullptr) continue;
      EXPECT_EQ(declined.init(s, bad, kern::kernel_set(isa).fgemm).code(), kern::InitResult::kDeclined);
    }
  }
}

Tensor constant(const std::string& name, std::vector<int32_t> shape, const std::vector<float>& v) {
  Tensor t = make_tensor(name, DType::kF32, std::move(shape));
  t.set_data(testing_graphs::bytes_of(v));
  return t;
}

// Self-attention as torch.nn.MultiheadAttention exports it (batch 1), from a fused
// projection's output x [tokens, 1, 3 * E]:
//   q, k, v = Slice(x) [tokens, 1, E] -> Reshape [tokens, heads, width]
//   q -> Transpose(1, 0, 2) -> Div(sqrt width); k -> Transpose(1, 2, 0); v -> Transpose(1, 0, 2)
//   MatMul(q, k) -> Softmax -> MatMul(., v) [heads, tokens, width] -> Transpose(1, 0, 2) -> Reshape [tokens, E]
// `variant` 1 makes k's Slice output a graph output: k's chain folds from the Reshape
// on; 2 makes the output transpose's result a graph output: the MatMul writes it, and
// the Reshape after it stays.
Graph attention(int tokens, int heads, int width, int variant) {
  Graph g;
  g.producer = "test";
  const DType f = DType::kF32;
  const int e = heads * width;
  const int32_t x = g.add_tensor(make_tensor("x", f, {tokens, 1, 3 * e}));
  int32_t part[3];
  for (int i = 0; i < 3; ++i) {
    const std::string n = std::string("qkv").substr(i, 1);
    const int32_t sl = g.add_tensor(make_tensor(n + "_slice", f, {tokens, 1, e}));
    Node s = make_node(n + "/Slice", OpType::kSlice, {x}, {sl});
    s.attrs.starts = {0, 0, i * e};
    s.attrs.steps = {1, 1, 1};
    g.nodes.push_back(s);
    const int32_t r = g.add_tensor(make_tensor(n + "_heads", f, {tokens, heads, width}));
    g.nodes.push_back(make_node(n + "/Reshape", OpType::kReshape, {sl}, {r}));
    Node t = make_node(n + "/Transpose", OpType::kTranspose, {r}, {});
    t.attrs.perm = i == 1 ? std::vector<int32_t>{1, 2, 0} : std::vector<int32_t>{1, 0, 2};
    const std::vector<int32_t> ts = i == 1 ? std::vector<int32_t>{heads, width, tokens}
                                           : std::vector<int32_t>{heads, tokens, width};
    t.outputs = {g.add_tensor(make_tensor(n + "_t", f, ts))};
    g.nodes.push_back(t);
    part[i] = t.outputs[0];
  }
  const int32_t c = g.add_tensor(constant("sqrt_width", {1, 1, 1}, {std::sqrt(static_cast<float>(width))}));
  const int32_t qs = g.add_tensor(make_tensor("q_scaled", f, {heads, tokens, width}));
  g.nodes.push_back(make_node("q/Div", OpType::kDiv, {part[0], c}, {qs}));
  const int32_t sc = g.add_tensor(make_tensor("scores", f, {heads, tokens, tokens}));
  g.nodes.push_back(make_node("MatMul_1", OpType::kMatMul, {qs, part[1]}, {sc}));
  const int32_t p = g.add_tensor(make_tensor("probs", f, {heads, tokens, tokens}));
  Node sm = make_node("Softmax", OpType::kSoftmax, {sc}, {p});
  sm.attrs.axis = 2;
  g.nodes.push_back(sm);
  const int32_t o = g.add_tensor(make_tensor("attn", f, {heads, tokens, width}));
  g.nodes.push_back(make_node("MatMul_2", OpType::kMatMul, {p, part[2]}, {o}));
  const int32_t ot = g.add_tensor(make_tensor("attn_t", f, {tokens, heads, width}));
  Node tr = make_node("out/Transpose", OpType::kTranspose, {o}, {ot});
  tr.attrs.perm = {1, 0, 2};
  g.nodes.push_back(tr);
  const int32_t y = g.add_tensor(make_tensor("y", f, {tokens, e}));
  g.nodes.push_back(make_node("out/Reshape", OpType::kReshape, {ot}, {y}));
  g.inputs = {x};
  g.outputs = {y};
  if (variant == 1) g.outputs.push_back(g.nodes[3].outputs[0]);  // k's Slice output
  if (variant == 2) g.outputs.push_back(ot);
  return g;
}

std::vector<float> run(const std::shared_ptr<const Model>& m, const std::string& level, bool fold,
                       const std::vector<float>& x, std::vector<std::string>* kernels) {
  SessionOptions o;
  o.isa = level;
  o.fold_views = fold;
  std::unique_ptr<Session> s;
  const Status st = Session::create(m, o, &s);
  EXPECT_TRUE(st.ok()) << st.message();
  if (!s) return {};
  EXPECT_TRUE(s->set_input_f32(0, x.data(), x.size()).ok());
  EXPECT_TRUE(s->run().ok());
  std::vector<float> y;  // every output, one after the other
  for (size_t i = 0; i < s->graph().outputs.size(); ++i) {
    std::vector<float> o(static_cast<size_t>(s->output(i).num_elements()));
    EXPECT_TRUE(s->get_output_f32(i, o.data(), o.size()).ok());
    y.insert(y.end(), o.begin(), o.end());
  }
  if (kernels != nullptr)
    for (size_t i = 0; i < s->exec_graph().nodes.size(); ++i) kernels->push_back(s->op(i).kernel_name());
  return y;
}

// Width 16 divides by sqrt(16) = 4, a power of two: the Div becomes a Mul by 1/4.
TEST(ViewFold, AttentionFoldsAndGivesTheUnfoldedBits) {
  for (int variant : {0, 1, 2}) {
    for (const int tokens : {5, 17}) {
      const int width = variant == 0 && tokens == 17 ? 16 : 8;
      const Graph g = attention(tokens, 3, width, variant);
      const std::shared_ptr<const Model> m = test_models::load_in_memory(g);
      ASSERT_NE(m, nullptr);
      ASSERT_NE(m->folded_graph(), nullptr);
      size_t div = 0;
      while (g.nodes[div].op != OpType::kDiv) ++div;
      EXPECT_EQ(m->folded_graph()->nodes[div].op, width == 16 ? OpType::kMul : OpType::kDiv);
      const std::vector<float> x =
          testing_graphs::random_floats(static_cast<size_t>(tokens) * 9 * width, 3, -2.f, 2.f);
      for (Isa isa : test_models::every_level()) {
        if (!kern::isa_supported(isa)) continue;
        const std::string level = kern::isa_name(isa);
        std::vector<std::string> kernels;
        const std::vector<float> folded = run(m, level, true, x, &kernels);
        const std::vector<float> plain = run(m, level, false, x, nullptr);
        test_models::expect_same_floats(folded, plain, level + " variant " + std::to_string(variant));
        std::vector<std::string> folded_names;
        for (size_t i = 0; i < kernels.size(); ++i)
          if (kernels[i] == "folded") folded_names.push_back(g.nodes[i].name);
        // q: Reshape, Transpose (its Div runs on the slice); k and v: Slice, Reshape,
        // Transpose; the result: Transpose, Reshape.
        std::vector<std::string> want = {"q/Reshape", "q/Transpose", "k/Slice", "k/Reshape", "k/Transpose",
                                         "v/Slice",   "v/Reshape",   "v/Transpose", "out/Transpose", "out/Reshape"};
        if (variant == 1) want.erase(std::find(want.begin(), want.end(), "k/Slice"));
        if (variant == 2) want.pop_back();  // the MatMul writes the output transpose, a graph output
        std::sort(want.begin(), want.end());
        std::sort(folded_names.begin(), folded_names.end());
        EXPECT_EQ(folded_names, want) << level << " variant " << variant;
      }
    }
  }
}

// A MatMul whose A would be read by columns (A = X^T) keeps its Transpose: the model has
// no folded graph. The same Transpose as B folds (B is packed by a gather).
TEST(ViewFold, ChainsThatMustStay) {
  Graph g;
  g.producer = "test";
  const DType f = DType::kF32;
  const int32_t x = g.add_tensor(make_tensor("x", f, {6, 4}));
  const int32_t xt = g.add_tensor(make_tensor("xt", f, {4, 6}));
  Node t = make_node("transpose", OpType::kTranspose, {x}, {xt});
  t.attrs.perm = {1, 0};
  g.nodes.push_back(t);
  const int32_t w = g.add_tensor(constant("w", {6, 3}, testing_graphs::random_floats(18, 4, -1.f, 1.f)));
  const int32_t y = g.add_tensor(make_tensor("y", f, {4, 3}));
  g.nodes.push_back(make_node("mm", OpType::kMatMul, {xt, w}, {y}));
  g.inputs = {x};
  g.outputs = {y};
  EXPECT_EQ(fold_matmul_views(g), nullptr) << "A read by columns";
  Graph h = g;  // B = X^T [4, 6] against a constant A [2, 4]
  h.nodes[1].inputs = {h.add_tensor(constant("a", {2, 4}, testing_graphs::random_floats(8, 5, -1.f, 1.f))), xt};
  h.tensors[y].shape = {2, 6};
  const std::shared_ptr<const Graph> folded = fold_matmul_views(h);
  ASSERT_NE(folded, nullptr) << "B read by columns is packed by a gather";
  EXPECT_EQ(folded->nodes[0].op, OpType::kCount);
  EXPECT_EQ(folded->nodes[1].inputs[1], x);
}

}  // namespace
}  // namespace edgeq
