// Lowering of ONNX data-movement ops (Concat, Reshape/Flatten/Squeeze/Unsqueeze,
// Transpose, Pad, Resize, Split, Slice) and of BatchNormalization, Identity, Dropout and
// Cast. Conventions as in lower_ops.cc: rank-4 runtime tensors are NHWC, so axes, pads,
// slice starts and permutations are remapped; reshapes of rank-4 tensors read NCHW
// element order through a transpose when the orders differ. Movement of quantized
// tensors keeps their dtype and parameters.
#include <algorithm>
#include <cmath>

#include "graph/onnx/internal.h"

namespace edgeq {
namespace onnx_import {

using onnx::TensorProto;
using Ints = std::vector<int64_t>;
// ------------------------------------------------------------------ data movement

Status Importer::LowerConcat(const onnx::NodeProto& n) {
  if (n.input_size() < 1) return Fail(n, StatusCode::kInvalidModel, "no inputs");
  int64_t axis;
  EDGEQ_RETURN_IF_ERROR(attr_int(n, "axis", 0, &axis));
  // Inputs with no elements (an empty Slice) add nothing: the Concat of the others.
  std::vector<std::string> filled;
  for (int k = 0; k < n.input_size(); ++k) {
    Value* v;
    EDGEQ_RETURN_IF_ERROR(Input(n, k, &v));
    if (shape_numel(v->shape) != 0) filled.push_back(n.input(k));
  }
  if (filled.empty()) return Fail(n, StatusCode::kUnsupported, "a Concat of empty tensors is not supported");
  if (filled.size() == 1) return LowerSynthetic(n, "Identity", filled, n.output(0));
  if (filled.size() < static_cast<size_t>(n.input_size()))
    return LowerSynthetic(n, "Concat", filled, n.output(0), {int_attr("axis", axis)});
  Value* x0;
  EDGEQ_RETURN_IF_ERROR(Input(n, 0, &x0));
  const size_t r = x0->shape.size();
  Status s = normalize_axis(axis, r, &axis);
  if (!s.ok()) return Fail(n, s.code(), s.message());
  Shape out_shape = x0->shape;
  out_shape[axis] = 0;
  std::vector<const Value*> operands;
  for (int k = 0; k < n.input_size(); ++k) {
    Value* v;
    EDGEQ_RETURN_IF_ERROR(Input(n, k, &v));
    operands.push_back(v);
  }
  const bool nhwc = r == 4 && ResultNhwc(operands);
  std::vector<int32_t> ins;
  for (int k = 0; k < n.input_size(); ++k) {
    Value* v;
    EDGEQ_RETURN_IF_ERROR(Input(n, k, &v));
    if (v->shape.size() != r || v->type != x0->type)
      return Fail(n, StatusCode::kInvalidModel, "inputs differ in rank or type");
    for (size_t d = 0; d < r; ++d)
      if (static_cast<int64_t>(d) != axis && v->shape[d] != x0->shape[d])
        return Fail(n, StatusCode::kInvalidModel, "input shapes differ off the axis");
    out_shape[axis] += v->shape[axis];
    int32_t ir;
    EDGEQ_RETURN_IF_ERROR(AsLayout(n, v, nhwc, &ir));
    ins.push_back(ir);
  }
  if (x0->type != TensorProto::FLOAT) {
    for (int32_t t : ins)
      if (g_->tensors[t].dtype != g_->tensors[ins[0]].dtype ||
          !same_quant_params(g_->tensors[t].quant, g_->tensors[ins[0]].quant) ||
          g_->tensors[t].quant.empty())
        return Fail(n, StatusCode::kUnsupported,
                    "concatenating quantized tensors with different parameters");
  }
  int32_t out;
  s = NewTensorLike(ins[0], n.output(0), true, IrShape(out_shape, nhwc), &out);
  if (!s.ok()) return Fail(n, s.code(), s.message());
  if (r == 4 && !nhwc) plain_.insert(out);
  DefineTensor(n.output(0), x0->type, out_shape, out);
  Attrs a;
  a.axis = static_cast<int32_t>(nhwc ? to_ir_axis(axis, r) : axis);
  Emit(n, "", OpType::kConcat, ins, {out}, a);
  return Status::Ok();
}

Status Importer::LowerReshapeFamily(const onnx::NodeProto& n) {
  Value* x;
  EDGEQ_RETURN_IF_ERROR(Input(n, 0, &x));
  const std::string& op = n.op_type();
  Shape out_shape;
  Status s;
  if (op == "Reshape") {
    Ints spec;
    bool have;
    EDGEQ_RETURN_IF_ERROR(ConstInts(n, 1, &spec, &have));
    if (!have) return Fail(n, StatusCode::kInvalidModel, "shape input missing");
    int64_t allowzero = 0;
    if (opset_ >= 14) EDGEQ_RETURN_IF_ERROR(attr_int(n, "allowzero", 0, &allowzero));
    s = reshape_shape(x->shape, spec, allowzero != 0, &out_shape);
  } else if (op == "Flatten") {
    int64_t axis;
    EDGEQ_RETURN_IF_ERROR(attr_int(n, "axis", 1, &axis));
    const int64_t r = static_cast<int64_t>(x->shape.size());
    if (axis < -r || axis > r) return Fail(n, StatusCode::kInvalidModel, "axis out of range");
    if (axis < 0) axis += r;
    int64_t a = 1, b = 1;
    for (int64_t k = 0; k < r; ++k) (k < axis ? a : b) *= x->shape[k];
    out_shape = {a, b};
  } else {
    Ints axes;
    bool have;
    if (opset_ >= 13)
      EDGEQ_RETURN_IF_ERROR(ConstInts(n, 1, &axes, &have));
    else
      EDGEQ_RETURN_IF_ERROR(attr_ints(n, "axes", &axes, &have));
    if (op == "Squeeze") {
      s = squeeze_shape(x->shape, axes, !have, &out_shape);
    } else {
      if (!have) return Fail(n, StatusCode::kInvalidModel, "axes missing");
      s = unsqueeze_shape(x->shape, axes, &out_shape);
    }
  }
  if (!s.ok()) return Fail(n, s.code(), s.message());
  int32_t out;
  EDGEQ_RETURN_IF_ERROR(ReshapeValue(n, *x, out_shape, n.output(0), &out));
  DefineTensor(n.output(0), x->type, out_shape, out);
  return Status::Ok();
}

Status Importer::LowerTranspose(const onnx::NodeProto& n) {
  Value* x;
  EDGEQ_RETURN_IF_ERROR(Input(n, 0, &x));
  const size_t r = x->shape.size();
  Ints perm;
  bool have;
  EDGEQ_RETURN_IF_ERROR(attr_ints(n, "perm", &perm, &have));
  if (!have)
    for (int64_t k = static_cast<int64_t>(r) - 1; k >= 0; --k) perm.push_back(k);
  if (perm.size() != r) return Fail(n, StatusCode::kInvalidModel, "perm has the wrong length");
  std::vector<bool> seen(r, false);
  for (int64_t p : perm) {
    if (p < 0 || p >= static_cast<int64_t>(r) || seen[p])
      return Fail(n, StatusCode::kInvalidModel, "perm is not a permutation");
    seen[p] = true;
  }
  Shape out_shape(r);
  for (size_t k = 0; k < r; ++k) out_shape[k] = x->shape[perm[k]];
  // An NHWC image stays NHWC (the permutation is remapped); a value in ONNX order keeps it.
  const bool nhwc = x->kind == ValueKind::kTensor && Nhwc(*x);
  Ints q = perm;
  if (nhwc)
    for (size_t k = 0; k < 4; ++k) q[k] = kNchwToNhwcAxis[perm[kNhwcFromNchw[k]]];
  int32_t x_ir, out;
  EDGEQ_RETURN_IF_ERROR(AsLayout(n, x, nhwc, &x_ir));
  const Shape in_ir = IrShape(x->shape, nhwc);
  bool identity = true;
  for (size_t k = 0; k < r; ++k) identity &= q[k] == static_cast<int64_t>(k);
  if (identity) {
    DefineTensor(n.output(0), x->type, out_shape, x_ir);
    return Status::Ok();
  }
  Status s = NewTensorLike(x_ir, n.output(0), true, IrShape(out_shape, nhwc), &out);
  if (!s.ok()) return Fail(n, s.code(), s.message());
  if (r == 4 && !nhwc) plain_.insert(out);
  if (perm_is_view(in_ir, q)) {
    Emit(n, "", OpType::kReshape, {x_ir}, {out});
  } else {
    Attrs a;
    for (int64_t p : q) a.perm.push_back(static_cast<int32_t>(p));
    Emit(n, "", OpType::kTranspose, {x_ir}, {out}, a);
  }
  DefineTensor(n.output(0), x->type, out_shape, out);
  return Status::Ok();
}

Status Importer::LowerPad(const onnx::NodeProto& n) {
  Value* x;
  EDGEQ_RETURN_IF_ERROR(Input(n, 0, &x));
  const size_t r = x->shape.size();
  std::string mode;
  EDGEQ_RETURN_IF_ERROR(attr_string(n, "mode", "constant", &mode));
  if (mode != "constant" && mode != "reflect" && mode != "edge")
    return Fail(n, StatusCode::kUnsupported, "pad mode '" + mode + "' is not supported");
  Ints pads;
  float value = 0.f;
  if (opset_ < 11) {
    EDGEQ_RETURN_IF_ERROR(attr_ints(n, "pads", &pads, nullptr));
    EDGEQ_RETURN_IF_ERROR(attr_float(n, "value", 0.f, &value));
  } else {
    bool have, have_v;
    EDGEQ_RETURN_IF_ERROR(ConstInts(n, 1, &pads, &have));
    std::vector<float> v;
    EDGEQ_RETURN_IF_ERROR(ConstFloats(n, 2, &v, &have_v));
    if (have_v) {
      if (v.size() != 1)
        return Fail(n, StatusCode::kInvalidModel, "constant_value must be a scalar");
      value = v[0];
    }
    Ints axes;
    bool have_axes = false;
    EDGEQ_RETURN_IF_ERROR(ConstInts(n, 3, &axes, &have_axes));
    if (have_axes) {
      if (pads.size() != 2 * axes.size())
        return Fail(n, StatusCode::kInvalidModel, "pads do not match axes");
      Ints full(2 * r, 0);
      for (size_t k = 0; k < axes.size(); ++k) {
        int64_t ax;
        Status s = normalize_axis(axes[k], r, &ax);
        if (!s.ok()) return Fail(n, s.code(), s.message());
        full[ax] = pads[k];
        full[ax + r] = pads[k + axes.size()];
      }
      pads = full;
    }
  }
  if (pads.size() != 2 * r)
    return Fail(n, StatusCode::kInvalidModel,
                "pads must have " + std::to_string(2 * r) + " values");
  if (!std::isfinite(value)) return Fail(n, StatusCode::kUnsupported, "non-finite pad value");
  // Negative pads (a constant Pad) crop: a Slice first, then the pad of what is positive.
  Ints crop(2 * r, 0);
  bool cropped = false;
  for (size_t k = 0; k < 2 * r; ++k) {
    if (pads[k] >= 0) continue;
    if (mode != "constant") return Fail(n, StatusCode::kUnsupported, "negative pads are supported in constant mode only");
    if (pads[k] < -x->shape[k % r]) return Fail(n, StatusCode::kInvalidModel, "a negative pad beyond its dimension");
    crop[k] = -pads[k];
    pads[k] = 0;
    cropped = true;
  }
  Value cropped_value;
  if (cropped) {
    Shape kept = x->shape;
    for (size_t k = 0; k < r; ++k) kept[k] -= crop[k] + crop[k + r];
    for (int64_t d : kept)
      if (d < 1) return Fail(n, StatusCode::kInvalidModel, "the pads crop a dimension to nothing");
    int32_t x_ir, sliced;
    EDGEQ_RETURN_IF_ERROR(AsTensor(n, x, &x_ir));
    const bool nhwc = Nhwc(*x);
    Status s = NewTensorLike(x_ir, n.output(0) + ".cropped", false, IrShape(kept, nhwc), &sliced);
    if (!s.ok()) return Fail(n, s.code(), s.message());
    if (r == 4 && !nhwc) plain_.insert(sliced);
    Attrs sa;
    for (size_t k = 0; k < r; ++k) {
      const size_t src = nhwc ? static_cast<size_t>(kNhwcFromNchw[k]) : k;
      sa.starts.push_back(static_cast<int32_t>(crop[src]));
      sa.steps.push_back(1);
    }
    Emit(n, "crop", OpType::kSlice, {x_ir}, {sliced}, sa);
    cropped_value.kind = ValueKind::kTensor;
    cropped_value.type = x->type;
    cropped_value.shape = kept;
    cropped_value.ir = sliced;
    cropped_value.name = n.output(0) + ".cropped";
    x = &cropped_value;
  }
  Shape out_shape = x->shape;
  bool zero = true;
  for (size_t k = 0; k < r; ++k) {
    if (pads[k] > kMaxElements || pads[k + r] > kMaxElements)
      return Fail(n, StatusCode::kInvalidModel, "pad out of range");
    if (mode == "reflect" && (pads[k] > 0 || pads[k + r] > 0) && (pads[k] >= x->shape[k] || pads[k + r] >= x->shape[k]))
      return Fail(n, StatusCode::kInvalidModel, "a reflect pad must be below the dimension it pads");
    out_shape[k] += pads[k] + pads[k + r];
    zero &= pads[k] == 0 && pads[k + r] == 0;
  }
  int32_t x_ir, out;
  EDGEQ_RETURN_IF_ERROR(AsTensor(n, x, &x_ir));
  if (zero) {
    DefineTensor(n.output(0), x->type, x->shape, x_ir);
    return Status::Ok();
  }
  const bool nhwc = Nhwc(*x);
  Status s = NewTensorLike(x_ir, n.output(0), true, IrShape(out_shape, nhwc), &out);
  if (!s.ok()) return Fail(n, s.code(), s.message());
  if (r == 4 && !nhwc) plain_.insert(out);
  Attrs a;
  a.pads.resize(2 * r);
  for (size_t k = 0; k < r; ++k) {
    const size_t src = nhwc ? static_cast<size_t>(kNhwcFromNchw[k]) : k;
    a.pads[k] = static_cast<int32_t>(pads[src]);
    a.pads[k + r] = static_cast<int32_t>(pads[src + r]);
  }
  a.pad_value = mode == "constant" ? value : 0.f;
  Emit(n, "", mode == "reflect" ? OpType::kPadReflect : mode == "edge" ? OpType::kPadEdge : OpType::kPad, {x_ir}, {out},
       a);
  DefineTensor(n.output(0), x->type, out_shape, out);
  return Status::Ok();
}

Status Importer::LowerResize(const onnx::NodeProto& n) {
  Value* x;
  EDGEQ_RETURN_IF_ERROR(Input(n, 0, &x));
  if (x->shape.size() == 3 && opset_ >= 11) {
    std::string mode;
    EDGEQ_RETURN_IF_ERROR(attr_string(n, "mode", "nearest", &mode));
    if (mode == "cubic")  // ONNX Runtime refuses it too
      return Fail(n, StatusCode::kUnsupported, "cubic resize of a rank-3 tensor is not supported");
    return LowerResize1d(n, *x);
  }
  if (x->shape.size() != 4)
    return Fail(n, StatusCode::kUnsupported, "only rank-4 inputs (and rank 3 from opset 11) are supported");
  std::vector<float> scales;
  Ints sizes;
  bool have_scales = false, have_sizes = false;
  const int scales_idx = opset_ >= 11 ? 2 : 1;
  EDGEQ_RETURN_IF_ERROR(ConstFloats(n, scales_idx, &scales, &have_scales));
  if (opset_ >= 11) EDGEQ_RETURN_IF_ERROR(ConstInts(n, 3, &sizes, &have_sizes));
  if (have_scales && scales.empty()) have_scales = false;  // empty scales: sizes is used
  std::string mode, ctm, nearest;
  EDGEQ_RETURN_IF_ERROR(attr_string(n, "mode", "nearest", &mode));
  EDGEQ_RETURN_IF_ERROR(attr_string(n, "coordinate_transformation_mode",
                                    opset_ >= 11 ? "half_pixel" : "asymmetric", &ctm));
  EDGEQ_RETURN_IF_ERROR(
      attr_string(n, "nearest_mode", opset_ >= 11 ? "round_prefer_floor" : "floor", &nearest));
  if (opset_ < 11) nearest = "floor", ctm = "asymmetric";  // and see below
  if (mode == "bilinear") mode = "linear";  // Upsample before opset 9's spelling
  if (mode != "nearest" && mode != "linear" && mode != "cubic")
    return Fail(n, StatusCode::kUnsupported, "resize mode '" + mode + "' is not supported");
  int64_t antialias = 0;
  EDGEQ_RETURN_IF_ERROR(attr_int(n, "antialias", 0, &antialias));
  if (antialias) return Fail(n, StatusCode::kUnsupported, "antialias is not supported");
  // Opset 18: `axes` names the axes that scales / sizes give (the others keep their size),
  // and keep_aspect_ratio_policy turns sizes into one scale over those axes.
  Ints axes;
  bool have_axes = false;
  EDGEQ_RETURN_IF_ERROR(attr_ints(n, "axes", &axes, &have_axes));
  if (have_axes) {
    if (axes.empty() || axes.size() > 4) return Fail(n, StatusCode::kInvalidModel, "invalid axes");
    for (int64_t& ax : axes) {
      Status s = normalize_axis(ax, 4, &ax);
      if (!s.ok()) return Fail(n, s.code(), s.message());
    }
    Ints sorted = axes;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
      return Fail(n, StatusCode::kInvalidModel, "axes repeat an axis");
    if ((have_scales && scales.size() != axes.size()) || (have_sizes && sizes.size() != axes.size()))
      return Fail(n, StatusCode::kInvalidModel, "scales or sizes do not match axes");
    std::vector<float> full_scales(4, 1.f);
    Ints full_sizes(x->shape.begin(), x->shape.end());
    for (size_t k = 0; k < axes.size(); ++k) {
      if (have_scales) full_scales[static_cast<size_t>(axes[k])] = scales[k];
      if (have_sizes) full_sizes[static_cast<size_t>(axes[k])] = sizes[k];
    }
    if (have_scales) scales = full_scales;
    if (have_sizes) sizes = full_sizes;
  } else {
    for (int64_t d = 0; d < 4; ++d) axes.push_back(d);
  }
  std::string policy;
  float policy_scale = 0.f;
  EDGEQ_RETURN_IF_ERROR(attr_string(n, "keep_aspect_ratio_policy", "stretch", &policy));
  if (policy != "stretch" && policy != "not_larger" && policy != "not_smaller")
    return Fail(n, StatusCode::kInvalidModel, "unknown keep_aspect_ratio_policy '" + policy + "'");
  if (policy != "stretch" && have_sizes && !(have_scales && !scales.empty())) {
    if (sizes.size() != 4) return Fail(n, StatusCode::kInvalidModel, "sizes must have 4 values");
    // One scale for the named axes: the smallest (not_larger) or largest (not_smaller)
    // sizes[d] / in[d], in float; each of those axes is then round(scale * in[d]), and
    // that scale (not out / in) drives the coordinate transform, as in ONNX Runtime.
    float scale = policy == "not_larger" ? INFINITY : 0.f;
    for (int64_t d : axes) {
      if (x->shape[d] < 1 || sizes[d] < 1) return Fail(n, StatusCode::kInvalidModel, "invalid output size");
      const float r = static_cast<float>(sizes[d]) / static_cast<float>(x->shape[d]);
      scale = policy == "not_larger" ? std::min(scale, r) : std::max(scale, r);
    }
    for (int64_t d : axes) sizes[d] = static_cast<int64_t>(std::round(scale * static_cast<float>(x->shape[d])));
    policy_scale = scale;
  }
  Shape out_shape;
  if (have_scales) {
    if (scales.size() != 4) return Fail(n, StatusCode::kInvalidModel, "scales must have 4 values");
    for (size_t k = 0; k < 4; ++k) {
      // In float, as ONNX Runtime sizes its output (scale * in, truncated).
      const double o = std::floor(static_cast<double>(scales[k] * static_cast<float>(x->shape[k])));
      if (!(o >= 1 && o <= kMaxElements))
        return Fail(n, StatusCode::kInvalidModel, "invalid scale");
      out_shape.push_back(static_cast<int64_t>(o));
    }
  } else if (have_sizes) {
    if (sizes.size() != 4) return Fail(n, StatusCode::kInvalidModel, "sizes must have 4 values");
    out_shape = sizes;
  } else {
    return Fail(n, StatusCode::kInvalidModel, "neither scales nor sizes given");
  }
  for (int64_t d : out_shape)
    if (d < 1 || d > kMaxElements) return Fail(n, StatusCode::kInvalidModel, "invalid output size");
  if (out_shape[0] != x->shape[0] || out_shape[1] != x->shape[1])
    return Fail(n, StatusCode::kUnsupported, "only the H and W dimensions may be resized");
  if (opset_ < 11 && mode == "nearest" && have_scales) {
    // Upsample and Resize-10 round a coordinate o / scale as ONNX Runtime's "simple" mode
    // does: down where the axis is enlarged, up where it is shrunk (ONNX's
    // resize_downsample_nearest). Only axes whose coordinates are not all whole differ.
    bool up = false, down = false;
    for (size_t k = 2; k < 4; ++k) {
      bool whole = true;
      for (int64_t o = 0; o < out_shape[k] && whole; ++o) {
        const float v = static_cast<float>(o) / scales[k];
        whole = v == std::floor(v);
      }
      if (whole) continue;
      (scales[k] < 1.f ? down : up) = true;
    }
    if (down && up)
      return Fail(n, StatusCode::kUnsupported, "a nearest resize that enlarges one axis and shrinks the other");
    if (down) nearest = "ceil";
  }
  const int64_t H = x->shape[2], W = x->shape[3];
  // Given scales are the coordinate transform's (ONNX Runtime's too), which out / in
  // equals only when in * scale is a whole number.
  // (The policy's scale only on the axes it names; the others keep their size: out / in.)
  const auto named = [&](int64_t d) { return std::find(axes.begin(), axes.end(), d) != axes.end(); };
  const float coord_scale_h = have_scales ? scales[2] : named(2) ? policy_scale : 0.f;
  const float coord_scale_w = have_scales ? scales[3] : named(3) ? policy_scale : 0.f;
  if (mode == "linear" || mode == "cubic") {
    static const std::map<std::string, int32_t> kCoord = {
        {"half_pixel", 0}, {"pytorch_half_pixel", 1}, {"align_corners", 2}, {"asymmetric", 3}};
    auto it = kCoord.find(ctm);
    if (it == kCoord.end())
      return Fail(n, StatusCode::kUnsupported, mode + " resize with coordinate_transformation_mode '" + ctm + "'");
    if (x->type != TensorProto::FLOAT)
      return Fail(n, StatusCode::kUnsupported, mode + " resize of a " + std::string(onnx_type_name(x->type)) + " tensor");
    int32_t x_ir, out;
    EDGEQ_RETURN_IF_ERROR(AsLayout(n, x, true, &x_ir));
    EDGEQ_RETURN_IF_ERROR(OutputTensor(n, 0, DType::kF32, out_shape, &out, true));
    Attrs a;
    a.coord_mode = it->second;
    a.coord_scale_h = coord_scale_h;
    a.coord_scale_w = coord_scale_w;
    if (mode == "cubic") {
      int64_t exclude = 0;
      EDGEQ_RETURN_IF_ERROR(attr_float(n, "cubic_coeff_a", -0.75f, &a.cubic_a));
      EDGEQ_RETURN_IF_ERROR(attr_int(n, "exclude_outside", 0, &exclude));
      if (!std::isfinite(a.cubic_a) || std::fabs(a.cubic_a) > 16.f || (exclude != 0 && exclude != 1))
        return Fail(n, StatusCode::kInvalidModel, "invalid cubic_coeff_a or exclude_outside");
      a.exclude_outside = static_cast<int32_t>(exclude);
    }
    Emit(n, "", mode == "cubic" ? OpType::kResizeCubic : OpType::kResizeLinear, {x_ir}, {out}, a);
    return Status::Ok();
  }
  const bool integer_factors = out_shape[2] % H == 0 && out_shape[3] % W == 0 &&
                               (!have_scales || (scales[2] == static_cast<float>(out_shape[2] / H) &&
                                                 scales[3] == static_cast<float>(out_shape[3] / W)));
  // With an integer factor s, output index o = k*s + r (0 <= r < s) must read input k:
  // asymmetric o/s floors to k; half_pixel (o+0.5)/s-0.5 lies within 0.5 of k, so both
  // round_prefer_* pick k; tf_half_pixel_for_nn (o+0.5)/s floors to k.
  const bool plain = (ctm == "asymmetric" && nearest == "floor") ||
                     ((ctm == "half_pixel" || ctm == "pytorch_half_pixel") &&
                      (nearest == "round_prefer_floor" || nearest == "round_prefer_ceil")) ||
                     (ctm == "tf_half_pixel_for_nn" && nearest == "floor");
  if (!integer_factors || !plain) {
    // Any other size or rounding: a resize through index tables (data movement, any dtype).
    static const std::map<std::string, int32_t> kCoord = {{"half_pixel", 0},    {"pytorch_half_pixel", 1},
                                                          {"align_corners", 2}, {"asymmetric", 3},
                                                          {"tf_half_pixel_for_nn", 4}};
    static const std::map<std::string, int32_t> kRound = {
        {"round_prefer_floor", 0}, {"round_prefer_ceil", 1}, {"floor", 2}, {"ceil", 3}};
    auto c = kCoord.find(ctm);
    auto r = kRound.find(nearest);
    if (c == kCoord.end() || r == kRound.end())
      return Fail(n, StatusCode::kUnsupported,
                  "nearest resize with coordinate_transformation_mode '" + ctm + "' and nearest_mode '" + nearest + "'");
    int32_t x_ir, out;
    EDGEQ_RETURN_IF_ERROR(AsLayout(n, x, true, &x_ir));
    Status st = NewTensorLike(x_ir, n.output(0), true, to_ir_shape(out_shape), &out);
    if (!st.ok()) return Fail(n, st.code(), st.message());
    Attrs a;
    a.coord_mode = c->second;
    a.nearest_mode = r->second;
    a.coord_scale_h = coord_scale_h;
    a.coord_scale_w = coord_scale_w;
    Emit(n, "", OpType::kResizeNearestTo, {x_ir}, {out}, a);
    DefineTensor(n.output(0), x->type, out_shape, out);
    return Status::Ok();
  }
  const int64_t sh = out_shape[2] / H, sw = out_shape[3] / W;
  int32_t x_ir, out;
  EDGEQ_RETURN_IF_ERROR(AsLayout(n, x, true, &x_ir));
  if (sh == 1 && sw == 1) {
    DefineTensor(n.output(0), x->type, x->shape, x_ir);
    return Status::Ok();
  }
  Status s = NewTensorLike(x_ir, n.output(0), true, to_ir_shape(out_shape), &out);
  if (!s.ok()) return Fail(n, s.code(), s.message());
  Attrs a;
  a.scale_h = static_cast<int32_t>(sh);
  a.scale_w = static_cast<int32_t>(sw);
  Emit(n, "", OpType::kResizeNearest, {x_ir}, {out}, a);
  DefineTensor(n.output(0), x->type, out_shape, out);
  return Status::Ok();
}

// A Resize of [N, C, L] (audio upsampling): the same Resize of [N, C, 1, L] between two
// views, its scales / sizes given a 1 for the height.
Status Importer::LowerResize1d(const onnx::NodeProto& n, const Value& x) {
  std::vector<float> scales;
  Ints sizes;
  bool have_scales = false, have_sizes = false;
  EDGEQ_RETURN_IF_ERROR(ConstFloats(n, 2, &scales, &have_scales));
  EDGEQ_RETURN_IF_ERROR(ConstInts(n, 3, &sizes, &have_sizes));
  if (have_scales && scales.empty()) have_scales = false;
  if (find_attr(n, "axes")) return Fail(n, StatusCode::kUnsupported, "a rank-3 resize with the axes attribute");
  if ((have_scales && scales.size() != 3) || (have_sizes && sizes.size() != 3) || (!have_scales && !have_sizes))
    return Fail(n, StatusCode::kInvalidModel, "a rank-3 resize needs 3 scales or 3 sizes");
  onnx::NodeProto n4 = n;
  const std::string x4 = n.output(0) + ".as_2d";
  int32_t x4_ir;
  EDGEQ_RETURN_IF_ERROR(ReshapeValue(n, x, {x.shape[0], x.shape[1], 1, x.shape[2]}, x4, &x4_ir));
  DefineTensor(x4, x.type, {x.shape[0], x.shape[1], 1, x.shape[2]}, x4_ir);
  n4.set_input(0, x4);
  Value c;
  c.kind = ValueKind::kConst;
  c.c.dims = c.shape = {4};
  if (have_scales) {
    c.type = c.c.type = TensorProto::FLOAT;
    c.c.f = {scales[0], scales[1], 1.f, scales[2]};
    values_[n.output(0) + ".scales_2d"] = c;
    while (n4.input_size() < 3) n4.add_input("");
    n4.set_input(2, n.output(0) + ".scales_2d");
  } else {
    c.type = c.c.type = TensorProto::INT64;
    c.c.i = {sizes[0], sizes[1], 1, sizes[2]};
    values_[n.output(0) + ".sizes_2d"] = c;
    n4.set_input(2, "");
    n4.set_input(3, n.output(0) + ".sizes_2d");
  }
  n4.set_output(0, n.output(0) + ".2d");
  EDGEQ_RETURN_IF_ERROR(LowerResize(n4));
  const Value& y4 = values_.at(n.output(0) + ".2d");
  return ReshapeToOutput(n, y4.ir, x.type, y4.shape, {y4.shape[0], y4.shape[1], y4.shape[3]});
}

Status Importer::LowerSplit(const onnx::NodeProto& n) {
  Value* x;
  EDGEQ_RETURN_IF_ERROR(Input(n, 0, &x));
  const size_t r = x->shape.size();
  int64_t axis;
  EDGEQ_RETURN_IF_ERROR(attr_int(n, "axis", 0, &axis));
  Status s = normalize_axis(axis, r, &axis);
  if (!s.ok()) return Fail(n, s.code(), s.message());
  Ints sizes;
  bool have = false;
  if (opset_ >= 13)
    EDGEQ_RETURN_IF_ERROR(ConstInts(n, 1, &sizes, &have));
  else
    EDGEQ_RETURN_IF_ERROR(attr_ints(n, "split", &sizes, &have));
  const int64_t dim = x->shape[axis];
  const int64_t cnt = n.output_size();
  if (cnt < 1) return Fail(n, StatusCode::kInvalidModel, "no outputs");
  if (!have) {
    int64_t num = cnt;
    if (opset_ >= 18) EDGEQ_RETURN_IF_ERROR(attr_int(n, "num_outputs", cnt, &num));
    if (num != cnt) return Fail(n, StatusCode::kInvalidModel, "num_outputs mismatch");
    const int64_t chunk = (dim + cnt - 1) / cnt;
    if (opset_ < 18 && dim % cnt != 0)
      return Fail(n, StatusCode::kInvalidModel, "dimension does not split evenly");
    for (int64_t k = 0; k < cnt; ++k) sizes.push_back(std::min(chunk, dim - k * chunk));
  }
  if (static_cast<int64_t>(sizes.size()) != cnt)
    return Fail(n, StatusCode::kInvalidModel, "split sizes do not match the outputs");
  int64_t total = 0;
  for (int64_t v : sizes) {
    if (v < 1) return Fail(n, StatusCode::kUnsupported, "empty split outputs are not supported");
    if (v > dim) return Fail(n, StatusCode::kInvalidModel, "split sizes exceed the dimension");
    total += v;
  }
  if (total != dim) return Fail(n, StatusCode::kInvalidModel, "split sizes do not add up");
  int32_t x_ir;
  EDGEQ_RETURN_IF_ERROR(AsTensor(n, x, &x_ir));
  const bool nhwc = Nhwc(*x);
  std::vector<int32_t> outs;
  for (int64_t k = 0; k < cnt; ++k) {
    Shape os = x->shape;
    os[axis] = sizes[k];
    const std::string name = n.output(static_cast<int>(k)).empty()
                                 ? node_name_ + ".out" + std::to_string(k)
                                 : n.output(static_cast<int>(k));
    int32_t o;
    s = NewTensorLike(x_ir, name, !n.output(static_cast<int>(k)).empty(), IrShape(os, nhwc), &o);
    if (!s.ok()) return Fail(n, s.code(), s.message());
    if (r == 4 && !nhwc) plain_.insert(o);
    outs.push_back(o);
    if (!n.output(static_cast<int>(k)).empty()) DefineTensor(name, x->type, os, o);
  }
  Attrs a;
  a.axis = static_cast<int32_t>(nhwc ? to_ir_axis(axis, r) : axis);
  Emit(n, "", OpType::kSplit, {x_ir}, outs, a);
  return Status::Ok();
}

Status Importer::LowerSlice(const onnx::NodeProto& n) {
  Value* x;
  EDGEQ_RETURN_IF_ERROR(Input(n, 0, &x));
  const size_t r = x->shape.size();
  Ints starts, ends, axes, steps;
  if (opset_ < 10) {
    EDGEQ_RETURN_IF_ERROR(attr_ints(n, "starts", &starts, nullptr));
    EDGEQ_RETURN_IF_ERROR(attr_ints(n, "ends", &ends, nullptr));
    EDGEQ_RETURN_IF_ERROR(attr_ints(n, "axes", &axes, nullptr));
  } else {
    EDGEQ_RETURN_IF_ERROR(ConstInts(n, 1, &starts, nullptr));
    EDGEQ_RETURN_IF_ERROR(ConstInts(n, 2, &ends, nullptr));
    EDGEQ_RETURN_IF_ERROR(ConstInts(n, 3, &axes, nullptr));
    EDGEQ_RETURN_IF_ERROR(ConstInts(n, 4, &steps, nullptr));
  }
  SliceParams sp;
  Status s = slice_params(x->shape, starts, ends, axes, steps, &sp);
  if (!s.ok()) return Fail(n, s.code(), s.message());
  bool identity = true, empty = false;
  for (size_t k = 0; k < r; ++k) {
    empty |= sp.count[k] == 0;
    identity &= sp.first[k] == 0 && sp.step[k] == 1 && sp.count[k] == x->shape[k];
  }
  if (empty) {  // no elements (rotary code's x[..., d:] when d is the whole head): a
                // constant of that shape, which Concat drops (LowerConcat)
    Value c;
    c.kind = ValueKind::kConst;
    c.type = c.c.type = x->type;
    c.c.dims = c.shape = sp.count;
    values_[n.output(0)] = std::move(c);
    return Status::Ok();
  }
  int32_t x_ir, out;
  EDGEQ_RETURN_IF_ERROR(AsTensor(n, x, &x_ir));
  const Shape& out_shape = sp.count;
  if (identity) {
    DefineTensor(n.output(0), x->type, x->shape, x_ir);
    return Status::Ok();
  }
  const bool nhwc = Nhwc(*x);
  s = NewTensorLike(x_ir, n.output(0), true, IrShape(out_shape, nhwc), &out);
  if (!s.ok()) return Fail(n, s.code(), s.message());
  if (r == 4 && !nhwc) plain_.insert(out);
  Attrs a;
  for (size_t k = 0; k < r; ++k) {
    const size_t src = nhwc ? static_cast<size_t>(kNhwcFromNchw[k]) : k;
    if (sp.step[src] > INT32_MAX || sp.step[src] < -INT32_MAX)
      return Fail(n, StatusCode::kUnsupported, "slice step out of range");
    a.starts.push_back(static_cast<int32_t>(sp.first[src]));
    a.steps.push_back(static_cast<int32_t>(sp.step[src]));
  }
  Emit(n, "", OpType::kSlice, {x_ir}, {out}, a);
  DefineTensor(n.output(0), x->type, out_shape, out);
  return Status::Ok();
}

// An inference BatchNormalization of C channels as y = x * scale[c] + shift[c]:
// scale = gamma / sqrt(var + eps), shift = beta - mean * scale.
Status Importer::BatchNormAffine(const onnx::NodeProto& n, int64_t C, std::vector<float>* scale,
                                 std::vector<float>* shift) {
  int64_t training = 0;
  EDGEQ_RETURN_IF_ERROR(attr_int(n, "training_mode", 0, &training));
  if (training) return Fail(n, StatusCode::kUnsupported, "training_mode=1 is not supported");
  for (int k = 1; k < n.output_size(); ++k)
    if (!n.output(k).empty() && live_.count(n.output(k)))
      return Fail(n, StatusCode::kUnsupported, "training outputs are not supported");
  float eps;
  EDGEQ_RETURN_IF_ERROR(attr_float(n, "epsilon", 1e-5f, &eps));
  std::vector<float> p[4];
  for (int k = 0; k < 4; ++k) {
    bool have;
    EDGEQ_RETURN_IF_ERROR(ConstFloats(n, k + 1, &p[k], &have));
    if (!have || static_cast<int64_t>(p[k].size()) != C)
      return Fail(n, StatusCode::kInvalidModel,
                  "scale, B, mean and var must be constants of " + std::to_string(C) + " values");
  }
  scale->clear();
  shift->clear();
  for (int64_t c = 0; c < C; ++c) {
    const float a = p[0][c] / std::sqrt(p[3][c] + eps);
    scale->push_back(a);
    shift->push_back(p[1][c] - p[2][c] * a);
  }
  return Status::Ok();
}

// The output name of op node n (C output channels, bias `bias`), and the fold of a
// BatchNormalization that is its only reader: then its output's name, *scale per channel
// (empty when nothing folds) and bias * scale + shift, and the BatchNormalization is
// skipped.
std::string Importer::FoldableBatchNorm(const onnx::NodeProto& n, int64_t C, std::vector<float>* scale,
                                        std::vector<float>* bias) {
  scale->clear();
  auto users = users_.find(n.output(0));
  if (users == users_.end() || users->second.size() != 1 || consumers_[n.output(0)] != 1) return n.output(0);
  const onnx::NodeProto& bn = *users->second[0];
  if (bn.op_type() != "BatchNormalization" || bn.input_size() < 5 || bn.input(0) != n.output(0)) return n.output(0);
  std::vector<float> a, shift;
  if (!BatchNormAffine(bn, C, &a, &shift).ok()) return n.output(0);  // lowered (or refused) on its own
  for (int64_t c = 0; c < C; ++c) (*bias)[c] = (*bias)[c] * a[c] + shift[c];
  *scale = std::move(a);
  skip_nodes_.insert(bn.output(0));
  skip_nodes_.insert(n.output(0));  // never defined: the BatchNormalization was its only reader
  return bn.output(0);
}

Status Importer::LowerBatchNorm(const onnx::NodeProto& n) {
  Value* x;
  EDGEQ_RETURN_IF_ERROR(RequireTensor(n, 0, &x));
  if (x->shape.size() < 2) return Fail(n, StatusCode::kInvalidModel, "input rank must be >= 2");
  const int64_t C = x->shape[1];
  Value mul, add;
  mul.kind = add.kind = ValueKind::kConst;
  Shape cs(x->shape.size() - 1, 1);
  cs[0] = C;
  mul.shape = add.shape = mul.c.dims = add.c.dims = cs;
  EDGEQ_RETURN_IF_ERROR(BatchNormAffine(n, C, &mul.c.f, &add.c.f));
  mul.name = n.output(0) + ".bn_scale";
  add.name = n.output(0) + ".bn_shift";
  int32_t x_ir, m_ir, a_ir, tmp, out;
  const size_t r = x->shape.size();
  EDGEQ_RETURN_IF_ERROR(AsLayout(n, x, true, &x_ir));
  EDGEQ_RETURN_IF_ERROR(BroadcastOperand(n, &mul, r, &m_ir));
  EDGEQ_RETURN_IF_ERROR(BroadcastOperand(n, &add, r, &a_ir));
  Status s = NewTensor(n.output(0) + ".scaled", false, DType::kF32, to_ir_shape(x->shape), &tmp);
  if (!s.ok()) return Fail(n, s.code(), s.message());
  EDGEQ_RETURN_IF_ERROR(OutputTensor(n, 0, DType::kF32, x->shape, &out));
  Emit(n, "scale", OpType::kMul, {x_ir, m_ir}, {tmp});
  Emit(n, "", OpType::kAdd, {tmp, a_ir}, {out});
  return Status::Ok();
}

Status Importer::LowerPassThrough(const onnx::NodeProto& n) {
  Value* x;
  EDGEQ_RETURN_IF_ERROR(Input(n, 0, &x));
  if (n.op_type() == "Dropout" && n.output_size() > 1 && !n.output(1).empty() &&
      live_.count(n.output(1)))
    return Fail(n, StatusCode::kUnsupported, "the mask output is not supported");
  if (n.op_type() == "Cast") {
    int64_t to;
    EDGEQ_RETURN_IF_ERROR(attr_int(n, "to", 0, &to));
    if (to != x->type)
      return Fail(n, StatusCode::kUnsupported,
                  std::string("casting a runtime tensor from ") + onnx_type_name(x->type) + " to " +
                      onnx_type_name(static_cast<int32_t>(to)) + " is not supported");
  }
  Value v = *x;
  v.name.clear();
  values_[n.output(0)] = std::move(v);
  return Status::Ok();
}

}  // namespace onnx_import
}  // namespace edgeq
