// ONNX Runtime's quantized contrib operators (domain com.microsoft), which its
// quantize_static writes in QOperator form and which the ONNX Model Zoo's int8 models
// hold, rewritten into standard ONNX before the import: each becomes
// DequantizeLinear on its quantized inputs, the float operator, and QuantizeLinear to
// its output's parameters, which is how the contrib operators are defined (e.g.
// QLinearAdd: C = (A_scale (A - A_zp) + B_scale (B - B_zp)) / C_scale + C_zp). The
// importer's passes then fuse each such island back into one quantized op
// (ir_passes.cc, fuse_qdq), as they do for QDQ files. Taken:
//   QLinearAdd, QLinearMul          A, A_scale, A_zp, B, B_scale, B_zp, C_scale, C_zp
//   QLinearSigmoid, QLinearLeakyRelu X, X_scale, X_zp, Y_scale, Y_zp (LeakyRelu: alpha)
//   QLinearGlobalAveragePool       the same; channels_last 0 only
//   QLinearAveragePool             the same, AveragePool's attributes; channels_last 0
//   QLinearConcat                  Y_scale, Y_zp, then (X, X_scale, X_zp) per input; axis
//   QLinearSoftmax                 X, X_scale, [X_zp], Y_scale, [Y_zp]; axis, opset (the
//                                  Softmax semantics: before 13 flattened at the axis)
//   QGemm                          A, A_scale, A_zp, B, B_scale, B_zp, [C int32 bias of
//                                  scale A_scale * B_scale], [Y_scale, Y_zp] (absent: a
//                                  float output); alpha, transA, transB
// A standard MaxPool on such files' quantized tensors (ONNX runs it on int8 and uint8)
// is rewritten the same way, with the parameters its input was quantized with (found
// through the ops that move values unchanged); one whose Indices output is used is not.
// A missing zero point is 0: on the inputs DequantizeLinear's own default; on the
// output a zero constant of the first input's zero-point type (uint8 when that is
// missing too), since QuantizeLinear without one would give uint8.
//
// The operators ONNX Runtime's transformer optimizer and its dynamic quantization fuse
// in memory, which a file saved after optimization holds, become the standard graphs
// they fuse, which the importer runs (and recognizes as its own ops: LayerNorm, Gelu,
// the dynamically quantized fully connected layer):
//   Gelu                           X: Gelu (erf)
//   FastGelu                       X, [bias]: Gelu (tanh approximation) of X + bias
//   BiasGelu                       A, B: Gelu (erf) of A + B
//   QuickGelu                      X; alpha (1.702): X * Sigmoid(alpha X)
//   SkipLayerNormalization         input, skip, gamma, [beta], [bias]; epsilon: the
//                                  LayerNormalization (last axis) of (input + skip) +
//                                  bias, and that sum as output 3 when named (the
//                                  mean and inverse deviation outputs are refused)
//   FusedMatMul                    A, B; alpha, transA, transB: a MatMul of the
//                                  operands with their last two axes swapped where asked,
//                                  times alpha (lowered by the importer, which knows the
//                                  ranks; transBatchA / transBatchB are refused)
//   MatMulIntegerToFloat           A, B, a_scale, b_scale, [a_zp], [b_zp], [bias]:
//                                  MatMulInteger, Cast, Mul by a_scale * b_scale, Add bias
//   DynamicQuantizeMatMul          A (float), B, b_scale, [b_zp], [bias]: the same after
//                                  DynamicQuantizeLinear of A
//   Attention                      input [B, S, D], weights [D, 3H] (an initializer),
//                                  [bias], [mask_index]; num_heads, scale,
//                                  mask_filter_value, unidirectional: Q, K, V = input
//                                  weights + bias split in three, then MultiHeadAttention
//                                  on them (below: the mask forms it takes, key lengths
//                                  [B], [B, S] or [B, S, S], and the causal mask of
//                                  unidirectional), an additive attention bias (input
//                                  5), qkv_hidden_sizes (Q = K, V of its own width);
//                                  past state is refused
//   QAttention                     input (8-bit, from a DynamicQuantizeLinear as ONNX
//                                  Runtime's dynamic quantization writes it), weights
//                                  (8-bit initializer [D, 3H]), bias, input_scale,
//                                  weight_scale (scalar or per column), [mask_index],
//                                  [input_zp], [weight_zp]: Attention whose projection is
//                                  MatMulInteger, Cast and Mul by input_scale *
//                                  weight_scale (the dynamic fully connected layer when
//                                  the input is DynamicQuantizeLinear's)
//   MultiHeadAttention             handed to the importer in the standard domain, which
//                                  knows the shapes (lower_transformer.cc says what it
//                                  takes)
//   EmbedLayerNormalization        input_ids, [segment_ids], word, position and [segment]
//                                  embeddings, gamma, beta, [mask], [position_ids];
//                                  epsilon: the LayerNormalization of (word[ids] +
//                                  position[0 .. S-1 or position_ids]) + segment[ids];
//                                  mask_index = the count of 1s in each mask row; the sum
//                                  as output 2
//   QEmbedLayerNormalization       the same with 8-bit word, position and segment tables,
//                                  gamma and beta (inputs 2-6), their scales (8-12) and
//                                  zero points (13-17): DequantizeLinear of each, then
//                                  EmbedLayerNormalization
//   SkipSimplifiedLayerNormalization input, skip, gamma, [bias]; epsilon: RMS normalization
//                                  (SimplifiedLayerNormalization, which the importer
//                                  lowers) of input + skip + bias, the sum as output 3
// Other com.microsoft operators are left as they are (the importer then names them as
// unsupported).
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "graph/onnx/internal.h"

namespace edgeq {
namespace onnx_import {
namespace {

using onnx::NodeProto;
using onnx::TensorProto;

class Expander {
 public:
  Expander(onnx::GraphProto* g, int64_t opset) : g_(g), opset_(opset) {
    for (const auto& t : g->initializer()) names_.insert(t.name()), init_[t.name()] = &t;
    for (const auto& i : g->input()) names_.insert(i.name());
    for (const auto& n : g->node())
      for (const auto& o : n.output()) names_.insert(o);
  }

  Status Run() {
    std::vector<NodeProto> out;
    out.reserve(static_cast<size_t>(g_->node_size()));
    for (const NodeProto& n : g_->node()) {
      if (n.domain() != "com.microsoft") {
        out.push_back(n);
        continue;
      }
      bool taken = false;
      EDGEQ_RETURN_IF_ERROR(Expand(n, &out, &taken));
      if (!taken) out.push_back(n);
    }
    // Max pools read quantized tensors directly in these files (ONNX's MaxPool takes
    // int8 and uint8): each becomes DequantizeLinear -> MaxPool -> QuantizeLinear with
    // the parameters its input was quantized with, which the passes fuse into the int8
    // pool (max commutes with the monotonic (de)quantization: the same bytes).
    for (const NodeProto& n : out) {
      for (const auto& o : n.output()) producer_[o] = &n;
    }
    std::vector<NodeProto> final_nodes;
    final_nodes.reserve(out.size());
    for (const NodeProto& n : out) {
      std::string scale, zp;
      const bool no_indices = n.output_size() == 1 || (n.output_size() == 2 && n.output(1).empty());
      if (n.op_type() == "MaxPool" && n.domain().empty() && n.input_size() >= 1 && no_indices &&
          QuantizedBy(n.input(0), &scale, &zp, 0)) {
        const std::string x = Dq(&final_nodes, n, n.input(0), scale, zp);
        const std::string f = Fresh(n.output(0) + "/float");
        NodeProto& m = Add(&final_nodes, n, n.op_type(), {x}, f);
        CopyAttributes(n, &m, {});
        Q(&final_nodes, n, f, scale, zp.empty() ? OutZp(n, zp, "") : zp, n.output(0));
        continue;
      }
      final_nodes.push_back(n);
    }
    g_->clear_node();
    for (NodeProto& n : final_nodes) *g_->add_node() = std::move(n);
    return Status::Ok();
  }

 private:
  static std::string In(const NodeProto& n, int k) { return k < n.input_size() ? n.input(k) : std::string(); }

  std::string Fresh(const std::string& base) {
    std::string name = base;
    for (int k = 1; names_.count(name); ++k) name = base + "_" + std::to_string(k);
    names_.insert(name);
    return name;
  }

  NodeProto& Add(std::vector<NodeProto>* out, const NodeProto& from, const std::string& op,
                 const std::vector<std::string>& inputs, const std::string& output) {
    out->emplace_back();
    NodeProto& m = out->back();
    m.set_op_type(op);
    m.set_name(Fresh((from.name().empty() ? from.output(0) : from.name()) + "/" + op));
    for (const auto& i : inputs) m.add_input(i);
    m.add_output(output);
    return m;
  }

  // x (quantized) to float: a DequantizeLinear; axis for per-axis scales.
  std::string Dq(std::vector<NodeProto>* out, const NodeProto& n, const std::string& x, const std::string& scale,
                 const std::string& zp, int64_t axis = 1) {
    const std::string y = Fresh(x + "/dequantized");
    std::vector<std::string> in = {x, scale};
    if (!zp.empty()) in.push_back(zp);
    NodeProto& m = Add(out, n, "DequantizeLinear", in, y);
    if (axis != 1) *m.add_attribute() = int_attr("axis", axis);
    return y;
  }

  // The output's zero point, or a zero constant of the type of `like` (a zero point
  // of an input; uint8 when absent).
  std::string OutZp(const NodeProto& n, const std::string& zp, const std::string& like) {
    if (!zp.empty()) return zp;
    int32_t type = TensorProto::UINT8;
    auto it = init_.find(like);
    if (!like.empty() && it != init_.end()) type = it->second->data_type();
    TensorProto* t = NewInit(n, "zero_point", type);
    t->add_int32_data(0);
    return t->name();
  }

  void Q(std::vector<NodeProto>* out, const NodeProto& n, const std::string& x, const std::string& scale,
         const std::string& zp, const std::string& y) {
    Add(out, n, "QuantizeLinear", {x, scale, zp}, y);
  }

  static void CopyAttributes(const NodeProto& from, NodeProto* to, const std::set<std::string>& skip) {
    for (const auto& a : from.attribute())
      if (!skip.count(a.name())) *to->add_attribute() = a;
  }

  static float FloatAttr(const NodeProto& n, const std::string& name, float dflt) {
    for (const auto& a : n.attribute())
      if (a.name() == name) return a.f();
    return dflt;
  }

  // A new initializer of element `type` named after node n's output and `what` (its
  // values and dims to be filled in).
  TensorProto* NewInit(const NodeProto& n, const std::string& what, int32_t type) {
    TensorProto* t = g_->add_initializer();
    t->set_name(Fresh(n.output(0) + "/" + what));
    t->set_data_type(type);
    init_[t->name()] = t;
    return t;
  }

  // A float scalar initializer holding v.
  std::string FloatConst(const NodeProto& n, const std::string& what, float v) {
    TensorProto* t = NewInit(n, what, TensorProto::FLOAT);
    t->add_float_data(v);
    return t->name();
  }

  // An int64 vector initializer.
  std::string IntsConst(const NodeProto& n, const std::string& what, const std::vector<int64_t>& v) {
    TensorProto* t = NewInit(n, what, TensorProto::INT64);
    t->add_dims(static_cast<int64_t>(v.size()));
    for (int64_t x : v) t->add_int64_data(x);
    return t->name();
  }

  NodeProto& CastTo(std::vector<NodeProto>* out, const NodeProto& n, const std::string& x, int32_t type,
                    const std::string& y) {
    NodeProto& c = Add(out, n, "Cast", {x}, y);
    *c.add_attribute() = int_attr("to", type);
    return c;
  }

  // ONNX Runtime's dynamic product written out: MatMulInteger(a, b, [a_zp], [b_zp]), Cast
  // to float, Mul by a_scale * b_scale, into y (the dynamic fully connected layer's pattern).
  void ScaledIntegerProduct(std::vector<NodeProto>* out, const NodeProto& n, const std::string& a,
                            const std::string& b, const std::string& a_zp, const std::string& b_zp,
                            const std::string& a_scale, const std::string& b_scale, const std::string& y) {
    const std::string acc = Fresh(y + "/int32"), acc_f = Fresh(y + "/acc"), scale = Fresh(y + "/scale");
    NodeProto& mm = Add(out, n, "MatMulInteger", {a, b}, acc);
    if (!a_zp.empty() || !b_zp.empty()) mm.add_input(a_zp);
    if (!b_zp.empty()) mm.add_input(b_zp);
    CastTo(out, n, acc, TensorProto::FLOAT, acc_f);
    Add(out, n, "Mul", {a_scale, b_scale}, scale);
    Add(out, n, "Mul", {acc_f, scale}, y);
  }

  // Attention (the file comment): the packed projection (MatMul, or for QAttention
  // MatMulInteger, Cast and Mul by input_scale * weight_scale), its bias, Q, K and V
  // sliced from it, and a MultiHeadAttention in the standard domain, which the importer
  // lowers knowing the shapes (its mask forms, scale and causal mask are the same).
  Status ExpandAttention(const NodeProto& n, std::vector<NodeProto>* out, bool quantized) {
    const std::string what = "node '" + n.name() + "' (" + n.op_type() + "): ";
    if (In(n, 0).empty() || In(n, 1).empty()) return InvalidModel(what + "needs the input and the weights");
    if (quantized && (In(n, 2).empty() || In(n, 3).empty() || In(n, 4).empty()))
      return InvalidModel(what + "needs the bias, input_scale and weight_scale");
    // Attention: input 4 is the past state, 5 an additive attention bias (MultiHeadAttention's
    // input 5), 6 the past length; QAttention: 8 the past state.
    const int mask_input = quantized ? 5 : 3, bias_input = quantized ? -1 : 5;
    for (int k = quantized ? 8 : 4; k < n.input_size(); ++k)
      if (!In(n, k).empty() && k != bias_input) return Unsupported(what + "past state inputs are not supported");
    for (int k = 1; k < n.output_size(); ++k)
      if (!n.output(k).empty()) return Unsupported(what + "the present output is not supported");
    std::vector<int64_t> sizes;  // qkv_hidden_sizes: Q, K and V widths (Q's and K's equal)
    for (const auto& a : n.attribute()) {
      if (a.name() == "do_rotary" || a.name() == "past_present_share_buffer")
        return Unsupported(what + "attribute '" + a.name() + "' is not supported");
      if (a.name() == "qkv_hidden_sizes") sizes.assign(a.ints().begin(), a.ints().end());
    }
    auto w = init_.find(In(n, 1));
    if (w == init_.end() || w->second->dims_size() != 2)
      return Unsupported(what + "the weights must be an initializer of shape [D, Q + K + V]");
    if (sizes.empty()) sizes.assign(3, w->second->dims(1) / 3);
    if (sizes.size() != 3 || sizes[0] != sizes[1] || sizes[0] <= 0 || sizes[2] <= 0 ||
        sizes[0] + sizes[1] + sizes[2] != w->second->dims(1))
      return InvalidModel(what + "qkv_hidden_sizes (or thirds of the weights' width " +
                          std::to_string(w->second->dims(1)) + ") must be Q = K and V widths summing to it");
    const std::string y = n.output(0);
    std::string qkv = Fresh(y + "/qkv");
    if (quantized) {
      ScaledIntegerProduct(out, n, In(n, 0), In(n, 1), In(n, 6), In(n, 7), In(n, 3), In(n, 4), qkv);
    } else {
      Add(out, n, "MatMul", {In(n, 0), In(n, 1)}, qkv);
    }
    if (!In(n, 2).empty()) {
      const std::string biased = Fresh(y + "/qkv_biased");
      Add(out, n, "Add", {qkv, In(n, 2)}, biased);
      qkv = biased;
    }
    const std::string axes = IntsConst(n, "axes", {2});
    std::vector<std::string> parts;
    for (int64_t k = 0, start = 0; k < 3; start += sizes[static_cast<size_t>(k)], ++k) {
      parts.push_back(Fresh(y + "/qkv" + std::to_string(k)));
      Add(out, n, "Slice",
          {qkv, IntsConst(n, "start", {start}), IntsConst(n, "end", {start + sizes[static_cast<size_t>(k)]}), axes},
          parts.back());
    }
    parts.push_back("");  // no bias: added above
    parts.push_back(In(n, mask_input));
    parts.push_back(bias_input < 0 ? std::string() : In(n, bias_input));
    NodeProto& mha = Add(out, n, "MultiHeadAttention", parts, y);
    CopyAttributes(n, &mha, {"qkv_hidden_sizes"});
    return Status::Ok();
  }

  // EmbedLayerNormalization (the file comment).
  Status ExpandEmbedLayerNorm(const NodeProto& n, std::vector<NodeProto>* out) {
    const std::string what = "node '" + n.name() + "' (" + n.op_type() + "): ";  // or QEmbedLayerNormalization
    for (int k : {0, 2, 3, 5, 6})
      if (In(n, k).empty()) return InvalidModel(what + "is missing input " + std::to_string(k));
    const std::string y = n.output(0);
    const std::string word = Fresh(y + "/word"), pos = Fresh(y + "/position"), sum1 = Fresh(y + "/word_pos");
    Add(out, n, "Gather", {In(n, 2), In(n, 0)}, word);
    if (!In(n, 8).empty()) {
      Add(out, n, "Gather", {In(n, 3), In(n, 8)}, pos);
    } else {  // positions 0 .. S-1: the table's first S rows
      const std::string shape = Fresh(y + "/ids_shape"), length = Fresh(y + "/seq_len");
      Add(out, n, "Shape", {In(n, 0)}, shape);
      Add(out, n, "Slice", {shape, IntsConst(n, "one", {1}), IntsConst(n, "two", {2})}, length);
      Add(out, n, "Slice", {In(n, 3), IntsConst(n, "zero", {0}), length}, pos);
    }
    const std::string sum_out = n.output_size() > 2 ? n.output(2) : std::string();
    const bool segment = !In(n, 1).empty() && !In(n, 4).empty();
    if (In(n, 1).empty() != In(n, 4).empty())
      return InvalidModel(what + "segment_ids and segment_embedding must be given together");
    Add(out, n, "Add", {word, pos}, segment || sum_out.empty() ? sum1 : sum_out);
    std::string sum = segment || sum_out.empty() ? sum1 : sum_out;
    if (segment) {
      const std::string seg = Fresh(y + "/segment");
      sum = sum_out.empty() ? Fresh(y + "/sum") : sum_out;
      Add(out, n, "Gather", {In(n, 4), In(n, 1)}, seg);
      Add(out, n, "Add", {sum1, seg}, sum);
    }
    *Add(out, n, "LayerNormalization", {sum, In(n, 5), In(n, 6)}, y).add_attribute() =
        float_attr("epsilon", FloatAttr(n, "epsilon", 1e-12f));
    if (n.output_size() > 1 && !n.output(1).empty()) {
      if (In(n, 7).empty()) return Unsupported(what + "a mask_index output without a mask is not supported");
      const std::string ones = Fresh(y + "/mask_ones"), ones_i = Fresh(y + "/mask_ones_i");
      Add(out, n, "Equal", {In(n, 7), OneLike(n, In(n, 7))}, ones);
      CastTo(out, n, ones, TensorProto::INT32, ones_i);
      // ReduceSum's axes: an input from opset 13, an attribute before.
      NodeProto& r = opset_ >= 13 ? Add(out, n, "ReduceSum", {ones_i, IntsConst(n, "mask_axis", {1})}, n.output(1))
                                  : Add(out, n, "ReduceSum", {ones_i}, n.output(1));
      if (opset_ < 13) *r.add_attribute() = ints_attr("axes", {1});
      *r.add_attribute() = int_attr("keepdims", 0);
    }
    return Status::Ok();
  }

  // QEmbedLayerNormalization (the file comment): its five 8-bit tables dequantized, then
  // EmbedLayerNormalization.
  Status ExpandQEmbedLayerNorm(const NodeProto& n, std::vector<NodeProto>* out) {
    const std::string what = "node '" + n.name() + "' (QEmbedLayerNormalization): ";
    NodeProto e = n;  // inputs 0-7 as EmbedLayerNormalization's, with the tables dequantized
    e.clear_input();
    for (int k = 0; k < 8; ++k) e.add_input(In(n, k));
    for (int k = 2; k <= 6; ++k) {  // word, position, segment, gamma, beta: scale k + 6, zero point k + 11
      if (In(n, k).empty()) continue;
      if (In(n, k + 6).empty()) return InvalidModel(what + "input " + std::to_string(k) + " has no scale");
      e.set_input(k, Dq(out, n, In(n, k), In(n, k + 6), In(n, k + 11)));
    }
    return ExpandEmbedLayerNorm(e, out);
  }

  // A scalar 1 of the element type of graph input `like` (int32 if unknown).
  std::string OneLike(const NodeProto& n, const std::string& like) { return ScalarLike(n, like, 1); }

  std::string ScalarLike(const NodeProto& n, const std::string& like, int32_t v) {
    int32_t type = TensorProto::INT32;
    for (const auto& i : g_->input())
      if (i.name() == like) type = i.type().tensor_type().elem_type();
    TensorProto* t = NewInit(n, v == 0 ? "zero" : "one", type);
    if (type == TensorProto::INT64) {
      t->add_int64_data(v);
    } else if (type == TensorProto::FLOAT) {
      t->add_float_data(static_cast<float>(v));
    } else {
      t->add_int32_data(v);
    }
    return t->name();
  }

  // The transformer ops of the file comment; *taken false for any other op.
  Status ExpandTransformer(const NodeProto& n, std::vector<NodeProto>* out, bool* taken) {
    const std::string& op = n.op_type();
    const std::string y = n.output(0);
    const auto need = [&](int count) -> Status {
      for (int k = 0; k < count; ++k)
        if (In(n, k).empty())
          return InvalidModel("node '" + n.name() + "' (" + op + ") is missing input " + std::to_string(k));
      return Status::Ok();
    };
    *taken = true;
    if (op == "Attention" || op == "QAttention") return ExpandAttention(n, out, op == "QAttention");
    if (op == "EmbedLayerNormalization") return ExpandEmbedLayerNorm(n, out);
    if (op == "QEmbedLayerNormalization") return ExpandQEmbedLayerNorm(n, out);
    if (op == "Gelu" || op == "FastGelu" || op == "BiasGelu") {
      EDGEQ_RETURN_IF_ERROR(need(op == "BiasGelu" ? 2 : 1));
      std::string x = In(n, 0);
      if (!In(n, 1).empty()) {
        x = Fresh(y + "/biased");
        Add(out, n, "Add", {In(n, 0), In(n, 1)}, x);
      }
      NodeProto& m = Add(out, n, "Gelu", {x}, y);
      if (op == "FastGelu") *m.add_attribute() = string_attr("approximate", "tanh");
      return Status::Ok();
    }
    if (op == "QuickGelu") {
      EDGEQ_RETURN_IF_ERROR(need(1));
      const std::string scaled = Fresh(y + "/scaled"), gate = Fresh(y + "/gate");
      Add(out, n, "Mul", {In(n, 0), FloatConst(n, "alpha", FloatAttr(n, "alpha", 1.702f))}, scaled);
      Add(out, n, "Sigmoid", {scaled}, gate);
      Add(out, n, "Mul", {In(n, 0), gate}, y);
      return Status::Ok();
    }
    if (op == "SkipLayerNormalization" || op == "SkipSimplifiedLayerNormalization") {
      // LayerNorm, or RMSNorm (SimplifiedLayerNormalization, which has no beta), of input +
      // skip (+ bias).
      const bool rms = op == "SkipSimplifiedLayerNormalization";
      const int bias_input = rms ? 3 : 4;
      EDGEQ_RETURN_IF_ERROR(need(3));
      if ((n.output_size() > 1 && !n.output(1).empty()) || (n.output_size() > 2 && !n.output(2).empty()))
        return Unsupported("node '" + n.name() + "' (" + op + "): its mean and inverse standard deviation outputs "
                           "are not supported");
      const std::string sum_out = n.output_size() > 3 ? n.output(3) : std::string();
      std::string sum = In(n, bias_input).empty() && !sum_out.empty() ? sum_out : Fresh(y + "/sum");
      Add(out, n, "Add", {In(n, 0), In(n, 1)}, sum);
      if (!In(n, bias_input).empty()) {
        const std::string biased = sum_out.empty() ? Fresh(y + "/biased") : sum_out;
        Add(out, n, "Add", {sum, In(n, bias_input)}, biased);
        sum = biased;
      }
      std::vector<std::string> norm_in = {sum, In(n, 2)};
      if (!rms && !In(n, 3).empty()) norm_in.push_back(In(n, 3));
      *Add(out, n, rms ? "SimplifiedLayerNormalization" : "LayerNormalization", norm_in, y).add_attribute() =
          float_attr("epsilon", FloatAttr(n, "epsilon", 1e-12f));
      return Status::Ok();
    }
    // The importer's LowerMultiHeadAttention, which knows the ranks, and its
    // SimplifiedLayerNormalization (ONNX Runtime registers it in the standard domain;
    // some writers put it in com.microsoft).
    if (op == "MultiHeadAttention" || op == "SimplifiedLayerNormalization") {
      out->push_back(n);
      out->back().clear_domain();
      return Status::Ok();
    }
    if (op == "FusedMatMul") {
      EDGEQ_RETURN_IF_ERROR(need(2));
      if (IntAttr(n, "transBatchA", 0) != 0 || IntAttr(n, "transBatchB", 0) != 0)
        return Unsupported("node '" + n.name() + "' (FusedMatMul): transBatchA / transBatchB are not supported");
      NodeProto& m = Add(out, n, "FusedMatMul", {In(n, 0), In(n, 1)}, y);
      CopyAttributes(n, &m, {});  // the importer's LowerFusedMatMul (standard domain)
      return Status::Ok();
    }
    if (op == "MatMulIntegerToFloat" || op == "DynamicQuantizeMatMul") {
      const bool dynamic = op == "DynamicQuantizeMatMul";
      EDGEQ_RETURN_IF_ERROR(need(dynamic ? 3 : 4));
      std::string a = In(n, 0), a_scale, a_zp;
      const std::string b = In(n, 1);
      std::string b_scale, b_zp, bias;
      if (dynamic) {
        a = Fresh(y + "/a_quantized");
        a_scale = Fresh(y + "/a_scale");
        a_zp = Fresh(y + "/a_zero_point");
        out->emplace_back();
        NodeProto& q = out->back();
        q.set_op_type("DynamicQuantizeLinear");
        q.set_name(Fresh((n.name().empty() ? y : n.name()) + "/DynamicQuantizeLinear"));
        q.add_input(In(n, 0));
        q.add_output(a);
        q.add_output(a_scale);
        q.add_output(a_zp);
        b_scale = In(n, 2);
        b_zp = In(n, 3);
        bias = In(n, 4);
      } else {
        a_scale = In(n, 2);
        b_scale = In(n, 3);
        a_zp = In(n, 4);
        b_zp = In(n, 5);
        bias = In(n, 6);
      }
      const std::string scaled = bias.empty() ? y : Fresh(y + "/scaled");
      ScaledIntegerProduct(out, n, a, b, a_zp, b_zp, a_scale, b_scale, scaled);
      if (!bias.empty()) Add(out, n, "Add", {scaled, bias}, y);
      return Status::Ok();
    }
    *taken = false;
    return Status::Ok();
  }

  static int64_t IntAttr(const NodeProto& n, const std::string& name, int64_t dflt) {
    for (const auto& a : n.attribute())
      if (a.name() == name) return a.i();
    return dflt;
  }

  Status Expand(const NodeProto& n, std::vector<NodeProto>* out, bool* taken) {
    const std::string& op = n.op_type();
    *taken = true;
    if (n.output_size() < 1 || n.output(0).empty())
      return InvalidModel("node '" + n.name() + "' (" + op + ") has no output");
    const std::string y = n.output(0);
    if (op == "QLinearAdd" || op == "QLinearMul") {
      if (n.input_size() < 7 || In(n, 0).empty() || In(n, 1).empty() || In(n, 3).empty() || In(n, 4).empty() ||
          In(n, 6).empty())
        return InvalidModel("node '" + n.name() + "' (" + op + ") needs A, A_scale, B, B_scale and C_scale");
      const std::string a = Dq(out, n, In(n, 0), In(n, 1), In(n, 2));
      const std::string b = Dq(out, n, In(n, 3), In(n, 4), In(n, 5));
      const std::string c = Fresh(y + "/float");
      Add(out, n, op == "QLinearAdd" ? "Add" : "Mul", {a, b}, c);
      Q(out, n, c, In(n, 6), OutZp(n, In(n, 7), In(n, 2)), y);
      return Status::Ok();
    }
    if (op == "QLinearSigmoid" || op == "QLinearLeakyRelu" || op == "QLinearGlobalAveragePool" ||
        op == "QLinearAveragePool") {
      if (n.input_size() < 4 || In(n, 0).empty() || In(n, 1).empty() || In(n, 3).empty())
        return InvalidModel("node '" + n.name() + "' (" + op + ") needs X, X_scale and Y_scale");
      if (IntAttr(n, "channels_last", 0) != 0)
        return Unsupported("node '" + n.name() + "' (" + op + "): channels_last inputs are not supported");
      const std::string x = Dq(out, n, In(n, 0), In(n, 1), In(n, 2));
      const std::string f = Fresh(y + "/float");
      const std::string fop = op.substr(std::string("QLinear").size());
      NodeProto& m = Add(out, n, fop, {x}, f);
      CopyAttributes(n, &m, {"channels_last"});
      Q(out, n, f, In(n, 3), OutZp(n, In(n, 4), In(n, 2)), y);
      return Status::Ok();
    }
    if (op == "QLinearSoftmax") {
      if (n.input_size() < 4 || In(n, 0).empty() || In(n, 1).empty() || In(n, 3).empty())
        return InvalidModel("node '" + n.name() + "' (QLinearSoftmax) needs X, X_scale and y_scale");
      // `opset`: the Softmax semantics it follows. Before 13 the input is flattened to 2-D
      // at the axis (the default 1); from 13 the axis alone (the default -1).
      const bool flat = IntAttr(n, "opset", opset_) < 13;
      const int64_t axis = IntAttr(n, "axis", flat ? 1 : -1);
      const std::string x = Dq(out, n, In(n, 0), In(n, 1), In(n, 2));
      const std::string f = Fresh(y + "/float");
      if (flat == (opset_ < 13)) {
        *Add(out, n, "Softmax", {x}, f).add_attribute() = int_attr("axis", axis);
      } else if (flat) {  // the file's opset reads Softmax per axis: flatten around it
        const std::string shape = Fresh(y + "/shape"), x2 = Fresh(y + "/flat"), f2 = Fresh(y + "/flat_softmax");
        Add(out, n, "Shape", {x}, shape);
        *Add(out, n, "Flatten", {x}, x2).add_attribute() = int_attr("axis", axis);
        *Add(out, n, "Softmax", {x2}, f2).add_attribute() = int_attr("axis", 1);
        Add(out, n, "Reshape", {f2, shape}, f);
      } else {
        return Unsupported("node '" + n.name() + "' (QLinearSoftmax): per-axis semantics (opset 13) in a file of "
                           "opset " + std::to_string(opset_) + " are not supported");
      }
      Q(out, n, f, In(n, 3), OutZp(n, In(n, 4), In(n, 2)), y);
      return Status::Ok();
    }
    if (op == "QLinearConcat") {
      if (n.input_size() < 5 || (n.input_size() - 2) % 3 != 0 || In(n, 0).empty())
        return InvalidModel("node '" + n.name() + "' (QLinearConcat) needs Y_scale, Y_zero_point and (X, scale, "
                            "zero point) triples");
      std::vector<std::string> xs;
      for (int k = 2; k < n.input_size(); k += 3) {
        if (In(n, k).empty() || In(n, k + 1).empty())
          return InvalidModel("node '" + n.name() + "' (QLinearConcat): input " + std::to_string(k) +
                              " or its scale is missing");
        xs.push_back(Dq(out, n, In(n, k), In(n, k + 1), In(n, k + 2)));
      }
      const std::string f = Fresh(y + "/float");
      NodeProto& m = Add(out, n, "Concat", xs, f);
      CopyAttributes(n, &m, {});
      Q(out, n, f, In(n, 0), OutZp(n, In(n, 1), In(n, 4)), y);
      return Status::Ok();
    }
    {
      bool transformer = false;
      EDGEQ_RETURN_IF_ERROR(ExpandTransformer(n, out, &transformer));
      if (transformer) return Status::Ok();
    }
    if (op == "QGemm") {
      if (n.input_size() < 5 || In(n, 0).empty() || In(n, 1).empty() || In(n, 3).empty() || In(n, 4).empty())
        return InvalidModel("node '" + n.name() + "' (QGemm) needs A, A_scale, B and B_scale");
      const bool trans_b = IntAttr(n, "transB", 0) != 0;
      const std::string a = Dq(out, n, In(n, 0), In(n, 1), In(n, 2));
      // Per-column B scales lie along B's output axis: 0 when B is [N, K], else 1.
      const std::string b = Dq(out, n, In(n, 3), In(n, 4), In(n, 5), trans_b ? 0 : 1);
      std::vector<std::string> gemm_in = {a, b};
      if (!In(n, 6).empty()) {
        // The int32 bias's scale is A_scale * B_scale (a constant the importer folds).
        const std::string scale = Fresh(y + "/bias_scale");
        Add(out, n, "Mul", {In(n, 1), In(n, 4)}, scale);
        gemm_in.push_back(Dq(out, n, In(n, 6), scale, "", 0));
      }
      const bool quantized_out = !In(n, 7).empty();
      const std::string f = quantized_out ? Fresh(y + "/float") : y;
      NodeProto& m = Add(out, n, "Gemm", gemm_in, f);
      CopyAttributes(n, &m, {});
      if (quantized_out) Q(out, n, f, In(n, 7), OutZp(n, In(n, 8), In(n, 2)), y);
      return Status::Ok();
    }
    *taken = false;
    return Status::Ok();
  }

  // Whether tensor `t` is the output of a QuantizeLinear (or a QLinearConv /
  // QLinearMatMul), possibly through ops that move its values unchanged, with per-tensor
  // parameters: *scale, *zp their names (zp empty: absent).
  bool QuantizedBy(const std::string& t, std::string* scale, std::string* zp, int depth) const {
    auto it = producer_.find(t);
    if (it == producer_.end() || depth > 64) return false;
    const NodeProto& p = *it->second;
    if (!p.domain().empty()) return false;
    const std::string& op = p.op_type();
    int s = -1;
    if (op == "QuantizeLinear") s = 1;
    if (op == "QLinearConv" || op == "QLinearMatMul") s = 6;
    if (s >= 0) {
      if (p.input_size() <= s || p.input(s).empty() || !PerTensor(p.input(s))) return false;
      *scale = p.input(s);
      *zp = In(p, s + 1);
      return true;
    }
    static const std::set<std::string> kMoves = {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose",
                                                  "Identity", "MaxPool", "Slice", "Split"};
    if (kMoves.count(op) && p.input_size() >= 1) return QuantizedBy(p.input(0), scale, zp, depth + 1);
    return false;
  }
  bool PerTensor(const std::string& name) const {
    auto it = init_.find(name);
    if (it == init_.end()) return false;
    int64_t count = 1;
    for (int64_t d : it->second->dims()) count *= d;
    return count == 1;
  }

  onnx::GraphProto* g_;
  int64_t opset_;  // the default domain's
  std::map<std::string, const NodeProto*> producer_;
  std::set<std::string> names_;
  std::map<std::string, const TensorProto*> init_;
};

}  // namespace

Status expand_contrib_qlinear(onnx::ModelProto* model) {
  if (!model->has_graph()) return Status::Ok();
  // Only graphs with something to rewrite are copied.
  bool any = false;
  for (const auto& n : model->graph().node())
    any = any || n.domain() == "com.microsoft" || n.op_type() == "MaxPool";
  if (!any) return Status::Ok();
  int64_t opset = 0;
  for (const auto& o : model->opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") opset = o.version();
  return Expander(model->mutable_graph(), opset).Run();
}

}  // namespace onnx_import
}  // namespace edgeq
