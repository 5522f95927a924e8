// Rewrites on the lowered IR graph, run to a fixed point:
//  * fuse_hard_swish: x * HardSigmoid(x) (alpha 1/6, beta 1/2) -> HardSwish.
//  * fold_affine: float Conv2D/FullyConnected followed by a per-output-channel constant
//    Mul/Add/Sub (batch norm after lowering) -> weights and bias updated.
//  * fuse_qdq: kDequantize -> op [-> Relu/Clip]* -> kQuantize becomes the quantized op
//    (MatMul: both operands dequantized runtime tensors, e.g. attention scores)
//    (int8 weights per-tensor or per-channel, uint8 weights shifted to int8, int32
//    bias checked against s_x*s_w and rescaled if it differs).
//  * fuse_float_out (after the others reach their fixed point): kDequantize -> FullyConnected
//    (constant dequantized weights) or MatMul (two dequantized activations) with no
//    kQuantize after becomes the op on the int8 inputs with a float output (ONNX
//    Runtime's QDQ files quantize a Linear's inputs but not its output when the consumer
//    is float: residual Add, LayerNorm, Softmax, GELU).
//  * sink_dequantize / hoist_quantize: pure data movement (Reshape, Transpose, Slice,
//    Split, ResizeNearest, zero Pad) commutes with (de)quantization, so it moves to the
//    int8 side.
//  * fuse_unary_island (graph/unary_island.h): kDequantize -> float elementwise functions
//    of that one tensor (SiLU, GELU, Mish, ...) -> kQuantize becomes one kLookup, after
//    fuse_qdq has taken the single ops that have a quantized form.
//  * cancel_dq_q: kDequantize -> kQuantize becomes nothing (equal parameters) or
//    kRequantize.
//  * fold_activation: Relu/Clip into the producer's act_min/act_max (float, or
//    quantized with equal parameters on both sides).
//  * collapse_movement: Reshape chains, Transpose pairs, identity reshapes;
//    collapse_transpose_sandwich: Transpose -> Reshape -> Transpose moving no element.
//  * fold_pad: a zero Pad on H and W read only by a Conv2D or an AvgPool2D becomes the
//    consumer's padding.
// then the graph-boundary rewrites of ImportOptions::quantized_io, folding of
// dequantized constants left over (weights of ops that stayed float), and removal of
// everything unused.
//
// Each rewrite is applied at one place, then the use lists are rebuilt; graphs are small
// enough for that to be cheap and it keeps every rewrite simple.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "graph/ir_util.h"
#include "graph/onnx/internal.h"
#include "graph/unary_island.h"

namespace edgeq {
namespace onnx_import {

namespace {

constexpr OpType kDead = OpType::kCount;

bool is_f32(const Graph& g, int32_t t) { return t >= 0 && g.tensors[t].dtype == DType::kF32; }

bool per_tensor_q(const Tensor& t) {
  return is_quantized_type(t.dtype) && t.quant.scale.size() == 1 && t.quant.zero_point.size() == 1;
}

bool same_q(const Tensor& a, const Tensor& b) {
  return a.dtype == b.dtype && a.quant.scale == b.quant.scale &&
         a.quant.zero_point == b.quant.zero_point &&
         (a.quant.scale.size() <= 1 || a.quant.axis == b.quant.axis);
}

int32_t add_tensor_like(Graph* g, int32_t like, const std::string& suffix,
                        const std::vector<int32_t>& shape) {
  Tensor t;
  std::string base = g->tensors[like].name + suffix;
  t.name = base;
  for (int k = 1; g->find_tensor(t.name) >= 0; ++k) t.name = base + "_" + std::to_string(k);
  t.dtype = g->tensors[like].dtype;
  t.quant = g->tensors[like].quant;
  t.shape = shape;
  return g->add_tensor(std::move(t));
}

std::string unique_node_name(const Graph& g, const std::string& base) {
  auto taken = [&](const std::string& s) {
    for (const Node& n : g.nodes)
      if (n.name == s) return true;
    return false;
  };
  std::string name = base;
  for (int k = 1; taken(name); ++k) name = base + "_" + std::to_string(k);
  return name;
}

bool act_range(const Node& n, float* lo, float* hi) {
  if (n.op == OpType::kRelu) {
    *lo = 0.f;
    *hi = std::numeric_limits<float>::infinity();
    return true;
  }
  if (n.op == OpType::kClip) {
    *lo = n.attrs.alpha;
    *hi = n.attrs.beta;
    return true;
  }
  return false;
}

bool act_unbounded(const Attrs& a) { return std::isinf(a.act_min) && std::isinf(a.act_max); }

// Integer value k of a quantized constant tensor.
int32_t qvalue(const Tensor& t, int64_t k) {
  switch (t.dtype) {
    case DType::kS8: return reinterpret_cast<const int8_t*>(t.data)[k];
    case DType::kU8: return t.data[k];
    case DType::kS32: {
      int32_t v;
      std::memcpy(&v, t.data + 4 * k, 4);
      return v;
    }
    default: return 0;
  }
}

// Index along `axis` of element k of a dense tensor.
int64_t axis_index(const Tensor& t, int32_t axis, int64_t k) {
  int64_t inner = 1;
  for (size_t d = axis + 1; d < t.shape.size(); ++d) inner *= t.shape[d];
  return (k / inner) % t.shape[axis];
}

// ------------------------------------------------------------------ rewrites

// Float Conv2D / FullyConnected -> Mul/Add/Sub by a per-output-channel constant.
bool fold_affine(Graph* g, const GraphUses& u, int i) {
  Node& p = g->nodes[i];
  if (p.op != OpType::kConv2D && p.op != OpType::kFullyConnected) return false;
  if (!is_f32(*g, p.inputs[0]) || !is_f32(*g, p.outputs[0]) || !act_unbounded(p.attrs))
    return false;
  const Tensor& w = g->tensors[p.inputs[1]];
  const bool float_weight = w.dtype == DType::kF32 && w.is_constant();
  const int32_t b_ir = p.inputs.size() > 2 ? p.inputs[2] : -1;
  if (b_ir >= 0 && (!g->tensors[b_ir].is_constant() || g->tensors[b_ir].dtype != DType::kF32))
    return false;
  const int32_t out = p.outputs[0];
  if (!u.single_use(out)) return false;
  const int j = u.consumers[out][0];
  Node& m = g->nodes[j];
  if (m.op != OpType::kMul && m.op != OpType::kAdd && m.op != OpType::kSub) return false;
  // A Mul scales the weights, which must then be float constants; Add/Sub only touch
  // the bias (the weights may be dequantized ones).
  if (m.op == OpType::kMul && !float_weight) return false;
  if (m.inputs.size() != 2) return false;
  const int k = m.inputs[0] == out ? 1 : 0;
  if (m.inputs[1 - k] != out || (m.op == OpType::kSub && k != 1)) return false;
  const Tensor& c = g->tensors[m.inputs[k]];
  if (c.dtype != DType::kF32 || !c.is_constant()) return false;
  if (g->tensors[m.outputs[0]].shape != g->tensors[out].shape) return false;
  const int64_t cout = g->tensors[out].shape.back();
  const int64_t cn = c.num_elements();
  if (cn != 1 && cn != cout) return false;
  if (cn == cout && cout > 1 && (c.shape.empty() || c.shape.back() != cout)) return false;
  if (c.shape.size() > g->tensors[out].shape.size()) return false;
  std::vector<float> cv = floats_of(c);
  auto coef = [&](int64_t ch) { return cn == 1 ? cv[0] : cv[ch]; };

  std::vector<float> bias(cout, 0.f);
  if (b_ir >= 0) bias = floats_of(g->tensors[b_ir]);
  if (m.op == OpType::kMul) {
    std::vector<float> wv = floats_of(w);
    const int64_t per = static_cast<int64_t>(wv.size()) / cout;
    for (int64_t ch = 0; ch < cout; ++ch) {
      for (int64_t e = 0; e < per; ++e) wv[ch * per + e] *= coef(ch);
      bias[ch] *= coef(ch);
    }
    int32_t nw = add_tensor_like(g, p.inputs[1], ".folded", g->tensors[p.inputs[1]].shape);
    g->tensors[nw].set_data(bytes_of(wv));
    g->nodes[i].inputs[1] = nw;
  } else {
    for (int64_t ch = 0; ch < cout; ++ch) bias[ch] += m.op == OpType::kAdd ? coef(ch) : -coef(ch);
  }
  Tensor bt;
  bt.name = g->tensors[out].name + ".bias";
  for (int n = 1; g->find_tensor(bt.name) >= 0; ++n)
    bt.name = g->tensors[out].name + ".bias_" + std::to_string(n);
  bt.shape = {static_cast<int32_t>(cout)};
  bt.set_data(bytes_of(bias));
  const int32_t nb = g->add_tensor(std::move(bt));
  Node& pp = g->nodes[i];
  if (pp.inputs.size() < 3) pp.inputs.resize(3, -1);
  pp.inputs[2] = nb;
  pp.outputs[0] = g->nodes[j].outputs[0];
  g->nodes[j].op = kDead;
  return true;
}

// The quantized input behind float tensor t: the input of its kDequantize producer.
int32_t dq_source(const Graph& g, const GraphUses& u, int32_t t) {
  if (t < 0) return -1;
  const int p = u.producer[t];
  if (p < 0 || g.nodes[p].op != OpType::kDequantize) return -1;
  return g.nodes[p].inputs[0];
}

// Converts a uint8 weight constant to int8 (values and zero points minus 128: exact).
int32_t weight_to_s8(Graph* g, int32_t w) {
  const Tensor& t = g->tensors[w];
  if (t.dtype == DType::kS8) return w;
  int32_t nw = add_tensor_like(g, w, ".s8", t.shape);
  Tensor& n = g->tensors[nw];
  const Tensor& src = g->tensors[w];
  n.dtype = DType::kS8;
  std::vector<uint8_t> bytes(src.num_elements());
  for (size_t k = 0; k < bytes.size(); ++k)
    bytes[k] = static_cast<uint8_t>(static_cast<int8_t>(static_cast<int32_t>(src.data[k]) - 128));
  n.set_data(std::move(bytes));
  for (int32_t& z : n.quant.zero_point) z -= 128;
  return nw;
}

// Builds the int32 bias of a quantized conv/fc with scale s_x * s_w[c]: the int32 bias
// the model gives when its scale is that one, else its real values (a float bias, or
// an int32 one of another scale, s * q in float) quantized by quantize_bias().
int32_t make_bias(Graph* g, const GraphUses& u, int32_t b_float, float sx, const QuantParams& wq,
                  int64_t cout, const std::string& name) {
  std::vector<float> expect(wq.scale.size());
  for (size_t c = 0; c < wq.scale.size(); ++c) expect[c] = sx * wq.scale[c];
  auto exp_at = [&](int64_t c) { return expect.size() == 1 ? expect[0] : expect[c]; };
  std::vector<float> real(cout);
  const int32_t src = dq_source(*g, u, b_float);
  if (src >= 0) {
    const Tensor& b = g->tensors[src];
    if (b.dtype != DType::kS32 || !b.is_constant() || b.num_elements() != cout) return -2;
    for (int32_t z : b.quant.zero_point)
      if (z != 0) return -2;
    bool reuse = true;
    for (int64_t c = 0; c < cout; ++c) {
      const float s = b.quant.scale.size() == 1 ? b.quant.scale[0] : b.quant.scale[c];
      real[c] = s * static_cast<float>(qvalue(b, c));
      if (std::fabs(s - exp_at(c)) > 1e-6f * exp_at(c)) reuse = false;
    }
    if (reuse && (b.quant.scale.size() == expect.size() || expect.size() == 1)) return src;
  } else {
    const Tensor& b = g->tensors[b_float];
    if (!b.is_constant() || b.dtype != DType::kF32 || b.num_elements() != cout) return -2;
    real = floats_of(b);
  }
  std::vector<int32_t> q;
  if (!quantize_bias(real.data(), real.size(), sx, wq.scale, &q).ok()) return -2;
  std::vector<uint8_t> bytes(cout * 4);
  std::memcpy(bytes.data(), q.data(), bytes.size());
  Tensor t;
  t.name = name;
  for (int k = 1; g->find_tensor(t.name) >= 0; ++k) t.name = name + "_" + std::to_string(k);
  t.dtype = DType::kS32;
  t.shape = {static_cast<int32_t>(cout)};
  t.quant.scale = expect;
  t.quant.zero_point.assign(expect.size(), 0);
  t.quant.axis = 0;
  t.set_data(std::move(bytes));
  return g->add_tensor(std::move(t));
}

bool fuse_qdq(Graph* g, const GraphUses& u, int i) {
  const Node& n = g->nodes[i];
  bool conv_like = n.op == OpType::kConv2D || n.op == OpType::kFullyConnected;
  switch (n.op) {
    case OpType::kConv2D:
    case OpType::kFullyConnected:
    case OpType::kAdd:
    case OpType::kSub:
    case OpType::kMul:
    case OpType::kDiv:
    case OpType::kRelu:
    case OpType::kClip:
    case OpType::kLeakyRelu:
    case OpType::kSigmoid:
    case OpType::kHardSigmoid:
    case OpType::kHardSwish:
    case OpType::kTanh:
    case OpType::kSoftmax:
    case OpType::kMaxPool2D:
    case OpType::kAvgPool2D:
    case OpType::kGlobalAvgPool:
    case OpType::kConcat:
    case OpType::kMatMul: break;
    default: return false;
  }
  if (n.outputs.size() != 1 || !is_f32(*g, n.outputs[0]) || n.attrs.dynamic != 0) return false;
  // Output chain: [Relu/Clip]* then kQuantize.
  std::vector<int> chain;
  float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
  int32_t t = n.outputs[0];
  int q = -1;
  while (u.single_use(t)) {
    const int c = u.consumers[t][0];
    const Node& cn = g->nodes[c];
    if (cn.op == OpType::kQuantize) {
      q = c;
      break;
    }
    float a, b;
    if (!op_has(n.op, kOpActRange) || !act_range(cn, &a, &b) || !is_f32(*g, cn.outputs[0])) return false;
    lo = std::max(lo, a);
    hi = std::min(hi, b);
    chain.push_back(c);
    t = cn.outputs[0];
  }
  if (q < 0) return false;
  const int32_t y = g->nodes[q].outputs[0];
  if (!per_tensor_q(g->tensors[y])) return false;
  const DType dt = g->tensors[y].dtype;

  // Activation inputs.
  std::vector<int32_t> new_inputs = n.inputs;
  const size_t n_act = conv_like ? 1 : n.inputs.size();
  for (size_t k = 0; k < n_act; ++k) {
    const int32_t src = dq_source(*g, u, n.inputs[k]);
    if (src < 0) return false;
    const Tensor& s = g->tensors[src];
    if (s.dtype != dt || !per_tensor_q(s)) return false;
    if (s.is_constant() && (conv_like || n.op == OpType::kConcat || n.op == OpType::kMatMul))
      return false;
    new_inputs[k] = src;
  }
  if (conv_like) {
    const int32_t w = dq_source(*g, u, n.inputs[1]);
    if (w < 0) return false;
    const Tensor& wt = g->tensors[w];
    if (!wt.is_constant() || !is_quantized_type(wt.dtype)) return false;
    const int64_t cout = wt.shape[0];
    if (!wt.quant.per_tensor() &&
        (wt.quant.axis != 0 || static_cast<int64_t>(wt.quant.scale.size()) != cout))
      return false;
    const int32_t w8 = weight_to_s8(g, w);
    new_inputs[1] = w8;
    if (n.inputs.size() > 2 && n.inputs[2] >= 0) {
      const Tensor& xt = g->tensors[new_inputs[0]];
      const int32_t b = make_bias(g, u, n.inputs[2], xt.quant.scale[0], g->tensors[w8].quant, cout,
                                  g->tensors[y].name + ".bias");
      if (b < 0) return false;
      new_inputs[2] = b;
    }
  }
  Node& nn = g->nodes[i];
  nn.inputs = new_inputs;
  nn.outputs[0] = y;
  nn.attrs.act_min = std::max(nn.attrs.act_min, lo);
  nn.attrs.act_max = std::min(nn.attrs.act_max, hi);
  for (int c : chain) g->nodes[c].op = kDead;
  g->nodes[q].op = kDead;
  return true;
}

// The int8/uint8 per-tensor runtime tensor behind float tensor t, or -1.
int32_t dq_activation(const Graph& g, const GraphUses& u, int32_t t) {
  const int32_t src = dq_source(g, u, t);
  if (src < 0) return -1;
  const Tensor& s = g.tensors[src];
  if (s.is_constant() || (s.dtype != DType::kS8 && s.dtype != DType::kU8) || !per_tensor_q(s)) return -1;
  return src;
}

bool fuse_float_out(Graph* g, const GraphUses& u, int i) {
  const Node& n = g->nodes[i];
  if ((n.op != OpType::kFullyConnected && n.op != OpType::kMatMul) || n.attrs.dynamic != 0 ||
      n.outputs.size() != 1 || !is_f32(*g, n.outputs[0]))
    return false;
  const int32_t x = dq_activation(*g, u, n.inputs[0]);
  if (x < 0) return false;
  std::vector<int32_t> new_inputs = n.inputs;
  new_inputs[0] = x;
  if (n.op == OpType::kMatMul) {
    new_inputs[1] = dq_activation(*g, u, n.inputs[1]);
    if (new_inputs[1] < 0) return false;
  } else {
    const int32_t w = dq_source(*g, u, n.inputs[1]);
    if (w < 0) return false;
    const Tensor& wt = g->tensors[w];
    if (!wt.is_constant() || (wt.dtype != DType::kS8 && wt.dtype != DType::kU8) || wt.shape.size() != 2) return false;
    const int64_t cout = wt.shape[0];
    if (!wt.quant.per_tensor() && (wt.quant.axis != 0 || static_cast<int64_t>(wt.quant.scale.size()) != cout))
      return false;
    // The bias stays float: a float constant, or a dequantized constant that
    // fold_const_dequantize turns into one.
    if (n.inputs.size() > 2 && n.inputs[2] >= 0) {
      const int32_t b = n.inputs[2];
      const int32_t bq = dq_source(*g, u, b);
      if (!(g->tensors[b].is_constant() && is_f32(*g, b)) && !(bq >= 0 && g->tensors[bq].is_constant())) return false;
    }
    new_inputs[1] = weight_to_s8(g, w);
  }
  Node& nn = g->nodes[i];
  nn.inputs = new_inputs;
  return true;
}

bool sink_dequantize(Graph* g, const GraphUses& u, int i) {
  const Node& n = g->nodes[i];
  if (!is_data_movement(n) || !is_f32(*g, n.inputs[0])) return false;
  const int32_t src = dq_source(*g, u, n.inputs[0]);
  if (src < 0 || !per_tensor_q(g->tensors[src]) || g->tensors[src].is_constant()) return false;
  std::vector<Node> deqs;
  std::vector<int32_t> outs = n.outputs;
  for (size_t k = 0; k < outs.size(); ++k) {
    const int32_t o = outs[k];
    const int32_t oq = add_tensor_like(g, src, "", g->tensors[o].shape);
    g->tensors[oq].name = g->tensors[o].name + ".q";
    for (int m = 1; g->find_tensor(g->tensors[oq].name) != oq; ++m)
      g->tensors[oq].name = g->tensors[o].name + ".q_" + std::to_string(m);
    Node d;
    d.name = unique_node_name(*g, g->nodes[i].name + "/dequantize" + std::to_string(k));
    d.op = OpType::kDequantize;
    d.inputs = {oq};
    d.outputs = {o};
    deqs.push_back(std::move(d));
    g->nodes[i].outputs[k] = oq;
  }
  g->nodes[i].inputs[0] = src;
  g->nodes.insert(g->nodes.begin() + i + 1, deqs.begin(), deqs.end());
  return true;
}

bool hoist_quantize(Graph* g, const GraphUses& u, int i) {
  const Node& n = g->nodes[i];
  if (!is_data_movement(n) || n.op == OpType::kSplit || !is_f32(*g, n.inputs[0])) return false;
  if (g->tensors[n.inputs[0]].is_constant()) return false;
  const int32_t o = n.outputs[0];
  if (!u.single_use(o)) return false;
  const int q = u.consumers[o][0];
  if (g->nodes[q].op != OpType::kQuantize) return false;
  const int32_t y = g->nodes[q].outputs[0];
  if (!per_tensor_q(g->tensors[y])) return false;
  const int32_t x = n.inputs[0];
  const int32_t xq = add_tensor_like(g, y, "", g->tensors[x].shape);
  g->tensors[xq].name = g->tensors[x].name + ".q";
  for (int m = 1; g->find_tensor(g->tensors[xq].name) != xq; ++m)
    g->tensors[xq].name = g->tensors[x].name + ".q_" + std::to_string(m);
  Node qn;
  qn.name = unique_node_name(*g, g->nodes[i].name + "/quantize");
  qn.op = OpType::kQuantize;
  qn.inputs = {x};
  qn.outputs = {xq};
  g->nodes[i].inputs[0] = xq;
  g->nodes[i].outputs[0] = y;
  g->nodes[q].op = kDead;
  g->nodes.insert(g->nodes.begin() + i, std::move(qn));
  return true;
}

bool cancel_dq_q(Graph* g, const GraphUses& u, int i) {
  Node& q = g->nodes[i];
  if (q.op != OpType::kQuantize) return false;
  const int32_t x = dq_source(*g, u, q.inputs[0]);
  if (x < 0 || g->tensors[x].is_constant() || !per_tensor_q(g->tensors[x])) return false;
  const int32_t y = q.outputs[0];
  if (!per_tensor_q(g->tensors[y])) return false;
  if (same_q(g->tensors[x], g->tensors[y]) && !u.graph_output[y]) {
    q.op = kDead;
    replace_uses(g, y, x);
    return true;
  }
  q.op = OpType::kRequantize;
  q.inputs = {x};
  return true;
}

bool fold_activation(Graph* g, const GraphUses& u, int i) {
  const Node& r = g->nodes[i];
  float lo, hi;
  if (!act_range(r, &lo, &hi)) return false;
  const int32_t t = r.inputs[0];
  const int p = u.producer[t];
  if (p < 0 || !op_has(g->nodes[p].op, kOpActRange) || !u.single_use(t)) return false;
  const Tensor& tt = g->tensors[t];
  const Tensor& ot = g->tensors[r.outputs[0]];
  if (tt.dtype == DType::kF32) {
    if (ot.dtype != DType::kF32) return false;
  } else if (!per_tensor_q(tt) || !same_q(tt, ot)) {
    return false;
  }
  Node& pn = g->nodes[p];
  pn.attrs.act_min = std::max(pn.attrs.act_min, lo);
  pn.attrs.act_max = std::min(pn.attrs.act_max, hi);
  pn.outputs[0] = r.outputs[0];
  g->nodes[i].op = kDead;
  return true;
}

// Pad (constant, zero in real units, on H and W of an NHWC tensor) read only by a
// Conv2D or an AvgPool2D: the padding becomes the consumer's own. A convolution's
// padding reads X's zero point, real 0, as the Pad's fill; an average pool without
// padding of its own gets the Pad's with count_include_pad, so every window keeps its
// divisor (the kernel's area, each window lying inside the padded tensor) and its sum
// (a zero term adds nothing). Inception v3's average pools are exported this way, and
// Keras / TensorFlow ports pad before strided convolutions; the Pad's copy of the whole
// tensor disappears. Dynamically quantized convolutions keep their Pad.
bool fold_pad(Graph* g, const GraphUses& u, int i) {
  Node& c = g->nodes[i];
  if (c.op != OpType::kConv2D && c.op != OpType::kAvgPool2D) return false;
  const int32_t t = c.inputs[0];
  const int p = u.producer[t];
  if (p < 0 || g->nodes[p].op != OpType::kPad || !u.single_use(t)) return false;
  const Node& pad = g->nodes[p];
  const Tensor& x = g->tensors[pad.inputs[0]];
  const Tensor& y = g->tensors[t];
  const std::vector<int32_t>& pads = pad.attrs.pads;
  if (pad.attrs.pad_value != 0.f || x.shape.size() != 4 || pads.size() != 8) return false;
  if (pads[0] != 0 || pads[3] != 0 || pads[4] != 0 || pads[7] != 0) return false;  // N and C unpadded
  if (x.dtype != y.dtype || (is_quantized_type(x.dtype) && !same_q(x, y))) return false;
  Attrs& a = c.attrs;
  if (c.op == OpType::kConv2D) {
    if (a.dynamic != 0) return false;
  } else {
    if (a.pad_top != 0 || a.pad_left != 0 || a.pad_bottom != 0 || a.pad_right != 0) return false;
    if (pads[1] >= a.kernel_h || pads[5] >= a.kernel_h || pads[2] >= a.kernel_w || pads[6] >= a.kernel_w)
      return false;  // a window would lie wholly in the padding
    a.count_include_pad = true;
  }
  a.pad_top += pads[1];
  a.pad_bottom += pads[5];
  a.pad_left += pads[2];
  a.pad_right += pads[6];
  c.inputs[0] = pad.inputs[0];
  return true;
}

// `vals` (elements of a tensor of `shape`, row-major) permuted by `perm`.
std::vector<int32_t> permute_elements(const std::vector<int32_t>& vals, std::vector<int32_t>* shape,
                                      const std::vector<int32_t>& perm) {
  const size_t r = shape->size();
  std::vector<int64_t> stride(r, 1);
  for (size_t d = r; d-- > 1;) stride[d - 1] = stride[d] * (*shape)[d];
  std::vector<int32_t> out_shape(r);
  for (size_t d = 0; d < r; ++d) out_shape[d] = (*shape)[perm[d]];
  std::vector<int32_t> out(vals.size());
  std::vector<int32_t> idx(r, 0);
  for (size_t k = 0; k < vals.size(); ++k) {
    int64_t src = 0;
    for (size_t d = 0; d < r; ++d) src += idx[d] * stride[perm[d]];
    out[k] = vals[src];
    for (size_t d = r; d-- > 0;) {
      if (++idx[d] < out_shape[d]) break;
      idx[d] = 0;
    }
  }
  *shape = out_shape;
  return out;
}

// Transpose -> Reshape -> Transpose that leaves every element where it was (an NHWC
// image flattened in NCHW order and transposed back to [N, HW, C], as ViT's patch
// embedding does): one Reshape. Checked by moving the element indices themselves.
bool collapse_transpose_sandwich(Graph* g, const GraphUses& u, int i) {
  Node& n = g->nodes[i];
  if (n.op != OpType::kTranspose || u.producer[n.inputs[0]] < 0) return false;
  const Node& r = g->nodes[u.producer[n.inputs[0]]];
  if (r.op != OpType::kReshape || !u.single_use(n.inputs[0]) || u.producer[r.inputs[0]] < 0)
    return false;
  const Node& t = g->nodes[u.producer[r.inputs[0]]];
  if (t.op != OpType::kTranspose || !u.single_use(r.inputs[0])) return false;
  const Tensor& x = g->tensors[t.inputs[0]];
  const int64_t cnt = x.num_elements();
  if (cnt > (int64_t{1} << 22) || !same_q(x, g->tensors[n.outputs[0]])) return false;
  std::vector<int32_t> vals(static_cast<size_t>(cnt));
  for (int64_t k = 0; k < cnt; ++k) vals[k] = static_cast<int32_t>(k);
  std::vector<int32_t> shape = x.shape;
  vals = permute_elements(vals, &shape, t.attrs.perm);
  shape = g->tensors[r.outputs[0]].shape;
  vals = permute_elements(vals, &shape, n.attrs.perm);
  for (int64_t k = 0; k < cnt; ++k)
    if (vals[k] != k) return false;
  n.op = OpType::kReshape;
  n.attrs.perm.clear();
  n.inputs[0] = t.inputs[0];
  return true;
}

bool collapse_movement(Graph* g, const GraphUses& u, int i) {
  Node& n = g->nodes[i];
  if (n.op != OpType::kReshape && n.op != OpType::kTranspose) return false;
  const int32_t x = n.inputs[0], y = n.outputs[0];
  const auto& xs = g->tensors[x].shape;
  if (n.op == OpType::kReshape && xs == g->tensors[y].shape && !u.graph_output[y] &&
      same_q(g->tensors[x], g->tensors[y])) {
    n.op = kDead;
    replace_uses(g, y, x);
    return true;
  }
  const int p = u.producer[x];
  if (p < 0) return false;
  const Node& pn = g->nodes[p];
  if (n.op == OpType::kReshape && pn.op == OpType::kReshape &&
      same_q(g->tensors[pn.inputs[0]], g->tensors[y])) {
    n.inputs[0] = pn.inputs[0];
    return true;
  }
  if (n.op == OpType::kTranspose && pn.op == OpType::kTranspose && u.single_use(x)) {
    std::vector<int32_t> perm(n.attrs.perm.size());
    for (size_t k = 0; k < perm.size(); ++k) perm[k] = pn.attrs.perm[n.attrs.perm[k]];
    n.inputs[0] = pn.inputs[0];
    n.attrs.perm = perm;
    bool identity = true;
    for (size_t k = 0; k < perm.size(); ++k) identity &= perm[k] == static_cast<int32_t>(k);
    if (identity) n.op = OpType::kReshape;
    return true;
  }
  return false;
}

// x * HardSigmoid(x) with alpha 1/6 and beta 1/2 (how HardSwish is exported before
// opset 14) -> kHardSwish(x), which has a quantized (table) form.
bool fuse_hard_swish(Graph* g, const GraphUses& u, int i) {
  const Node& m = g->nodes[i];
  if (m.op != OpType::kMul || m.inputs.size() != 2 || !is_f32(*g, m.outputs[0])) return false;
  for (int k = 0; k < 2; ++k) {
    const int32_t h = m.inputs[k], x = m.inputs[1 - k];
    const int p = u.producer[h];
    if (p < 0 || !u.single_use(h)) continue;
    const Node& hs = g->nodes[p];
    if (hs.op != OpType::kHardSigmoid || hs.inputs[0] != x) continue;
    if (std::fabs(hs.attrs.alpha - 1.f / 6.f) > 1e-6f || hs.attrs.beta != 0.5f) continue;
    if (g->tensors[x].shape != g->tensors[m.outputs[0]].shape) continue;
    g->nodes[p].op = kDead;
    Node& mm = g->nodes[i];
    mm.op = OpType::kHardSwish;
    mm.inputs = {x};
    mm.attrs = Attrs();
    return true;
  }
  return false;
}

// Graph inputs consumed only by a kQuantize, and outputs produced by a kDequantize,
// become the quantized tensors.
bool quantized_io(Graph* g, const GraphUses& u, int i) {
  Node& n = g->nodes[i];
  if (n.op == OpType::kQuantize) {
    const int32_t x = n.inputs[0], y = n.outputs[0];
    if (!u.graph_input[x] || u.graph_output[x] || u.consumers[x].size() != 1) return false;
    if (u.graph_output[y] || !per_tensor_q(g->tensors[y])) return false;
    g->tensors[x].dtype = g->tensors[y].dtype;
    g->tensors[x].quant = g->tensors[y].quant;
    n.op = kDead;
    replace_uses(g, y, x);
    return true;
  }
  if (n.op == OpType::kDequantize) {
    const int32_t x = n.inputs[0], y = n.outputs[0];
    if (!u.graph_output[y] || !u.consumers[y].empty()) return false;
    if (g->tensors[x].is_constant() || !per_tensor_q(g->tensors[x])) return false;
    g->tensors[y].dtype = g->tensors[x].dtype;
    g->tensors[y].quant = g->tensors[x].quant;
    const int p = u.producer[x];
    if (p >= 0 && u.single_use(x) && !u.graph_input[x]) {
      for (int32_t& o : g->nodes[p].outputs)
        if (o == x) o = y;
      n.op = kDead;
    } else {
      n.op = OpType::kReshape;
    }
    return true;
  }
  return false;
}

// kDequantize of a constant (weights of an op left in float) -> float constant.
bool fold_const_dequantize(Graph* g, const GraphUses& u, int i) {
  Node& n = g->nodes[i];
  if (n.op != OpType::kDequantize) return false;
  const Tensor& x = g->tensors[n.inputs[0]];
  const int32_t y = n.outputs[0];
  if (!x.is_constant() || u.graph_output[y]) return false;
  const int64_t cnt = x.num_elements();
  std::vector<float> f(cnt);
  for (int64_t k = 0; k < cnt; ++k) {
    const int64_t c = x.quant.scale.size() == 1 ? 0 : axis_index(x, x.quant.axis, k);
    f[k] = static_cast<float>(qvalue(x, k) - x.quant.zero_point[c]) * x.quant.scale[c];
  }
  Tensor& yt = g->tensors[y];
  yt.set_data(bytes_of(f));
  yt.quant = QuantParams();
  n.op = kDead;
  return true;
}

// Quantized tensors around pure data movement share parameters; copy them where a
// side has none (e.g. an int8 graph input first given parameters by its consumer).
bool propagate_quant(Graph* g, const GraphUses&, int i) {
  const Node& n = g->nodes[i];
  if (!is_data_movement(n) && n.op != OpType::kConcat && n.op != OpType::kPad) return false;
  bool changed = false;
  std::vector<int32_t> all = n.inputs;
  all.insert(all.end(), n.outputs.begin(), n.outputs.end());
  const QuantParams* src = nullptr;
  for (int32_t t : all)
    if (t >= 0 && is_quantized_type(g->tensors[t].dtype) && !g->tensors[t].quant.empty())
      src = &g->tensors[t].quant;
  if (!src) return false;
  const QuantParams q = *src;
  for (int32_t t : all)
    if (t >= 0 && is_quantized_type(g->tensors[t].dtype) && g->tensors[t].quant.empty() &&
        !g->tensors[t].is_constant()) {
      g->tensors[t].quant = q;
      changed = true;
    }
  return changed;
}

void dead_code_elimination(Graph* g) {
  std::vector<bool> live(g->tensors.size(), false);
  for (int32_t t : g->outputs) live[t] = true;
  for (int i = static_cast<int>(g->nodes.size()) - 1; i >= 0; --i) {
    Node& n = g->nodes[i];
    if (n.op == kDead) continue;
    bool needed = false;
    for (int32_t t : n.outputs) needed |= live[t];
    if (!needed) {
      n.op = kDead;
      continue;
    }
    for (int32_t t : n.inputs)
      if (t >= 0) live[t] = true;
  }
}

using Rewrite = bool (*)(Graph*, const GraphUses&, int);

// Applies `fn` wherever it matches; true when anything changed.
bool run(Graph* g, Rewrite fn) {
  bool any = false;
  for (;;) {
    dead_code_elimination(g);
    GraphUses u = compute_uses(*g);
    bool changed = false;
    for (size_t i = 0; i < g->nodes.size() && !changed; ++i) {
      if (g->nodes[i].op == kDead) continue;
      changed = fn(g, u, static_cast<int>(i));
    }
    if (!changed) return any;
    any = true;
  }
}

}  // namespace

Status optimize_graph(const ImportOptions& opts, Graph* g) {
  static const Rewrite kPasses[] = {fold_affine,     fuse_hard_swish, fuse_qdq,        fuse_unary_island,
                                    sink_dequantize, hoist_quantize,  cancel_dq_q,     fold_activation,
                                    collapse_movement, collapse_transpose_sandwich, fold_pad};
  for (int round = 0; round < 64; ++round) {
    bool changed = false;
    for (Rewrite fn : kPasses) changed |= run(g, fn);
    if (!changed) break;
  }
  run(g, fuse_float_out);
  if (opts.quantized_io) {
    run(g, quantized_io);
    run(g, collapse_movement);
  }
  run(g, fold_const_dequantize);
  run(g, propagate_quant);
  dead_code_elimination(g);
  compact_graph(g);
  for (const Tensor& t : g->tensors)
    if (is_quantized_type(t.dtype) && t.quant.empty())
      return Unsupported("tensor '" + t.name + "' is " + dtype_name(t.dtype) +
                         " without quantization parameters (no DequantizeLinear or "
                         "QuantizeLinear gives them)");
  return Status::Ok();
}

}  // namespace onnx_import
}  // namespace edgeq
