// Lowering of ONNX nodes to IR nodes (float form).
//
// Every runtime tensor of rank 4 is NHWC in the IR; other ranks keep ONNX order. Each
// lowering reads its inputs as Values (constants, dequantized constants or IR tensors),
// computes the output shape, permutes constant operands (conv weights to
// [Cout,KH,KW,Cin/g], broadcast constants to NHWC), remaps axes, and emits IR nodes.
// Where an op needs NCHW element order (Reshape/Flatten of a rank-4 tensor, MatMul over
// a rank-4 tensor) a kTranspose is inserted, or nothing when the orders coincide.
// QuantizeLinear / DequantizeLinear become kQuantize / kDequantize here; QLinearConv
// and QLinearMatMul expand to DQ -> float op -> Q. ir_passes.cc fuses them afterwards.
// Data-movement ops are in lower_movement.cc.
#include <algorithm>
#include <map>
#include <cmath>
#include <cstring>
#include <limits>

#include "graph/onnx/internal.h"

namespace edgeq {
namespace onnx_import {

using onnx::TensorProto;
using Ints = std::vector<int64_t>;

namespace {

constexpr int64_t kMaxAttr = 1 << 16;  // bound on strides, pads, kernel sizes, dilations

DType ir_dtype_of(int32_t onnx_type) {
  switch (onnx_type) {
    case TensorProto::INT8: return DType::kS8;
    case TensorProto::UINT8: return DType::kU8;
    case TensorProto::INT32: return DType::kS32;
    default: return DType::kF32;
  }
}

std::vector<uint8_t> float_bytes(const std::vector<float>& f) {
  std::vector<uint8_t> b(f.size() * 4);
  if (!f.empty()) std::memcpy(b.data(), f.data(), b.size());
  return b;
}

QuantParams to_ir_quant(const QuantInfo& q) {
  QuantParams p;
  p.scale = q.scale;
  for (int64_t z : q.zero_point) p.zero_point.push_back(static_cast<int32_t>(z));
  p.axis = q.per_tensor() ? 0 : static_cast<int32_t>(q.axis);
  return p;
}

}  // namespace

Status permute_value(Value* v, const Ints& perm) {
  ConstTensor t;
  EDGEQ_RETURN_IF_ERROR(const_transpose(v->c, perm, &t));
  v->c = std::move(t);
  v->shape = v->c.dims;
  if (v->kind == ValueKind::kDqConst && !v->q.per_tensor()) {
    for (size_t k = 0; k < perm.size(); ++k)
      if (perm[k] == v->q.axis) {
        v->q.axis = static_cast<int64_t>(k);
        break;
      }
  }
  return Status::Ok();
}

namespace {

// Multiplies a constant Value by `s` (float data, or the scales of a dequantized one).
void scale_value(Value* v, float s) {
  if (v->kind == ValueKind::kDqConst) {
    for (float& x : v->q.scale) x *= s;
  } else {
    for (float& x : v->c.f) x *= s;
  }
}

Status pool_dims(int64_t in, int64_t k, int64_t s, int64_t d, int64_t* pb, int64_t* pe,
                 const std::string& auto_pad, bool ceil_mode, int64_t* out) {
  const int64_t eff = d * (k - 1) + 1;
  if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    const int64_t o = (in + s - 1) / s;
    const int64_t total = std::max<int64_t>(0, (o - 1) * s + eff - in);
    *pb = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
    *pe = total - *pb;
  } else if (auto_pad == "VALID") {
    *pb = *pe = 0;
  } else if (auto_pad != "NOTSET" && !auto_pad.empty()) {
    return InvalidModel("unknown auto_pad '" + auto_pad + "'");
  }
  const int64_t span = in + *pb + *pe - eff;
  if (span < 0) return InvalidModel("kernel larger than the padded input");
  *out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
  // A ceil_mode window that would start in the end padding is left out (ONNX, PyTorch).
  if (ceil_mode && (*out - 1) * s >= in + *pb) --*out;
  return Status::Ok();
}

}  // namespace

// ------------------------------------------------------------------ inputs

Status Importer::Input(const onnx::NodeProto& n, int k, Value** v) {
  if (k >= n.input_size() || n.input(k).empty())
    return Fail(n, StatusCode::kInvalidModel, "missing input " + std::to_string(k));
  auto it = values_.find(n.input(k));
  if (it == values_.end())
    return Fail(n, StatusCode::kInvalidModel,
                "input '" + n.input(k) +
                    "' is not defined (no initializer, graph input or producing node)");
  it->second.name = it->first;
  *v = &it->second;
  return Status::Ok();
}

Status Importer::OptInput(const onnx::NodeProto& n, int k, Value** v) {
  *v = nullptr;
  if (k >= n.input_size() || n.input(k).empty()) return Status::Ok();
  return Input(n, k, v);
}

Status Importer::ConstInts(const onnx::NodeProto& n, int k, Ints* v, bool* present) {
  Value* x;
  EDGEQ_RETURN_IF_ERROR(OptInput(n, k, &x));
  if (present) *present = x != nullptr;
  v->clear();
  if (!x) return Status::Ok();
  if (x->kind != ValueKind::kConst)
    return Fail(n, StatusCode::kUnsupported, "input '" + x->name + "' must be a constant");
  if (!x->c.to_ints(v))
    return Fail(n, StatusCode::kInvalidModel, "input '" + x->name + "' is not integral");
  return Status::Ok();
}

Status Importer::ConstFloats(const onnx::NodeProto& n, int k, std::vector<float>* v,
                             bool* present) {
  Value* x;
  EDGEQ_RETURN_IF_ERROR(OptInput(n, k, &x));
  if (present) *present = x != nullptr;
  v->clear();
  if (!x) return Status::Ok();
  if (x->kind != ValueKind::kConst)
    return Fail(n, StatusCode::kUnsupported, "input '" + x->name + "' must be a constant");
  x->c.to_floats(v);
  return Status::Ok();
}

Status Importer::RequireTensor(const onnx::NodeProto& n, int k, Value** v) {
  EDGEQ_RETURN_IF_ERROR(Input(n, k, v));
  if ((*v)->type != TensorProto::FLOAT)
    return Fail(n, StatusCode::kUnsupported,
                std::string("input '") + (*v)->name + "' has type " + onnx_type_name((*v)->type) +
                    "; this op is supported on float only");
  return Status::Ok();
}

// ------------------------------------------------------------------ tensors

Status Importer::NewTensorLike(int32_t like, const std::string& name, bool exact_name,
                               const Shape& ir_shape, int32_t* ir) {
  EDGEQ_RETURN_IF_ERROR(NewTensor(name, exact_name, g_->tensors[like].dtype, ir_shape, ir));
  g_->tensors[*ir].quant = g_->tensors[like].quant;
  return Status::Ok();
}

Status Importer::MaterializeConst(const onnx::NodeProto& n, const Value& v, const std::string& name,
                                  int32_t* ir) {
  if (v.kind == ValueKind::kConst && !v.c.is_float()) {
    // Integer and bool constants (masks, ids) become tensors of their own type.
    const DType dt = v.c.type == TensorProto::BOOL    ? DType::kBool
                     : v.c.type == TensorProto::INT64 ? DType::kS64
                     : v.c.type == TensorProto::INT32 ? DType::kS32
                                                      : DType::kF32;
    if (dt == DType::kF32)
      return Fail(n, StatusCode::kUnsupported,
                  std::string(onnx_type_name(v.c.type)) + " constant '" + name + "' cannot be used as a tensor operand");
    Status s = NewTensor(name, true, dt, v.c.dims, ir);
    if (!s.ok()) return Fail(n, s.code(), s.message());
    std::vector<uint8_t> bytes(v.c.i.size() * dtype_size(dt));
    for (size_t k = 0; k < v.c.i.size(); ++k) {
      if (dt == DType::kS64) std::memcpy(&bytes[k * 8], &v.c.i[k], 8);
      else if (dt == DType::kS32) {
        const int32_t x = static_cast<int32_t>(v.c.i[k]);
        std::memcpy(&bytes[k * 4], &x, 4);
      } else bytes[k] = v.c.i[k] != 0;
    }
    g_->tensors[*ir].set_data(std::move(bytes));
    return Status::Ok();
  }
  if (v.kind == ValueKind::kConst) {
    Status s = NewTensor(name, true, DType::kF32, v.c.dims, ir);
    if (!s.ok()) return Fail(n, s.code(), s.message());
    g_->tensors[*ir].set_data(float_bytes(v.c.f));
    return Status::Ok();
  }
  if (v.kind != ValueKind::kDqConst) return Fail(n, StatusCode::kInternal, "not a constant");
  const DType dt = ir_dtype_of(v.c.type);
  if (dt == DType::kF32)
    return Fail(n, StatusCode::kUnsupported,
                std::string("dequantizing ") + onnx_type_name(v.c.type) + " is not supported");
  int32_t q_ir;
  Status s = NewTensor(name + ".quantized", false, dt, v.c.dims, &q_ir);
  if (!s.ok()) return Fail(n, s.code(), s.message());
  std::vector<uint8_t> bytes(v.c.i.size() * dtype_size(dt));
  for (size_t k = 0; k < v.c.i.size(); ++k) {
    if (dt == DType::kS32) {
      int32_t x = static_cast<int32_t>(v.c.i[k]);
      std::memcpy(&bytes[k * 4], &x, 4);
    } else {
      bytes[k] = static_cast<uint8_t>(v.c.i[k]);
    }
  }
  Tensor& t = g_->tensors[q_ir];
  t.set_data(std::move(bytes));
  t.quant = to_ir_quant(v.q);
  s = NewTensor(name, true, DType::kF32, v.c.dims, ir);
  if (!s.ok()) return Fail(n, s.code(), s.message());
  Emit(n, "dequantize_" + name, OpType::kDequantize, {q_ir}, {*ir});
  return Status::Ok();
}

Status Importer::AsTensor(const onnx::NodeProto& n, Value* v, int32_t* ir) {
  if (v->kind == ValueKind::kTensor || v->ir >= 0) {
    *ir = v->ir;
    return Status::Ok();
  }
  Value t = *v;
  if (t.shape.size() == 4)
    EDGEQ_RETURN_IF_ERROR(permute_value(&t, Ints(kNhwcFromNchw, kNhwcFromNchw + 4)));
  EDGEQ_RETURN_IF_ERROR(MaterializeConst(n, t, v->name, ir));
  v->ir = *ir;
  return Status::Ok();
}

Status Importer::BroadcastOperand(const onnx::NodeProto& n, Value* v, size_t rank, int32_t* ir,
                                  bool nhwc) {
  const size_t r = v->shape.size();
  if (r == rank) return AsLayout(n, v, nhwc, ir);
  if (r > rank) return Fail(n, StatusCode::kInternal, "operand rank above the result's");
  Shape s(rank - r, 1);
  s.insert(s.end(), v->shape.begin(), v->shape.end());
  const bool to_nhwc = rank == 4 && nhwc;
  if (v->kind != ValueKind::kTensor) {
    Value t = *v;
    t.c.dims = s;
    t.shape = s;
    if (t.kind == ValueKind::kDqConst && !t.q.per_tensor())
      t.q.axis += static_cast<int64_t>(rank - r);
    if (to_nhwc) EDGEQ_RETURN_IF_ERROR(permute_value(&t, Ints(kNhwcFromNchw, kNhwcFromNchw + 4)));
    EDGEQ_RETURN_IF_ERROR(MaterializeConst(n, t, v->name, ir));
    if (rank == 4 && !nhwc) plain_.insert(*ir);
    return Status::Ok();
  }
  if (to_nhwc) return FromOnnxOrder(n, v->ir, s, v->name + ".rank4", ir);
  Status st = NewTensorLike(v->ir, v->name + ".rank" + std::to_string(rank), false, s, ir);
  if (!st.ok()) return Fail(n, st.code(), st.message());
  if (rank == 4) plain_.insert(*ir);
  Emit(n, "expand_rank", OpType::kReshape, {v->ir}, {*ir});
  return Status::Ok();
}

bool Importer::Nhwc(const Value& v) const {
  return v.shape.size() == 4 && (v.kind != ValueKind::kTensor || !plain_.count(v.ir));
}

bool Importer::ResultNhwc(const std::vector<const Value*>& operands) const {
  for (const Value* v : operands)
    if (v && v->kind == ValueKind::kTensor && Nhwc(*v)) return true;
  return false;
}

Status Importer::AsLayout(const onnx::NodeProto& n, Value* v, bool nhwc, int32_t* ir) {
  if (v->shape.size() != 4 || (nhwc && v->kind != ValueKind::kTensor))
    return AsTensor(n, v, ir);
  if (v->kind != ValueKind::kTensor) {  // a constant in ONNX order
    if (v->ir_plain < 0) {
      EDGEQ_RETURN_IF_ERROR(MaterializeConst(n, *v, v->name + ".onnx_order", &v->ir_plain));
      plain_.insert(v->ir_plain);
    }
    *ir = v->ir_plain;
    return Status::Ok();
  }
  if (Nhwc(*v) == nhwc) {
    *ir = v->ir;
    return Status::Ok();
  }
  if (nhwc) return FromOnnxOrder(n, v->ir, v->shape, g_->tensors[v->ir].name + ".nhwc", ir);
  return ToOnnxOrder(n, v->ir, v->shape, false, ir);
}

Status Importer::ToOnnxOrder(const onnx::NodeProto& n, int32_t ir, const Shape& onnx_shape,
                             bool for_reshape, int32_t* out) {
  if (onnx_shape.size() != 4 || plain_.count(ir)) {
    *out = ir;
    return Status::Ok();
  }
  const Ints perm = {0, 3, 1, 2};
  const bool view = perm_is_view(to_ir_shape(onnx_shape), perm);
  if (view && for_reshape) {
    *out = ir;
    return Status::Ok();
  }
  Status s = NewTensorLike(ir, g_->tensors[ir].name + ".nchw", false, onnx_shape, out);
  if (!s.ok()) return Fail(n, s.code(), s.message());
  plain_.insert(*out);
  if (view) {
    Emit(n, "to_nchw", OpType::kReshape, {ir}, {*out});
  } else {
    Attrs a;
    a.perm = {0, 3, 1, 2};
    Emit(n, "to_nchw", OpType::kTranspose, {ir}, {*out}, a);
  }
  return Status::Ok();
}

Status Importer::FromOnnxOrder(const onnx::NodeProto& n, int32_t ir_nchw, const Shape& onnx_shape,
                               const std::string& out_name, int32_t* out) {
  const Shape nhwc = to_ir_shape(onnx_shape);
  const Ints perm = {0, 2, 3, 1};
  auto shape_of = [&](int32_t t) {
    return Shape(g_->tensors[t].shape.begin(), g_->tensors[t].shape.end());
  };
  if (perm_is_view(onnx_shape, perm)) {
    // The same tensor serves when its shape is already the NHWC one, unless it stands for
    // an ONNX-order value (the IR tensor carries one layout).
    if (shape_of(ir_nchw) == nhwc && !plain_.count(ir_nchw)) {
      *out = ir_nchw;
      return Status::Ok();
    }
    Status s = NewTensorLike(ir_nchw, out_name, true, nhwc, out);
    if (!s.ok()) return Fail(n, s.code(), s.message());
    Emit(n, "to_nhwc", OpType::kReshape, {ir_nchw}, {*out});
    return Status::Ok();
  }
  int32_t src = ir_nchw;
  if (shape_of(src) != onnx_shape) {
    Status s = NewTensorLike(ir_nchw, out_name + ".nchw", false, onnx_shape, &src);
    if (!s.ok()) return Fail(n, s.code(), s.message());
    Emit(n, "reshape", OpType::kReshape, {ir_nchw}, {src});
  }
  Status s = NewTensorLike(ir_nchw, out_name, true, nhwc, out);
  if (!s.ok()) return Fail(n, s.code(), s.message());
  Attrs a;
  a.perm = {0, 2, 3, 1};
  Emit(n, "to_nhwc", OpType::kTranspose, {src}, {*out}, a);
  return Status::Ok();
}

Status Importer::ReshapeToOutput(const onnx::NodeProto& n, int32_t ir, int32_t type, const Shape& shape,
                                 const Shape& out_shape) {
  Value v;
  v.kind = ValueKind::kTensor;
  v.type = type;
  v.shape = shape;
  v.ir = ir;
  int32_t out;
  EDGEQ_RETURN_IF_ERROR(ReshapeValue(n, v, out_shape, n.output(0), &out));
  DefineTensor(n.output(0), type, out_shape, out);
  return Status::Ok();
}

Status Importer::ReshapeValue(const onnx::NodeProto& n, const Value& x, const Shape& out_shape,
                              const std::string& out_name, int32_t* out) {
  Value xv = x;
  int32_t src;
  const bool image = x.kind == ValueKind::kTensor && Nhwc(x);
  EDGEQ_RETURN_IF_ERROR(AsLayout(n, &xv, false, &src));
  EDGEQ_RETURN_IF_ERROR(ToOnnxOrder(n, src, x.shape, true, &src));
  // An image reshaped to rank 4 stays an image; any other rank-4 result keeps ONNX order.
  if (out_shape.size() == 4 && image) return FromOnnxOrder(n, src, out_shape, out_name, out);
  const auto& cur = g_->tensors[src].shape;
  if (Shape(cur.begin(), cur.end()) == out_shape) {
    *out = src;
    if (out_shape.size() == 4) plain_.insert(src);
    return Status::Ok();
  }
  Status s = NewTensorLike(src, out_name, true, out_shape, out);
  if (!s.ok()) return Fail(n, s.code(), s.message());
  if (out_shape.size() == 4) plain_.insert(*out);
  Emit(n, "", OpType::kReshape, {src}, {*out});
  return Status::Ok();
}

// ------------------------------------------------------------------ quantization

Status Importer::ReadQuant(const onnx::NodeProto& n, int scale_idx, int zp_idx,
                           const Shape& x_shape, int64_t axis, QuantInfo* q) {
  bool have_zp = false;
  EDGEQ_RETURN_IF_ERROR(ConstFloats(n, scale_idx, &q->scale, nullptr));
  EDGEQ_RETURN_IF_ERROR(ConstInts(n, zp_idx, &q->zero_point, &have_zp));
  if (q->scale.empty()) return Fail(n, StatusCode::kInvalidModel, "scale is missing or empty");
  for (float s : q->scale)
    if (!(s > 0.f) || !std::isfinite(s))
      return Fail(n, StatusCode::kInvalidModel, "scale must be positive and finite");
  if (have_zp) {
    Value* z;
    EDGEQ_RETURN_IF_ERROR(Input(n, zp_idx, &z));
    q->type = z->c.type;
    if (q->zero_point.size() != q->scale.size())
      return Fail(n, StatusCode::kInvalidModel, "zero point and scale counts differ");
  } else {
    q->zero_point.assign(q->scale.size(), 0);
  }
  const int64_t lo = q->type == TensorProto::INT8    ? -128
                     : q->type == TensorProto::UINT8 ? 0
                                                     : std::numeric_limits<int32_t>::min();
  const int64_t hi = q->type == TensorProto::INT8    ? 127
                     : q->type == TensorProto::UINT8 ? 255
                                                     : std::numeric_limits<int32_t>::max();
  for (int64_t z : q->zero_point)
    if (z < lo || z > hi) return Fail(n, StatusCode::kInvalidModel, "zero point out of range");
  if (q->scale.size() > 1) {
    int64_t ax;
    Status s = normalize_axis(axis, x_shape.size(), &ax);
    if (!s.ok()) return Fail(n, s.code(), s.message());
    if (x_shape[ax] != static_cast<int64_t>(q->scale.size()))
      return Fail(n, StatusCode::kInvalidModel,
                  "per-axis scale count " + std::to_string(q->scale.size()) +
                      " does not match dimension " + std::to_string(x_shape[ax]));
    q->axis = ax;
  } else {
    q->axis = 0;
  }
  return Status::Ok();
}

Status Importer::DequantizeTensor(const onnx::NodeProto& n, const Value& x, const QuantInfo& q,
                                  int32_t* out) {
  Tensor& t = g_->tensors[x.ir];
  if (!is_quantized_type(t.dtype))
    return Fail(n, StatusCode::kUnsupported,
                std::string("dequantizing a ") + dtype_name(t.dtype) + " tensor is not supported");
  if (!q.per_tensor())
    return Fail(n, StatusCode::kUnsupported,
                "per-axis dequantization of a runtime tensor is not supported");
  QuantParams p = to_ir_quant(q);
  if (t.quant.empty()) {
    t.quant = p;
  } else if (!same_quant_params(t.quant, p)) {
    return Fail(n, StatusCode::kUnsupported,
                "tensor '" + t.name +
                    "' is dequantized with parameters other than those it was quantized with");
  }
  const bool nhwc = Nhwc(x);
  Status s = NewTensor(n.output(0), true, DType::kF32, IrShape(x.shape, nhwc), out);
  if (!s.ok()) return Fail(n, s.code(), s.message());
  if (!nhwc && x.shape.size() == 4) plain_.insert(*out);
  Emit(n, "", OpType::kDequantize, {x.ir}, {*out});
  return Status::Ok();
}

Status Importer::QuantizeTo(const onnx::NodeProto& n, int32_t x_ir, const Shape& shape,
                            const QuantInfo& q, const std::string& out_name, int32_t* out) {
  if (!q.per_tensor())
    return Fail(n, StatusCode::kUnsupported,
                "per-axis quantization of a runtime tensor is not supported");
  if (q.type != TensorProto::INT8 && q.type != TensorProto::UINT8)
    return Fail(n, StatusCode::kUnsupported,
                std::string("quantization to ") + onnx_type_name(q.type) + " is not supported");
  const bool plain = plain_.count(x_ir) > 0;
  Status s = NewTensor(out_name, true, ir_dtype_of(q.type), IrShape(shape, !plain), out);
  if (!s.ok()) return Fail(n, s.code(), s.message());
  if (plain) plain_.insert(*out);
  g_->tensors[*out].quant = to_ir_quant(q);
  Emit(n, "", OpType::kQuantize, {x_ir}, {*out});
  DefineTensor(out_name, q.type, shape, *out);
  return Status::Ok();
}

Status Importer::LowerQuantize(const onnx::NodeProto& n) {
  Value* x;
  EDGEQ_RETURN_IF_ERROR(RequireTensor(n, 0, &x));
  int64_t axis = 1;
  if (opset_ >= 13) EDGEQ_RETURN_IF_ERROR(attr_int(n, "axis", 1, &axis));
  QuantInfo q;
  EDGEQ_RETURN_IF_ERROR(ReadQuant(n, 1, 2, x->shape, axis, &q));
  int32_t x_ir, out;
  EDGEQ_RETURN_IF_ERROR(AsTensor(n, x, &x_ir));
  return QuantizeTo(n, x_ir, x->shape, q, n.output(0), &out);
}

Status Importer::LowerDequantize(const onnx::NodeProto& n) {
  Value* x;
  EDGEQ_RETURN_IF_ERROR(Input(n, 0, &x));
  int64_t axis = 1;
  if (opset_ >= 13) EDGEQ_RETURN_IF_ERROR(attr_int(n, "axis", 1, &axis));
  QuantInfo q;
  q.type = x->kind == ValueKind::kConst ? x->c.type : x->type;
  EDGEQ_RETURN_IF_ERROR(ReadQuant(n, 1, 2, x->shape, axis, &q));
  const int32_t xt = x->kind == ValueKind::kConst ? x->c.type : x->type;
  if (xt != q.type)
    return Fail(n, StatusCode::kInvalidModel, "zero point type differs from the input type");
  if (xt != TensorProto::INT8 && xt != TensorProto::UINT8 && xt != TensorProto::INT32)
    return Fail(n, StatusCode::kUnsupported,
                std::string("dequantizing ") + onnx_type_name(xt) + " is not supported");
  if (xt == TensorProto::INT32)
    for (int64_t z : q.zero_point)
      if (z != 0) return Fail(n, StatusCode::kInvalidModel, "int32 zero point must be 0");
  if (x->kind == ValueKind::kConst) {
    Value v;
    v.kind = ValueKind::kDqConst;
    v.type = TensorProto::FLOAT;
    v.c = x->c;
    v.shape = x->shape;
    v.q = q;
    values_[n.output(0)] = std::move(v);
    return Status::Ok();
  }
  if (x->kind != ValueKind::kTensor)
    return Fail(n, StatusCode::kInvalidModel, "input is already dequantized");
  int32_t out;
  EDGEQ_RETURN_IF_ERROR(DequantizeTensor(n, *x, q, &out));
  DefineTensor(n.output(0), TensorProto::FLOAT, x->shape, out);
  return Status::Ok();
}

// ------------------------------------------------------------------ conv / fc

Status Importer::ConvCore(const onnx::NodeProto& n, const Value& x_in, const Value& w_in,
                          const Value* b_in, const std::string& out_name, int32_t* out_ir,
                          Shape* out_shape, bool dynamic) {
  Value x = x_in;
  if (x.shape.size() != 4)
    return Fail(n, StatusCode::kUnsupported,
                "only 2-D convolution (rank-4 input) is supported, input has rank " +
                    std::to_string(x.shape.size()));
  if (w_in.kind == ValueKind::kTensor)
    return Fail(n, StatusCode::kUnsupported, "the weight must be a constant");
  if (w_in.shape.size() != 4) return Fail(n, StatusCode::kInvalidModel, "weight must have rank 4");
  int64_t group;
  std::string auto_pad;
  Ints kernel, strides, dilations, pads;
  bool have_kernel;
  EDGEQ_RETURN_IF_ERROR(attr_int(n, "group", 1, &group));
  EDGEQ_RETURN_IF_ERROR(attr_string(n, "auto_pad", "NOTSET", &auto_pad));
  EDGEQ_RETURN_IF_ERROR(attr_ints(n, "kernel_shape", &kernel, &have_kernel));
  EDGEQ_RETURN_IF_ERROR(attr_ints(n, "strides", &strides, nullptr));
  EDGEQ_RETURN_IF_ERROR(attr_ints(n, "dilations", &dilations, nullptr));
  EDGEQ_RETURN_IF_ERROR(attr_ints(n, "pads", &pads, nullptr));
  const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
  const int64_t M = w_in.shape[0], Cg = w_in.shape[1], KH = w_in.shape[2], KW = w_in.shape[3];
  if (group < 1 || group > C || C % group != 0 || M % group != 0 || Cg * group != C)
    return Fail(n, StatusCode::kInvalidModel,
                "group " + std::to_string(group) + " does not fit input channels " +
                    std::to_string(C) + " and weight " + shape_str(w_in.shape));
  if (have_kernel && kernel != Ints{KH, KW})
    return Fail(n, StatusCode::kInvalidModel, "kernel_shape does not match the weight");
  EDGEQ_RETURN_IF_ERROR(CheckWindowAttrs(n, &strides, &dilations, &pads));
  if (KH > kMaxAttr || KW > kMaxAttr) return Fail(n, StatusCode::kInvalidModel, "kernel too large");
  int64_t OH, OW;
  Status s = pool_dims(H, KH, strides[0], dilations[0], &pads[0], &pads[2], auto_pad, false, &OH);
  if (s.ok())
    s = pool_dims(W, KW, strides[1], dilations[1], &pads[1], &pads[3], auto_pad, false, &OW);
  if (!s.ok()) return Fail(n, s.code(), s.message());

  Value w = w_in;
  EDGEQ_RETURN_IF_ERROR(permute_value(&w, {0, 2, 3, 1}));
  int32_t x_ir, w_ir, b_ir = -1;
  EDGEQ_RETURN_IF_ERROR(AsLayout(n, &x, true, &x_ir));
  if (dynamic) {
    // A dynamically quantized conv reads its int8 weights (and their zero points) itself.
    std::vector<uint8_t> bytes(w.c.i.size());
    for (size_t k = 0; k < bytes.size(); ++k) bytes[k] = static_cast<uint8_t>(static_cast<int8_t>(w.c.i[k]));
    Status ws = NewTensor(w_in.name.empty() ? out_name + ".weight" : w_in.name, true, DType::kS8, w.c.dims, &w_ir);
    if (!ws.ok()) return Fail(n, ws.code(), ws.message());
    g_->tensors[w_ir].set_data(std::move(bytes));
    g_->tensors[w_ir].quant = to_ir_quant(w.q);
  } else {
    EDGEQ_RETURN_IF_ERROR(
        MaterializeConst(n, w, w_in.name.empty() ? out_name + ".weight" : w_in.name, &w_ir));
  }
  if (b_in) {
    if (b_in->kind == ValueKind::kTensor)
      return Fail(n, StatusCode::kUnsupported, "the bias must be a constant");
    if (b_in->c.numel() != M)
      return Fail(n, StatusCode::kInvalidModel, "bias must have " + std::to_string(M) + " values");
    Value b = *b_in;
    b.c.dims = {M};
    b.shape = {M};
    b.q.axis = 0;
    EDGEQ_RETURN_IF_ERROR(
        MaterializeConst(n, b, b_in->name.empty() ? out_name + ".bias" : b_in->name, &b_ir));
  }
  *out_shape = {N, M, OH, OW};
  s = NewTensor(out_name, true, DType::kF32, to_ir_shape(*out_shape), out_ir);
  if (!s.ok()) return Fail(n, s.code(), s.message());
  Attrs a;
  a.kernel_h = static_cast<int32_t>(KH);
  a.kernel_w = static_cast<int32_t>(KW);
  a.stride_h = static_cast<int32_t>(strides[0]);
  a.stride_w = static_cast<int32_t>(strides[1]);
  a.dilation_h = static_cast<int32_t>(dilations[0]);
  a.dilation_w = static_cast<int32_t>(dilations[1]);
  a.pad_top = static_cast<int32_t>(pads[0]);
  a.pad_left = static_cast<int32_t>(pads[1]);
  a.pad_bottom = static_cast<int32_t>(pads[2]);
  a.pad_right = static_cast<int32_t>(pads[3]);
  a.groups = static_cast<int32_t>(group);
  a.dynamic = dynamic ? 1 : 0;
  Emit(n, "", OpType::kConv2D, {x_ir, w_ir, b_ir}, {*out_ir}, a);
  return Status::Ok();
}

Status Importer::LowerConv(const onnx::NodeProto& n) {
  Value *x, *w, *b;
  EDGEQ_RETURN_IF_ERROR(RequireTensor(n, 0, &x));
  EDGEQ_RETURN_IF_ERROR(Input(n, 1, &w));
  EDGEQ_RETURN_IF_ERROR(OptInput(n, 2, &b));
  int32_t out;
  Shape shape;
  EDGEQ_RETURN_IF_ERROR(ConvCore(n, *x, *w, b, n.output(0), &out, &shape));
  DefineTensor(n.output(0), TensorProto::FLOAT, shape, out);
  return Status::Ok();
}

Status Importer::LowerQLinearConv(const onnx::NodeProto& n) {
  Value *x, *w, *b;
  EDGEQ_RETURN_IF_ERROR(Input(n, 0, &x));
  EDGEQ_RETURN_IF_ERROR(Input(n, 3, &w));
  EDGEQ_RETURN_IF_ERROR(OptInput(n, 8, &b));
  if (x->kind != ValueKind::kTensor)
    return Fail(n, StatusCode::kUnsupported, "constant input is not supported");
  if (w->kind != ValueKind::kConst || w->shape.size() != 4)
    return Fail(n, StatusCode::kUnsupported, "the weight must be a rank-4 constant");
  QuantInfo xq, wq, yq;
  xq.type = x->type;
  wq.type = w->c.type;
  EDGEQ_RETURN_IF_ERROR(ReadQuant(n, 1, 2, x->shape, 1, &xq));
  EDGEQ_RETURN_IF_ERROR(ReadQuant(n, 4, 5, w->shape, 0, &wq));
  if (xq.type != x->type || wq.type != w->c.type)
    return Fail(n, StatusCode::kInvalidModel, "zero point types differ from the data types");
  int32_t xf;
  Value xfv;
  {
    Status s = NewTensor(n.output(0) + ".input", false, DType::kF32, to_ir_shape(x->shape), &xf);
    if (!s.ok()) return Fail(n, s.code(), s.message());
    Tensor& t = g_->tensors[x->ir];
    QuantParams p = to_ir_quant(xq);
    if (!xq.per_tensor())
      return Fail(n, StatusCode::kUnsupported, "per-axis input quantization is not supported");
    if (t.quant.empty())
      t.quant = p;
    else if (!same_quant_params(t.quant, p))
      return Fail(n, StatusCode::kUnsupported, "input quantization differs from its producer's");
    Emit(n, "dequantize_input", OpType::kDequantize, {x->ir}, {xf});
    xfv.kind = ValueKind::kTensor;
    xfv.shape = x->shape;
    xfv.ir = xf;
  }
  Value wv;
  wv.kind = ValueKind::kDqConst;
  wv.c = w->c;
  wv.shape = w->shape;
  wv.q = wq;
  wv.name = w->name;
  Value bv;
  if (b) {
    if (b->kind != ValueKind::kConst || b->c.type != TensorProto::INT32)
      return Fail(n, StatusCode::kInvalidModel, "bias must be an int32 constant");
    bv.kind = ValueKind::kDqConst;
    bv.c = b->c;
    bv.shape = b->shape;
    bv.name = b->name;
    bv.q.type = TensorProto::INT32;
    for (float s : wq.scale) bv.q.scale.push_back(xq.scale[0] * s);
    bv.q.zero_point.assign(bv.q.scale.size(), 0);
    bv.q.axis = 0;
  }
  int32_t conv;
  Shape shape;
  EDGEQ_RETURN_IF_ERROR(
      ConvCore(n, xfv, wv, b ? &bv : nullptr, n.output(0) + ".float", &conv, &shape));
  EDGEQ_RETURN_IF_ERROR(ReadQuant(n, 6, 7, shape, 1, &yq));
  int32_t out;
  return QuantizeTo(n, conv, shape, yq, n.output(0), &out);
}

Status Importer::FcCore(const onnx::NodeProto& n, const Value& a_in, Value w, const Value* bias,
                        const std::string& out_name, int32_t* out_ir, Shape* out_shape) {
  Value a = a_in;
  if (a.shape.size() < 2)
    return Fail(n, StatusCode::kUnsupported, "the data input must have rank >= 2");
  const int64_t K = a.shape.back(), N = w.shape[0];
  if (w.shape.size() != 2 || w.shape[1] != K)
    return Fail(n, StatusCode::kInvalidModel,
                "weight " + shape_str(w.shape) + " does not match input " + shape_str(a.shape));
  int32_t a_ir, w_ir, b_ir = -1;
  const bool image = a.kind == ValueKind::kTensor && Nhwc(a);
  EDGEQ_RETURN_IF_ERROR(AsLayout(n, &a, false, &a_ir));
  EDGEQ_RETURN_IF_ERROR(
      MaterializeConst(n, w, w.name.empty() ? out_name + ".weight" : w.name, &w_ir));
  if (bias) {
    Value b = *bias;
    if (b.kind == ValueKind::kTensor)
      return Fail(n, StatusCode::kUnsupported, "the bias must be a constant");
    const int64_t cnt = b.c.numel();
    if (cnt == 1 && N > 1) {  // broadcast a scalar bias
      if (b.c.is_float())
        b.c.f.assign(N, b.c.f[0]);
      else
        b.c.i.assign(N, b.c.i[0]);
    } else if (cnt != N) {
      return Fail(
          n, StatusCode::kUnsupported,
          "bias " + shape_str(b.shape) + " is not a per-output vector of " + std::to_string(N));
    }
    if (b.kind == ValueKind::kDqConst && !b.q.per_tensor() &&
        static_cast<int64_t>(b.q.scale.size()) != N)
      return Fail(n, StatusCode::kUnsupported, "bias quantization axis is not the output axis");
    b.c.dims = {N};
    b.shape = {N};
    b.q.axis = 0;
    EDGEQ_RETURN_IF_ERROR(
        MaterializeConst(n, b, b.name.empty() ? out_name + ".bias" : b.name, &b_ir));
  }
  *out_shape = a.shape;
  out_shape->back() = N;
  if (out_shape->size() == 4 && image) {
    int32_t tmp;
    Status s = NewTensor(out_name + ".nchw", false, DType::kF32, *out_shape, &tmp);
    if (!s.ok()) return Fail(n, s.code(), s.message());
    Emit(n, "", OpType::kFullyConnected, {a_ir, w_ir, b_ir}, {tmp});
    return FromOnnxOrder(n, tmp, *out_shape, out_name, out_ir);
  }
  Status s = NewTensor(out_name, true, DType::kF32, *out_shape, out_ir);
  if (!s.ok()) return Fail(n, s.code(), s.message());
  if (out_shape->size() == 4) plain_.insert(*out_ir);
  Emit(n, "", OpType::kFullyConnected, {a_ir, w_ir, b_ir}, {*out_ir});
  return Status::Ok();
}

Status Importer::LowerGemm(const onnx::NodeProto& n) {
  Value *a, *b, *c;
  EDGEQ_RETURN_IF_ERROR(RequireTensor(n, 0, &a));
  EDGEQ_RETURN_IF_ERROR(Input(n, 1, &b));
  EDGEQ_RETURN_IF_ERROR(OptInput(n, 2, &c));
  int64_t trans_a, trans_b;
  float alpha, beta;
  EDGEQ_RETURN_IF_ERROR(attr_int(n, "transA", 0, &trans_a));
  EDGEQ_RETURN_IF_ERROR(attr_int(n, "transB", 0, &trans_b));
  EDGEQ_RETURN_IF_ERROR(attr_float(n, "alpha", 1.f, &alpha));
  EDGEQ_RETURN_IF_ERROR(attr_float(n, "beta", 1.f, &beta));
  if (a->shape.size() != 2) return Fail(n, StatusCode::kInvalidModel, "A must have rank 2");
  if (trans_a) {  // A^T as a Transpose, then this Gemm without transA
    const std::string at = n.output(0) + ".gemm_a_t";
    EDGEQ_RETURN_IF_ERROR(LowerSynthetic(n, "Transpose", {n.input(0)}, at, {ints_attr("perm", {1, 0})}));
    std::vector<std::string> inputs(n.input().begin(), n.input().end());
    inputs[0] = at;
    std::vector<onnx::AttributeProto> attrs;
    for (const auto& attr : n.attribute())
      if (attr.name() != "transA") attrs.push_back(attr);
    return LowerSynthetic(n, "Gemm", inputs, n.output(0), attrs);
  }
  if (b->kind == ValueKind::kTensor)
    return Fail(n, StatusCode::kUnsupported, "B must be a constant");
  if (b->shape.size() != 2) return Fail(n, StatusCode::kInvalidModel, "B must have rank 2");
  Value w = *b;
  if (!trans_b) EDGEQ_RETURN_IF_ERROR(permute_value(&w, {1, 0}));
  if (alpha != 1.f) scale_value(&w, alpha);
  Value cv;
  const Value* bias = nullptr;
  if (c && beta != 0.f) {
    if (c->kind == ValueKind::kTensor)
      return Fail(n, StatusCode::kUnsupported, "C must be a constant");
    cv = *c;
    if (cv.shape.size() == 2 && cv.shape[0] != 1 && a->shape[0] != 1)
      return Fail(n, StatusCode::kUnsupported, "C must be a per-output vector");
    if (!cv.c.is_float() && cv.kind == ValueKind::kConst)
      return Fail(n, StatusCode::kInvalidModel, "C must be float");
    if (beta != 1.f) scale_value(&cv, beta);
    bias = &cv;
  }
  int32_t out;
  Shape shape;
  EDGEQ_RETURN_IF_ERROR(FcCore(n, *a, w, bias, n.output(0), &out, &shape));
  DefineTensor(n.output(0), TensorProto::FLOAT, shape, out);
  return Status::Ok();
}

Status Importer::LowerMatMul(const onnx::NodeProto& n) {
  Value *a, *b;
  EDGEQ_RETURN_IF_ERROR(RequireTensor(n, 0, &a));
  EDGEQ_RETURN_IF_ERROR(Input(n, 1, &b));
  if (a->kind == ValueKind::kTensor && b->kind == ValueKind::kTensor) {
    if (b->type != TensorProto::FLOAT)
      return Fail(n, StatusCode::kUnsupported, "B must be float");
    int32_t out;
    Shape shape;
    EDGEQ_RETURN_IF_ERROR(MatMulCore(n, a, b, 0, n.output(0), &out, &shape));
    DefineTensor(n.output(0), TensorProto::FLOAT, shape, out);
    return Status::Ok();
  }
  if (a->kind != ValueKind::kTensor)
    return Fail(n, StatusCode::kUnsupported,
                "a constant times a runtime tensor is not supported (A must be the runtime one)");
  Value w = *b;
  // Constant B of rank > 2 with leading 1s: the same matrix for every batch.
  while (w.shape.size() > 2 && w.shape[0] == 1) {
    w.shape.erase(w.shape.begin());
    w.c.dims = w.shape;
    if (w.kind == ValueKind::kDqConst && !w.q.per_tensor()) --w.q.axis;
  }
  if (w.shape.size() != 2)
    return Fail(n, StatusCode::kUnsupported,
                "a constant B must be a matrix (shape " + shape_str(b->shape) + ")");
  if (a->shape.size() < w.shape.size())
    return Fail(n, StatusCode::kUnsupported, "A must have rank 2 or more");
  EDGEQ_RETURN_IF_ERROR(permute_value(&w, {1, 0}));
  int32_t out;
  Shape shape;
  EDGEQ_RETURN_IF_ERROR(FcCore(n, *a, w, nullptr, n.output(0), &out, &shape));
  DefineTensor(n.output(0), TensorProto::FLOAT, shape, out);
  return Status::Ok();
}

Status Importer::LowerQLinearMatMul(const onnx::NodeProto& n) {
  Value *a, *b;
  EDGEQ_RETURN_IF_ERROR(Input(n, 0, &a));
  EDGEQ_RETURN_IF_ERROR(Input(n, 3, &b));
  if (a->kind != ValueKind::kTensor || b->kind != ValueKind::kConst || b->shape.size() != 2)
    return Fail(n, StatusCode::kUnsupported,
                "only a runtime tensor times a constant rank-2 matrix is supported");
  QuantInfo aq, bq, yq;
  aq.type = a->type;
  bq.type = b->c.type;
  EDGEQ_RETURN_IF_ERROR(ReadQuant(n, 1, 2, a->shape, 1, &aq));
  EDGEQ_RETURN_IF_ERROR(ReadQuant(n, 4, 5, b->shape, 1, &bq));
  int32_t af;
  EDGEQ_RETURN_IF_ERROR(DequantizeTensor(n, *a, aq, &af));
  g_->tensors[af].name = UniqueTensorName(n.output(0) + ".input");
  Value afv;
  afv.kind = ValueKind::kTensor;
  afv.shape = a->shape;
  afv.ir = af;
  Value w;
  w.kind = ValueKind::kDqConst;
  w.c = b->c;
  w.shape = b->shape;
  w.q = bq;
  w.name = b->name;
  EDGEQ_RETURN_IF_ERROR(permute_value(&w, {1, 0}));
  int32_t fc;
  Shape shape;
  EDGEQ_RETURN_IF_ERROR(FcCore(n, afv, w, nullptr, n.output(0) + ".float", &fc, &shape));
  EDGEQ_RETURN_IF_ERROR(ReadQuant(n, 6, 7, shape, 1, &yq));
  int32_t out;
  return QuantizeTo(n, fc, shape, yq, n.output(0), &out);
}

// ConvInteger / MatMulInteger give an int32 accumulator, which the IR has no tensor
// type for. The pattern that makes it a float result again,
//   acc = XInteger(x_q, w, x_zp, w_zp) -> Cast(float) -> Mul(constant S),
// equals a float conv/matmul of dequantized x (its own scale s_x and zero point x_zp)
// and weights dequantized with scale S / s_x and zero point w_zp. It is lowered so, and
// fuse_qdq turns it into an int8 op when a QuantizeLinear follows. Other uses of the
// accumulator (and DynamicQuantizeLinear inputs) are not supported.
Status Importer::LowerIntegerOp(const onnx::NodeProto& n) {
  if (n.input_size() > 0 && dynamic_q_.count(n.input(0))) return LowerDynamicInteger(n);
  const bool conv = n.op_type() == "ConvInteger";
  auto sole_user = [&](const std::string& v) -> const onnx::NodeProto* {
    auto it = users_.find(v);
    if (it == users_.end() || it->second.size() != 1 || consumers_[v] != 1) return nullptr;
    return it->second[0];
  };
  const onnx::NodeProto* cast = sole_user(n.output(0));
  int64_t to = 0;
  if (cast && cast->op_type() == "Cast") EDGEQ_RETURN_IF_ERROR(attr_int(*cast, "to", 0, &to));
  const onnx::NodeProto* mul = cast && to == TensorProto::FLOAT && cast->output_size() == 1
                                   ? sole_user(cast->output(0))
                                   : nullptr;
  const std::string pattern =
      "the int32 result must feed only Cast(to=float) -> Mul(constant scale)";
  if (!mul || mul->op_type() != "Mul" || mul->input_size() != 2)
    return Fail(n, StatusCode::kUnsupported, pattern);
  const std::string& scale_name = mul->input(0) == cast->output(0) ? mul->input(1) : mul->input(0);
  auto sit = values_.find(scale_name);
  if (sit == values_.end() || sit->second.kind != ValueKind::kConst)
    return Fail(n, StatusCode::kUnsupported, pattern + " ('" + scale_name + "' is not constant)");
  std::vector<float> scale;
  sit->second.c.to_floats(&scale);

  Value *x, *w;
  EDGEQ_RETURN_IF_ERROR(Input(n, 0, &x));
  EDGEQ_RETURN_IF_ERROR(Input(n, 1, &w));
  if (x->kind != ValueKind::kTensor)
    return Fail(n, StatusCode::kUnsupported, "the data input must be a runtime tensor");
  if (w->kind != ValueKind::kConst ||
      (w->c.type != TensorProto::INT8 && w->c.type != TensorProto::UINT8))
    return Fail(n, StatusCode::kUnsupported, "the weight must be an int8/uint8 constant");
  Ints x_zp, w_zp;
  bool have_xzp, have_wzp;
  EDGEQ_RETURN_IF_ERROR(ConstInts(n, 2, &x_zp, &have_xzp));
  EDGEQ_RETURN_IF_ERROR(ConstInts(n, 3, &w_zp, &have_wzp));
  if (!have_xzp) x_zp = {0};
  if (!have_wzp) w_zp = {0};
  if (x_zp.size() != 1)
    return Fail(n, StatusCode::kUnsupported, "per-row input zero points are not supported");
  const int64_t cout = conv                   ? w->shape.empty() ? 0 : w->shape[0]
                                         : w->shape.size() == 2 ? w->shape[1]
                                              : 0;
  if (cout == 0) return Fail(n, StatusCode::kInvalidModel, "weight has the wrong rank");
  if (scale.size() != 1 && static_cast<int64_t>(scale.size()) != cout)
    return Fail(n, StatusCode::kUnsupported, "the scale must be a scalar or per output channel");
  if (w_zp.size() != 1 && static_cast<int64_t>(w_zp.size()) != cout)
    return Fail(n, StatusCode::kInvalidModel, "weight zero point count mismatch");
  const int64_t wlo = w->c.type == TensorProto::INT8 ? -128 : 0;
  const int64_t whi = w->c.type == TensorProto::INT8 ? 127 : 255;
  for (int64_t z : w_zp)
    if (z < wlo || z > whi) return Fail(n, StatusCode::kInvalidModel, "zero point out of range");

  // The input's quantization: from its QuantizeLinear, or (raw integer graph input)
  // scale 1 with the given zero point.
  Tensor& xt = g_->tensors[x->ir];
  if (!is_quantized_type(xt.dtype))
    return Fail(n, StatusCode::kUnsupported, "the data input must be int8/uint8");
  if (xt.quant.empty()) {
    xt.quant.scale = {1.f};
    xt.quant.zero_point = {static_cast<int32_t>(x_zp[0])};
  }
  if (xt.quant.scale.size() != 1 || xt.quant.zero_point[0] != x_zp[0])
    return Fail(n, StatusCode::kUnsupported,
                "x_zero_point differs from the zero point the input was quantized with");
  const float sx = xt.quant.scale[0];
  Value wv;
  wv.kind = ValueKind::kDqConst;
  wv.c = w->c;
  wv.shape = w->shape;
  wv.name = w->name;
  wv.q.type = w->c.type;
  const size_t cnt = std::max(scale.size(), w_zp.size());
  for (size_t c = 0; c < cnt; ++c) {
    const float s = (scale.size() == 1 ? scale[0] : scale[c]) / sx;
    if (!(s > 0.f) || !std::isfinite(s))
      return Fail(n, StatusCode::kUnsupported, "the scale must be positive and finite");
    wv.q.scale.push_back(s);
    wv.q.zero_point.push_back(w_zp.size() == 1 ? w_zp[0] : w_zp[c]);
  }
  wv.q.axis = conv ? 0 : 1;
  int32_t xf;
  const bool x_nhwc = Nhwc(*x);
  Status s = NewTensor(n.output(0) + ".input", false, DType::kF32, IrShape(x->shape, x_nhwc), &xf);
  if (!s.ok()) return Fail(n, s.code(), s.message());
  if (!x_nhwc && x->shape.size() == 4) plain_.insert(xf);
  Emit(n, "dequantize_input", OpType::kDequantize, {x->ir}, {xf});
  Value xfv;
  xfv.kind = ValueKind::kTensor;
  xfv.shape = x->shape;
  xfv.ir = xf;
  const std::string& out_name = mul->output(0);
  int32_t out;
  Shape shape;
  if (conv) {
    EDGEQ_RETURN_IF_ERROR(ConvCore(n, xfv, wv, nullptr, out_name, &out, &shape));
  } else {
    EDGEQ_RETURN_IF_ERROR(permute_value(&wv, {1, 0}));
    EDGEQ_RETURN_IF_ERROR(FcCore(n, xfv, wv, nullptr, out_name, &out, &shape));
  }
  DefineTensor(out_name, TensorProto::FLOAT, shape, out);
  skip_nodes_.insert(n.output(0));
  skip_nodes_.insert(cast->output(0));
  skip_nodes_.insert(mul->output(0));
  return Status::Ok();
}

// ------------------------------------------------------------------ elementwise

Status Importer::LowerBinary(const onnx::NodeProto& n) {
  Value *a, *b;
  EDGEQ_RETURN_IF_ERROR(Input(n, 0, &a));
  EDGEQ_RETURN_IF_ERROR(Input(n, 1, &b));
  if ((a->type == TensorProto::INT64 || a->type == TensorProto::INT32) && b->type == a->type)
    return LowerIntegerBinary(n, a, b);
  EDGEQ_RETURN_IF_ERROR(RequireTensor(n, 0, &a));
  EDGEQ_RETURN_IF_ERROR(RequireTensor(n, 1, &b));
  Shape out_shape;
  if (!broadcast_shapes(a->shape, b->shape, &out_shape))
    return Fail(
        n, StatusCode::kInvalidModel,
        "shapes " + shape_str(a->shape) + " and " + shape_str(b->shape) + " do not broadcast");
  const std::string& op = n.op_type();
  const OpType t = op == "Add"   ? OpType::kAdd
                   : op == "Sub" ? OpType::kSub
                   : op == "Mul" ? OpType::kMul
                                 : OpType::kDiv;
  int32_t a_ir, b_ir, out;
  const bool nhwc = ResultNhwc({a, b});
  EDGEQ_RETURN_IF_ERROR(BroadcastOperand(n, a, out_shape.size(), &a_ir, nhwc));
  EDGEQ_RETURN_IF_ERROR(BroadcastOperand(n, b, out_shape.size(), &b_ir, nhwc));
  EDGEQ_RETURN_IF_ERROR(OutputTensor(n, 0, DType::kF32, out_shape, &out, nhwc));
  Emit(n, "", t, {a_ir, b_ir}, {out});
  return Status::Ok();
}

Status Importer::LowerUnary(const onnx::NodeProto& n) {
  Value* x;
  EDGEQ_RETURN_IF_ERROR(RequireTensor(n, 0, &x));
  const std::string& op = n.op_type();
  Attrs a;
  OpType t;
  // The unary ops without attributes.
  static const std::map<std::string, OpType> kPlain = {
      {"Relu", OpType::kRelu}, {"Sigmoid", OpType::kSigmoid}, {"Tanh", OpType::kTanh},
      {"HardSwish", OpType::kHardSwish}, {"Erf", OpType::kErf}, {"Softplus", OpType::kSoftplus},
      {"Mish", OpType::kMish}, {"Sqrt", OpType::kSqrt}, {"Reciprocal", OpType::kReciprocal},
      {"Exp", OpType::kExp}, {"Log", OpType::kLog}, {"Neg", OpType::kNeg},
      {"Abs", OpType::kAbs}, {"Floor", OpType::kFloor}, {"Ceil", OpType::kCeil},
      {"Round", OpType::kRound}, {"Sin", OpType::kSin}, {"Cos", OpType::kCos},
      {"Softsign", OpType::kSoftsign}, {"Tan", OpType::kTan}, {"Asin", OpType::kAsin},
      {"Acos", OpType::kAcos}, {"Atan", OpType::kAtan}, {"Sinh", OpType::kSinh},
      {"Cosh", OpType::kCosh}, {"Asinh", OpType::kAsinh}, {"Acosh", OpType::kAcosh},
      {"Atanh", OpType::kAtanh}};
  if (const auto it = kPlain.find(op); it != kPlain.end()) {
    t = it->second;
  } else if (op == "ThresholdedRelu") {
    t = OpType::kThresholdedRelu;
    EDGEQ_RETURN_IF_ERROR(attr_float(n, "alpha", 1.f, &a.alpha));
  } else if (op == "Shrink") {
    t = OpType::kShrink;
    EDGEQ_RETURN_IF_ERROR(attr_float(n, "lambd", 0.5f, &a.alpha));
    EDGEQ_RETURN_IF_ERROR(attr_float(n, "bias", 0.f, &a.beta));
  } else if (op == "Elu") {
    t = OpType::kElu;
    EDGEQ_RETURN_IF_ERROR(attr_float(n, "alpha", 1.f, &a.alpha));
  } else if (op == "Selu" || op == "Celu") {
    return LowerScaledElu(n, x);
  } else if (op == "Gelu") {
    t = OpType::kGelu;
    std::string approximate;
    EDGEQ_RETURN_IF_ERROR(attr_string(n, "approximate", "none", &approximate));
    if (approximate != "none" && approximate != "tanh")
      return Fail(n, StatusCode::kInvalidModel, "approximate must be \"none\" or \"tanh\"");
    a.alpha = approximate == "tanh" ? 1.f : 0.f;
  } else if (op == "LeakyRelu") {
    t = OpType::kLeakyRelu;
    EDGEQ_RETURN_IF_ERROR(attr_float(n, "alpha", 0.01f, &a.alpha));
  } else if (op == "HardSigmoid") {
    t = OpType::kHardSigmoid;
    EDGEQ_RETURN_IF_ERROR(attr_float(n, "alpha", 0.2f, &a.alpha));
    EDGEQ_RETURN_IF_ERROR(attr_float(n, "beta", 0.5f, &a.beta));
  } else {  // Clip
    t = OpType::kClip;
    a.alpha = -std::numeric_limits<float>::infinity();
    a.beta = std::numeric_limits<float>::infinity();
    if (opset_ < 11) {
      EDGEQ_RETURN_IF_ERROR(attr_float(n, "min", a.alpha, &a.alpha));
      EDGEQ_RETURN_IF_ERROR(attr_float(n, "max", a.beta, &a.beta));
    } else {
      std::vector<float> lo, hi;
      bool have_lo, have_hi;
      EDGEQ_RETURN_IF_ERROR(ConstFloats(n, 1, &lo, &have_lo));
      EDGEQ_RETURN_IF_ERROR(ConstFloats(n, 2, &hi, &have_hi));
      if ((have_lo && lo.size() != 1) || (have_hi && hi.size() != 1))
        return Fail(n, StatusCode::kInvalidModel, "min and max must be scalars");
      if (have_lo) a.alpha = lo[0];
      if (have_hi) a.beta = hi[0];
    }
    if (std::isnan(a.alpha) || std::isnan(a.beta))
      return Fail(n, StatusCode::kInvalidModel, "min or max is NaN");
    // The IR wants finite bounds; the largest floats clamp the same as infinities.
    a.alpha = std::max(a.alpha, std::numeric_limits<float>::lowest());
    a.beta = std::min(a.beta, std::numeric_limits<float>::max());
    if (a.alpha > a.beta) return Fail(n, StatusCode::kUnsupported, "min is above max");
  }
  if (!std::isfinite(a.alpha) && t != OpType::kClip)
    return Fail(n, StatusCode::kInvalidModel, "alpha must be finite");
  int32_t x_ir, out;
  EDGEQ_RETURN_IF_ERROR(AsTensor(n, x, &x_ir));
  EDGEQ_RETURN_IF_ERROR(OutputTensor(n, 0, DType::kF32, x->shape, &out, Nhwc(*x)));
  Emit(n, "", t, {x_ir}, {out}, a);
  return Status::Ok();
}

// Selu(x) = gamma * Elu(x, alpha); Celu(x) = alpha * Elu(x / alpha, 1): an Elu between
// multiplications by scalars (within float rounding of ONNX's formulas).
Status Importer::LowerScaledElu(const onnx::NodeProto& n, Value* x) {
  const bool selu = n.op_type() == "Selu";
  float alpha, gamma = 1.f;
  EDGEQ_RETURN_IF_ERROR(attr_float(n, "alpha", selu ? 1.67326319217681884765625f : 1.f, &alpha));
  if (selu) EDGEQ_RETURN_IF_ERROR(attr_float(n, "gamma", 1.05070102214813232421875f, &gamma));
  if (!std::isfinite(alpha) || !std::isfinite(gamma) || (!selu && alpha == 0.f))
    return Fail(n, StatusCode::kInvalidModel, "alpha and gamma must be finite (Celu: alpha not 0)");
  const bool nhwc = Nhwc(*x);
  const Shape ir_shape = IrShape(x->shape, nhwc);
  const auto scale = [&](int32_t in, float k, const std::string& suffix, int32_t* out_ir, bool last) -> Status {
    Value c;
    c.kind = ValueKind::kConst;
    c.c.dims = c.shape = {1};
    c.c.f = {k};
    c.name = n.output(0) + "." + suffix;
    int32_t k_ir;
    EDGEQ_RETURN_IF_ERROR(BroadcastOperand(n, &c, x->shape.size(), &k_ir, nhwc));
    if (last) {
      EDGEQ_RETURN_IF_ERROR(OutputTensor(n, 0, DType::kF32, x->shape, out_ir, nhwc));
    } else {
      EDGEQ_RETURN_IF_ERROR(Piece(n, suffix + "d", in, ir_shape, out_ir));  // in's layout
    }
    Emit(n, suffix, OpType::kMul, {in, k_ir}, {*out_ir});
    return Status::Ok();
  };
  int32_t cur;
  EDGEQ_RETURN_IF_ERROR(AsTensor(n, x, &cur));
  if (!selu) EDGEQ_RETURN_IF_ERROR(scale(cur, 1.f / alpha, "inv_alpha", &cur, false));
  int32_t elu;
  EDGEQ_RETURN_IF_ERROR(Piece(n, "elu", cur, ir_shape, &elu));
  Attrs a;
  a.alpha = selu ? alpha : 1.f;
  Emit(n, "elu", OpType::kElu, {cur}, {elu}, a);
  int32_t out;
  return scale(elu, selu ? gamma : alpha, selu ? "gamma" : "alpha", &out, true);
}

Status Importer::LowerSoftmax(const onnx::NodeProto& n) {
  Value* x;
  EDGEQ_RETURN_IF_ERROR(RequireTensor(n, 0, &x));
  const size_t r = x->shape.size();
  int64_t axis;
  EDGEQ_RETURN_IF_ERROR(attr_int(n, "axis", opset_ >= 13 ? -1 : 1, &axis));
  Status s = normalize_axis(axis, r, &axis);
  if (!s.ok()) return Fail(n, s.code(), s.message());
  int64_t trailing = 1;
  for (size_t k = axis + 1; k < r; ++k) trailing *= x->shape[k];
  int32_t x_ir, out;
  EDGEQ_RETURN_IF_ERROR(AsTensor(n, x, &x_ir));
  if (opset_ >= 13 || trailing == 1) {
    const bool nhwc = Nhwc(*x);
    EDGEQ_RETURN_IF_ERROR(OutputTensor(n, 0, DType::kF32, x->shape, &out, nhwc));
    Attrs a;
    a.axis = static_cast<int32_t>(nhwc ? to_ir_axis(axis, r) : axis);
    Emit(n, "", OpType::kSoftmax, {x_ir}, {out}, a);
    return Status::Ok();
  }
  // Before opset 13 the input is coerced to 2-D [outer, inner] around `axis`.
  int64_t outer = 1;
  for (int64_t k = 0; k < axis; ++k) outer *= x->shape[k];
  const Shape flat = {outer, shape_numel(x->shape) / outer};
  int32_t flat_ir, sm_ir;
  EDGEQ_RETURN_IF_ERROR(ReshapeValue(n, *x, flat, n.output(0) + ".2d", &flat_ir));
  s = NewTensor(n.output(0) + ".softmax", false, DType::kF32, flat, &sm_ir);
  if (!s.ok()) return Fail(n, s.code(), s.message());
  Attrs a;
  a.axis = 1;
  Emit(n, "", OpType::kSoftmax, {flat_ir}, {sm_ir}, a);
  return ReshapeToOutput(n, sm_ir, TensorProto::FLOAT, flat, x->shape);
}

// ------------------------------------------------------------------ pooling

Status Importer::LowerPool(const onnx::NodeProto& n) {
  Value* x;
  EDGEQ_RETURN_IF_ERROR(RequireTensor(n, 0, &x));
  const bool is_max = n.op_type() == "MaxPool";
  if (x->shape.size() != 4)
    return Fail(n, StatusCode::kUnsupported, "only 2-D pooling (rank-4 input) is supported");
  if (is_max && n.output_size() > 1 && !n.output(1).empty() && live_.count(n.output(1)))
    return Fail(n, StatusCode::kUnsupported, "the Indices output is not supported");
  Ints kernel, strides, dilations, pads;
  std::string auto_pad;
  int64_t ceil_mode = 0, include_pad = 0;
  EDGEQ_RETURN_IF_ERROR(attr_ints(n, "kernel_shape", &kernel, nullptr));
  EDGEQ_RETURN_IF_ERROR(attr_ints(n, "strides", &strides, nullptr));
  EDGEQ_RETURN_IF_ERROR(attr_ints(n, "dilations", &dilations, nullptr));
  EDGEQ_RETURN_IF_ERROR(attr_ints(n, "pads", &pads, nullptr));
  EDGEQ_RETURN_IF_ERROR(attr_string(n, "auto_pad", "NOTSET", &auto_pad));
  EDGEQ_RETURN_IF_ERROR(attr_int(n, "ceil_mode", 0, &ceil_mode));
  EDGEQ_RETURN_IF_ERROR(attr_int(n, "count_include_pad", 0, &include_pad));
  if (kernel.size() != 2)
    return Fail(n, StatusCode::kInvalidModel, "kernel_shape must have 2 values");
  for (int64_t v : kernel)
    if (v < 1 || v > kMaxAttr) return Fail(n, StatusCode::kInvalidModel, "kernel out of range");
  EDGEQ_RETURN_IF_ERROR(CheckWindowAttrs(n, &strides, &dilations, &pads));
  if (!is_max && (dilations[0] != 1 || dilations[1] != 1))
    return Fail(n, StatusCode::kUnsupported, "dilated average pooling is not supported");
  const int64_t H = x->shape[2], W = x->shape[3];
  int64_t oh, ow, oh_floor, ow_floor;
  Ints pf = pads;
  Status s = pool_dims(H, kernel[0], strides[0], dilations[0], &pads[0], &pads[2], auto_pad,
                       ceil_mode != 0, &oh);
  if (s.ok())
    s = pool_dims(W, kernel[1], strides[1], dilations[1], &pads[1], &pads[3], auto_pad,
                  ceil_mode != 0, &ow);
  if (s.ok())
    s = pool_dims(H, kernel[0], strides[0], dilations[0], &pf[0], &pf[2], auto_pad, false,
                  &oh_floor);
  if (s.ok())
    s = pool_dims(W, kernel[1], strides[1], dilations[1], &pf[1], &pf[3], auto_pad, false,
                  &ow_floor);
  if (!s.ok()) return Fail(n, s.code(), s.message());
  // ceil_mode with count_include_pad and declared padding: the divisor counts the
  // declared padding but not the last windows' overhang past it (PyTorch, ONNX Runtime).
  // The padding becomes an explicit zero Pad (real 0: the zero point when quantized) and
  // the pool counts the taps inside the padded input only.
  bool explicit_pad = false;
  if (oh != oh_floor || ow != ow_floor) {
    // ceil_mode adds a last window that runs past the end padding. For max pooling
    // that is the same as more end padding (padding never wins): the window starts
    // inside the input or its begin padding (pool_dims leaves out one that would not). For average pooling it is too when
    // the divisor counts the in-image taps only: count_include_pad 0, or 1 without
    // declared pads (the window is then clipped to the input, as PyTorch and ONNX
    // Runtime divide; ResNet-D's AvgPool2d(2, 2, ceil_mode=True)).
    if (!is_max) {
      explicit_pad = include_pad && (pf[0] || pf[1] || pf[2] || pf[3]);
      include_pad = 0;
    }
    pads[2] += (oh - 1) * strides[0] + dilations[0] * (kernel[0] - 1) + 1 - (H + pads[0] + pads[2]);
    pads[3] += (ow - 1) * strides[1] + dilations[1] * (kernel[1] - 1) + 1 - (W + pads[1] + pads[3]);
  }
  int32_t x_ir, out;
  EDGEQ_RETURN_IF_ERROR(AsLayout(n, x, true, &x_ir));
  if (explicit_pad) {
    Attrs pa;
    pa.pads = {0, static_cast<int32_t>(pf[0]), static_cast<int32_t>(pf[1]), 0,
               0, static_cast<int32_t>(pf[2]), static_cast<int32_t>(pf[3]), 0};
    int32_t padded;
    const Shape padded_shape = {x->shape[0], H + pf[0] + pf[2], W + pf[1] + pf[3], x->shape[1]};
    s = NewTensorLike(x_ir, n.output(0) + ".padded", false, padded_shape, &padded);
    if (!s.ok()) return Fail(n, s.code(), s.message());
    Emit(n, "pad", OpType::kPad, {x_ir}, {padded}, pa);
    x_ir = padded;
    for (int k = 0; k < 4; ++k) pads[k] -= pf[k];  // what is left: the ceil overhang
  }
  EDGEQ_RETURN_IF_ERROR(OutputTensor(n, 0, DType::kF32, {x->shape[0], x->shape[1], oh, ow}, &out));
  Attrs a;
  a.kernel_h = static_cast<int32_t>(kernel[0]);
  a.kernel_w = static_cast<int32_t>(kernel[1]);
  a.stride_h = static_cast<int32_t>(strides[0]);
  a.stride_w = static_cast<int32_t>(strides[1]);
  a.dilation_h = static_cast<int32_t>(dilations[0]);
  a.dilation_w = static_cast<int32_t>(dilations[1]);
  a.pad_top = static_cast<int32_t>(pads[0]);
  a.pad_left = static_cast<int32_t>(pads[1]);
  a.pad_bottom = static_cast<int32_t>(pads[2]);
  a.pad_right = static_cast<int32_t>(pads[3]);
  a.count_include_pad = include_pad != 0;
  Emit(n, "", is_max ? OpType::kMaxPool2D : OpType::kAvgPool2D, {x_ir}, {out}, a);
  return Status::Ok();
}

Status Importer::LowerGlobalPool(const onnx::NodeProto& n) {
  Value* x;
  EDGEQ_RETURN_IF_ERROR(RequireTensor(n, 0, &x));
  if (x->shape.size() != 4) {  // [N, C, L...]: a reduction over the axes after C, dimensions kept
    if (x->shape.size() < 3) return Fail(n, StatusCode::kInvalidModel, "the input needs a rank of 3 or more");
    Ints spatial;
    for (size_t d = 2; d < x->shape.size(); ++d) spatial.push_back(static_cast<int64_t>(d));
    return LowerReduceAxes(n, spatial, true);
  }
  int32_t x_ir, out;
  EDGEQ_RETURN_IF_ERROR(AsLayout(n, x, true, &x_ir));
  EDGEQ_RETURN_IF_ERROR(OutputTensor(n, 0, DType::kF32, {x->shape[0], x->shape[1], 1, 1}, &out));
  if (n.op_type() == "GlobalAveragePool") {
    Emit(n, "", OpType::kGlobalAvgPool, {x_ir}, {out});
    return Status::Ok();
  }
  if (x->shape[2] > kMaxAttr || x->shape[3] > kMaxAttr)
    return Fail(n, StatusCode::kUnsupported, "input too large");
  Attrs a;
  a.kernel_h = static_cast<int32_t>(x->shape[2]);
  a.kernel_w = static_cast<int32_t>(x->shape[3]);
  Emit(n, "", OpType::kMaxPool2D, {x_ir}, {out}, a);
  return Status::Ok();
}

// ReduceMean / ReduceMax over the spatial axes of a rank-4 tensor: global pooling.
Status Importer::LowerReduce(const onnx::NodeProto& n) {
  Value* x;
  EDGEQ_RETURN_IF_ERROR(Input(n, 0, &x));
  const size_t r = x->shape.size();
  Ints axes;
  bool have = false;
  // Axes are an input from opset 13 for ReduceSum, from opset 18 for the others.
  if (opset_ >= 18 || (n.op_type() == "ReduceSum" && opset_ >= 13))
    EDGEQ_RETURN_IF_ERROR(ConstInts(n, 1, &axes, &have));
  else
    EDGEQ_RETURN_IF_ERROR(attr_ints(n, "axes", &axes, &have));
  int64_t keepdims, noop_empty = 0;
  EDGEQ_RETURN_IF_ERROR(attr_int(n, "keepdims", 1, &keepdims));
  EDGEQ_RETURN_IF_ERROR(attr_int(n, "noop_with_empty_axes", 0, &noop_empty));
  for (int64_t& a : axes) {
    Status s = normalize_axis(a, r, &a);
    if (!s.ok()) return Fail(n, s.code(), s.message());
  }
  std::sort(axes.begin(), axes.end());
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  if (noop_empty && axes.empty()) {
    // No reduction, but the per-element function still applies, as ONNX Runtime computes
    // it: |x| (L1), x * x (SumSquare), sqrt(x * x) (L2); the others give x.
    const std::string& op = n.op_type();
    if (op != "ReduceL1" && op != "ReduceL2" && op != "ReduceSumSquare") return LowerPassThrough(n);
    EDGEQ_RETURN_IF_ERROR(RequireTensor(n, 0, &x));
    int32_t x_ir, out, sq = -1;
    EDGEQ_RETURN_IF_ERROR(AsLayout(n, x, false, &x_ir));
    if (op == "ReduceL2") {
      Status s = NewTensorLike(x_ir, n.output(0) + ".square", false, x->shape, &sq);
      if (!s.ok()) return Fail(n, s.code(), s.message());
      if (r == 4) plain_.insert(sq);
    }
    EDGEQ_RETURN_IF_ERROR(OutputTensor(n, 0, DType::kF32, x->shape, &out, false));
    Attrs square;
    square.alpha = 2.f;  // Pow 2: x * x exactly
    if (op == "ReduceL1") {
      Emit(n, "", OpType::kAbs, {x_ir}, {out});
    } else if (op == "ReduceSumSquare") {
      Emit(n, "", OpType::kPow, {x_ir}, {out}, square);
    } else {
      Emit(n, "square", OpType::kPow, {x_ir}, {sq}, square);
      Emit(n, "", OpType::kSqrt, {sq}, {out});
    }
    return Status::Ok();
  }
  if (x->type == TensorProto::INT64 || x->type == TensorProto::INT32) {  // lengths of masks: sums, max, min
    if (n.op_type() != "ReduceSum" && n.op_type() != "ReduceMax" && n.op_type() != "ReduceMin")
      return Fail(n, StatusCode::kUnsupported, "integer input; only ReduceSum, ReduceMax and ReduceMin take one");
    return LowerReduceAxes(n, axes, keepdims != 0);
  }
  EDGEQ_RETURN_IF_ERROR(RequireTensor(n, 0, &x));
  const bool spatial = r == 4 && axes == Ints{2, 3} && Nhwc(*x);
  if (!spatial || (n.op_type() != "ReduceMean" && n.op_type() != "ReduceMax"))
    return LowerReduceAxes(n, axes, keepdims != 0);
  int32_t x_ir, pooled;
  EDGEQ_RETURN_IF_ERROR(AsLayout(n, x, true, &x_ir));
  const Shape kept = {x->shape[0], x->shape[1], 1, 1};
  const std::string pooled_name = keepdims ? n.output(0) : n.output(0) + ".pooled";
  Status s = NewTensor(pooled_name, keepdims != 0, DType::kF32, to_ir_shape(kept), &pooled);
  if (!s.ok()) return Fail(n, s.code(), s.message());
  if (n.op_type() == "ReduceMean") {
    Emit(n, "", OpType::kGlobalAvgPool, {x_ir}, {pooled});
  } else {
    if (x->shape[2] > kMaxAttr || x->shape[3] > kMaxAttr)
      return Fail(n, StatusCode::kUnsupported, "input too large");
    Attrs a;
    a.kernel_h = static_cast<int32_t>(x->shape[2]);
    a.kernel_w = static_cast<int32_t>(x->shape[3]);
    Emit(n, "", OpType::kMaxPool2D, {x_ir}, {pooled}, a);
  }
  if (keepdims) {
    DefineTensor(n.output(0), TensorProto::FLOAT, kept, pooled);
    return Status::Ok();
  }
  return ReshapeToOutput(n, pooled, TensorProto::FLOAT, kept, {x->shape[0], x->shape[1]});
}

// ------------------------------------------------------------------ dispatch

Status Importer::Lower(const onnx::NodeProto& n) {
  using Fn = Status (Importer::*)(const onnx::NodeProto&);
  static const std::map<std::string, Fn> kOps = {
      {"Conv", &Importer::LowerConv},
      {"QLinearConv", &Importer::LowerQLinearConv},
      {"Gemm", &Importer::LowerGemm},
      {"MatMul", &Importer::LowerMatMul},
      {"QLinearMatMul", &Importer::LowerQLinearMatMul},
      {"ConvInteger", &Importer::LowerIntegerOp},
      {"MatMulInteger", &Importer::LowerIntegerOp},
      {"Add", &Importer::LowerBinary},
      {"Sub", &Importer::LowerBinary},
      {"Mul", &Importer::LowerBinary},
      {"Div", &Importer::LowerBinary},
      {"Relu", &Importer::LowerUnary},
      {"Clip", &Importer::LowerUnary},
      {"LeakyRelu", &Importer::LowerUnary},
      {"Sigmoid", &Importer::LowerUnary},
      {"HardSigmoid", &Importer::LowerUnary},
      {"HardSwish", &Importer::LowerUnary},
      {"Tanh", &Importer::LowerUnary},
      {"Erf", &Importer::LowerUnary},
      {"Softplus", &Importer::LowerUnary},
      {"Elu", &Importer::LowerUnary},
      {"Selu", &Importer::LowerUnary},
      {"Celu", &Importer::LowerUnary},
      {"Gelu", &Importer::LowerUnary},
      {"Mish", &Importer::LowerUnary},
      {"Sqrt", &Importer::LowerUnary},
      {"Reciprocal", &Importer::LowerUnary},
      {"Exp", &Importer::LowerUnary},
      {"Log", &Importer::LowerUnary},
      {"Neg", &Importer::LowerUnary},
      {"Abs", &Importer::LowerUnary},
      {"Floor", &Importer::LowerUnary},
      {"Ceil", &Importer::LowerUnary},
      {"Round", &Importer::LowerUnary},
      {"Sin", &Importer::LowerUnary},
      {"Cos", &Importer::LowerUnary},
      {"Softsign", &Importer::LowerUnary},
      {"ThresholdedRelu", &Importer::LowerUnary},
      {"Shrink", &Importer::LowerUnary},
      {"Tan", &Importer::LowerUnary},
      {"Asin", &Importer::LowerUnary},
      {"Acos", &Importer::LowerUnary},
      {"Atan", &Importer::LowerUnary},
      {"Sinh", &Importer::LowerUnary},
      {"Cosh", &Importer::LowerUnary},
      {"Asinh", &Importer::LowerUnary},
      {"Acosh", &Importer::LowerUnary},
      {"Atanh", &Importer::LowerUnary},
      {"Pow", &Importer::LowerPow},
      {"Equal", &Importer::LowerLogical},
      {"Less", &Importer::LowerLogical},
      {"Greater", &Importer::LowerLogical},
      {"LessOrEqual", &Importer::LowerLogical},
      {"GreaterOrEqual", &Importer::LowerLogical},
      {"And", &Importer::LowerLogical},
      {"Or", &Importer::LowerLogical},
      {"Xor", &Importer::LowerLogical},
      {"Not", &Importer::LowerLogical},
      {"Where", &Importer::LowerWhere},
      {"ReduceSum", &Importer::LowerReduce},
      {"ReduceMin", &Importer::LowerReduce},
      {"ReduceL1", &Importer::LowerReduce},
      {"ReduceL2", &Importer::LowerReduce},
      {"ReduceSumSquare", &Importer::LowerReduce},
      {"ReduceLogSumExp", &Importer::LowerReduce},
      {"LogSoftmax", &Importer::LowerLogSoftmax},
      {"CumSum", &Importer::LowerCumSum},
      {"Max", &Importer::LowerMinMax},
      {"Mod", &Importer::LowerMod},
      {"Sum", &Importer::LowerSumMean},
      {"Mean", &Importer::LowerSumMean},
      {"Min", &Importer::LowerMinMax},
      {"PRelu", &Importer::LowerPRelu},
      {"DepthToSpace", &Importer::LowerDepthToSpace},
      {"SpaceToDepth", &Importer::LowerDepthToSpace},
      {"InstanceNormalization", &Importer::LowerInstanceNorm},
      {"GroupNormalization", &Importer::LowerGroupNorm},
      {"ConvTranspose", &Importer::LowerConvTranspose},
      {"ArgMax", &Importer::LowerArgMax},
      {"ArgMin", &Importer::LowerArgMax},
      {"LSTM", &Importer::LowerRecurrent},
      {"Einsum", &Importer::LowerEinsum},
      {"TopK", &Importer::LowerTopK},
      {"GRU", &Importer::LowerRecurrent},
      {"Softmax", &Importer::LowerSoftmax},
      {"MaxPool", &Importer::LowerPool},
      {"AveragePool", &Importer::LowerPool},
      {"GlobalAveragePool", &Importer::LowerGlobalPool},
      {"GlobalMaxPool", &Importer::LowerGlobalPool},
      {"ReduceMean", &Importer::LowerReduce},
      {"ReduceMax", &Importer::LowerReduce},
      {"Concat", &Importer::LowerConcat},
      {"Reshape", &Importer::LowerReshapeFamily},
      {"Flatten", &Importer::LowerReshapeFamily},
      {"Squeeze", &Importer::LowerReshapeFamily},
      {"Unsqueeze", &Importer::LowerReshapeFamily},
      {"Transpose", &Importer::LowerTranspose},
      {"Pad", &Importer::LowerPad},
      {"Resize", &Importer::LowerResize},
      {"Upsample", &Importer::LowerResize},
      {"Split", &Importer::LowerSplit},
      {"Slice", &Importer::LowerSlice},
      {"BatchNormalization", &Importer::LowerBatchNorm},
      {"Identity", &Importer::LowerPassThrough},
      {"Dropout", &Importer::LowerPassThrough},
      {"Cast", &Importer::LowerCast},
      {"Gather", &Importer::LowerGather},
      {"Expand", &Importer::LowerExpand},
      {"Tile", &Importer::LowerTile},
      {"GatherElements", &Importer::LowerGatherElements},
      {"GridSample", &Importer::LowerGridSample},
      {"CastLike", &Importer::LowerCastLike},
      {"FusedMatMul", &Importer::LowerFusedMatMul},  // com.microsoft's, as contrib_ops.cc renames it
      {"MultiHeadAttention", &Importer::LowerMultiHeadAttention},  // likewise
      {"SimplifiedLayerNormalization", &Importer::LowerSimplifiedLayerNorm},  // ONNX Runtime's RMSNorm
      {"Hardmax", &Importer::LowerHardmax},
      {"ScatterElements", &Importer::LowerScatter},
      {"Scatter", &Importer::LowerScatter},
      {"ScatterND", &Importer::LowerScatter},
      {"LayerNormalization", &Importer::LowerLayerNorm},
      {"DynamicQuantizeLinear", &Importer::LowerDynamicQuantize},
      {"QuantizeLinear", &Importer::LowerQuantize},
      {"DequantizeLinear", &Importer::LowerDequantize},
  };
  auto it = kOps.find(n.op_type());
  // Ops the constant evaluator folds but that have no runtime form.
  static const std::set<std::string> kFoldOnly = {
      "Range", "Shape", "ConstantOfShape"};
  if (it == kOps.end() && kFoldOnly.count(n.op_type())) {
    std::string runtime;
    for (int k = 0; k < n.input_size(); ++k) {
      auto v = values_.find(n.input(k));
      if (v != values_.end() && v->second.kind == ValueKind::kTensor) runtime = n.input(k);
    }
    return Fail(n, StatusCode::kUnsupported,
                "operator is supported only on constants (folded at import), and input '" +
                    runtime + "' is computed at run time");
  }
  if (it == kOps.end()) return Fail(n, StatusCode::kUnsupported, "operator is not supported");
  if (n.output_size() < 1 || n.output(0).empty())
    return Fail(n, StatusCode::kInvalidModel, "missing output");
  return (this->*(it->second))(n);
}

// Defaults and range checks shared by Conv and the pools: 2-D strides, dilations and
// [top, left, bottom, right] pads.
Status Importer::CheckWindowAttrs(const onnx::NodeProto& n, Ints* strides, Ints* dilations, Ints* pads) const {
  if (strides->empty()) *strides = {1, 1};
  if (dilations->empty()) *dilations = {1, 1};
  if (pads->empty()) *pads = {0, 0, 0, 0};
  if (strides->size() != 2 || dilations->size() != 2 || pads->size() != 4)
    return Fail(n, StatusCode::kInvalidModel, "strides, dilations or pads have the wrong length");
  for (int64_t v : *strides)
    if (v < 1 || v > kMaxAttr) return Fail(n, StatusCode::kInvalidModel, "stride out of range");
  for (int64_t v : *dilations)
    if (v < 1 || v > kMaxAttr) return Fail(n, StatusCode::kInvalidModel, "dilation out of range");
  for (int64_t v : *pads) {
    if (v < 0) return Fail(n, StatusCode::kUnsupported, "negative pads are not supported");
    if (v > kMaxAttr) return Fail(n, StatusCode::kInvalidModel, "pad out of range");
  }
  return Status::Ok();
}

}  // namespace onnx_import
}  // namespace edgeq
