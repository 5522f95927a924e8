// Float transformer graphs built in code for the calibration tests: one pre-LayerNorm
// encoder block, an embedding front (Cast -> Gather) and a GELU written out with Erf,
// with fixed-seed weights. Shapes are tiny (sequence 4, width 8, 2 heads) so the tests
// can also run them.
//
//   x[1,S,D] -LayerNorm-> h -FC q/k/v-> [1,S,D] -Reshape-> [1,S,H,Dh] -Transpose->
//   q[1,H,S,Dh], k^T[1,H,Dh,S], v[1,H,S,Dh]; MatMul(q, k^T) -Softmax-> MatMul(., v)
//   -Transpose-> -Reshape-> [1,S,D] -FC-> -Add x-> r -LayerNorm-> -FC-> [1,S,F] -Gelu->
//   -FC-> -Add r-> y[1,S,D]
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "graph/format.h"
#include "graph/ir.h"
#include "runtime/session.h"
#include "test/test_graphs.h"

namespace edgeq {
namespace testing_graphs {

class GraphBuilder {
 public:
  explicit GraphBuilder(uint32_t seed) : seed_(seed) { g_.producer = "test"; }

  int32_t input(const std::string& name, DType dtype, std::vector<int32_t> shape) {
    const int32_t t = g_.add_tensor(make_tensor(name, dtype, std::move(shape)));
    g_.inputs.push_back(t);
    return t;
  }
  // A float constant of uniform random values in [lo, hi).
  int32_t constant(const std::string& name, std::vector<int32_t> shape, float lo, float hi) {
    size_t n = 1;
    for (int32_t d : shape) n *= static_cast<size_t>(d);
    return constant_values(name, std::move(shape), random_floats(n, seed_++, lo, hi));
  }
  int32_t constant_values(const std::string& name, std::vector<int32_t> shape, const std::vector<float>& v) {
    Tensor t = make_tensor(name, DType::kF32, std::move(shape));
    t.set_data(bytes_of(v));
    return g_.add_tensor(std::move(t));
  }
  // A node with one new output tensor; returns the output.
  int32_t node(const std::string& name, OpType op, std::vector<int32_t> inputs, std::vector<int32_t> shape,
               const Attrs& attrs = Attrs(), DType dtype = DType::kF32) {
    const int32_t y = g_.add_tensor(make_tensor(name + "_out", dtype, std::move(shape)));
    Node n = make_node(name, op, std::move(inputs), {y});
    n.attrs = attrs;
    g_.nodes.push_back(std::move(n));
    return y;
  }
  int32_t fc(const std::string& name, int32_t x, std::vector<int32_t> shape, int32_t k) {
    const int32_t n = shape.back();
    const float r = 1.f / std::sqrt(static_cast<float>(k));
    const int32_t w = constant(name + ".weight", {n, k}, -r, r);
    const int32_t b = constant(name + ".bias", {n}, -0.1f, 0.1f);
    return node(name, OpType::kFullyConnected, {x, w, b}, std::move(shape));
  }
  int32_t layer_norm(const std::string& name, int32_t x, int32_t c) {
    const int32_t gamma = constant(name + ".weight", {c}, 0.8f, 1.2f);
    const int32_t beta = constant(name + ".bias", {c}, -0.1f, 0.1f);
    return node(name, OpType::kLayerNorm, {x, gamma, beta}, g_.tensors[x].shape);
  }
  int32_t transpose(const std::string& name, int32_t x, std::vector<int32_t> perm) {
    std::vector<int32_t> shape;
    for (int32_t p : perm) shape.push_back(g_.tensors[x].shape[p]);
    Attrs a;
    a.perm = std::move(perm);
    return node(name, OpType::kTranspose, {x}, std::move(shape), a);
  }
  Graph finish(std::vector<int32_t> outputs) {
    g_.outputs = std::move(outputs);
    return g_;
  }
  Graph& graph() { return g_; }

 private:
  Graph g_;
  uint32_t seed_;
};

// g serialized and loaded back, as a model file is (a failure is a test failure).
inline std::shared_ptr<const Model> as_model(const Graph& g) {
  std::vector<uint8_t> bytes;
  Status s = serialize_graph(g, &bytes);
  EXPECT_TRUE(s.ok()) << s.message();
  std::shared_ptr<const Model> m;
  s = Model::load_memory(bytes.data(), bytes.size(), &m);
  EXPECT_TRUE(s.ok()) << s.message();
  return m;
}

constexpr int32_t kSeq = 4, kWidth = 8, kHeads = 2, kHeadWidth = 4, kFfn = 16;

// One pre-LayerNorm encoder block (see the top of the file) on x [1,S,D] in b's
// graph; returns its output.
inline int32_t encoder_layers(GraphBuilder& b, int32_t x) {
  const int32_t S = kSeq, D = kWidth, H = kHeads, Dh = kHeadWidth, F = kFfn;
  const int32_t h = b.layer_norm("ln1", x, D);
  auto heads = [&](const std::string& name, std::vector<int32_t> perm) {
    const int32_t p = b.fc(name, h, {1, S, D}, D);
    const int32_t r = b.node(name + "_split", OpType::kReshape, {p}, {1, S, H, Dh});
    return b.transpose(name + "_heads", r, std::move(perm));
  };
  const int32_t q = heads("q", {0, 2, 1, 3}), kt = heads("k", {0, 2, 3, 1}), v = heads("v", {0, 2, 1, 3});
  const int32_t scores = b.node("qk", OpType::kMatMul, {q, kt}, {1, H, S, S});
  Attrs last;
  last.axis = 3;
  const int32_t p = b.node("softmax", OpType::kSoftmax, {scores}, {1, H, S, S}, last);
  const int32_t ctx = b.node("pv", OpType::kMatMul, {p, v}, {1, H, S, Dh});
  const int32_t merged = b.transpose("merge", ctx, {0, 2, 1, 3});
  const int32_t flat = b.node("merge_flat", OpType::kReshape, {merged}, {1, S, D});
  const int32_t attn = b.fc("attn_out", flat, {1, S, D}, D);
  const int32_t r = b.node("residual1", OpType::kAdd, {attn, x}, {1, S, D});
  const int32_t h2 = b.layer_norm("ln2", r, D);
  const int32_t f1 = b.fc("ffn1", h2, {1, S, F}, D);
  const int32_t g = b.node("gelu", OpType::kGelu, {f1}, {1, S, F});
  const int32_t f2 = b.fc("ffn2", g, {1, S, D}, F);
  return b.node("residual2", OpType::kAdd, {f2, r}, {1, S, D});
}

// The block as a graph of its own: input "x", output "y".
inline Graph encoder_block(uint32_t seed = 1) {
  GraphBuilder b(seed);
  const int32_t y = encoder_layers(b, b.input("x", DType::kF32, {1, kSeq, kWidth}));
  b.graph().tensors[y].name = "y";
  return b.finish({y});
}

}  // namespace testing_graphs
}  // namespace edgeq
