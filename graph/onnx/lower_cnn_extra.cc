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
//  * ConvTranspose (U-Net and pose decoders, GAN generators) -> its sub-pixel form: with
//    stride s and k taps along an axis, the full output at o = q * s + p (phase p) is
//      y[q * s + p] = sum_j x[q - j] * W[p + s * j],  j = 0 .. K - 1,  K = ceil(k / s)
//    (taps p + s * j >= k being 0): per phase a correlation of x padded by K - 1 on both
//    sides with g_p[t] = W[p + s * (K - 1 - t)]. All s_h * s_w phases are one Conv2D
//    with s_h * s_w * Cout outputs (channel (p_h * s_w + p_w) * Cout + c), stride 1, Q =
//    H + K - 1 rows per phase; Reshape / Transpose / Reshape interleave the phases and a
//    Slice keeps [pad_begin, pad_begin + output size) (the conv's end padding grows when
//    output_padding reaches past Q * s). So it runs on the conv engine, int8 too.
//    Group 1, dilation 1, no auto_pad or output_shape.
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

// GroupNormalization (opset 18: scale and bias per group; [C] is taken too, as opset 21
// has it) as PyTorch writes GroupNorm: Reshape to [N, G, -1], InstanceNormalization,
// Reshape back, then the per-channel scale and bias. Synthetic nodes lowered as usual.
Status Importer::LowerGroupNorm(const onnx::NodeProto& n) {
  Value *x, *scale, *bias;
  EDGEQ_RETURN_IF_ERROR(RequireTensor(n, 0, &x));
  EDGEQ_RETURN_IF_ERROR(Input(n, 1, &scale));
  EDGEQ_RETURN_IF_ERROR(Input(n, 2, &bias));
  int64_t groups;
  float eps;
  EDGEQ_RETURN_IF_ERROR(attr_int(n, "num_groups", 0, &groups));
  EDGEQ_RETURN_IF_ERROR(attr_float(n, "epsilon", 1e-5f, &eps));
  const size_t r = x->shape.size();
  if (r < 3 || r > 6) return Fail(n, StatusCode::kUnsupported, "input rank must be 3 to 6");
  const int64_t N = x->shape[0], C = x->shape[1];
  if (groups < 1 || C % groups != 0) return Fail(n, StatusCode::kInvalidModel, "num_groups must divide the channels");
  std::vector<float> sv, bv;
  if (!real_values(*scale, &sv) || !real_values(*bias, &bv) || scale->kind == ValueKind::kTensor ||
      bias->kind == ValueKind::kTensor)
    return Fail(n, StatusCode::kUnsupported, "scale and bias must be constants");
  if ((sv.size() != static_cast<size_t>(groups) && sv.size() != static_cast<size_t>(C)) || bv.size() != sv.size())
    return Fail(n, StatusCode::kInvalidModel, "scale and bias must have num_groups (or C) values");
  int counter = 0;
  const auto fresh = [&](const std::string& what) { return n.output(0) + ".group_norm_" + what + std::to_string(counter++); };
  const auto constant = [&](const std::string& what, int32_t type, const Shape& dims, std::vector<float> f,
                            Ints i) { return DefineConst(fresh(what), type, dims, std::move(f), std::move(i)); };
  const auto lower = [&](const std::string& op, const std::vector<std::string>& ins, const std::string& output,
                         float epsilon) -> Status {
    if (op != "InstanceNormalization") return LowerSynthetic(n, op, ins, output);
    return LowerSynthetic(n, op, ins, output, {float_attr("epsilon", epsilon)});
  };
  const int64_t per_group = shape_numel(Shape(x->shape.begin() + 1, x->shape.end())) / groups;
  const std::string grouped = fresh("grouped"), normed = fresh("normalized"), back = fresh("back"),
                    scaled = fresh("scaled");
  EDGEQ_RETURN_IF_ERROR(
      lower("Reshape", {x->name, constant("shape", TensorProto::INT64, {3}, {}, {N, groups, per_group})}, grouped, 0));
  EDGEQ_RETURN_IF_ERROR(lower("InstanceNormalization",
                              {grouped,
                               constant("ones", TensorProto::FLOAT, {groups}, std::vector<float>(groups, 1.f), {}),
                               constant("zeros", TensorProto::FLOAT, {groups}, std::vector<float>(groups, 0.f), {})},
                              normed, eps));
  EDGEQ_RETURN_IF_ERROR(lower("Reshape", {normed, constant("back", TensorProto::INT64, {static_cast<int64_t>(r)}, {},
                                                           Ints(x->shape.begin(), x->shape.end()))},
                              back, 0));
  // Per channel [C, 1, ...]: a group's value for each of its channels.
  std::vector<float> sc(static_cast<size_t>(C)), bc(static_cast<size_t>(C));
  for (int64_t c = 0; c < C; ++c) {
    const size_t k = sv.size() == static_cast<size_t>(C) ? static_cast<size_t>(c) : static_cast<size_t>(c / (C / groups));
    sc[static_cast<size_t>(c)] = sv[k];
    bc[static_cast<size_t>(c)] = bv[k];
  }
  Shape per_channel(r - 1, 1);
  per_channel[0] = C;
  EDGEQ_RETURN_IF_ERROR(lower("Mul", {back, constant("scale", TensorProto::FLOAT, per_channel, sc, {})}, scaled, 0));
  return lower("Add", {scaled, constant("bias", TensorProto::FLOAT, per_channel, bc, {})}, n.output(0), 0);
}

// ArgMax over one axis (segmentation maps' classes), on the tensor's own layout: an
// image's channel axis is its last in NHWC; keepdims 0 adds a Reshape.
Status Importer::LowerArgMax(const onnx::NodeProto& n) {
  Value* x;
  EDGEQ_RETURN_IF_ERROR(Input(n, 0, &x));
  // Float, or token ids (CLIP pools its text features at ids.argmax(-1), the end token).
  if (x->type != TensorProto::INT64 && x->type != TensorProto::INT32) EDGEQ_RETURN_IF_ERROR(RequireTensor(n, 0, &x));
  const size_t r = x->shape.size();
  if (r == 0 || r > 6) return Fail(n, StatusCode::kUnsupported, "input rank must be 1 to 6");
  int64_t axis, keepdims, last;
  EDGEQ_RETURN_IF_ERROR(attr_int(n, "axis", 0, &axis));
  EDGEQ_RETURN_IF_ERROR(attr_int(n, "keepdims", 1, &keepdims));
  EDGEQ_RETURN_IF_ERROR(attr_int(n, "select_last_index", 0, &last));
  if (last) return Fail(n, StatusCode::kUnsupported, "select_last_index is not supported");
  Status s = normalize_axis(axis, r, &axis);
  if (!s.ok()) return Fail(n, s.code(), s.message());
  const bool nhwc = Nhwc(*x);
  int32_t x_ir, out;
  EDGEQ_RETURN_IF_ERROR(AsLayout(n, x, nhwc, &x_ir));
  Shape kept = x->shape, dropped;
  kept[axis] = 1;
  for (size_t d = 0; d < r; ++d)
    if (d != static_cast<size_t>(axis)) dropped.push_back(x->shape[d]);
  Attrs a;
  a.axis = static_cast<int32_t>(nhwc ? to_ir_axis(axis, r) : axis);
  // ArgMin: the index of TopK's one smallest value (equal values: the first, as ArgMin).
  const auto emit = [&](int32_t index) -> Status {
    if (n.op_type() == "ArgMax") {
      Emit(n, "", OpType::kArgMax, {x_ir}, {index}, a);
      return Status::Ok();
    }
    int32_t values;
    const Status st = NewTensorLike(x_ir, n.output(0) + ".min_values", false, IrShape(kept, nhwc), &values);
    if (!st.ok()) return Fail(n, st.code(), st.message());
    if (r == 4 && !nhwc) plain_.insert(values);
    Attrs t = a;
    t.k = 1;
    t.largest = 0;
    Emit(n, "", OpType::kTopK, {x_ir}, {values, index}, t);
    return Status::Ok();
  };
  if (keepdims) {
    EDGEQ_RETURN_IF_ERROR(OutputTensor(n, 0, DType::kS64, kept, &out, nhwc));
    return emit(out);
  }
  int32_t k_ir;
  s = NewTensor(n.output(0) + ".keepdims", false, DType::kS64, IrShape(kept, nhwc), &k_ir);
  if (!s.ok()) return Fail(n, s.code(), s.message());
  if (r == 4 && !nhwc) plain_.insert(k_ir);
  EDGEQ_RETURN_IF_ERROR(emit(k_ir));
  return ReshapeToOutput(n, k_ir, TensorProto::INT64, kept, dropped);
}

// TopK (detection heads' candidates, top-5 classes): values and int64 indices along one
// axis, in the input's layout; `sorted` 0 allows any order, and the sorted one is given.
Status Importer::LowerTopK(const onnx::NodeProto& n) {
  Value* x;
  EDGEQ_RETURN_IF_ERROR(Input(n, 0, &x));
  const int32_t t = x->type;
  if (x->kind != ValueKind::kTensor || !(t == TensorProto::FLOAT || t == TensorProto::INT32 || t == TensorProto::INT64 ||
                                         t == TensorProto::UINT8 || t == TensorProto::INT8))
    return Fail(n, StatusCode::kUnsupported, "the input must be a float, integer or 8-bit run-time tensor");
  const size_t r = x->shape.size();
  if (r == 0 || r > 6) return Fail(n, StatusCode::kUnsupported, "input rank must be 1 to 6");
  int64_t axis, largest, k = 0;
  EDGEQ_RETURN_IF_ERROR(attr_int(n, "axis", -1, &axis));
  EDGEQ_RETURN_IF_ERROR(attr_int(n, "largest", 1, &largest));
  if (opset_ < 10) {
    EDGEQ_RETURN_IF_ERROR(attr_int(n, "k", 0, &k));
  } else {
    Ints kv;
    bool have;
    EDGEQ_RETURN_IF_ERROR(ConstInts(n, 1, &kv, &have));
    if (!have || kv.size() != 1) return Fail(n, StatusCode::kUnsupported, "K must be a constant of one value");
    k = kv[0];
  }
  Status s = normalize_axis(axis, r, &axis);
  if (!s.ok()) return Fail(n, s.code(), s.message());
  if (k < 1 || k > x->shape[static_cast<size_t>(axis)])
    return Fail(n, StatusCode::kInvalidModel, "k is outside [1, the axis's size]");
  if (largest != 0 && largest != 1) return Fail(n, StatusCode::kInvalidModel, "largest must be 0 or 1");
  const bool nhwc = Nhwc(*x);
  int32_t x_ir, values, indices;
  EDGEQ_RETURN_IF_ERROR(AsLayout(n, x, nhwc, &x_ir));
  Shape out_shape = x->shape;
  out_shape[static_cast<size_t>(axis)] = k;
  s = NewTensorLike(x_ir, n.output(0), true, IrShape(out_shape, nhwc), &values);
  if (!s.ok()) return Fail(n, s.code(), s.message());
  if (r == 4 && !nhwc) plain_.insert(values);
  DefineTensor(n.output(0), t, out_shape, values);
  if (n.output_size() > 1 && !n.output(1).empty()) {
    EDGEQ_RETURN_IF_ERROR(OutputTensor(n, 1, DType::kS64, out_shape, &indices, nhwc));
  } else {
    s = NewTensor(n.output(0) + ".indices", false, DType::kS64, IrShape(out_shape, nhwc), &indices);
    if (!s.ok()) return Fail(n, s.code(), s.message());
    if (r == 4 && !nhwc) plain_.insert(indices);
  }
  Attrs a;
  a.axis = static_cast<int32_t>(nhwc ? to_ir_axis(axis, r) : axis);
  a.k = static_cast<int32_t>(k);
  a.largest = static_cast<int32_t>(largest);
  Emit(n, "", OpType::kTopK, {x_ir}, {values, indices}, a);
  return Status::Ok();
}

Status Importer::LowerConvTranspose(const onnx::NodeProto& n) {
  Value *x, *w, *b;
  EDGEQ_RETURN_IF_ERROR(RequireTensor(n, 0, &x));
  EDGEQ_RETURN_IF_ERROR(Input(n, 1, &w));
  EDGEQ_RETURN_IF_ERROR(OptInput(n, 2, &b));
  if (x->shape.size() != 4) return Fail(n, StatusCode::kUnsupported, "only 2-D (rank-4) inputs are supported");
  if (w->kind == ValueKind::kTensor || w->shape.size() != 4)
    return Fail(n, StatusCode::kUnsupported, "the weight must be a rank-4 constant");
  int64_t group;
  std::string auto_pad;
  Ints strides, pads, out_pad, dilations, kernel, output_shape;
  bool have_kernel, have_output_shape;
  EDGEQ_RETURN_IF_ERROR(attr_int(n, "group", 1, &group));
  EDGEQ_RETURN_IF_ERROR(attr_string(n, "auto_pad", "NOTSET", &auto_pad));
  EDGEQ_RETURN_IF_ERROR(attr_ints(n, "strides", &strides, nullptr));
  EDGEQ_RETURN_IF_ERROR(attr_ints(n, "pads", &pads, nullptr));
  EDGEQ_RETURN_IF_ERROR(attr_ints(n, "output_padding", &out_pad, nullptr));
  EDGEQ_RETURN_IF_ERROR(attr_ints(n, "dilations", &dilations, nullptr));
  EDGEQ_RETURN_IF_ERROR(attr_ints(n, "kernel_shape", &kernel, &have_kernel));
  EDGEQ_RETURN_IF_ERROR(attr_ints(n, "output_shape", &output_shape, &have_output_shape));
  if (strides.empty()) strides = {1, 1};
  if (pads.empty()) pads = {0, 0, 0, 0};
  if (out_pad.empty()) out_pad = {0, 0};
  if (dilations.empty()) dilations = {1, 1};
  // W is [Cin, Cout / group, kh, kw]: group g maps input channels [g Cin/G, (g+1) Cin/G)
  // to output channels [g Cout/G, (g+1) Cout/G).
  const int64_t cin = w->shape[0], cout_g = w->shape[1], kh0 = w->shape[2], kw0 = w->shape[3];
  if (auto_pad != "NOTSET" || have_output_shape)
    return Fail(n, StatusCode::kUnsupported, "auto_pad and output_shape are not supported (give pads)");
  if (strides.size() != 2 || pads.size() != 4 || out_pad.size() != 2 || dilations.size() != 2)
    return Fail(n, StatusCode::kUnsupported, "only 2-D windows are supported");
  if (have_kernel && kernel != Ints{kh0, kw0})
    return Fail(n, StatusCode::kInvalidModel, "kernel_shape does not match the weight");
  const int64_t sh = strides[0], sw = strides[1], dh = dilations[0], dw = dilations[1];
  if (cin != x->shape[1]) return Fail(n, StatusCode::kInvalidModel, "the weight does not match the input channels");
  if (group < 1 || cin % group != 0) return Fail(n, StatusCode::kInvalidModel, "group does not divide the input channels");
  if (sh < 1 || sw < 1 || sh > 16 || sw > 16 || kh0 < 1 || kw0 < 1 || kh0 > 64 || kw0 > 64 || dh < 1 || dw < 1 ||
      dh > 16 || dw > 16)
    return Fail(n, StatusCode::kUnsupported, "stride, dilation or kernel out of range");
  // A dilated window is the dense one with zeros between its taps.
  const int64_t kh = (kh0 - 1) * dh + 1, kw = (kw0 - 1) * dw + 1, G = group, cin_g = cin / G, cout = cout_g * G;
  for (int64_t p : pads)
    if (p < 0 || p > (int64_t{1} << 16)) return Fail(n, StatusCode::kInvalidModel, "pad out of range");
  if (out_pad[0] < 0 || out_pad[1] < 0 || out_pad[0] >= sh || out_pad[1] >= sw)
    return Fail(n, StatusCode::kInvalidModel, "output_padding must be below the stride");
  const int64_t H = x->shape[2], W = x->shape[3];
  const int64_t oh = (H - 1) * sh + kh - pads[0] - pads[2] + out_pad[0];
  const int64_t ow = (W - 1) * sw + kw - pads[1] - pads[3] + out_pad[1];
  if (oh < 1 || ow < 1) return Fail(n, StatusCode::kInvalidModel, "the output would be empty");
  if (cin * cout_g * sh * sw * kh * kw > (int64_t{1} << 26)) return Fail(n, StatusCode::kUnsupported, "weight too large");
  // The weight's real values (a float constant, or a dequantized one) [Cin, Cout / G, kh0, kw0].
  std::vector<float> wv;
  if (!real_values(*w, &wv))
    return Fail(n, StatusCode::kUnsupported, "the weight must be a float or dequantized constant");
  std::vector<float> bias(static_cast<size_t>(cout), 0.f);
  if (b) {
    if (b->kind != ValueKind::kConst || !b->c.is_float() || b->c.numel() != cout)
      return Fail(n, StatusCode::kUnsupported, "the bias must be a float constant of Cout values");
    bias = b->c.f;
  }
  // A BatchNormalization reading only this output (pose and segmentation decoders:
  // ConvTranspose -> BN -> ReLU) folds into the weights and bias, as a Conv's does: the
  // lowered form's reshapes and crop would keep it a separate Mul and Add otherwise.
  std::vector<float> bn_scale;
  const std::string out_name = FoldableBatchNorm(n, cout, &bn_scale, &bias);
  if (!bn_scale.empty())
    for (size_t i = 0; i < wv.size(); ++i) wv[i] *= bn_scale[(i / static_cast<size_t>(kh0 * kw0)) % cout_g +
                                                             i / static_cast<size_t>(cin_g * cout_g * kh0 * kw0) * cout_g];
  // Tap (yy, xx) of the dense window: the weight's tap (yy / dh, xx / dw) where both
  // divide, else 0.
  const auto weight = [&](int64_t ci, int64_t co, int64_t yy, int64_t xx) {
    if (yy % dh != 0 || xx % dw != 0) return 0.f;
    return wv[static_cast<size_t>(((ci * cout_g + co) * kh0 + yy / dh) * kw0 + xx / dw)];
  };
  // The phases' convolution: output channel (g, phase, co) for each group g, so that a
  // group's outputs are contiguous (a grouped convolution of G groups).
  const int64_t Kh = (kh + sh - 1) / sh, Kw = (kw + sw - 1) / sw, phases = sh * sw;
  Value wp;
  wp.kind = ValueKind::kConst;
  wp.name = out_name + ".phase_weights";
  wp.c.dims = wp.shape = {G * phases * cout_g, cin_g, Kh, Kw};
  wp.c.f.assign(static_cast<size_t>(G * phases * cout_g * cin_g * Kh * Kw), 0.f);
  for (int64_t g = 0; g < G; ++g)
    for (int64_t ph = 0; ph < sh; ++ph)
      for (int64_t pw = 0; pw < sw; ++pw)
        for (int64_t co = 0; co < cout_g; ++co)
          for (int64_t ci = 0; ci < cin_g; ++ci)
            for (int64_t th = 0; th < Kh; ++th)
              for (int64_t tw = 0; tw < Kw; ++tw) {
                const int64_t yy = ph + sh * (Kh - 1 - th), xx = pw + sw * (Kw - 1 - tw);
                if (yy >= kh || xx >= kw) continue;
                const int64_t o = (g * phases + ph * sw + pw) * cout_g + co;
                wp.c.f[static_cast<size_t>(((o * cin_g + ci) * Kh + th) * Kw + tw)] = weight(g * cin_g + ci, co, yy, xx);
              }
  Value bp;
  bp.kind = ValueKind::kConst;
  bp.name = out_name + ".phase_bias";
  bp.c.dims = bp.shape = {G * phases * cout_g};
  for (int64_t g = 0; g < G; ++g)
    for (int64_t p = 0; p < phases; ++p)
      bp.c.f.insert(bp.c.f.end(), bias.begin() + g * cout_g, bias.begin() + (g + 1) * cout_g);
  // Rows the crop reads: pads[0] + oh <= Q * s with Q = H + K - 1 + extra.
  const int64_t extra_h = std::max<int64_t>(0, (pads[0] + oh - (H + Kh - 1) * sh + sh - 1) / sh);
  const int64_t extra_w = std::max<int64_t>(0, (pads[1] + ow - (W + Kw - 1) * sw + sw - 1) / sw);
  onnx::NodeProto conv;
  conv.set_op_type("Conv");
  conv.set_name(n.name());
  conv.add_output(out_name + ".phases");
  auto* pa = conv.add_attribute();
  pa->set_name("pads");
  pa->set_type(onnx::AttributeProto::INTS);
  for (int64_t v : {Kh - 1, Kw - 1, Kh - 1 + extra_h, Kw - 1 + extra_w}) pa->add_ints(v);
  auto* ga = conv.add_attribute();
  ga->set_name("group");
  ga->set_type(onnx::AttributeProto::INT);
  ga->set_i(G);
  int32_t c_ir;
  Shape c_shape;  // [N, G * phases * Cout / G, Qh, Qw]
  EDGEQ_RETURN_IF_ERROR(ConvCore(conv, *x, wp, &bp, out_name + ".phases", &c_ir, &c_shape));
  const int64_t N = x->shape[0], Qh = c_shape[2], Qw = c_shape[3];
  // [N Qh, Qw, G, sh, sw, Cout / G] -> [N Qh, sh, Qw, sw, G, Cout / G]: the phases
  // interleaved into rows and columns, the groups' channels side by side.
  int32_t split, moved, full, out;
  Status s = NewTensorLike(c_ir, out_name + ".phase_split", false, {N * Qh, Qw, G, sh, sw, cout_g}, &split);
  if (s.ok()) s = NewTensorLike(c_ir, out_name + ".interleaved", false, {N * Qh, sh, Qw, sw, G, cout_g}, &moved);
  if (s.ok()) s = NewTensorLike(c_ir, out_name + ".full", false, {N, Qh * sh, Qw * sw, cout}, &full);
  if (s.ok()) s = NewTensorLike(c_ir, out_name, true, {N, oh, ow, cout}, &out);
  if (!s.ok()) return Fail(n, s.code(), s.message());
  Emit(n, "phase_split", OpType::kReshape, {c_ir}, {split});
  Attrs t;
  t.perm = {0, 3, 1, 4, 2, 5};
  Emit(n, "interleave", OpType::kTranspose, {split}, {moved}, t);
  Emit(n, "full", OpType::kReshape, {moved}, {full});
  Attrs crop;
  crop.starts = {0, static_cast<int32_t>(pads[0]), static_cast<int32_t>(pads[1]), 0};
  crop.steps = {1, 1, 1, 1};
  Emit(n, "", OpType::kSlice, {full}, {out}, crop);
  DefineTensor(out_name, TensorProto::FLOAT, {N, cout, oh, ow}, out);
  return Status::Ok();
}

}  // namespace onnx_import
}  // namespace edgeq
