// Float graph -> int8 graph (see quantize_graph.h).
//
// The rewrite walks the nodes in execution order. Each activation tensor has a home
// domain, quantized or float, set by its producer (graph inputs: quantized when any
// quantized node reads them). A node that needs a tensor in the other domain gets a
// converted copy, made once by a Quantize or Dequantize node emitted just before the
// first node that needs it; later readers reuse it. Weights and biases of quantized
// Conv2D / FullyConnected nodes are quantized in place of the float constants, as are
// the float constant operands of other quantized ops (a Gather's table, a MatMul's
// constant side, a binary op's or a Concat's constant): per tensor in the activation
// dtype over their own min/max. Integer tensors
// (indices, Cast results) have no domain to change and are passed through.
#include "quant/quantize_graph.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>
#include <string>

#include "graph/ir_util.h"
#include "graph/shape.h"
#include "graph/unary_island.h"
#include "kernels/ref/ref.h"
#include "quant/qparams.h"
#include "quant/weights.h"

namespace edgeq {
namespace quant {
namespace {

// Symmetric int8 weights in narrow range [-127, 127] along axis 0 (quant/weights.h);
// per tensor is the same with all values as one channel.
Status quantize_weight(const Tensor& w, bool per_channel, Tensor* out) {
  const std::vector<float> f = floats_of(w);
  const std::vector<int32_t> shape = per_channel ? w.shape : std::vector<int32_t>{1, static_cast<int32_t>(f.size())};
  std::vector<int8_t> q;
  std::vector<float> scale;
  Status s = quantize_weights_per_channel(f.data(), shape, 0, &q, &scale);
  if (!s.ok()) return Status(s.code(), "weights '" + w.name + "': " + s.message());
  out->name = w.name + "_quantized";
  out->dtype = DType::kS8;
  out->shape = w.shape;
  out->quant.axis = 0;
  out->quant.scale = scale;
  out->quant.zero_point.assign(scale.size(), 0);
  out->set_data(std::vector<uint8_t>(reinterpret_cast<const uint8_t*>(q.data()),
                                     reinterpret_cast<const uint8_t*>(q.data()) + q.size()));
  return Status::Ok();
}

// int32 bias with scale s_in * s_w[c] and zero point 0 (quant/weights.h).
Status quantize_bias_tensor(const Tensor& b, float s_in, const QuantParams& wq, Tensor* out) {
  const std::vector<float> f = floats_of(b);
  std::vector<int32_t> q;
  Status s = quantize_bias(f.data(), f.size(), s_in, wq.scale, &q);
  if (!s.ok()) return Status(s.code(), "bias '" + b.name + "': " + s.message());
  out->name = b.name + "_quantized";
  out->dtype = DType::kS32;
  out->shape = b.shape;
  out->quant.axis = 0;
  for (float sw : wq.scale) out->quant.scale.push_back(s_in * sw);
  out->quant.zero_point.assign(out->quant.scale.size(), 0);
  out->set_data(std::vector<uint8_t>(reinterpret_cast<const uint8_t*>(q.data()),
                                     reinterpret_cast<const uint8_t*>(q.data()) + q.size() * 4));
  return Status::Ok();
}

// Per-tensor qparams of a constant activation operand over its own min/max (0 included).
Status constant_qparams(const Tensor& t, DType dtype, QuantParams* q) {
  const std::vector<float> f = floats_of(t);
  float lo = 0.f, hi = 0.f;
  for (float v : f) {
    if (!std::isfinite(v)) return InvalidArgument("constant '" + t.name + "' has a non-finite value");
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  QScheme scheme;
  scheme.dtype = dtype;
  float scale = 0.f;
  int32_t zp = 0;
  EDGEQ_RETURN_IF_ERROR(choose_qparams(scheme, lo, hi, &scale, &zp));
  q->scale = {scale};
  q->zero_point = {zp};
  return Status::Ok();
}

// The constant quantized with per-tensor qparams q in `dtype`.
Tensor quantize_constant(const Tensor& t, DType dtype, const QuantParams& q) {
  const std::vector<float> f = floats_of(t);
  const int32_t qmin = dtype == DType::kS8 ? -128 : 0, qmax = dtype == DType::kS8 ? 127 : 255;
  std::vector<uint8_t> bytes(f.size());
  for (size_t i = 0; i < f.size(); ++i)
    bytes[i] = static_cast<uint8_t>(ref::quantize_value(f[i], q.scale[0], q.zero_point[0], qmin, qmax));
  Tensor out;
  out.name = t.name + "_quantized";
  out.dtype = dtype;
  out.shape = t.shape;
  out.quant = q;
  out.set_data(std::move(bytes));
  return out;
}

// Float constant operands a quantized node takes in the activation dtype: all but the
// weights and bias of a GEMM (quantize_weight / quantize_bias_tensor) and LayerNorm's
// gamma and beta (float in the quantized op): a Gather's table, a MatMul's constant
// side, a binary op's constant (a position embedding, a scale), a Concat's (a class token).
bool takes_quantized_constant(const Node& n) {
  return !op_has(n.op, kOpWeights) && n.op != OpType::kLayerNorm;
}

class Rewriter {
 public:
  Rewriter(const Graph& g, const std::vector<QuantParams>& q, const GraphQuantOptions& o, Graph* out)
      : g_(g), act_q_(q), opts_(o), out_(out) {}

  Status run() {
    out_->tensors = g_.tensors;
    out_->requant = opts_.requant;
    out_->producer = g_.producer;
    const size_t nt = g_.tensors.size();
    quantized_.assign(nt, false);
    other_.assign(nt, -1);
    final_q_ = act_q_;
    final_q_.resize(nt);

    // Home domains: producers decide; graph inputs follow their first reader.
    const std::vector<int> producer = compute_uses(g_).producer;
    for (size_t i = 0; i < g_.nodes.size(); ++i) {
      const Node& n = g_.nodes[i];
      for (int32_t t : n.inputs)
        if (t >= 0 && producer[t] < 0 && is_float_activation(t) && is_quantized_node(i)) quantized_[t] = true;
      for (int32_t t : n.outputs) quantized_[t] = is_quantized_node(i) && is_float_activation(t);
      // Constant operands quantized over their own range (a Gather's output keeps its table's).
      for (size_t k = 0; k < n.inputs.size(); ++k) {
        const int32_t t = n.inputs[k];
        if (!is_float_constant(t) || !is_quantized_node(i) || !takes_quantized_constant(n)) continue;
        if (final_q_[t].empty()) EDGEQ_RETURN_IF_ERROR(constant_qparams(g_.tensors[t], opts_.act_dtype, &final_q_[t]));
      }
    }
    // Range-preserving ops pass their input's qparams on, in execution order.
    for (size_t i = 0; i < g_.nodes.size(); ++i) {
      const Node& n = g_.nodes[i];
      if (!is_quantized_node(i) || !preserves_range(n)) continue;
      for (int32_t t : n.outputs) final_q_[t] = final_q_[n.inputs[0]];
    }
    for (size_t t = 0; t < nt; ++t)
      if (quantized_[t]) EDGEQ_RETURN_IF_ERROR(set_quantized(static_cast<int32_t>(t)));

    for (size_t i = 0; i < g_.nodes.size(); ++i) EDGEQ_RETURN_IF_ERROR(emit(i));
    out_->inputs = g_.inputs;
    out_->outputs = g_.outputs;
    compact_graph(out_);  // drops the float weights the quantized ones replaced
    return validate_graph(*out_);
  }

 private:
  bool is_float_activation(int32_t t) const {
    return t >= 0 && !g_.tensors[t].is_constant() && g_.tensors[t].dtype == DType::kF32;
  }

  bool is_float_constant(int32_t t) const {
    return t >= 0 && g_.tensors[t].is_constant() && g_.tensors[t].dtype == DType::kF32;
  }

  bool is_quantized_node(size_t i) const {
    if (i < opts_.float_nodes.size() && opts_.float_nodes[i]) return false;
    const Node& n = g_.nodes[i];
    // Nodes already in the integer domain (none in a float model) are left alone.
    return op_has(n.op, kOpQuantizable);
  }

  Status set_quantized(int32_t t) {
    Tensor& x = out_->tensors[t];
    const QuantParams& q = final_q_[t];
    if (q.empty())
      return InvalidArgument("tensor '" + x.name + "' has no calibrated range (was it reached by the calibration data?)");
    if (x.dtype != DType::kF32) return InvalidArgument("tensor '" + x.name + "' is not float");
    x.dtype = opts_.act_dtype;
    x.quant = q;
    return Status::Ok();
  }

  // The index of tensor t in the domain `want_quantized`, converting it once if needed.
  int32_t in_domain(int32_t t, bool want_quantized) {
    if (t < 0 || g_.tensors[t].is_constant() || quantized_[t] == want_quantized) return t;
    if (other_[t] >= 0) return other_[t];
    const Tensor& src = out_->tensors[t];
    Tensor c;
    c.name = src.name + (want_quantized ? "_quantized" : "_dequantized");
    c.shape = src.shape;
    if (want_quantized) {
      c.dtype = opts_.act_dtype;
      c.quant = final_q_[t];
    }
    Node conv;
    conv.name = c.name;
    conv.op = want_quantized ? OpType::kQuantize : OpType::kDequantize;
    const int32_t idx = out_->add_tensor(std::move(c));
    conv.inputs = {t};
    conv.outputs = {idx};
    out_->nodes.push_back(std::move(conv));
    other_[t] = idx;
    return idx;
  }

  Status emit(size_t i) {
    Node n = g_.nodes[i];
    const bool q = is_quantized_node(i);
    for (size_t k = 0; k < n.inputs.size(); ++k) {
      const int32_t t = n.inputs[k];
      if (q && is_float_constant(t) && takes_quantized_constant(n)) {
        n.inputs[k] = quantized_constant(t);
        continue;
      }
      if (!is_float_activation(t)) continue;  // constants, integer tensors
      if (q && final_q_[t].empty() && !quantized_[t])
        return InvalidArgument("tensor '" + g_.tensors[t].name + "' has no calibrated range");
      n.inputs[k] = in_domain(t, q);
    }
    if (q && op_has(n.op, kOpWeights)) {
      const Tensor& w = g_.tensors[g_.nodes[i].inputs[1]];
      if (!w.is_constant()) return Unsupported("node '" + n.name + "': weights are not constant");
      Tensor wq;
      EDGEQ_RETURN_IF_ERROR(quantize_weight(w, opts_.per_channel_weights, &wq));
      const float s_in = out_->tensors[n.inputs[0]].quant.scale[0];
      if (n.inputs.size() > 2 && n.inputs[2] >= 0) {
        Tensor bq;
        EDGEQ_RETURN_IF_ERROR(quantize_bias_tensor(g_.tensors[g_.nodes[i].inputs[2]], s_in, wq.quant, &bq));
        n.inputs[2] = out_->add_tensor(std::move(bq));
      }
      n.inputs[1] = out_->add_tensor(std::move(wq));
    }
    if (q) EDGEQ_RETURN_IF_ERROR(check_requant(n));
    out_->nodes.push_back(std::move(n));
    return Status::Ok();
  }

  // A quantized GEMM (Conv2D, FullyConnected, MatMul) rescales its int32 sums by
  // s_in * s_w / s_out: refuse to write one the runtime would refuse (weights or ranges
  // so large that the ratio overflows float, or the fixed-point exponent), naming the
  // node and the way out.
  Status check_requant(const Node& n) const {
    if (!op_has(n.op, kOpWeights) && n.op != OpType::kMatMul) return Status::Ok();
    const Tensor &x = out_->tensors[n.inputs[0]], &w = out_->tensors[n.inputs[1]], &y = out_->tensors[n.outputs[0]];
    if (!is_quantized_type(x.dtype) || !is_quantized_type(y.dtype) || x.quant.empty() || y.quant.empty()) {
      return Status::Ok();
    }
    const ref::Scheme scheme = opts_.requant == RequantScheme::kFixedPoint ? ref::Scheme::kFixedPoint : ref::Scheme::kFp32;
    for (float sw : w.quant.scale) {
      if (const char* why = ref::requant_unrepresentable(x.quant.scale[0], sw, y.quant.scale[0], scheme)) {
        return InvalidArgument("node '" + n.name + "': requantization scale " + std::to_string(x.quant.scale[0]) +
                               " * " + std::to_string(sw) + " / " + std::to_string(y.quant.scale[0]) + " " + why +
                               " (input or weights too large for the output's range); keep the node float with "
                               "--exclude " + n.name);
      }
    }
    return Status::Ok();
  }

  // The quantized copy of constant t (made once, shared by every reader).
  int32_t quantized_constant(int32_t t) {
    if (other_[t] < 0) other_[t] = out_->add_tensor(quantize_constant(g_.tensors[t], opts_.act_dtype, final_q_[t]));
    return other_[t];
  }

  const Graph& g_;
  const std::vector<QuantParams>& act_q_;
  const GraphQuantOptions& opts_;
  Graph* out_;
  std::vector<bool> quantized_;   // per original tensor: home domain is quantized
  std::vector<int32_t> other_;    // per original tensor: its copy in the other domain
  std::vector<QuantParams> final_q_;
};

// Unary islands (graph/unary_island.h) of two or more nodes: their nodes stay float, so
// the rewrite puts a Dequantize before and a Quantize after each, and fuse_islands()
// then turns each into one Lookup (exactly the float chain, where quantizing each node
// on its own would round between them). Found from their last node backwards; only
// islands whose root comes from a quantized node and whose end feeds one.
void mark_unary_islands(const Graph& g, std::vector<bool>* float_nodes) {
  const GraphUses u = compute_uses(g);
  float_nodes->resize(g.nodes.size(), false);
  auto quantized = [&](int i) { return !(*float_nodes)[i] && op_has(g.nodes[i].op, kOpQuantizable); };
  std::vector<int> nodes;
  std::vector<int32_t> roots;
  for (int i = static_cast<int>(g.nodes.size()) - 1; i >= 0; --i) {
    if ((*float_nodes)[i] || g.nodes[i].outputs.size() != 1) continue;
    const int32_t end = g.nodes[i].outputs[0];
    if (!find_unary_island(g, u, end, &nodes, &roots) || nodes.size() < 2 || nodes.back() != i) continue;
    if (roots.size() != 1 || u.graph_output[end] || u.consumers[end].empty()) continue;
    bool read_quantized = true;  // every reader of the end is quantized: one Quantize feeds them
    for (int c : u.consumers[end]) read_quantized = read_quantized && quantized(c);
    if (!read_quantized) continue;
    const int p = u.producer[roots[0]];
    if (p < 0 || !quantized(p)) continue;
    bool free = true;
    for (int n : nodes) free = free && !(*float_nodes)[n];
    if (!free) continue;
    for (int n : nodes) (*float_nodes)[n] = true;
  }
}

// Each Dequantize -> island -> Quantize of the rewritten graph whose island nodes are
// all ones mark_unary_islands() kept float (`marked`, by name) becomes a Lookup; the
// Dequantizes left unread go too. Other float nodes between conversions stay as they are.
void fuse_islands(const std::set<std::string>& marked, Graph* g) {
  std::vector<int> nodes;
  std::vector<int32_t> roots;
  for (bool changed = true; changed;) {
    changed = false;
    const GraphUses u = compute_uses(*g);
    for (size_t i = 0; i < g->nodes.size() && !changed; ++i) {
      const Node& q = g->nodes[i];
      if (q.op != OpType::kQuantize || !find_unary_island(*g, u, q.inputs[0], &nodes, &roots)) continue;
      bool all_marked = true;
      for (int n : nodes) all_marked = all_marked && marked.count(g->nodes[n].name) > 0;
      changed = all_marked && fuse_unary_island(g, u, static_cast<int>(i));
    }
  }
  for (bool changed = true; changed;) {
    changed = false;
    const GraphUses u = compute_uses(*g);
    for (Node& n : g->nodes) {
      if (n.op == OpType::kDequantize && u.consumers[n.outputs[0]].empty() && !u.graph_output[n.outputs[0]]) {
        n.op = kDeadOp;
        changed = true;
      }
    }
  }
}

// The float islands of a transformer under default static quantization (see
// quantize_graph.h): LayerNorm, Softmax, Gelu and Erf, then the elementwise binary ops
// next to them (an activation input from the island, or a reader in it), to a fixed
// point.
void mark_float_islands(const Graph& g, std::vector<bool>* float_nodes) {
  const GraphUses u = compute_uses(g);
  float_nodes->resize(g.nodes.size(), false);
  std::vector<bool> island(g.nodes.size(), false);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const OpType op = g.nodes[i].op;
    island[i] = op == OpType::kLayerNorm || op == OpType::kSoftmax || op == OpType::kGelu || op == OpType::kErf;
  }
  auto elementwise = [](OpType op) {
    return op == OpType::kAdd || op == OpType::kSub || op == OpType::kMul || op == OpType::kDiv;
  };
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      const Node& n = g.nodes[i];
      if (island[i] || !elementwise(n.op)) continue;
      bool join = false;
      for (int32_t t : n.inputs)
        if (t >= 0 && !g.tensors[t].is_constant() && u.producer[t] >= 0 && island[u.producer[t]]) join = true;
      for (int c : u.consumers[n.outputs[0]]) join = join || island[c];
      if (join) island[i] = changed = true;
    }
  }
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (island[i]) (*float_nodes)[i] = true;
}

// The weight of a GEMM with constant float weights: W[N,K] of a FullyConnected, or B^T
// of a MatMul whose B is a constant matrix; false for any other node.
bool constant_gemm_weights(const Graph& g, const Node& n, Tensor* w) {
  if (n.op == OpType::kFullyConnected) {
    const Tensor& t = g.tensors[n.inputs[1]];
    if (!t.is_constant() || t.dtype != DType::kF32) return false;
    *w = t;
    return true;
  }
  if (n.op != OpType::kMatMul) return false;
  const Tensor& b = g.tensors[n.inputs[1]];
  if (!b.is_constant() || b.dtype != DType::kF32 || b.shape.size() != 2) return false;
  const int32_t k = b.shape[0], nn = b.shape[1];
  const std::vector<float> f = floats_of(b);
  std::vector<float> bt(f.size());
  for (int32_t r = 0; r < k; ++r)
    for (int32_t c = 0; c < nn; ++c) bt[static_cast<size_t>(c) * k + r] = f[static_cast<size_t>(r) * nn + c];
  w->name = b.name + "_transposed";
  w->dtype = DType::kF32;
  w->shape = {nn, k};
  w->quant = QuantParams();
  w->set_data(std::vector<uint8_t>(reinterpret_cast<const uint8_t*>(bt.data()),
                                   reinterpret_cast<const uint8_t*>(bt.data()) + bt.size() * 4));
  return true;
}

// Dynamic quantization: int8 weights for every GEMM with constant weights, the run-time
// mode on every FullyConnected, and on MatMuls of two activations when asked.
Status quantize_dynamic(const Graph& g, const GraphQuantOptions& opts, Graph* out) {
  *out = g;
  out->requant = opts.requant;
  const bool row = opts.dynamic_mode == DynamicMode::kRow;
  for (Node& n : out->nodes) {
    Tensor w;
    if (constant_gemm_weights(*out, n, &w)) {
      Tensor wq;
      EDGEQ_RETURN_IF_ERROR(quantize_weight(w, opts.per_channel_weights, &wq));
      n.inputs[1] = out->add_tensor(std::move(wq));
      n.op = OpType::kFullyConnected;  // a MatMul with constant B becomes one (no bias)
      n.attrs.dynamic = row ? 0 : 1;
    } else if (opts.dynamic_attention && n.op == OpType::kMatMul && out->tensors[n.inputs[0]].dtype == DType::kF32 &&
               out->tensors[n.inputs[1]].dtype == DType::kF32) {
      n.attrs.dynamic = row ? 2 : 1;
    }
  }
  compact_graph(out);
  return validate_graph(*out);
}

}  // namespace

Status check_float_graph(const Graph& g) {
  for (const Node& n : g.nodes)
    for (int32_t t : n.outputs)
      if (g.tensors[t].dtype != DType::kF32 && !is_integer_valued(g.tensors[t].dtype))
        return InvalidArgument("node '" + n.name + "' produces " + dtype_name(g.tensors[t].dtype) +
                               ": quantize a float model");
  return Status::Ok();
}

const char* dynamic_mode_name(DynamicMode m) { return m == DynamicMode::kTensor ? "tensor" : "row"; }

bool parse_dynamic_mode(const std::string& name, DynamicMode* out) {
  for (DynamicMode m : {DynamicMode::kRow, DynamicMode::kTensor}) {
    if (name == dynamic_mode_name(m)) {
      *out = m;
      return true;
    }
  }
  return false;
}

Status quantize_graph(const Graph& g, const std::vector<QuantParams>& act_qparams, const GraphQuantOptions& opts,
                      Graph* out) {
  if (opts.dynamic) return quantize_dynamic(g, opts, out);
  if (act_qparams.size() != g.tensors.size())
    return InvalidArgument("quantize_graph: " + std::to_string(act_qparams.size()) + " qparams for " +
                           std::to_string(g.tensors.size()) + " tensors");
  if (!is_quantized_type(opts.act_dtype)) return InvalidArgument("activation dtype must be int8 or uint8");
  EDGEQ_RETURN_IF_ERROR(check_float_graph(g));
  *out = Graph();
  GraphQuantOptions with_islands = opts;
  with_islands.float_nodes.resize(g.nodes.size(), false);
  if (!opts.full_int8) mark_float_islands(g, &with_islands.float_nodes);
  const std::vector<bool> kept_float = with_islands.float_nodes;
  mark_unary_islands(g, &with_islands.float_nodes);
  std::set<std::string> marked;  // the unary islands' nodes, fused into Lookups below
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (with_islands.float_nodes[i] && !kept_float[i]) marked.insert(g.nodes[i].name);
  Rewriter r(g, act_qparams, with_islands, out);
  EDGEQ_RETURN_IF_ERROR(r.run());
  fuse_islands(marked, out);
  compact_graph(out);
  return validate_graph(*out);
}

}  // namespace quant
}  // namespace edgeq
