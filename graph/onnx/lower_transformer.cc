// Lowering of the ONNX ops transformer encoders add to the CNN set (conventions as in
// lower_ops.cc):
//  * Gather: a constant table with runtime indices (token / position / segment
//    embeddings) -> IR Gather (an int8/uint8 table followed by DequantizeLinear, as
//    ONNX Runtime's quantize_dynamic writes embeddings: an int8 Gather); a runtime tensor at one constant index (the class token,
//    BERT's pooler on the first token) -> Slice (+ Reshape dropping the axis).
//  * Expand of a runtime tensor -> Concat of copies along each grown axis.
//  * Cast: runtime int64/int32 <-> float -> IR Cast (attention masks); same-type casts
//    are dropped; casts of constants are folded before lowering.
//  * MatMul of two runtime tensors (attention scores and context, 3-D and 4-D with
//    numpy-broadcast batch dimensions) -> IR MatMul.
//  * LayerNormalization (opset 17) over the last axis -> IR LayerNorm.
//  * ONNX Runtime's dynamic quantization (quantize_dynamic):
//      DynamicQuantizeLinear(x) -> (x_q, x_scale, x_zp)
//      MatMulInteger(x_q, W_q, x_zp, W_zp) -> Cast(float) -> Mul(_, Mul(x_scale, W_scale))
//    becomes FullyConnected with `dynamic` = 1 (s8 weights, zero point 0), and with a
//    second DynamicQuantizeLinear in place of the constant, MatMul with `dynamic` = 1.
//    DynamicQuantizeLinear only records its input here; the integer op lowers the chain.
// All these results are non-image values: rank-4 ones keep ONNX order.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>

#include "graph/onnx/internal.h"

namespace edgeq {
namespace onnx_import {

using onnx::TensorProto;
using Ints = std::vector<int64_t>;

bool real_values(const Value& v, std::vector<float>* out) {
  if (v.kind == ValueKind::kConst) return v.c.is_float() && v.c.to_floats(out);
  if (v.kind != ValueKind::kDqConst) return false;
  const int64_t n = v.c.numel();
  int64_t inner = 1;
  for (size_t d = v.q.axis + 1; d < v.shape.size(); ++d) inner *= v.shape[d];
  out->resize(n);
  for (int64_t k = 0; k < n; ++k) {
    const size_t c = v.q.per_tensor() ? 0 : static_cast<size_t>((k / inner) % v.q.scale.size());
    (*out)[k] = static_cast<float>(v.c.i[k] - v.q.zero_point[c]) * v.q.scale[c];
  }
  return true;
}

namespace {

DType index_dtype(int32_t onnx_type) {
  return onnx_type == TensorProto::INT64   ? DType::kS64
         : onnx_type == TensorProto::INT32 ? DType::kS32
                                           : DType::kF32;
}

}  // namespace

// ------------------------------------------------------------------ Gather

Status Importer::LowerGather(const onnx::NodeProto& n) {
  Value *data, *idx;
  EDGEQ_RETURN_IF_ERROR(Input(n, 0, &data));
  EDGEQ_RETURN_IF_ERROR(Input(n, 1, &idx));
  int64_t axis;
  EDGEQ_RETURN_IF_ERROR(attr_int(n, "axis", 0, &axis));
  const size_t r = data->shape.size();
  Status s = normalize_axis(axis, r, &axis);
  if (!s.ok()) return Fail(n, s.code(), s.message());

  if (data->kind != ValueKind::kTensor && idx->kind == ValueKind::kTensor) {
    // Embedding lookup: a constant table [V, D...] indexed along axis 0.
    if (axis != 0)
      return Fail(n, StatusCode::kUnsupported,
                  "a constant table is supported only when gathered along axis 0");
    if (idx->type != TensorProto::INT64 && idx->type != TensorProto::INT32)
      return Fail(n, StatusCode::kUnsupported,
                  "indices '" + idx->name + "' must be int64 or int32, not " +
                      onnx_type_name(idx->type));
    Value table = *data;
    int32_t t_ir, out;
    if (table.kind == ValueKind::kConst && !table.c.is_float())
      return LowerQuantizedGather(n, *data, *idx);
    // The table keeps ONNX order whatever its rank (it is not an image).
    EDGEQ_RETURN_IF_ERROR(MaterializeConst(n, table, data->name, &t_ir));
    if (r == 4) plain_.insert(t_ir);
    Shape out_shape = idx->shape;
    out_shape.insert(out_shape.end(), data->shape.begin() + 1, data->shape.end());
    // A table of single values maps indices elementwise: the result keeps the indices'
    // layout (an NHWC image of byte indices, as edgeq exports a Lookup). Rows of more
    // values are gathered from indices in ONNX order.
    const bool nhwc = r == 1 && Nhwc(*idx);
    int32_t idx_ir;
    EDGEQ_RETURN_IF_ERROR(AsLayout(n, idx, nhwc, &idx_ir));
    EDGEQ_RETURN_IF_ERROR(OutputTensor(n, 0, DType::kF32, out_shape, &out, nhwc));
    Emit(n, "", OpType::kGather, {t_ir, idx_ir}, {out});
    return Status::Ok();
  }
  if (data->kind == ValueKind::kTensor && idx->kind == ValueKind::kConst) {
    // x[..., i, ...] at constant indices: a Slice when they are consecutive.
    Ints ids;
    if (!idx->c.to_ints(&ids) || ids.empty())
      return Fail(n, StatusCode::kInvalidModel, "indices are not integers");
    const int64_t dim = data->shape[axis];
    for (int64_t& v : ids) {
      if (v < -dim || v >= dim) return Fail(n, StatusCode::kInvalidModel, "index out of range");
      if (v < 0) v += dim;
    }
    // Runs of consecutive indices: one Slice each, joined by a Concat along the axis when
    // there are several (x[:, [2, 1, 0]], a BGR -> RGB swap; repeated indices too).
    std::vector<std::pair<int64_t, int64_t>> runs;  // (first index, length)
    for (int64_t v : ids) {
      if (!runs.empty() && v == runs.back().first + runs.back().second) {
        ++runs.back().second;
      } else {
        runs.emplace_back(v, 1);
      }
    }
    int32_t x_ir, sliced;
    EDGEQ_RETURN_IF_ERROR(AsLayout(n, data, false, &x_ir));
    Shape slice_shape = data->shape;
    slice_shape[axis] = static_cast<int64_t>(ids.size());
    const bool drop_axis = idx->shape.size() == 0;
    const std::string name = drop_axis ? n.output(0) + ".slice" : n.output(0);
    std::vector<int32_t> parts;
    for (size_t k = 0; k < runs.size(); ++k) {
      Attrs a;
      for (size_t d = 0; d < r; ++d) {
        a.starts.push_back(static_cast<int32_t>(static_cast<int64_t>(d) == axis ? runs[k].first : 0));
        a.steps.push_back(1);
      }
      Shape part_shape = data->shape;
      part_shape[axis] = runs[k].second;
      int32_t part;
      const bool last = runs.size() == 1;
      s = NewTensorLike(x_ir, last ? name : n.output(0) + ".run" + std::to_string(k), last && !drop_axis, part_shape,
                        &part);
      if (!s.ok()) return Fail(n, s.code(), s.message());
      if (r == 4) plain_.insert(part);
      Emit(n, "", OpType::kSlice, {x_ir}, {part}, a);
      parts.push_back(part);
    }
    sliced = parts[0];
    if (parts.size() > 1) {
      s = NewTensorLike(x_ir, name, !drop_axis, slice_shape, &sliced);
      if (!s.ok()) return Fail(n, s.code(), s.message());
      if (r == 4) plain_.insert(sliced);
      Attrs a;
      a.axis = static_cast<int32_t>(axis);
      Emit(n, "", OpType::kConcat, parts, {sliced}, a);
    }
    // ONNX: the result has the index tensor's shape in place of the axis.
    Shape out_shape(data->shape.begin(), data->shape.begin() + axis);
    out_shape.insert(out_shape.end(), idx->shape.begin(), idx->shape.end());
    out_shape.insert(out_shape.end(), data->shape.begin() + axis + 1, data->shape.end());
    if (out_shape == slice_shape) {
      DefineTensor(n.output(0), data->type, out_shape, sliced);
      return Status::Ok();
    }
    return ReshapeToOutput(n, sliced, data->type, slice_shape, out_shape);
  }
  if (data->kind == ValueKind::kTensor && idx->kind == ValueKind::kTensor) {
    // Rows of a run-time tensor at run-time indices: CLIP pools its text features with
    // x[arange(B), ids.argmax(-1)], a Gather on x flattened to [B * T, C].
    if (axis != 0)
      return Fail(n, StatusCode::kUnsupported, "a run-time tensor at run-time indices is gathered along axis 0 only");
    if (idx->type != TensorProto::INT64 && idx->type != TensorProto::INT32)
      return Fail(n, StatusCode::kUnsupported,
                  "indices '" + idx->name + "' must be int64 or int32, not " + onnx_type_name(idx->type));
    int32_t x_ir, out;
    EDGEQ_RETURN_IF_ERROR(AsLayout(n, data, false, &x_ir));
    Shape out_shape = idx->shape;
    out_shape.insert(out_shape.end(), data->shape.begin() + 1, data->shape.end());
    if (out_shape.size() > 6) return Fail(n, StatusCode::kUnsupported, "result rank above 6");
    s = NewTensorLike(x_ir, n.output(0), true, out_shape, &out);
    if (!s.ok()) return Fail(n, s.code(), s.message());
    if (out_shape.size() == 4) plain_.insert(out);
    Emit(n, "", OpType::kGather, {x_ir, idx->ir}, {out});
    DefineTensor(n.output(0), data->type, out_shape, out);
    return Status::Ok();
  }
  return Fail(n, StatusCode::kUnsupported,
              "only a constant table with runtime indices, or a runtime tensor at constant "
              "indices, is supported");
}

// ONNX Runtime's quantized embeddings: Gather(int8/uint8 table, ids) -> DequantizeLinear
// (constant per-tensor scale and zero point) -> an int8 IR Gather whose table and result
// carry those parameters; the DequantizeLinear then lowers as usual.
Status Importer::LowerQuantizedGather(const onnx::NodeProto& n, const Value& data,
                                      const Value& idx) {
  const std::string pattern =
      "an integer table must be int8/uint8 and its result used only by a DequantizeLinear";
  auto it = users_.find(n.output(0));
  if (data.c.type != TensorProto::INT8 && data.c.type != TensorProto::UINT8)
    return Fail(n, StatusCode::kUnsupported, pattern);
  if (it == users_.end() || it->second.size() != 1 || consumers_[n.output(0)] != 1 ||
      it->second[0]->op_type() != "DequantizeLinear")
    return Fail(n, StatusCode::kUnsupported, pattern);
  const onnx::NodeProto& dq = *it->second[0];
  QuantInfo q;
  q.type = data.c.type;
  EDGEQ_RETURN_IF_ERROR(ReadQuant(dq, 1, 2, data.shape, 0, &q));
  if (!q.per_tensor() || q.type != data.c.type)
    return Fail(n, StatusCode::kUnsupported,
                "the table's DequantizeLinear must be per tensor, of the table's type");
  const DType dt = data.c.type == TensorProto::INT8 ? DType::kS8 : DType::kU8;
  int32_t t_ir, out;
  Status s = NewTensor(data.name, true, dt, data.shape, &t_ir);
  if (!s.ok()) return Fail(n, s.code(), s.message());
  std::vector<uint8_t> bytes(data.c.i.size());
  for (size_t k = 0; k < bytes.size(); ++k) bytes[k] = static_cast<uint8_t>(data.c.i[k]);
  Tensor& t = g_->tensors[t_ir];
  t.set_data(std::move(bytes));
  t.quant.scale = q.scale;
  t.quant.zero_point = {static_cast<int32_t>(q.zero_point[0])};
  if (data.shape.size() == 4) plain_.insert(t_ir);
  Shape out_shape = idx.shape;
  out_shape.insert(out_shape.end(), data.shape.begin() + 1, data.shape.end());
  EDGEQ_RETURN_IF_ERROR(OutputTensor(n, 0, dt, out_shape, &out, false));
  // OutputTensor() may grow g_->tensors, so `t` is not used past it.
  g_->tensors[out].quant = g_->tensors[t_ir].quant;
  Emit(n, "", OpType::kGather, {t_ir, idx.ir}, {out});
  return Status::Ok();
}

// ------------------------------------------------------------------ Expand

// Expand of a runtime tensor (a mask broadcast to every head): each axis it grows is a
// Concat of copies along that axis, after a reshape to the result's rank.
Status Importer::LowerExpand(const onnx::NodeProto& n) {
  Value* x;
  EDGEQ_RETURN_IF_ERROR(Input(n, 0, &x));
  Ints spec;
  bool have;
  EDGEQ_RETURN_IF_ERROR(ConstInts(n, 1, &spec, &have));
  Shape out_shape;
  if (!have || !broadcast_shapes(x->shape, spec, &out_shape))
    return Fail(n, StatusCode::kInvalidModel,
                shape_str(x->shape) + " does not expand to " + shape_str(spec));
  const size_t r = out_shape.size();
  int32_t cur;
  EDGEQ_RETURN_IF_ERROR(BroadcastOperand(n, x, r, &cur, false));
  Shape cur_shape(r - x->shape.size(), 1);
  cur_shape.insert(cur_shape.end(), x->shape.begin(), x->shape.end());
  for (size_t d = 0; d < r; ++d)
    if (cur_shape[d] != out_shape[d] && out_shape[d] > 4096)
      return Fail(n, StatusCode::kUnsupported, "expanding an axis to more than 4096 copies");
  return ConcatCopies(n, x->type, cur, cur_shape, out_shape);
}

// Node n's output: IR tensor `cur` (ONNX order, shape cur_shape) grown axis by axis to
// out_shape (each a multiple of cur's) by Concats of copies along the axis.
Status Importer::ConcatCopies(const onnx::NodeProto& n, int32_t type, int32_t cur, Shape cur_shape,
                              const Shape& out_shape) {
  const size_t r = out_shape.size();
  for (size_t d = 0; d < r; ++d) {
    if (cur_shape[d] == out_shape[d]) continue;
    const int64_t copies = out_shape[d] / cur_shape[d];
    cur_shape[d] = out_shape[d];
    const bool last = cur_shape == out_shape;
    int32_t next;
    Status s = NewTensorLike(cur, last ? n.output(0) : n.output(0) + ".copies", last, cur_shape, &next);
    if (!s.ok()) return Fail(n, s.code(), s.message());
    if (r == 4) plain_.insert(next);
    Attrs a;
    a.axis = static_cast<int32_t>(d);
    Emit(n, "axis" + std::to_string(d), OpType::kConcat, std::vector<int32_t>(static_cast<size_t>(copies), cur), {next}, a);
    cur = next;
  }
  DefineTensor(n.output(0), type, out_shape, cur);
  return Status::Ok();
}

// GatherElements (torch.gather): the IR op on ONNX-order operands; constant indices become
// an int64 tensor. Indices are checked when the node runs.
Status Importer::LowerGatherElements(const onnx::NodeProto& n) {
  Value *x, *idx;
  EDGEQ_RETURN_IF_ERROR(Input(n, 0, &x));
  EDGEQ_RETURN_IF_ERROR(Input(n, 1, &idx));
  if (idx->type != TensorProto::INT64 && idx->type != TensorProto::INT32)
    return Fail(n, StatusCode::kUnsupported, "indices must be int64 or int32");
  int64_t axis;
  EDGEQ_RETURN_IF_ERROR(attr_int(n, "axis", 0, &axis));
  const size_t r = x->shape.size();
  if (r == 0 || r > 6 || idx->shape.size() != r)
    return Fail(n, StatusCode::kUnsupported, "the input and the indices must have one rank, 1 to 6");
  Status s = normalize_axis(axis, r, &axis);
  if (!s.ok()) return Fail(n, s.code(), s.message());
  int32_t x_ir, i_ir, out;
  if (x->kind == ValueKind::kTensor) {
    EDGEQ_RETURN_IF_ERROR(AsLayout(n, x, false, &x_ir));
  } else {
    EDGEQ_RETURN_IF_ERROR(MaterializeConst(n, *x, UniqueTensorName(n.output(0) + ".data"), &x_ir));
    if (r == 4) plain_.insert(x_ir);
  }
  if (idx->kind == ValueKind::kTensor) {
    EDGEQ_RETURN_IF_ERROR(AsLayout(n, idx, false, &i_ir));
  } else {
    EDGEQ_RETURN_IF_ERROR(MaterializeConst(n, *idx, UniqueTensorName(n.output(0) + ".indices"), &i_ir));
    if (r == 4) plain_.insert(i_ir);
  }
  s = NewTensorLike(x_ir, n.output(0), true, idx->shape, &out);
  if (!s.ok()) return Fail(n, s.code(), s.message());
  if (r == 4) plain_.insert(out);
  Attrs a;
  a.axis = static_cast<int32_t>(axis);
  Emit(n, "", OpType::kGatherElements, {x_ir, i_ir}, {out}, a);
  DefineTensor(n.output(0), x->type, idx->shape, out);
  return Status::Ok();
}

// GridSample (opset 16: F.grid_sample's flow warping and spatial transformers): the IR op
// on the NHWC image and the ONNX-order grid, into an NHWC image. Opset 20 renamed the
// modes (linear, cubic); both spellings are taken. Volumetric (5-D) inputs are refused.
Status Importer::LowerGridSample(const onnx::NodeProto& n) {
  Value *x, *grid;
  EDGEQ_RETURN_IF_ERROR(Input(n, 0, &x));
  EDGEQ_RETURN_IF_ERROR(Input(n, 1, &grid));
  if (x->shape.size() != 4 || grid->shape.size() != 4)
    return Fail(n, StatusCode::kUnsupported, "only 2-D sampling (rank-4 input and grid) is supported");
  if (x->type != TensorProto::FLOAT || grid->type != TensorProto::FLOAT)
    return Fail(n, StatusCode::kUnsupported, "the input and the grid must be float");
  if (grid->shape[0] != x->shape[0] || grid->shape[3] != 2)
    return Fail(n, StatusCode::kInvalidModel,
                "the grid " + shape_str(grid->shape) + " does not fit the input " + shape_str(x->shape));
  std::string mode, padding;
  int64_t align = 0;
  EDGEQ_RETURN_IF_ERROR(attr_string(n, "mode", opset_ >= 20 ? "linear" : "bilinear", &mode));
  EDGEQ_RETURN_IF_ERROR(attr_string(n, "padding_mode", "zeros", &padding));
  EDGEQ_RETURN_IF_ERROR(attr_int(n, "align_corners", 0, &align));
  static const std::map<std::string, int32_t> kModes = {
      {"bilinear", 0}, {"linear", 0}, {"nearest", 1}, {"bicubic", 2}, {"cubic", 2}};
  static const std::map<std::string, int32_t> kPadding = {{"zeros", 0}, {"border", 1}, {"reflection", 2}};
  const auto m = kModes.find(mode);
  const auto p = kPadding.find(padding);
  if (m == kModes.end()) return Fail(n, StatusCode::kUnsupported, "sampling mode '" + mode + "' is not supported");
  if (p == kPadding.end()) return Fail(n, StatusCode::kUnsupported, "padding mode '" + padding + "' is not supported");
  if (align != 0 && align != 1) return Fail(n, StatusCode::kInvalidModel, "align_corners must be 0 or 1");
  int32_t x_ir, g_ir, out;
  EDGEQ_RETURN_IF_ERROR(AsLayout(n, x, true, &x_ir));
  if (grid->kind == ValueKind::kTensor) {
    EDGEQ_RETURN_IF_ERROR(AsLayout(n, grid, false, &g_ir));
  } else {
    EDGEQ_RETURN_IF_ERROR(MaterializeConst(n, *grid, UniqueTensorName(n.output(0) + ".grid"), &g_ir));
    plain_.insert(g_ir);
  }
  const Shape out_shape = {x->shape[0], x->shape[1], grid->shape[1], grid->shape[2]};
  EDGEQ_RETURN_IF_ERROR(OutputTensor(n, 0, DType::kF32, out_shape, &out, true));
  Attrs a;
  a.grid_mode = m->second;
  a.grid_padding = p->second;
  a.align_corners = static_cast<int32_t>(align);
  Emit(n, "", OpType::kGridSample, {x_ir, g_ir}, {out}, a);
  return Status::Ok();
}

// ------------------------------------------------------------------ SimplifiedLayerNormalization

// ONNX Runtime's SimplifiedLayerNormalization (RMS normalization, registered in the
// standard domain; SkipSimplifiedLayerNormalization reaches it through contrib_ops.cc):
// x / sqrt(mean(x^2 over the axes from `axis` on) + epsilon) * scale, as synthetic Mul,
// ReduceMean, Add, Sqrt, Div and Mul in float. Its inverse deviation output is refused.
Status Importer::LowerSimplifiedLayerNorm(const onnx::NodeProto& n) {
  if (n.input_size() < 2 || n.input(1).empty()) return Fail(n, StatusCode::kInvalidModel, "needs X and scale");
  for (int k = 1; k < n.output_size(); ++k)
    if (!n.output(k).empty())
      return Fail(n, StatusCode::kUnsupported, "the inverse standard deviation output is not supported");
  Value* x;
  EDGEQ_RETURN_IF_ERROR(RequireTensor(n, 0, &x));
  int64_t axis;
  float eps;
  EDGEQ_RETURN_IF_ERROR(attr_int(n, "axis", -1, &axis));
  EDGEQ_RETURN_IF_ERROR(attr_float(n, "epsilon", 1e-5f, &eps));
  const Status s = normalize_axis(axis, x->shape.size(), &axis);
  if (!s.ok()) return Fail(n, s.code(), s.message());
  Ints axes;
  for (int64_t d = axis; d < static_cast<int64_t>(x->shape.size()); ++d) axes.push_back(d);
  const std::string base = n.output(0) + ".rms_norm_";
  EDGEQ_RETURN_IF_ERROR(LowerSynthetic(n, "Mul", {n.input(0), n.input(0)}, base + "square"));
  if (opset_ >= 18) {  // ReduceMean's axes: an input from opset 18, an attribute before
    const std::string a = DefineConst(base + "axes", TensorProto::INT64, {static_cast<int64_t>(axes.size())}, {}, axes);
    EDGEQ_RETURN_IF_ERROR(
        LowerSynthetic(n, "ReduceMean", {base + "square", a}, base + "mean", {int_attr("keepdims", 1)}));
  } else {
    EDGEQ_RETURN_IF_ERROR(LowerSynthetic(n, "ReduceMean", {base + "square"}, base + "mean",
                                         {ints_attr("axes", axes), int_attr("keepdims", 1)}));
  }
  EDGEQ_RETURN_IF_ERROR(LowerSynthetic(
      n, "Add", {base + "mean", DefineConst(base + "epsilon", TensorProto::FLOAT, {}, {eps}, {})}, base + "var"));
  EDGEQ_RETURN_IF_ERROR(LowerSynthetic(n, "Sqrt", {base + "var"}, base + "rms"));
  EDGEQ_RETURN_IF_ERROR(LowerSynthetic(n, "Div", {n.input(0), base + "rms"}, base + "normalized"));
  return LowerSynthetic(n, "Mul", {base + "normalized", n.input(1)}, n.output(0));
}

// ------------------------------------------------------------------ MultiHeadAttention

// ONNX Runtime's MultiHeadAttention (com.microsoft; contrib_ops.cc hands it over in the
// standard domain): query [B, S, D]; key and value [B, L, D] and [B, L, Dv], or both
// already split into heads, [B, N, L, D / N] (as ONNX Runtime, the same shape); [bias [D + D + Dv], with
// [B, L, *] key and value]; [key_padding_mask: key lengths [B] (key j kept where j <
// length), Attention's end and start positions [2B] (kept where start <= j < end), or
// [B, L] / [B, S, L] (kept where above 0)]; [attention_bias, broadcasting to
// [B, N, S, L]]; num_heads, scale (0 or absent: 1 / sqrt(D / N)), mask_filter_value
// (-10000, added where a key is not kept), unidirectional (ONNX Runtime's causal mask
// without past state: query i < S - 1 does not see keys j > i, which take the lowest
// float in place of the key mask's value). Per head:
// softmax(Q K^T scale + attention_bias + masks) V, the heads merged into [B, S, Dv]. Also
// the core of Attention and QAttention (contrib_ops.cc). Synthetic Slices, Adds,
// Reshapes, Transposes, MatMuls, Mul, Softmax, which lower as the file's own would.
// Refused with the reason: packed QKV / KV, past and present state, the qk output,
// other mask forms (ONNX Runtime's [3B + 2]).
Status Importer::LowerMultiHeadAttention(const onnx::NodeProto& n) {
  const auto in = [&](int k) { return k < n.input_size() ? n.input(k) : std::string(); };
  if (in(0).empty() || in(1).empty() || in(2).empty())
    return Fail(n, StatusCode::kUnsupported, "packed query, key and value are not supported (give all three)");
  for (int k = 6; k < n.input_size(); ++k)
    if (!in(k).empty()) return Fail(n, StatusCode::kUnsupported, "past state inputs are not supported");
  for (int k = 1; k < n.output_size(); ++k)
    if (!n.output(k).empty()) return Fail(n, StatusCode::kUnsupported, "present state and qk outputs are not supported");
  int64_t heads, unidirectional;
  float scale, filter;
  EDGEQ_RETURN_IF_ERROR(attr_int(n, "num_heads", 0, &heads));
  EDGEQ_RETURN_IF_ERROR(attr_int(n, "unidirectional", 0, &unidirectional));
  EDGEQ_RETURN_IF_ERROR(attr_float(n, "scale", 0.f, &scale));
  EDGEQ_RETURN_IF_ERROR(attr_float(n, "mask_filter_value", -10000.f, &filter));
  Value *q, *k, *v;
  EDGEQ_RETURN_IF_ERROR(Input(n, 0, &q));
  EDGEQ_RETURN_IF_ERROR(Input(n, 1, &k));
  EDGEQ_RETURN_IF_ERROR(Input(n, 2, &v));
  if (q->shape.size() != 3) return Fail(n, StatusCode::kUnsupported, "the query must be [batch, sequence, hidden]");
  const int64_t batch = q->shape[0], seq = q->shape[1], hidden = q->shape[2];
  if (heads <= 0 || hidden % heads != 0)
    return Fail(n, StatusCode::kInvalidModel, "num_heads must divide the query's hidden size " + std::to_string(hidden));
  const int64_t head = hidden / heads;
  const size_t kv_rank = k->shape.size();
  const bool split = kv_rank == 4;  // [B, N, L, h]
  if ((kv_rank != 3 && kv_rank != 4) || v->shape.size() != kv_rank)
    return Fail(n, StatusCode::kUnsupported, "key and value must both be [batch, length, hidden] or both "
                                             "[batch, heads, length, head size] (packed forms are not supported)");
  const int64_t keys = k->shape[split ? 2 : 1], v_width = split ? v->shape[3] * heads : v->shape[2];
  const bool shapes_ok = k->shape[0] == batch && v->shape[0] == batch && v->shape[split ? 2 : 1] == keys &&
                         (split ? k->shape[1] == heads && k->shape[3] == head && v->shape == k->shape
                                : k->shape[2] == hidden && v_width % heads == 0);
  if (!shapes_ok)
    return Fail(n, StatusCode::kInvalidModel, "the query, key and value shapes do not agree with num_heads " +
                                                  std::to_string(heads));
  const std::string bias = in(3);
  if (!bias.empty()) {
    Value* b;
    EDGEQ_RETURN_IF_ERROR(Input(n, 3, &b));
    if (split) return Fail(n, StatusCode::kUnsupported, "a bias with key and value split into heads is not supported");
    if (b->shape != Shape{2 * hidden + v_width})
      return Fail(n, StatusCode::kInvalidModel, "the bias must have 2 * hidden + value hidden elements");
  }
  const std::string base = n.output(0) + ".mha_";
  const auto ints = [&](const std::string& what, Ints values) {
    return DefineConst(base + what, TensorProto::INT64, {static_cast<int64_t>(values.size())}, {}, std::move(values));
  };
  const auto emit = [&](const std::string& op, const std::vector<std::string>& inputs, const std::string& what,
                        std::vector<onnx::AttributeProto> attrs = {}) {
    return LowerSynthetic(n, op, inputs, base + what, attrs);
  };
  // Input `input` (+ bias[offset, offset + width)) to heads [B, N, T, h], or [B, N, h, T]
  // for the key (K^T).
  const auto heads_of = [&](int input, const char* what, int64_t offset, int64_t width, bool key) -> Status {
    const std::string w = what;
    std::string x = in(input);
    if (split && input != 0) {  // the key and value are [B, N, L, h] already
      if (key) return emit("Transpose", {x}, w + "_heads", {ints_attr("perm", {0, 1, 3, 2})});
      return emit("Identity", {x}, w + "_heads");
    }
    if (!bias.empty()) {
      EDGEQ_RETURN_IF_ERROR(
          emit("Slice", {bias, ints(w + "_start", {offset}), ints(w + "_end", {offset + width}), ints(w + "_axes", {0})},
               w + "_bias"));
      EDGEQ_RETURN_IF_ERROR(emit("Add", {x, base + w + "_bias"}, w + "_biased"));
      x = base + w + "_biased";
    }
    EDGEQ_RETURN_IF_ERROR(emit("Reshape", {x, ints(w + "_shape", {0, 0, heads, width / heads})}, w + "_split"));
    return emit("Transpose", {base + w + "_split"}, w + "_heads",
                {ints_attr("perm", key ? Ints{0, 2, 3, 1} : Ints{0, 2, 1, 3})});
  };
  EDGEQ_RETURN_IF_ERROR(heads_of(0, "q", 0, hidden, false));
  EDGEQ_RETURN_IF_ERROR(heads_of(1, "k", hidden, hidden, true));
  EDGEQ_RETURN_IF_ERROR(heads_of(2, "v", 2 * hidden, v_width, false));
  EDGEQ_RETURN_IF_ERROR(emit("MatMul", {base + "q_heads", base + "k_heads"}, "scores_raw"));
  if (scale == 0.f) scale = 1.f / std::sqrt(static_cast<float>(head));
  EDGEQ_RETURN_IF_ERROR(
      emit("Mul", {base + "scores_raw", DefineConst(base + "scale", TensorProto::FLOAT, {}, {scale}, {})}, "scores"));
  std::string logits = base + "scores";
  if (!in(5).empty()) {
    EDGEQ_RETURN_IF_ERROR(emit("Add", {logits, in(5)}, "biased_scores"));
    logits = base + "biased_scores";
  }
  std::string mask;  // the additive mask, [B, 1, 1 or S, L] or [1, 1, S, L], if any
  if (!in(4).empty()) {
    Value* m;
    EDGEQ_RETURN_IF_ERROR(Input(n, 4, &m));
    const Shape& ms = m->shape;
    // Key lengths [B]; Attention's end and start positions [2B] (left padding: key j kept
    // where start <= j < end); or a raw mask.
    const bool lengths = ms == Shape{batch}, ends = ms == Shape{2 * batch},
               raw = ms == Shape{batch, keys} || ms == Shape{batch, seq, keys};
    if (!lengths && !ends && !raw)
      return Fail(n, StatusCode::kUnsupported, "key_padding_mask must be key lengths [batch], end and start "
                                               "positions [2 * batch], [batch, keys] or [batch, sequence, keys]");
    if (lengths || ends) {
      std::vector<float> iota(static_cast<size_t>(keys));
      for (int64_t j = 0; j < keys; ++j) iota[static_cast<size_t>(j)] = static_cast<float>(j);
      const std::string pos = DefineConst(base + "key_pos", TensorProto::FLOAT, {1, keys}, iota, {});
      EDGEQ_RETURN_IF_ERROR(emit("Cast", {in(4)}, "lengths_f", {int_attr("to", TensorProto::FLOAT)}));
      // [B] or [2B] -> [B, 1] or [2, B, 1]: row 0 the ends (lengths), row 1 the starts
      EDGEQ_RETURN_IF_ERROR(emit("Reshape", {base + "lengths_f", ints("lengths_shape", ends ? Ints{2, -1, 1} : Ints{-1, 1})},
                                 "lengths_col"));
      if (lengths) {
        EDGEQ_RETURN_IF_ERROR(emit("Less", {pos, base + "lengths_col"}, "kept"));
      } else {
        const std::string axis0 = ints("pair_axis", {0});
        EDGEQ_RETURN_IF_ERROR(emit("Slice", {base + "lengths_col", ints("end_from", {0}), ints("end_to", {1}), axis0},
                                   "ends3"));
        EDGEQ_RETURN_IF_ERROR(emit("Slice", {base + "lengths_col", ints("start_from", {1}), ints("start_to", {2}), axis0},
                                   "starts3"));
        EDGEQ_RETURN_IF_ERROR(emit("Reshape", {base + "ends3", ints("ends_shape", {-1, 1})}, "ends"));
        EDGEQ_RETURN_IF_ERROR(emit("Reshape", {base + "starts3", ints("starts_shape", {-1, 1})}, "starts"));
        EDGEQ_RETURN_IF_ERROR(emit("Less", {pos, base + "ends"}, "before_end"));
        EDGEQ_RETURN_IF_ERROR(emit("GreaterOrEqual", {pos, base + "starts"}, "from_start"));
        EDGEQ_RETURN_IF_ERROR(emit("And", {base + "before_end", base + "from_start"}, "kept"));
      }
    } else {  // kept where above 0
      const bool real = m->type == TensorProto::FLOAT;
      const std::string zero = DefineConst(base + "zero", m->type, {}, real ? std::vector<float>{0.f} : std::vector<float>{},
                                           real ? Ints{} : Ints{0});
      EDGEQ_RETURN_IF_ERROR(emit("Greater", {in(4), zero}, "kept"));
    }
    // mask_filter_value where a key is not kept, 0 where it is (a Where: a filter of -inf
    // stays -inf, where (1 - kept) * filter would make 0 * -inf = NaN).
    EDGEQ_RETURN_IF_ERROR(emit("Where",
                               {base + "kept", DefineConst(base + "zero_f", TensorProto::FLOAT, {}, {0.f}, {}),
                                DefineConst(base + "filter", TensorProto::FLOAT, {}, {filter}, {})},
                               "mask"));
    // [B, L] -> [B, 1, 1, L]; [B, S, L] -> [B, 1, S, L]
    EDGEQ_RETURN_IF_ERROR(emit("Reshape", {base + "mask", ints("mask_shape", {batch, 1, ms.size() == 3 ? seq : 1, keys})},
                               "mask4"));
    mask = base + "mask4";
  }
  if (unidirectional != 0) {
    // ONNX Runtime's causal mask (without past state): query i < S - 1 does not see keys
    // j > i, which take the lowest float in place of the key mask's value.
    if (seq * keys > (int64_t{1} << 26))
      return Fail(n, StatusCode::kUnsupported, "a causal mask over more than 2^26 query-key pairs is not supported");
    const float lowest = std::numeric_limits<float>::lowest();
    Ints hidden_keys(static_cast<size_t>(seq * keys), 0);
    std::vector<float> causal(static_cast<size_t>(seq * keys), 0.f);
    for (int64_t i = 0; i + 1 < seq; ++i)
      for (int64_t j = i + 1; j < keys; ++j) {
        hidden_keys[static_cast<size_t>(i * keys + j)] = 1;
        causal[static_cast<size_t>(i * keys + j)] = lowest;
      }
    const Shape causal_shape{1, 1, seq, keys};
    if (mask.empty()) {
      mask = DefineConst(base + "causal", TensorProto::FLOAT, causal_shape, causal, {});
    } else {
      EDGEQ_RETURN_IF_ERROR(emit("Where",
                                 {DefineConst(base + "hidden_keys", TensorProto::BOOL, causal_shape, {}, hidden_keys),
                                  DefineConst(base + "lowest", TensorProto::FLOAT, {}, {lowest}, {}), mask},
                                 "causal_mask"));
      mask = base + "causal_mask";
    }
  }
  if (!mask.empty()) {
    EDGEQ_RETURN_IF_ERROR(emit("Add", {logits, mask}, "masked_scores"));
    logits = base + "masked_scores";
  }
  EDGEQ_RETURN_IF_ERROR(emit("Softmax", {logits}, "probs", {int_attr("axis", -1)}));
  EDGEQ_RETURN_IF_ERROR(emit("MatMul", {base + "probs", base + "v_heads"}, "context"));
  EDGEQ_RETURN_IF_ERROR(emit("Transpose", {base + "context"}, "merged", {ints_attr("perm", {0, 2, 1, 3})}));
  return LowerSynthetic(n, "Reshape", {base + "merged", ints("out_shape", {0, 0, v_width})}, n.output(0));
}

// ScatterElements (torch.scatter, scatter_add, scatter_reduce) and ScatterND (slice
// assignment, index_put_): the IR ops on ONNX-order operands, constants materialized; the
// indices are checked when the node runs. Data and updates meet in one dtype (and, when
// quantized, one quantization: a different one is refused by the shape rule).
Status Importer::LowerScatter(const onnx::NodeProto& n) {
  const bool nd = n.op_type() == "ScatterND";
  Value *x, *idx, *upd;
  EDGEQ_RETURN_IF_ERROR(Input(n, 0, &x));
  EDGEQ_RETURN_IF_ERROR(Input(n, 1, &idx));
  EDGEQ_RETURN_IF_ERROR(Input(n, 2, &upd));
  if (idx->type != TensorProto::INT64 && idx->type != TensorProto::INT32)
    return Fail(n, StatusCode::kUnsupported, "indices must be int64 or int32");
  if (upd->type != x->type) return Fail(n, StatusCode::kInvalidModel, "the updates' element type is not the data's");
  std::string reduction = "none";
  EDGEQ_RETURN_IF_ERROR(attr_string(n, "reduction", "none", &reduction));
  static const char* const kReductions[] = {"none", "add", "mul", "max", "min"};
  int32_t red = -1;
  for (int32_t k = 0; k < 5; ++k)
    if (reduction == kReductions[k]) red = k;
  if (red < 0) return Fail(n, StatusCode::kUnsupported, "reduction '" + reduction + "' is not none, add, mul, max or min");
  const size_t r = x->shape.size();
  if (r == 0 || r > 6) return Fail(n, StatusCode::kUnsupported, "the data must have rank 1 to 6");
  int64_t axis = 0;
  if (!nd) {
    EDGEQ_RETURN_IF_ERROR(attr_int(n, "axis", 0, &axis));
    if (idx->shape.size() != r) return Fail(n, StatusCode::kInvalidModel, "the indices must have the data's rank");
    Status s = normalize_axis(axis, r, &axis);
    if (!s.ok()) return Fail(n, s.code(), s.message());
  }
  const std::string base = n.output(0);
  int32_t ir[3];
  Value* const vals[3] = {x, idx, upd};
  const char* const suffix[3] = {".data", ".indices", ".updates"};
  for (int k = 0; k < 3; ++k) {
    Value* v = vals[k];
    if (v->kind == ValueKind::kTensor) {
      EDGEQ_RETURN_IF_ERROR(AsLayout(n, v, false, &ir[k]));
    } else {
      EDGEQ_RETURN_IF_ERROR(MaterializeConst(n, *v, UniqueTensorName(base + suffix[k]), &ir[k]));
      if (v->shape.size() == 4) plain_.insert(ir[k]);
    }
  }
  int32_t out;
  Status s = NewTensorLike(ir[0], base, true, x->shape, &out);
  if (!s.ok()) return Fail(n, s.code(), s.message());
  if (r == 4) plain_.insert(out);
  Attrs a;
  a.axis = static_cast<int32_t>(axis);
  a.reduction = red;
  Emit(n, "", nd ? OpType::kScatterND : OpType::kScatterElements, {ir[0], ir[1], ir[2]}, {out}, a);
  DefineTensor(base, x->type, x->shape, out);
  return Status::Ok();
}

// Tile (x.repeat(...)): per axis with a repeat count above 1, a Concat of that many copies
// along it, as Expand's.
Status Importer::LowerTile(const onnx::NodeProto& n) {
  Value* x;
  EDGEQ_RETURN_IF_ERROR(Input(n, 0, &x));
  Ints repeats;
  bool have;
  EDGEQ_RETURN_IF_ERROR(ConstInts(n, 1, &repeats, &have));
  const size_t r = x->shape.size();
  if (!have || repeats.size() != r) return Fail(n, StatusCode::kInvalidModel, "repeats must be a constant, one per axis");
  int32_t cur;
  EDGEQ_RETURN_IF_ERROR(AsLayout(n, x, false, &cur));
  Shape out_shape = x->shape;
  for (size_t d = 0; d < r; ++d) {
    if (repeats[d] < 1 || repeats[d] > 4096)
      return Fail(n, StatusCode::kUnsupported, "repeats must be 1 to 4096 (an empty result is not supported)");
    out_shape[d] *= repeats[d];
  }
  return ConcatCopies(n, x->type, cur, x->shape, out_shape);
}

// ------------------------------------------------------------------ Cast

Status Importer::LowerCast(const onnx::NodeProto& n) {
  Value* x;
  EDGEQ_RETURN_IF_ERROR(Input(n, 0, &x));
  int64_t to;
  EDGEQ_RETURN_IF_ERROR(attr_int(n, "to", 0, &to));
  if (to == x->type) return LowerPassThrough(n);
  auto numeric = [](int64_t t) {
    return t == TensorProto::FLOAT || t == TensorProto::INT64 || t == TensorProto::INT32 || t == TensorProto::BOOL;
  };
  // An 8-bit tensor's stored integers as indices (edgeq's exporter writes a Lookup as Cast
  // then Gather of its table).
  const bool stored = x->kind == ValueKind::kTensor && (x->type == TensorProto::UINT8 || x->type == TensorProto::INT8) &&
                      (to == TensorProto::INT32 || to == TensorProto::INT64);
  if (!stored && (x->kind != ValueKind::kTensor || !numeric(x->type) || !numeric(to)))
    return Fail(n, StatusCode::kUnsupported,
                std::string("casting a runtime tensor from ") + onnx_type_name(x->type) + " to " +
                    onnx_type_name(static_cast<int32_t>(to)) +
                    " is not supported (float, int32, int64 and bool only)");
  const DType to_dt = to == TensorProto::FLOAT  ? DType::kF32
                      : to == TensorProto::BOOL ? DType::kBool
                                                : index_dtype(static_cast<int32_t>(to));
  int32_t out;
  EDGEQ_RETURN_IF_ERROR(OutputTensor(n, 0, to_dt, x->shape, &out, Nhwc(*x)));
  Emit(n, "", OpType::kCast, {x->ir}, {out});
  return Status::Ok();
}

// ------------------------------------------------------------------ MatMul, LayerNorm

Status Importer::MatMulCore(const onnx::NodeProto& n, Value* a, Value* b, int32_t dynamic,
                            const std::string& out_name, int32_t* out_ir, Shape* out_shape) {
  if (a->shape.size() < 2 || b->shape.size() < 2)
    return Fail(n, StatusCode::kUnsupported,
                "a product of runtime tensors needs operands of rank 2 or more (shapes " +
                    shape_str(a->shape) + " and " + shape_str(b->shape) + ")");
  const int64_t M = a->shape[a->shape.size() - 2], K = a->shape.back();
  const int64_t Kb = b->shape[b->shape.size() - 2], N = b->shape.back();
  Shape batch_a(a->shape.begin(), a->shape.end() - 2), batch_b(b->shape.begin(), b->shape.end() - 2);
  Shape batch;
  if (K != Kb || !broadcast_shapes(batch_a, batch_b, &batch))
    return Fail(n, StatusCode::kInvalidModel,
                "shapes " + shape_str(a->shape) + " and " + shape_str(b->shape) + " do not multiply");
  int32_t a_ir, b_ir;
  EDGEQ_RETURN_IF_ERROR(AsLayout(n, a, false, &a_ir));
  EDGEQ_RETURN_IF_ERROR(AsLayout(n, b, false, &b_ir));
  *out_shape = batch;
  out_shape->push_back(M);
  out_shape->push_back(N);
  Status s = NewTensor(out_name, true, DType::kF32, *out_shape, out_ir);
  if (!s.ok()) return Fail(n, s.code(), s.message());
  if (out_shape->size() == 4) plain_.insert(*out_ir);
  Attrs attrs;
  attrs.dynamic = dynamic;
  Emit(n, "", OpType::kMatMul, {a_ir, b_ir}, {*out_ir}, attrs);
  return Status::Ok();
}

Status Importer::LayerNormCore(const onnx::NodeProto& n, Value* x, Value* gamma, Value* beta,
                               float eps, const std::string& out_name) {
  if (x->type != TensorProto::FLOAT || x->kind != ValueKind::kTensor)
    return Fail(n, StatusCode::kUnsupported, "the input must be a float runtime tensor");
  if (x->shape.empty()) return Fail(n, StatusCode::kInvalidModel, "the input has rank 0");
  if (!(eps >= 0.f) || !std::isfinite(eps))
    return Fail(n, StatusCode::kInvalidModel, "epsilon must be finite and >= 0");
  const int64_t C = x->shape.back();
  std::vector<int32_t> ins(3, -1);
  for (int k = 0; k < 2; ++k) {
    const Value* p = k == 0 ? gamma : beta;
    std::vector<float> vals;
    if (!p) {
      if (k == 1) continue;
      vals.assign(C, 1.f);
    } else if (!real_values(*p, &vals)) {
      return Fail(n, StatusCode::kUnsupported,
                  std::string(k == 0 ? "the scale" : "the bias") + " must be a float constant");
    }
    if (vals.size() == 1) vals.assign(C, vals[0]);
    if (static_cast<int64_t>(vals.size()) != C)
      return Fail(n, StatusCode::kUnsupported,
                  std::string(k == 0 ? "the scale" : "the bias") + " must have " +
                      std::to_string(C) + " values (one per element of the last axis)");
    Value c;
    c.kind = ValueKind::kConst;
    c.c.dims = c.shape = {C};
    c.c.f = std::move(vals);
    const std::string name = p && !p->name.empty() ? p->name : out_name + (k ? ".beta" : ".gamma");
    EDGEQ_RETURN_IF_ERROR(MaterializeConst(n, c, name, &ins[k + 1]));
  }
  EDGEQ_RETURN_IF_ERROR(AsLayout(n, x, false, &ins[0]));
  int32_t out;
  Status s = NewTensor(out_name, true, DType::kF32, x->shape, &out);
  if (!s.ok()) return Fail(n, s.code(), s.message());
  if (x->shape.size() == 4) plain_.insert(out);
  if (ins[2] < 0) ins.pop_back();
  Attrs a;
  a.epsilon = eps;
  Emit(n, "", OpType::kLayerNorm, ins, {out}, a);
  DefineTensor(out_name, TensorProto::FLOAT, x->shape, out);
  return Status::Ok();
}

Status Importer::LowerLayerNorm(const onnx::NodeProto& n) {
  Value *x, *gamma, *beta;
  EDGEQ_RETURN_IF_ERROR(RequireTensor(n, 0, &x));
  EDGEQ_RETURN_IF_ERROR(Input(n, 1, &gamma));
  EDGEQ_RETURN_IF_ERROR(OptInput(n, 2, &beta));
  for (int k = 1; k < n.output_size(); ++k)
    if (!n.output(k).empty() && live_.count(n.output(k)))
      return Fail(n, StatusCode::kUnsupported, "the Mean and InvStdDev outputs are not supported");
  int64_t axis;
  float eps;
  EDGEQ_RETURN_IF_ERROR(attr_int(n, "axis", -1, &axis));
  EDGEQ_RETURN_IF_ERROR(attr_float(n, "epsilon", 1e-5f, &eps));
  Status s = normalize_axis(axis, x->shape.size(), &axis);
  if (!s.ok()) return Fail(n, s.code(), s.message());
  if (gamma->kind == ValueKind::kTensor || (beta && beta->kind == ValueKind::kTensor))
    return Fail(n, StatusCode::kUnsupported, "scale and bias must be constants");
  const size_t r = x->shape.size();
  if (axis == static_cast<int64_t>(r) - 1) return LayerNormCore(n, x, gamma, beta, eps, n.output(0));
  // Over several trailing axes (nn.LayerNorm([H, W])): the same normalization of the
  // axes flattened into one, between two views.
  Shape flat(x->shape.begin(), x->shape.begin() + axis);
  int64_t inner = 1;
  for (size_t d = static_cast<size_t>(axis); d < r; ++d) inner *= x->shape[d];
  flat.push_back(inner);
  Value fv;
  fv.kind = ValueKind::kTensor;
  fv.type = TensorProto::FLOAT;
  fv.shape = flat;
  EDGEQ_RETURN_IF_ERROR(ReshapeValue(n, *x, flat, n.output(0) + ".flat", &fv.ir));
  EDGEQ_RETURN_IF_ERROR(LayerNormCore(n, &fv, gamma, beta, eps, n.output(0) + ".normalized"));
  return ReshapeToOutput(n, values_.at(n.output(0) + ".normalized").ir, TensorProto::FLOAT, flat, x->shape);
}

// ------------------------------------------------------------------ dynamic quantization

Status Importer::LowerDynamicQuantize(const onnx::NodeProto& n) {
  Value* x;
  EDGEQ_RETURN_IF_ERROR(RequireTensor(n, 0, &x));
  if (x->kind != ValueKind::kTensor)
    return Fail(n, StatusCode::kUnsupported, "the input must be a runtime tensor");
  if (n.output_size() != 3)
    return Fail(n, StatusCode::kInvalidModel, "DynamicQuantizeLinear has three outputs");
  // Every use must be one the integer ops' lowering understands: x_q and x_zp into
  // MatMulInteger/ConvInteger, x_scale into the Mul that forms the scale product.
  for (int k = 0; k < 3; ++k) {
    auto it = users_.find(n.output(k));
    if (it == users_.end()) continue;
    for (const onnx::NodeProto* u : it->second) {
      const bool ok = k == 1 ? u->op_type() == "Mul"
                             : u->op_type() == "MatMulInteger" || u->op_type() == "ConvInteger";
      if (!ok)
        return Fail(n, StatusCode::kUnsupported,
                    "output '" + n.output(k) + "' feeds " + node_label(*u) +
                        "; dynamically quantized tensors are supported only as inputs of "
                        "MatMulInteger/ConvInteger (and their scale into a Mul)");
    }
    dynamic_q_[n.output(k)] = n.input(0);
    skip_nodes_.insert(n.output(k));
  }
  // The scale products Mul(x_scale, w_scale) are read by the integer op's lowering (a Mul
  // of the Cast result by x_scale itself is the final Mul of the pattern).
  auto it = users_.find(n.output(1));
  if (it != users_.end())
    for (const onnx::NodeProto* u : it->second) {
      bool of_cast = false;
      for (const auto& in : u->input()) {
        auto p = producer_.find(in);
        of_cast |= p != producer_.end() && p->second->op_type() == "Cast";
      }
      if (!of_cast) skip_nodes_.insert(u->output(0));
    }
  return Status::Ok();
}

Status Importer::LowerDynamicInteger(const onnx::NodeProto& n) {
  const bool conv = n.op_type() == "ConvInteger";
  const std::string pattern =
      "with a DynamicQuantizeLinear input, the int32 result must feed only Cast(to=float) -> "
      "Mul(scale product Mul(x_scale, w_scale))";
  auto sole_user = [&](const std::string& v) -> const onnx::NodeProto* {
    auto it = users_.find(v);
    if (it == users_.end() || it->second.size() != 1 || consumers_[v] != 1) return nullptr;
    return it->second[0];
  };
  const onnx::NodeProto* cast = sole_user(n.output(0));
  int64_t to = 0;
  if (cast && cast->op_type() == "Cast") EDGEQ_RETURN_IF_ERROR(attr_int(*cast, "to", 0, &to));
  const onnx::NodeProto* mul =
      cast && cast->op_type() == "Cast" && to == TensorProto::FLOAT ? sole_user(cast->output(0))
                                                                     : nullptr;
  if (!mul || mul->op_type() != "Mul" || mul->input_size() != 2)
    return Fail(n, StatusCode::kUnsupported, pattern);
  const std::string& prod_name = mul->input(0) == cast->output(0) ? mul->input(1) : mul->input(0);
  auto pit = producer_.find(prod_name);
  const onnx::NodeProto* prod = pit == producer_.end() ? nullptr : pit->second;
  const std::string& x_src = dynamic_q_[n.input(0)];
  // Which factor of the scale product is the input's scale, and what the other one is
  // ("" when the Cast result is multiplied by x_scale alone: a weight scale of 1).
  std::string other;
  bool found = false;
  auto d0 = dynamic_q_.find(prod_name);
  if (d0 != dynamic_q_.end() && d0->second == x_src) {
    found = true;
  } else if (prod && prod->op_type() == "Mul" && prod->input_size() == 2) {
    for (int k = 0; k < 2 && !found; ++k) {
      auto d = dynamic_q_.find(prod->input(k));
      if (d != dynamic_q_.end() && d->second == x_src) {
        other = prod->input(1 - k);
        found = true;
      }
    }
  }
  if (!found)
    return Fail(n, StatusCode::kUnsupported, pattern + " (no factor is the input's scale)");
  if (n.input_size() < 3 || dynamic_q_.count(n.input(2)) == 0 || dynamic_q_[n.input(2)] != x_src)
    return Fail(n, StatusCode::kUnsupported,
                "x_zero_point must be the zero point output of the input's DynamicQuantizeLinear");
  Value* x = &values_[x_src];
  x->name = x_src;
  const std::string& out_name = mul->output(0);
  int32_t out;
  Shape shape;

  if (dynamic_q_.count(n.input(1))) {  // activation x activation
    const std::string& b_src = dynamic_q_[n.input(1)];
    if (conv) return Fail(n, StatusCode::kUnsupported, "the weight must be a constant");
    if (n.input_size() < 4 || dynamic_q_.count(n.input(3)) == 0 || dynamic_q_[n.input(3)] != b_src)
      return Fail(n, StatusCode::kUnsupported,
                  "b_zero_point must be the zero point output of B's DynamicQuantizeLinear");
    auto d = dynamic_q_.find(other);
    if (d == dynamic_q_.end() || d->second != b_src)
      return Fail(n, StatusCode::kUnsupported, pattern + " (the other factor is not B's scale)");
    Value* b = &values_[b_src];
    b->name = b_src;
    EDGEQ_RETURN_IF_ERROR(MatMulCore(n, x, b, 1, out_name, &out, &shape));
  } else {
    Value* w;
    EDGEQ_RETURN_IF_ERROR(Input(n, 1, &w));
    if (w->kind != ValueKind::kConst ||
        (w->c.type != TensorProto::INT8 && w->c.type != TensorProto::UINT8))
      return Fail(n, StatusCode::kUnsupported, "the weight must be an int8/uint8 constant");
    auto sit = values_.find(other);
    std::vector<float> w_scale;
    if (other.empty())
      w_scale = {1.f};
    else if (sit == values_.end() || sit->second.kind != ValueKind::kConst ||
             !sit->second.c.to_floats(&w_scale) || w_scale.empty())
      return Fail(n, StatusCode::kUnsupported,
                  pattern + " ('" + other + "' is not a constant weight scale)");
    Ints w_zp;
    bool have_wzp;
    EDGEQ_RETURN_IF_ERROR(ConstInts(n, 3, &w_zp, &have_wzp));
    if (!have_wzp) w_zp = {0};
    const int64_t cout = conv ? (w->shape.size() == 4 ? w->shape[0] : 0)
                              : (w->shape.size() == 2 ? w->shape[1] : 0);
    if (cout == 0) return Fail(n, StatusCode::kInvalidModel, "weight has the wrong rank");
    if ((w_scale.size() != 1 && static_cast<int64_t>(w_scale.size()) != cout) ||
        (w_zp.size() != 1 && static_cast<int64_t>(w_zp.size()) != cout))
      return Fail(n, StatusCode::kUnsupported,
                  "weight scale and zero point must be scalars or one per output channel");
    for (float s : w_scale)
      if (!(s > 0.f) || !std::isfinite(s))
        return Fail(n, StatusCode::kInvalidModel, "weight scale must be positive and finite");
    Value wv;
    wv.kind = ValueKind::kDqConst;
    wv.c = w->c;
    wv.shape = w->shape;
    wv.name = w->name;
    wv.q.type = w->c.type;
    wv.q.scale = w_scale;
    wv.q.zero_point = w_zp;
    if (w_scale.size() != w_zp.size()) {
      const size_t cnt = std::max(w_scale.size(), w_zp.size());
      wv.q.scale.resize(cnt, w_scale[0]);
      wv.q.zero_point.resize(cnt, w_zp[0]);
    }
    wv.q.axis = conv ? 0 : 1;
    // The IR's dynamic FullyConnected and Conv2D take s8 weights: int8 weights as they
    // are, uint8 ones shifted by 128 exactly, and their zero points (asymmetric weights,
    // as weight_type=QUInt8 writes them), one for the tensor or one per output channel,
    // shifted alike: the ops take them exactly as ONNX Runtime's integer sums do.
    if (conv) {
      Value qw = wv;
      const int64_t shift = w->c.type == TensorProto::INT8 ? 0 : 128;
      for (int64_t& v : qw.c.i) v -= shift;
      for (int64_t& z : qw.q.zero_point) z -= shift;
      qw.c.type = qw.q.type = TensorProto::INT8;
      EDGEQ_RETURN_IF_ERROR(ConvCore(n, *x, qw, nullptr, out_name, &out, &shape, /*dynamic=*/true));
    } else {
      // [K, N] -> [N, K] s8, per output channel along axis 0.
      const int64_t K = w->shape[0], N = cout;
      std::vector<uint8_t> bytes(K * N);
      const int64_t shift = w->c.type == TensorProto::INT8 ? 0 : 128;
      for (int64_t k = 0; k < K; ++k)
        for (int64_t j = 0; j < N; ++j)
          bytes[j * K + k] = static_cast<uint8_t>(static_cast<int8_t>(w->c.i[k * N + j] - shift));
      int32_t w_ir;
      Status s = NewTensor(w->name.empty() ? out_name + ".weight" : w->name, true, DType::kS8,
                           {N, K}, &w_ir);
      if (!s.ok()) return Fail(n, s.code(), s.message());
      Tensor& wt = g_->tensors[w_ir];
      wt.set_data(std::move(bytes));
      wt.quant.scale = wv.q.scale;
      wt.quant.zero_point.clear();
      for (int64_t z : wv.q.zero_point) wt.quant.zero_point.push_back(static_cast<int32_t>(z - shift));
      wt.quant.axis = 0;
      if (x->shape.size() < 2)
        return Fail(n, StatusCode::kUnsupported, "the data input must have rank >= 2");
      if (x->shape.back() != K)
        return Fail(n, StatusCode::kInvalidModel,
                    "weight " + shape_str(w->shape) + " does not match input " + shape_str(x->shape));
      int32_t x_ir;
      EDGEQ_RETURN_IF_ERROR(AsLayout(n, x, false, &x_ir));
      shape = x->shape;
      shape.back() = N;
      s = NewTensor(out_name, true, DType::kF32, shape, &out);
      if (!s.ok()) return Fail(n, s.code(), s.message());
      if (shape.size() == 4) plain_.insert(out);
      Attrs a;
      a.dynamic = 1;
      Emit(n, "", OpType::kFullyConnected, {x_ir, w_ir, -1}, {out}, a);
    }
  }
  DefineTensor(out_name, TensorProto::FLOAT, shape, out);
  skip_nodes_.insert(n.output(0));
  skip_nodes_.insert(cast->output(0));
  skip_nodes_.insert(mul->output(0));
  return Status::Ok();
}

}  // namespace onnx_import
}  // namespace edgeq
