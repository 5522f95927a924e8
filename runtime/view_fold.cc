#include "runtime/view_fold.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "graph/ir_util.h"
#include "kernels/ref/ref.h"

namespace edgeq {
namespace {

// Element (i_0, ..., i_r-1) of a view is at offset + sum_d i_d * stride[d].
struct Strided {
  int64_t offset = 0;
  std::vector<int64_t> shape, stride;
};

Strided dense(const std::vector<int32_t>& shape) {
  Strided v;
  v.shape.assign(shape.begin(), shape.end());
  v.stride.assign(shape.size(), 1);
  for (size_t d = shape.size(); d-- > 1;) v.stride[d - 1] = v.stride[d] * v.shape[d];
  return v;
}

bool transpose(const std::vector<int32_t>& perm, Strided* v) {
  if (perm.size() != v->shape.size()) return false;
  Strided t;
  t.offset = v->offset;
  for (int32_t p : perm) {
    if (p < 0 || static_cast<size_t>(p) >= v->shape.size()) return false;
    t.shape.push_back(v->shape[p]);
    t.stride.push_back(v->stride[p]);
  }
  *v = t;
  return true;
}

bool slice(const Attrs& a, const std::vector<int32_t>& out_shape, Strided* v) {
  const size_t rank = v->shape.size();
  if (a.starts.size() != rank || a.steps.size() != rank || out_shape.size() != rank) return false;
  for (size_t d = 0; d < rank; ++d) {
    const int64_t start = a.starts[d], step = a.steps[d], len = out_shape[d];
    if (step <= 0 || len <= 0 || start < 0 || start + (len - 1) * step >= v->shape[d]) return false;
    v->offset += start * v->stride[d];
    v->stride[d] *= step;
    v->shape[d] = len;
  }
  return true;
}

// numpy's reshape without a copy: each group of old dimensions whose product equals a
// group of new ones must be contiguous among themselves; the new ones then step through
// it. Size-1 dimensions take no part.
bool reshape(const std::vector<int32_t>& to, Strided* v) {
  std::vector<int64_t> old_shape, old_stride;
  for (size_t d = 0; d < v->shape.size(); ++d) {
    if (v->shape[d] == 1) continue;
    old_shape.push_back(v->shape[d]);
    old_stride.push_back(v->stride[d]);
  }
  const std::vector<int64_t> shape(to.begin(), to.end());
  std::vector<int64_t> stride(shape.size(), 0);
  size_t oi = 0, oj = 1, ni = 0, nj = 1;
  while (ni < shape.size() && oi < old_shape.size()) {
    int64_t np = shape[ni], op = old_shape[oi];
    while (np != op) {
      if (np < op) {
        if (nj >= shape.size()) return false;
        np *= shape[nj++];
      } else {
        if (oj >= old_shape.size()) return false;
        op *= old_shape[oj++];
      }
    }
    for (size_t k = oi; k + 1 < oj; ++k)
      if (old_stride[k] != old_shape[k + 1] * old_stride[k + 1]) return false;
    stride[nj - 1] = old_stride[oj - 1];
    for (size_t k = nj - 1; k > ni; --k) stride[k - 1] = stride[k] * shape[k];
    ni = nj++;
    oi = oj++;
  }
  for (size_t k = ni; k < shape.size(); ++k)
    if (shape[k] != 1) return false;
  if (oi < old_shape.size()) return false;
  v->shape = shape;
  v->stride = stride;
  return true;
}

bool is_view_step(const Node& n) {
  return n.op == OpType::kTranspose || n.op == OpType::kReshape || n.op == OpType::kSlice;
}

// Node n's step applied to view v of its input (output shape `out`).
bool step_forward(const Node& n, const std::vector<int32_t>& out, Strided* v) {
  switch (n.op) {
    case OpType::kTranspose:
      return transpose(n.attrs.perm, v);
    case OpType::kSlice:
      return slice(n.attrs, out, v);
    case OpType::kReshape:
      return reshape(out, v);
    default:
      return false;
  }
}

// The inverse of node n's step (a Transpose or a Reshape), from a view of its output to
// one of its input (shape `in`).
bool step_backward(const Node& n, const std::vector<int32_t>& in, Strided* v) {
  if (n.op == OpType::kReshape) return reshape(in, v);
  if (n.op != OpType::kTranspose) return false;
  std::vector<int32_t> inverse(n.attrs.perm.size());
  for (size_t i = 0; i < n.attrs.perm.size(); ++i) {
    const int32_t p = n.attrs.perm[i];
    if (p < 0 || static_cast<size_t>(p) >= inverse.size()) return false;
    inverse[p] = static_cast<int32_t>(i);
  }
  return transpose(inverse, v);
}

bool f32(const Graph& g, int32_t t) { return t >= 0 && g.tensors[t].dtype == DType::kF32; }

// A MatMul operand's view of its chain: `nodes` from the source's reader to the
// MatMul's input (execution order); the longest tail that folds, or none.
struct Fold {
  int32_t tensor = -1;       // what the MatMul reads (or writes) instead
  std::vector<int> nodes;    // the nodes it replaces
  Strided view;              // the operand's logical shape over `tensor`
};

// Chain into a MatMul input x: the nodes that produce it through view steps (without
// Slices when `slices` is false).
Fold fold_input(const Graph& g, const GraphUses& uses, int32_t x, bool slices = true) {
  std::vector<int> chain;  // from x backwards
  for (int32_t t = x; uses.single_use(t) && uses.producer[t] >= 0;) {
    const Node& p = g.nodes[uses.producer[t]];
    if (!is_view_step(p) || (!slices && p.op == OpType::kSlice) || p.inputs.empty() || !f32(g, p.inputs[0])) break;
    chain.push_back(uses.producer[t]);
    t = p.inputs[0];
  }
  // The longest tail first: the source is the input of chain[len - 1].
  for (size_t len = chain.size(); len > 0; --len) {
    const int32_t source = g.nodes[chain[len - 1]].inputs[0];
    Strided v = dense(g.tensors[source].shape);
    bool ok = true;
    for (size_t i = len; ok && i-- > 0;) {
      const Node& n = g.nodes[chain[i]];
      ok = step_forward(n, g.tensors[n.outputs[0]].shape, &v);
    }
    if (!ok) continue;
    Fold f;
    f.tensor = source;
    f.nodes.assign(chain.rbegin() + static_cast<std::ptrdiff_t>(chain.size() - len), chain.rend());
    f.view = v;
    return f;
  }
  return Fold{};
}

// Chain out of a MatMul result y: Transposes and Reshapes that only move it.
Fold fold_output(const Graph& g, const GraphUses& uses, int32_t y) {
  std::vector<int> chain;  // from y forwards
  for (int32_t t = y; uses.single_use(t);) {
    const int c = uses.consumers[t][0];
    const Node& n = g.nodes[c];
    if ((n.op != OpType::kTranspose && n.op != OpType::kReshape) || n.inputs.empty() || n.inputs[0] != t ||
        n.outputs.empty() || !f32(g, n.outputs[0]))
      break;
    chain.push_back(c);
    t = n.outputs[0];
  }
  for (size_t len = chain.size(); len > 0; --len) {
    const int32_t target = g.nodes[chain[len - 1]].outputs[0];
    Strided v = dense(g.tensors[target].shape);
    bool ok = true;
    for (size_t i = len; ok && i-- > 0;) {
      const Node& n = g.nodes[chain[i]];
      ok = step_backward(n, g.tensors[n.inputs[0]].shape, &v);
    }
    if (!ok) continue;
    Fold f;
    f.tensor = target;
    f.nodes.assign(chain.begin(), chain.begin() + static_cast<std::ptrdiff_t>(len));
    f.view = v;
    return f;
  }
  return Fold{};
}

// A MatMul operand x = op(chain(src), c), op an elementwise Add, Sub, Mul or Div by a
// one-element constant c (attention's 1 / sqrt(d) on Q): the op commutes with moving
// data, so it may run on src, in src's order, and the chain fold into the MatMul. Only
// Transposes and Reshapes (which keep every element of src) qualify.
struct Hoist {
  int node = -1;  // the elementwise op
  Fold chain;     // its input's chain, over src
};

Hoist hoist_scalar_op(const Graph& g, const GraphUses& uses, int32_t x) {
  const int p = uses.single_use(x) ? uses.producer[x] : -1;
  if (p < 0) return Hoist{};
  const Node& n = g.nodes[p];
  const bool elementwise =
      n.op == OpType::kAdd || n.op == OpType::kSub || n.op == OpType::kMul || n.op == OpType::kDiv;
  if (!elementwise || n.inputs.size() != 2 || n.outputs.size() != 1) return Hoist{};
  const Tensor &in = g.tensors[n.inputs[0]], &c = g.tensors[n.inputs[1]];
  if (in.is_constant() || !c.is_constant() || c.num_elements() != 1 || c.dtype != DType::kF32 ||
      !f32(g, n.inputs[0]) || in.shape != g.tensors[x].shape)
    return Hoist{};
  Hoist h;
  h.chain = fold_input(g, uses, n.inputs[0], false);
  // The op on src must give src's shape: the constant may not add dimensions.
  if (h.chain.tensor < 0 || c.shape.size() > g.tensors[h.chain.tensor].shape.size()) return Hoist{};
  h.node = p;
  return h;
}

// The operand's MatMulView: its batch dimensions right-aligned against Y's `rank`
// (broadcast ones step 0). False for a negative step.
bool to_matmul_view(const Strided& v, int rank, std::vector<int64_t>* out) {
  const int r = static_cast<int>(v.shape.size());
  if (r < 2 || r - 2 > rank) return false;
  for (int64_t s : v.stride)
    if (s < 0) return false;
  out->push_back(v.offset);
  out->push_back(v.shape[r - 2] == 1 ? 0 : v.stride[r - 2]);
  out->push_back(v.shape[r - 1] == 1 ? 1 : v.stride[r - 1]);
  for (int d = 0; d < ref::kMaxDims; ++d) {
    const int i = d - (rank - (r - 2));
    out->push_back(d < rank && i >= 0 && v.shape[i] != 1 ? v.stride[i] : 0);
  }
  return true;
}

// A copy of g whose constants point at g's (g is the model's graph, which outlives it).
std::shared_ptr<Graph> copy_graph(const Graph& g) {
  auto out = std::make_shared<Graph>();
  out->nodes = g.nodes;
  out->inputs = g.inputs;
  out->outputs = g.outputs;
  out->requant = g.requant;
  out->producer = g.producer;
  out->packed = g.packed;
  out->tensors.resize(g.tensors.size());
  for (size_t i = 0; i < g.tensors.size(); ++i) {
    const Tensor& t = g.tensors[i];
    Tensor& c = out->tensors[i];
    c.name = t.name;
    c.dtype = t.dtype;
    c.shape = t.shape;
    c.quant = t.quant;
    c.data = t.data;
    c.nbytes = t.nbytes;
  }
  return out;
}

void drop(Graph* g, const std::vector<int>& nodes) {
  for (int i : nodes) {
    Node& n = g->nodes[i];
    n.op = OpType::kCount;
    n.inputs.clear();
    n.outputs.clear();
  }
}

}  // namespace

// For a one-element float constant c = +-2^e whose reciprocal is a normal float: that
// reciprocal (exact), else 0.
float exact_reciprocal(const Tensor& c) {
  if (!c.is_constant() || c.dtype != DType::kF32 || c.num_elements() != 1 || c.nbytes != sizeof(float)) return 0.f;
  float v;
  std::memcpy(&v, c.data, sizeof(float));
  if (!std::isnormal(v)) return 0.f;
  int e = 0;
  const float m = std::frexp(v, &e);  // v = m 2^e, |m| in [0.5, 1)
  if (m != 0.5f && m != -0.5f) return 0.f;
  const float r = std::ldexp(m > 0.f ? 1.f : -1.f, 1 - e);
  return std::isnormal(r) ? r : 0.f;
}

std::shared_ptr<const Graph> fold_matmul_views(const Graph& g) {
  const GraphUses uses = compute_uses(g);
  std::shared_ptr<Graph> out;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    if (n.op != OpType::kMatMul || n.attrs.dynamic != 0 || n.inputs.size() != 2 || n.outputs.size() != 1) continue;
    const int32_t a = n.inputs[0], b = n.inputs[1], y = n.outputs[0];
    if (!f32(g, a) || !f32(g, b) || !f32(g, y)) continue;
    ref::MatMulShape s;
    const std::vector<int32_t> &as = g.tensors[a].shape, &bs = g.tensors[b].shape;
    if (!ref::make_matmul_shape(as.data(), static_cast<int>(as.size()), bs.data(), static_cast<int>(bs.size()), &s))
      continue;
    Fold fa = fold_input(g, uses, a), fb = fold_input(g, uses, b), fy = fold_output(g, uses, y);
    const Hoist ha = fa.tensor < 0 ? hoist_scalar_op(g, uses, a) : Hoist{};
    if (ha.node >= 0) fa = ha.chain;  // over src for now; over the op's new output below
    // A's and Y's rows must stay contiguous (the float GEMM's rows); else they stay copies.
    if (fa.tensor >= 0 && s.k > 1 && fa.view.stride.back() != 1) fa = Fold{};
    if (fy.tensor >= 0 && s.n > 1 && fy.view.stride.back() != 1) fy = Fold{};
    if (fa.tensor < 0 && fb.tensor < 0 && fy.tensor < 0) continue;
    if (fa.tensor < 0) fa.view = dense(as), fa.tensor = a;
    if (fb.tensor < 0) fb.view = dense(bs), fb.tensor = b;
    if (fy.tensor < 0) fy.view = dense(g.tensors[y].shape), fy.tensor = y;
    std::vector<int64_t> views;
    if (!to_matmul_view(fa.view, s.rank, &views) || !to_matmul_view(fb.view, s.rank, &views) ||
        !to_matmul_view(fy.view, s.rank, &views))
      continue;
    if (!out) out = copy_graph(g);
    if (ha.node >= 0) {  // the op now runs on src, into a tensor of src's shape
      Tensor t;
      t.name = g.tensors[a].name + "/in_source_order";
      t.dtype = DType::kF32;
      t.shape = g.tensors[fa.tensor].shape;
      Node& op = out->nodes[ha.node];
      op.inputs[0] = fa.tensor;
      op.outputs[0] = out->add_tensor(std::move(t));
      fa.tensor = op.outputs[0];
    }
    Node& m = out->nodes[i];
    m.inputs = {fa.tensor, fb.tensor};
    m.outputs = {fy.tensor};
    m.attrs.matmul_a_shape = as;
    m.attrs.matmul_b_shape = bs;
    m.attrs.matmul_views = views;
    drop(out.get(), fa.nodes);
    drop(out.get(), fb.nodes);
    drop(out.get(), fy.nodes);
  }
  // A float Div by a power of two is a Mul by its reciprocal, exactly: both round the
  // same real x 2^-e (attention's 1 / sqrt(64) = 1/8). A multiply is the cheaper op.
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    if (n.op != OpType::kDiv || n.inputs.size() != 2 || n.outputs.size() != 1 || !f32(g, n.inputs[0]) ||
        !f32(g, n.outputs[0]))
      continue;
    const float r = exact_reciprocal(g.tensors[n.inputs[1]]);
    if (r == 0.f) continue;
    if (!out) out = copy_graph(g);
    Tensor t;
    t.name = g.tensors[n.inputs[1]].name + "/reciprocal";
    t.dtype = DType::kF32;
    t.shape = g.tensors[n.inputs[1]].shape;
    std::vector<uint8_t> bytes(sizeof(float));
    std::memcpy(bytes.data(), &r, sizeof(float));
    t.set_data(std::move(bytes));
    const int32_t c = out->add_tensor(std::move(t));
    Node& m = out->nodes[i];
    m.op = OpType::kMul;
    m.inputs[1] = c;
  }
  return out;
}

}  // namespace edgeq
