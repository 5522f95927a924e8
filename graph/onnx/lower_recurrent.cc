// ONNX's LSTM and GRU (nn.LSTM / nn.GRU exports: keyword spotters, text classifiers,
// speech) as one IR node a layer (graph/op_table.h, LSTM GRU). The IR op is
// sequence-major with every input present: ONNX's absent bias, initial states and
// peepholes become zero constants, and sequence_lens is taken only when every sequence
// is whole. Activations other than the defaults (sigmoid, tanh), activation_alpha / beta,
// LSTM's input_forget and layout 1 (batch-major, which ONNX Runtime refuses too; PyTorch
// writes batch_first as Transposes around a layout-0 node) are refused.
#include <algorithm>
#include <cmath>

#include "graph/onnx/internal.h"

namespace edgeq {
namespace onnx_import {

using onnx::TensorProto;

Status Importer::LowerRecurrent(const onnx::NodeProto& n) {
  const bool lstm = n.op_type() == "LSTM";
  const int64_t gates = lstm ? 4 : 3;
  Value* x;
  EDGEQ_RETURN_IF_ERROR(RequireTensor(n, 0, &x));
  if (x->kind != ValueKind::kTensor || x->shape.size() != 3)
    return Fail(n, StatusCode::kUnsupported, "the input must be a run-time tensor of rank 3");
  int64_t hidden, layout, input_forget, lbr;
  std::string direction;
  float clip;
  EDGEQ_RETURN_IF_ERROR(attr_int(n, "hidden_size", 0, &hidden));
  EDGEQ_RETURN_IF_ERROR(attr_int(n, "layout", 0, &layout));
  EDGEQ_RETURN_IF_ERROR(attr_int(n, "input_forget", 0, &input_forget));
  EDGEQ_RETURN_IF_ERROR(attr_int(n, "linear_before_reset", 0, &lbr));
  EDGEQ_RETURN_IF_ERROR(attr_string(n, "direction", "forward", &direction));
  EDGEQ_RETURN_IF_ERROR(attr_float(n, "clip", 0.f, &clip));
  if (hidden < 1 || hidden > (int64_t{1} << 16)) return Fail(n, StatusCode::kInvalidModel, "invalid hidden_size");
  if (layout != 0) return Fail(n, StatusCode::kUnsupported, "layout 1 (batch-major) is not supported");
  if (input_forget != 0) return Fail(n, StatusCode::kUnsupported, "input_forget is not supported");
  if (lbr != 0 && lbr != 1) return Fail(n, StatusCode::kInvalidModel, "linear_before_reset must be 0 or 1");
  if (!(std::isfinite(clip) && clip >= 0.f)) return Fail(n, StatusCode::kInvalidModel, "invalid clip");
  const int32_t dir = direction == "forward" ? 0 : direction == "reverse" ? 1 : direction == "bidirectional" ? 2 : -1;
  if (dir < 0) return Fail(n, StatusCode::kInvalidModel, "unknown direction '" + direction + "'");
  const int64_t D = dir == 2 ? 2 : 1, H = hidden;
  if (find_attr(n, "activation_alpha") || find_attr(n, "activation_beta"))
    return Fail(n, StatusCode::kUnsupported, "activation_alpha / activation_beta are not supported");
  if (const onnx::AttributeProto* acts = find_attr(n, "activations")) {
    const std::vector<std::string> one = lstm ? std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"}
                                              : std::vector<std::string>{"Sigmoid", "Tanh"};
    if (acts->strings_size() != static_cast<int>(one.size() * D))
      return Fail(n, StatusCode::kInvalidModel, "activations must name " + std::to_string(one.size() * D) + " functions");
    for (int k = 0; k < acts->strings_size(); ++k)
      if (acts->strings(k) != one[static_cast<size_t>(k) % one.size()])
        return Fail(n, StatusCode::kUnsupported, "activation '" + acts->strings(k) + "' is not supported (sigmoid and tanh only)");
  }
  const int64_t S = x->shape[0], B = x->shape[1], I = x->shape[2];
  // Constant inputs as float values of the expected size (zeros when absent).
  const auto constant = [&](int k, const Shape& dims, bool required, std::vector<float>* v) -> Status {
    Value* c = nullptr;
    EDGEQ_RETURN_IF_ERROR(OptInput(n, k, &c));
    int64_t count = 1;
    for (int64_t d : dims) count *= d;
    if (c == nullptr) {
      if (required) return Fail(n, StatusCode::kInvalidModel, "input " + std::to_string(k) + " is required");
      v->assign(static_cast<size_t>(count), 0.f);
      return Status::Ok();
    }
    if (c->kind == ValueKind::kTensor || !real_values(*c, v))
      return Fail(n, StatusCode::kUnsupported, "input " + std::to_string(k) + " must be a float constant");
    if (static_cast<int64_t>(v->size()) != count)
      return Fail(n, StatusCode::kInvalidModel, "input " + std::to_string(k) + " does not have shape " + shape_str(dims));
    return Status::Ok();
  };
  std::vector<float> w, r, bias, peep;
  EDGEQ_RETURN_IF_ERROR(constant(1, {D, gates * H, I}, true, &w));
  EDGEQ_RETURN_IF_ERROR(constant(2, {D, gates * H, H}, true, &r));
  EDGEQ_RETURN_IF_ERROR(constant(3, {D, 2 * gates * H}, false, &bias));
  if (lstm) EDGEQ_RETURN_IF_ERROR(constant(7, {D, 3 * H}, false, &peep));
  Value* lens = nullptr;
  EDGEQ_RETURN_IF_ERROR(OptInput(n, 4, &lens));
  if (lens != nullptr) {
    std::vector<int64_t> l;
    if (lens->kind != ValueKind::kConst || !lens->c.to_ints(&l) || static_cast<int64_t>(l.size()) != B ||
        std::any_of(l.begin(), l.end(), [&](int64_t v) { return v != S; }))
      return Fail(n, StatusCode::kUnsupported, "sequence_lens must be a constant giving every sequence its full length");
  }
  const std::string base = n.output_size() > 0 && !n.output(0).empty() ? n.output(0) : n.name();
  const auto materialize = [&](const std::vector<float>& v, const Shape& dims, const std::string& suffix, int32_t* ir) {
    Value c;
    c.kind = ValueKind::kConst;
    c.c.dims = c.shape = dims;
    c.c.f = v;
    return MaterializeConst(n, c, UniqueTensorName(base + suffix), ir);
  };
  int32_t x_ir, w_ir, r_ir, b_ir, p_ir = -1;
  EDGEQ_RETURN_IF_ERROR(AsLayout(n, x, false, &x_ir));
  EDGEQ_RETURN_IF_ERROR(materialize(w, {D, gates * H, I}, ".W", &w_ir));
  EDGEQ_RETURN_IF_ERROR(materialize(r, {D, gates * H, H}, ".R", &r_ir));
  EDGEQ_RETURN_IF_ERROR(materialize(bias, {D, 2 * gates * H}, ".B", &b_ir));
  if (lstm) EDGEQ_RETURN_IF_ERROR(materialize(peep, {D, 3 * H}, ".P", &p_ir));
  // Initial states [D, B, H]: a run-time tensor, a constant, or zeros.
  const auto state = [&](int k, const std::string& suffix, int32_t* ir) -> Status {
    Value* v = nullptr;
    EDGEQ_RETURN_IF_ERROR(OptInput(n, k, &v));
    if (v == nullptr) return materialize(std::vector<float>(static_cast<size_t>(D * B * H), 0.f), {D, B, H}, suffix, ir);
    if (v->shape != Shape{D, B, H})
      return Fail(n, StatusCode::kInvalidModel, "input " + std::to_string(k) + " must have shape " + shape_str({D, B, H}));
    if (v->type != TensorProto::FLOAT) return Fail(n, StatusCode::kUnsupported, "initial states must be float");
    if (v->kind != ValueKind::kTensor) {
      std::vector<float> c;
      if (!real_values(*v, &c)) return Fail(n, StatusCode::kUnsupported, "initial states must be float");
      return materialize(c, {D, B, H}, suffix, ir);
    }
    return AsLayout(n, v, false, ir);
  };
  int32_t h0_ir, c0_ir = -1;
  EDGEQ_RETURN_IF_ERROR(state(5, ".initial_h", &h0_ir));
  if (lstm) EDGEQ_RETURN_IF_ERROR(state(6, ".initial_c", &c0_ir));
  // Outputs: Y [S, D, B, H], Y_h and Y_c [D, B, H].
  const int outputs = lstm ? 3 : 2;
  std::vector<int32_t> outs;
  for (int k = 0; k < outputs; ++k) {
    const Shape ir_shape = k == 0 ? Shape{S, D, B, H} : Shape{D, B, H};
    const bool named = k < n.output_size() && !n.output(k).empty();
    int32_t o;
    if (named) {
      EDGEQ_RETURN_IF_ERROR(OutputTensor(n, k, DType::kF32, ir_shape, &o, false));
    } else {
      Status s = NewTensor(base + (k == 0 ? ".Y" : k == 1 ? ".Y_h" : ".Y_c"), false, DType::kF32, ir_shape, &o);
      if (!s.ok()) return Fail(n, s.code(), s.message());
      if (ir_shape.size() == 4) plain_.insert(o);
    }
    outs.push_back(o);
  }
  Attrs a;
  a.hidden_size = static_cast<int32_t>(H);
  a.direction = dir;
  a.linear_before_reset = lstm ? 0 : static_cast<int32_t>(lbr);
  a.clip = clip;
  std::vector<int32_t> ins = {x_ir, w_ir, r_ir, b_ir, h0_ir};
  if (lstm) {
    ins.push_back(c0_ir);
    ins.push_back(p_ir);
  }
  Emit(n, "", lstm ? OpType::kLSTM : OpType::kGRU, ins, outs, a);
  return Status::Ok();
}

}  // namespace onnx_import
}  // namespace edgeq
