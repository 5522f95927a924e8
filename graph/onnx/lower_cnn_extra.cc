// Lowering of CNN ops that are compositions of edgeq's IR ops (conventions as in
// lower_ops.cc):
//  * PRelu(x, slope) -> r = Relu(x); y = r + slope * (x - r): x - r is 0 for x >= 0 and x
//    below, so y is x or slope * x exactly as PRelu defines it, and every piece is an op
//    calibration runs in int8 (face detectors and recognizers: PReLU after each conv).
//  * DepthToSpace (DCR and CRD) and SpaceToDepth on an NHWC image -> Reshape to 6-D,
//    Transpose, Reshape: data movement, int8 as it comes (pixel shuffle in
//    super-resolution heads).
//  * InstanceNormalization (and GroupNorm, which PyTorch exports as a Reshape around
//    it) -> mean and variance with ReduceMean over the spatial axes, (x - mean) /
//    sqrt(var + epsilon) * scale + bias with the elementwise ops, on the image's NHWC
//    tensor, or in ONNX order for other ranks.
#include "graph/onnx/internal.h"

namespace edgeq {
namespace onnx_import {

using onnx::TensorProto;
using Ints = std::vector<int64_t>;

// A new float tensor of `ir_shape` for an intermediate value of node n (in ONNX order
// when `like` is -1 and the rank is 4; else in the layout of tensor `like`).
Status Importer::Piece(const onnx::NodeProto& n, const std::string& suffix, int32_t like, const Shape& ir_shape,
                       int32_t* ir) {
  Status s = NewTensor(n.output(0) + "." + suffix, false, DType::kF32, ir_shape, ir);
  if (!s.ok()) return Fail(n, s.code(), s.message());
  if (ir_shape.size() == 4 && (like < 0 || plain_.count(like))) plain_.insert(*ir);
  return Status::Ok();
}

Status Importer::LowerPRelu(const onnx::NodeProto& n) {
  Value *x, *slope;
  EDGEQ_RETURN_IF_ERROR(RequireTensor(n, 0, &x));
  EDGEQ_RETURN_IF_ERROR(Input(n, 1, &slope));
  if (slope->type != TensorProto::FLOAT)
    return Fail(n, StatusCode::kUnsupported, "the slope must be float");
  Shape shape;
  if (!broadcast_shapes(x->shape, slope->shape, &shape) || shape != x->shape)
    return Fail(n, StatusCode::kInvalidModel,
                "slope " + shape_str(slope->shape) + " does not broadcast to " + shape_str(x->shape));
  const bool nhwc = Nhwc(*x);
  int32_t x_ir, s_ir, r, d, m, out;
  EDGEQ_RETURN_IF_ERROR(AsLayout(n, x, nhwc, &x_ir));
  EDGEQ_RETURN_IF_ERROR(BroadcastOperand(n, slope, x->shape.size(), &s_ir, nhwc));
  const Shape ir_shape = IrShape(x->shape, nhwc);
  EDGEQ_RETURN_IF_ERROR(Piece(n, "relu", x_ir, ir_shape, &r));
  EDGEQ_RETURN_IF_ERROR(Piece(n, "negative", x_ir, ir_shape, &d));
  EDGEQ_RETURN_IF_ERROR(Piece(n, "scaled", x_ir, ir_shape, &m));
  Emit(n, "relu", OpType::kRelu, {x_ir}, {r});
  Emit(n, "negative", OpType::kSub, {x_ir, r}, {d});
  Emit(n, "scaled", OpType::kMul, {d, s_ir}, {m});
  EDGEQ_RETURN_IF_ERROR(OutputTensor(n, 0, DType::kF32, x->shape, &out, nhwc));
  Emit(n, "", OpType::kAdd, {r, m}, {out});
  return Status::Ok();
}

Status Importer::LowerDepthToSpace(const onnx::NodeProto& n) {
  Value* x;
  EDGEQ_RETURN_IF_ERROR(Input(n, 0, &x));
  if (x->shape.size() != 4) return Fail(n, StatusCode::kUnsupported, "only rank-4 inputs are supported");
  int64_t b;
  EDGEQ_RETURN_IF_ERROR(attr_int(n, "blocksize", 0, &b));
  std::string mode;
  EDGEQ_RETURN_IF_ERROR(attr_string(n, "mode", "DCR", &mode));
  const bool to_space = n.op_type() == "DepthToSpace";
  if (b < 1 || b > 64) return Fail(n, StatusCode::kInvalidModel, "blocksize out of range");
  if (to_space && mode != "DCR" && mode != "CRD") return Fail(n, StatusCode::kInvalidModel, "mode must be DCR or CRD");
  const int64_t N = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
  if (to_space ? C % (b * b) != 0 : (H % b != 0 || W % b != 0))
    return Fail(n, StatusCode::kInvalidModel, "shape " + shape_str(x->shape) + " does not fit blocksize " +
                                                  std::to_string(b));
  int32_t x_ir, v6, t6, out;
  EDGEQ_RETURN_IF_ERROR(AsLayout(n, x, true, &x_ir));  // NHWC: y[n, h*b + i, w*b + j, c']
  Shape s6, t6_shape, out_shape;
  Attrs a;
  if (to_space) {
    const int64_t c = C / (b * b);
    // DCR: channel (i * b + j) * c + c'; CRD: c' * b * b + i * b + j.
    s6 = mode == "DCR" ? Shape{N, H, W, b, b, c} : Shape{N, H, W, c, b, b};
    a.perm = mode == "DCR" ? std::vector<int32_t>{0, 1, 3, 2, 4, 5} : std::vector<int32_t>{0, 1, 4, 2, 5, 3};
    t6_shape = {N, H, b, W, b, c};
    out_shape = {N, c, H * b, W * b};
  } else {  // SpaceToDepth: channel (i * b + j) * C + c
    s6 = {N, H / b, b, W / b, b, C};
    a.perm = {0, 1, 3, 2, 4, 5};
    t6_shape = {N, H / b, W / b, b, b, C};
    out_shape = {N, C * b * b, H / b, W / b};
  }
  Status s = NewTensorLike(x_ir, n.output(0) + ".blocks", false, s6, &v6);
  if (s.ok()) s = NewTensorLike(x_ir, n.output(0) + ".moved", false, t6_shape, &t6);
  if (s.ok()) s = NewTensorLike(x_ir, n.output(0), true, to_ir_shape(out_shape), &out);
  if (!s.ok()) return Fail(n, s.code(), s.message());
  Emit(n, "blocks", OpType::kReshape, {x_ir}, {v6});
  Emit(n, "move", OpType::kTranspose, {v6}, {t6}, a);
  Emit(n, "", OpType::kReshape, {t6}, {out});
  DefineTensor(n.output(0), x->type, out_shape, out);
  return Status::Ok();
}

Status Importer::LowerInstanceNorm(const onnx::NodeProto& n) {
  Value *x, *scale, *bias;
  EDGEQ_RETURN_IF_ERROR(RequireTensor(n, 0, &x));
  EDGEQ_RETURN_IF_ERROR(Input(n, 1, &scale));
  EDGEQ_RETURN_IF_ERROR(Input(n, 2, &bias));
  float eps;
  EDGEQ_RETURN_IF_ERROR(attr_float(n, "epsilon", 1e-5f, &eps));
  const size_t r = x->shape.size();
  if (r < 3 || r > 6) return Fail(n, StatusCode::kUnsupported, "input rank must be 3 to 6");
  const int64_t C = x->shape[1];
  if (scale->kind == ValueKind::kTensor || bias->kind == ValueKind::kTensor || scale->shape != Shape{C} ||
      bias->shape != Shape{C})
    return Fail(n, StatusCode::kUnsupported, "scale and bias must be constants of shape [C]");
  const bool nhwc = Nhwc(*x);
  // The per-channel constants shaped to broadcast: [C] against NHWC's last axis, [C,1,..]
  // against ONNX order.
  Shape per_channel = nhwc ? Shape{C} : Shape(r - 1, 1);
  if (!nhwc) per_channel[0] = C;
  Value sc = *scale, bi = *bias;
  sc.shape = sc.c.dims = bi.shape = bi.c.dims = per_channel;
  sc.ir = sc.ir_plain = bi.ir = bi.ir_plain = -1;
  Value eps_v;
  eps_v.kind = ValueKind::kConst;
  eps_v.c.dims = eps_v.shape = {};
  eps_v.c.f = {eps};
  eps_v.name = n.output(0) + ".epsilon";
  sc.name = n.output(0) + ".scale";
  bi.name = n.output(0) + ".bias";
  int32_t x_ir, sc_ir, bi_ir, eps_ir;
  EDGEQ_RETURN_IF_ERROR(AsLayout(n, x, nhwc, &x_ir));
  EDGEQ_RETURN_IF_ERROR(BroadcastOperand(n, &sc, per_channel.size(), &sc_ir, false));
  EDGEQ_RETURN_IF_ERROR(BroadcastOperand(n, &bi, per_channel.size(), &bi_ir, false));
  EDGEQ_RETURN_IF_ERROR(AsTensor(n, &eps_v, &eps_ir));
  const Shape ir_shape = IrShape(x->shape, nhwc);
  Shape stat = ir_shape;  // the spatial axes kept as 1: NHWC 1..r-2, ONNX order 2..r-1
  for (size_t d = nhwc ? 1 : 2; d < (nhwc ? r - 1 : r); ++d) stat[d] = 1;
  int32_t mean, d, sq, var, ve, sd, norm, scaled, out;
  EDGEQ_RETURN_IF_ERROR(Piece(n, "mean", x_ir, stat, &mean));
  EDGEQ_RETURN_IF_ERROR(Piece(n, "centered", x_ir, ir_shape, &d));
  EDGEQ_RETURN_IF_ERROR(Piece(n, "squared", x_ir, ir_shape, &sq));
  EDGEQ_RETURN_IF_ERROR(Piece(n, "variance", x_ir, stat, &var));
  EDGEQ_RETURN_IF_ERROR(Piece(n, "variance_eps", x_ir, stat, &ve));
  EDGEQ_RETURN_IF_ERROR(Piece(n, "std", x_ir, stat, &sd));
  EDGEQ_RETURN_IF_ERROR(Piece(n, "normalized", x_ir, ir_shape, &norm));
  EDGEQ_RETURN_IF_ERROR(Piece(n, "scaled", x_ir, ir_shape, &scaled));
  Attrs square;
  square.alpha = 2.f;
  Emit(n, "mean", OpType::kReduceMean, {x_ir}, {mean});
  Emit(n, "center", OpType::kSub, {x_ir, mean}, {d});
  Emit(n, "square", OpType::kPow, {d}, {sq}, square);
  Emit(n, "variance", OpType::kReduceMean, {sq}, {var});
  Emit(n, "add_eps", OpType::kAdd, {var, eps_ir}, {ve});
  Emit(n, "sqrt", OpType::kSqrt, {ve}, {sd});
  Emit(n, "normalize", OpType::kDiv, {d, sd}, {norm});
  Emit(n, "scale", OpType::kMul, {norm, sc_ir}, {scaled});
  EDGEQ_RETURN_IF_ERROR(OutputTensor(n, 0, DType::kF32, x->shape, &out, nhwc));
  Emit(n, "", OpType::kAdd, {scaled, bi_ir}, {out});
  return Status::Ok();
}

}  // namespace onnx_import
}  // namespace edgeq
