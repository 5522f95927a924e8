// Graph validation and shape inference (see shape.h). Runs once per load; nothing
// here is on the hot path. Every check returns an error naming the node or tensor
// rather than trusting the file: the kernels assume what is checked here.
#include "graph/shape.h"

#include <cmath>
#include <limits>

namespace edgeq {
namespace {

using Shape = std::vector<int32_t>;
constexpr int32_t kMaxAttr = 1 << 16;  // bound on kernel sizes, strides, pads, scales

class NodeChecker {
 public:
  NodeChecker(const Graph& g, const Node& n) : g_(g), n_(n) {}

  Status fail(const std::string& what) const {
    return InvalidModel("node '" + n_.name + "' (" + op_name(n_.op) + "): " + what);
  }
  const Tensor& in(size_t i) const { return g_.tensors[static_cast<size_t>(n_.inputs[i])]; }
  const Tensor& out(size_t i) const { return g_.tensors[static_cast<size_t>(n_.outputs[i])]; }
  bool has_in(size_t i) const { return i < n_.inputs.size() && n_.inputs[i] >= 0; }

  Status counts(size_t min_in, size_t max_in, size_t min_out, size_t max_out) const {
    if (n_.inputs.size() < min_in || n_.inputs.size() > max_in)
      return fail("has " + std::to_string(n_.inputs.size()) + " inputs");
    if (n_.outputs.size() < min_out || n_.outputs.size() > max_out)
      return fail("has " + std::to_string(n_.outputs.size()) + " outputs");
    return Status::Ok();
  }
  Status rank(const Tensor& t, size_t r) const {
    if (t.shape.size() != r)
      return fail("tensor '" + t.name + "' has rank " + std::to_string(t.shape.size()) +
                  ", expected " + std::to_string(r));
    return Status::Ok();
  }
  Status act_range() const {
    const Attrs& a = n_.attrs;
    if (std::isnan(a.act_min) || std::isnan(a.act_max) || a.act_min > a.act_max)
      return fail("activation range is empty or NaN");
    return Status::Ok();
  }
  Status positive(int32_t v, const char* what) const {
    if (v < 1 || v > kMaxAttr) return fail(std::string(what) + " " + std::to_string(v) + " out of range");
    return Status::Ok();
  }
  Status non_negative(int32_t v, const char* what) const {
    if (v < 0 || v > kMaxAttr) return fail(std::string(what) + " " + std::to_string(v) + " out of range");
    return Status::Ok();
  }
  // Activation tensors of a node: all float, or all the same quantized dtype, per-tensor.
  // Quantized weights: per tensor, or per output channel along axis 0.
  Status weights_per_channel(const Tensor& w, int32_t cout) const {
    if (!(w.quant.per_tensor() || (w.quant.axis == 0 && w.quant.scale.size() == static_cast<size_t>(cout))))
      return fail("weights must be quantized per tensor or per output channel (axis 0)");
    return Status::Ok();
  }
  // A dynamically quantized layer's s8 weights: their zero points (ONNX Runtime's
  // asymmetric weights, shifted to s8) one for the tensor or one per output channel, each
  // in [-128, 127].
  Status dynamic_weight_zero_points(const Tensor& w, int32_t cout, const char* what) const {
    const size_t zps = w.quant.zero_point.size();
    if (zps > 1 && zps != static_cast<size_t>(cout))
      return fail(std::string(what) + " needs one weight zero point or one per output channel");
    for (int32_t z : w.quant.zero_point)
      if (z < -128 || z > 127) return fail(std::string(what) + " needs weight zero points in [-128, 127]");
    return Status::Ok();
  }
  Status same_kind(const Tensor& a, const Tensor& b) const {
    if (a.dtype != b.dtype)
      return fail("tensors '" + a.name + "' (" + dtype_name(a.dtype) + ") and '" + b.name + "' (" +
                  dtype_name(b.dtype) + ") differ in dtype");
    return Status::Ok();
  }
  Status activation(const Tensor& t) const {
    if (t.dtype == DType::kF32) return Status::Ok();
    if (!is_quantized_type(t.dtype)) return fail("tensor '" + t.name + "' has dtype " + dtype_name(t.dtype));
    if (!t.quant.per_tensor()) return fail("tensor '" + t.name + "' needs per-tensor quantization");
    return Status::Ok();
  }
  // A tensor that data-movement ops copy: an activation, or a bool / integer tensor
  // without quantization (masks, ids).
  Status movable(const Tensor& t) const {
    if (t.dtype == DType::kBool || is_index_type(t.dtype)) return Status::Ok();
    return activation(t);
  }
  Status same_quant(const Tensor& a, const Tensor& b) const {
    if (a.dtype != b.dtype || (is_quantized_type(a.dtype) &&
                               (a.quant.scale != b.quant.scale || a.quant.zero_point != b.quant.zero_point)))
      return fail("'" + a.name + "' and '" + b.name + "' must have the same dtype and quantization");
    return Status::Ok();
  }

 private:
  const Graph& g_;
  const Node& n_;
};

int32_t conv_out(int32_t in, int32_t k, int32_t stride, int32_t dilation, int32_t pad_a, int32_t pad_b) {
  const int64_t eff = int64_t{dilation} * (k - 1) + 1;
  const int64_t span = int64_t{in} + pad_a + pad_b - eff;
  return span < 0 ? 0 : static_cast<int32_t>(span / stride + 1);
}

Status infer_conv(const NodeChecker& c, const Node& n, std::vector<Shape>* outs) {
  EDGEQ_RETURN_IF_ERROR(c.counts(2, 3, 1, 1));
  const Tensor &x = c.in(0), &w = c.in(1), &y = c.out(0);
  EDGEQ_RETURN_IF_ERROR(c.rank(x, 4));
  EDGEQ_RETURN_IF_ERROR(c.rank(w, 4));
  if (!w.is_constant()) return c.fail("weights must be constant");
  const Attrs& a = n.attrs;
  for (auto [v, what] : {std::pair{a.stride_h, "stride"}, {a.stride_w, "stride"},
                         {a.dilation_h, "dilation"}, {a.dilation_w, "dilation"}, {a.groups, "groups"}})
    EDGEQ_RETURN_IF_ERROR(c.positive(v, what));
  for (int32_t p : {a.pad_top, a.pad_left, a.pad_bottom, a.pad_right}) EDGEQ_RETURN_IF_ERROR(c.non_negative(p, "pad"));
  EDGEQ_RETURN_IF_ERROR(c.act_range());
  const int32_t cin = x.shape[3], cout = w.shape[0];
  if (cin % a.groups != 0 || cout % a.groups != 0 || w.shape[3] * a.groups != cin)
    return c.fail("channels (in " + std::to_string(cin) + ", out " + std::to_string(cout) + ", weights " +
                  shape_string(w.shape) + ") do not match groups " + std::to_string(a.groups));
  if (c.has_in(2)) {
    const Tensor& b = c.in(2);
    if (!b.is_constant() || b.shape != Shape{cout}) return c.fail("bias must be a constant of shape [" + std::to_string(cout) + "]");
  }
  EDGEQ_RETURN_IF_ERROR(c.activation(x));
  EDGEQ_RETURN_IF_ERROR(c.same_kind(x, y));
  if (x.dtype == DType::kF32 && w.dtype == DType::kS8) {
    // Dynamically quantized (ONNX Runtime's ConvInteger): the input as one tensor, mode 1.
    if (n.attrs.dynamic != 1) return c.fail("a convolution with f32 input and s8 weights needs dynamic mode 1");
    EDGEQ_RETURN_IF_ERROR(c.weights_per_channel(w, cout));
    EDGEQ_RETURN_IF_ERROR(c.dynamic_weight_zero_points(w, cout, "a dynamically quantized convolution"));
    if (c.has_in(2) && c.in(2).dtype != DType::kF32)
      return c.fail("a dynamically quantized convolution needs an f32 bias");
  } else if (n.attrs.dynamic != 0) {
    return c.fail("dynamic quantization needs f32 activations and s8 weights");
  } else if (x.dtype == DType::kF32) {
    if (w.dtype != DType::kF32 || (c.has_in(2) && c.in(2).dtype != DType::kF32))
      return c.fail("a float convolution needs f32 weights and bias");
  } else {
    if (w.dtype != DType::kS8) return c.fail("a quantized convolution needs s8 weights");
    EDGEQ_RETURN_IF_ERROR(c.weights_per_channel(w, cout));
    if (c.has_in(2) && c.in(2).dtype != DType::kS32) return c.fail("a quantized convolution needs an s32 bias");
  }
  const int32_t oh = conv_out(x.shape[1], w.shape[1], a.stride_h, a.dilation_h, a.pad_top, a.pad_bottom);
  const int32_t ow = conv_out(x.shape[2], w.shape[2], a.stride_w, a.dilation_w, a.pad_left, a.pad_right);
  if (oh < 1 || ow < 1) return c.fail("kernel larger than the padded input");
  outs->push_back({x.shape[0], oh, ow, cout});
  return Status::Ok();
}

Status infer_fully_connected(const NodeChecker& c, const Node& n, std::vector<Shape>* outs) {
  EDGEQ_RETURN_IF_ERROR(c.counts(2, 3, 1, 1));
  const Tensor &x = c.in(0), &w = c.in(1), &y = c.out(0);
  EDGEQ_RETURN_IF_ERROR(c.rank(w, 2));
  if (!w.is_constant()) return c.fail("weights must be constant");
  if (x.shape.empty() || x.shape.back() != w.shape[1])
    return c.fail("input " + shape_string(x.shape) + " does not match weights " + shape_string(w.shape));
  EDGEQ_RETURN_IF_ERROR(c.act_range());
  const int32_t cout = w.shape[0];
  if (c.has_in(2)) {
    const Tensor& b = c.in(2);
    if (!b.is_constant() || b.shape != Shape{cout})
      return c.fail("bias must be a constant of shape [" + std::to_string(cout) + "]");
  }
  EDGEQ_RETURN_IF_ERROR(c.activation(x));
  // Quantized input, float output: ref::qfully_connected_float.
  const bool float_out = is_quantized_type(x.dtype) && y.dtype == DType::kF32;
  if (!float_out) EDGEQ_RETURN_IF_ERROR(c.same_kind(x, y));
  if (x.dtype == DType::kF32 && w.dtype == DType::kS8) {
    // Dynamically quantized: float activations, int8 weights, float bias. Their zero point
    // is 0, or in mode 1 (ONNX Runtime's DynamicQuantizeLinear form) any in [-128, 127],
    // one for the tensor or one per output channel.
    EDGEQ_RETURN_IF_ERROR(c.weights_per_channel(w, cout));
    EDGEQ_RETURN_IF_ERROR(c.dynamic_weight_zero_points(w, cout, "a dynamically quantized fully-connected op"));
    for (int32_t z : w.quant.zero_point)
      if (z != 0 && n.attrs.dynamic != 1)
        return c.fail("a dynamically quantized fully-connected op needs weight zero point 0 (any in mode 1)");
    if (c.has_in(2) && c.in(2).dtype != DType::kF32)
      return c.fail("a dynamically quantized fully-connected op needs an f32 bias");
    if (n.attrs.dynamic < 0 || n.attrs.dynamic > 2) return c.fail("unknown dynamic quantization mode");
  } else if (n.attrs.dynamic != 0) {
    return c.fail("dynamic quantization needs f32 activations and s8 weights");
  } else if (x.dtype == DType::kF32) {
    if (w.dtype != DType::kF32 || (c.has_in(2) && c.in(2).dtype != DType::kF32))
      return c.fail("a float fully-connected op needs f32 (or, dynamically quantized, s8) weights and f32 bias");
  } else if (float_out) {
    if (w.dtype != DType::kS8) return c.fail("a quantized fully-connected op needs s8 weights");
    if (!(w.quant.per_tensor() || (w.quant.axis == 0 && w.quant.scale.size() == static_cast<size_t>(cout))) ||
        w.quant.zero_point.size() != w.quant.scale.size())
      return c.fail("weights must be quantized per tensor or per output channel (axis 0)");
    if (c.has_in(2) && c.in(2).dtype != DType::kF32)
      return c.fail("a quantized fully-connected op with a float output needs an f32 bias");
  } else {
    if (w.dtype != DType::kS8) return c.fail("a quantized fully-connected op needs s8 weights");
    EDGEQ_RETURN_IF_ERROR(c.weights_per_channel(w, cout));
    if (c.has_in(2) && c.in(2).dtype != DType::kS32) return c.fail("a quantized fully-connected op needs an s32 bias");
  }
  Shape s(x.shape.begin(), x.shape.end() - 1);
  s.push_back(cout);
  outs->push_back(s);
  return Status::Ok();
}

// numpy broadcasting of a and b into *s (rank at most 6).
Status broadcast_shape(const NodeChecker& c, const Shape& a, const Shape& b, Shape* s) {
  const size_t r = std::max(a.size(), b.size());
  if (r > 6) return c.fail("rank above 6");
  s->assign(r, 1);
  for (size_t i = 0; i < r; ++i) {
    const int32_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    const int32_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da != db && da != 1 && db != 1)
      return c.fail("shapes " + shape_string(a) + " and " + shape_string(b) + " do not broadcast");
    (*s)[i] = std::max(da, db);
  }
  return Status::Ok();
}

Status infer_binary(const NodeChecker& c, const Node& n, std::vector<Shape>* outs) {
  EDGEQ_RETURN_IF_ERROR(c.counts(2, 2, 1, 1));
  const Tensor &a = c.in(0), &b = c.in(1), &y = c.out(0);
  if (is_index_type(a.dtype)) {  // integer arithmetic on ids and positions
    EDGEQ_RETURN_IF_ERROR(c.same_kind(a, b));
    EDGEQ_RETURN_IF_ERROR(c.same_kind(a, y));
    if (!std::isinf(n.attrs.act_min) || !std::isinf(n.attrs.act_max)) return c.fail("integer ops take no clamp");
    for (const Tensor* t : {&a, &b, &y})
      if (!t->quant.empty()) return c.fail("tensor '" + t->name + "' is quantized");
    Shape s;
    EDGEQ_RETURN_IF_ERROR(broadcast_shape(c, a.shape, b.shape, &s));
    outs->push_back(s);
    return Status::Ok();
  }
  for (const Tensor* t : {&a, &b, &y}) EDGEQ_RETURN_IF_ERROR(c.activation(*t));
  EDGEQ_RETURN_IF_ERROR(c.same_kind(a, y));
  EDGEQ_RETURN_IF_ERROR(c.same_kind(b, y));
  EDGEQ_RETURN_IF_ERROR(c.act_range());
  Shape s;
  EDGEQ_RETURN_IF_ERROR(broadcast_shape(c, a.shape, b.shape, &s));
  outs->push_back(s);
  return Status::Ok();
}

Status infer_pool(const NodeChecker& c, const Node& n, std::vector<Shape>* outs) {
  EDGEQ_RETURN_IF_ERROR(c.counts(1, 1, 1, 1));
  const Tensor &x = c.in(0), &y = c.out(0);
  EDGEQ_RETURN_IF_ERROR(c.rank(x, 4));
  EDGEQ_RETURN_IF_ERROR(c.activation(x));
  EDGEQ_RETURN_IF_ERROR(c.activation(y));
  EDGEQ_RETURN_IF_ERROR(c.same_kind(x, y));
  EDGEQ_RETURN_IF_ERROR(c.act_range());
  if (n.op == OpType::kGlobalAvgPool) {
    outs->push_back({x.shape[0], 1, 1, x.shape[3]});
    return Status::Ok();
  }
  const Attrs& a = n.attrs;
  for (auto [v, what] : {std::pair{a.kernel_h, "kernel"}, {a.kernel_w, "kernel"}, {a.stride_h, "stride"},
                         {a.stride_w, "stride"}, {a.dilation_h, "dilation"}, {a.dilation_w, "dilation"}})
    EDGEQ_RETURN_IF_ERROR(c.positive(v, what));
  for (int32_t p : {a.pad_top, a.pad_left, a.pad_bottom, a.pad_right}) EDGEQ_RETURN_IF_ERROR(c.non_negative(p, "pad"));
  // Every window must hold at least one real input element.
  const int64_t ekh = int64_t{a.dilation_h} * (a.kernel_h - 1) + 1, ekw = int64_t{a.dilation_w} * (a.kernel_w - 1) + 1;
  if (a.pad_top >= ekh || a.pad_bottom >= ekh || a.pad_left >= ekw || a.pad_right >= ekw)
    return c.fail("padding must be smaller than the kernel");
  if (n.op == OpType::kAvgPool2D && (a.dilation_h != 1 || a.dilation_w != 1))
    return c.fail("average pooling does not take a dilation");
  const int32_t oh = conv_out(x.shape[1], a.kernel_h, a.stride_h, a.dilation_h, a.pad_top, a.pad_bottom);
  const int32_t ow = conv_out(x.shape[2], a.kernel_w, a.stride_w, a.dilation_w, a.pad_left, a.pad_right);
  if (oh < 1 || ow < 1) return c.fail("kernel larger than the padded input");
  outs->push_back({x.shape[0], oh, ow, x.shape[3]});
  return Status::Ok();
}

Status normalize_axis(const NodeChecker& c, int32_t axis, size_t rank) {
  if (axis < 0 || static_cast<size_t>(axis) >= rank)
    return c.fail("axis " + std::to_string(axis) + " out of range for rank " + std::to_string(rank));
  return Status::Ok();
}

Status infer_unary(const NodeChecker& c, const Node& n, std::vector<Shape>* outs) {
  const Attrs& a = n.attrs;
  EDGEQ_RETURN_IF_ERROR(c.counts(1, 1, 1, 1));
  EDGEQ_RETURN_IF_ERROR(c.activation(c.in(0)));
  EDGEQ_RETURN_IF_ERROR(c.activation(c.out(0)));
  EDGEQ_RETURN_IF_ERROR(c.same_kind(c.in(0), c.out(0)));
  if (!std::isfinite(a.alpha) || !std::isfinite(a.beta)) return c.fail("alpha/beta not finite");
  if (n.op == OpType::kClip && a.alpha > a.beta) return c.fail("clip min above max");
  outs->push_back(c.in(0).shape);
  return Status::Ok();
}

Status infer_lookup(const NodeChecker& c, const Node&, std::vector<Shape>* outs) {
  EDGEQ_RETURN_IF_ERROR(c.counts(2, 2, 1, 1));
  const Tensor &x = c.in(0), &t = c.in(1), &y = c.out(0);
  if (!is_quantized_type(x.dtype)) return c.fail("the input must be int8 or uint8");
  EDGEQ_RETURN_IF_ERROR(c.activation(x));
  EDGEQ_RETURN_IF_ERROR(c.activation(y));
  EDGEQ_RETURN_IF_ERROR(c.same_kind(x, y));
  EDGEQ_RETURN_IF_ERROR(c.same_kind(x, t));
  if (!t.is_constant() || t.shape != Shape{256}) return c.fail("the table must be a constant of shape [256]");
  outs->push_back(x.shape);
  return Status::Ok();
}

Status infer_softmax(const NodeChecker& c, const Node& n, std::vector<Shape>* outs) {
  const Attrs& a = n.attrs;
  EDGEQ_RETURN_IF_ERROR(c.counts(1, 1, 1, 1));
  EDGEQ_RETURN_IF_ERROR(c.activation(c.in(0)));
  EDGEQ_RETURN_IF_ERROR(c.activation(c.out(0)));
  EDGEQ_RETURN_IF_ERROR(c.same_kind(c.in(0), c.out(0)));
  EDGEQ_RETURN_IF_ERROR(normalize_axis(c, a.axis, c.in(0).shape.size()));
  outs->push_back(c.in(0).shape);
  return Status::Ok();
}

Status infer_concat(const NodeChecker& c, const Node& n, std::vector<Shape>* outs) {
  const Attrs& a = n.attrs;
  EDGEQ_RETURN_IF_ERROR(c.counts(1, 1024, 1, 1));
  const Tensor& y = c.out(0);
  EDGEQ_RETURN_IF_ERROR(c.movable(y));
  const Shape& s0 = c.in(0).shape;
  EDGEQ_RETURN_IF_ERROR(normalize_axis(c, a.axis, s0.size()));
  Shape s = s0;
  s[a.axis] = 0;
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    const Tensor& t = c.in(i);
    EDGEQ_RETURN_IF_ERROR(c.movable(t));
    EDGEQ_RETURN_IF_ERROR(c.same_kind(t, y));
    if (t.shape.size() != s0.size()) return c.fail("inputs differ in rank");
    for (size_t d = 0; d < s0.size(); ++d)
      if (static_cast<int32_t>(d) != a.axis && t.shape[d] != s0[d])
        return c.fail("input " + shape_string(t.shape) + " does not match " + shape_string(s0));
    s[a.axis] += t.shape[a.axis];
  }
  outs->push_back(s);
  return Status::Ok();
}

Status infer_reshape(const NodeChecker& c, const Node& n, std::vector<Shape>* outs) {
  EDGEQ_RETURN_IF_ERROR(c.counts(1, 1, 1, 1));
  EDGEQ_RETURN_IF_ERROR(c.same_quant(c.in(0), c.out(0)));
  if (c.in(0).num_elements() != c.out(0).num_elements())
    return c.fail("cannot reshape " + shape_string(c.in(0).shape) + " to " + shape_string(c.out(0).shape));
  outs->push_back(c.out(0).shape);
  return Status::Ok();
}

Status infer_transpose(const NodeChecker& c, const Node& n, std::vector<Shape>* outs) {
  const Attrs& a = n.attrs;
  EDGEQ_RETURN_IF_ERROR(c.counts(1, 1, 1, 1));
  EDGEQ_RETURN_IF_ERROR(c.same_quant(c.in(0), c.out(0)));
  const Shape& x = c.in(0).shape;
  if (a.perm.size() != x.size() || x.size() > 6) return c.fail("perm does not match the input rank");
  std::vector<bool> seen(x.size(), false);
  Shape s;
  for (int32_t p : a.perm) {
    if (p < 0 || static_cast<size_t>(p) >= x.size() || seen[p]) return c.fail("perm is not a permutation");
    seen[p] = true;
    s.push_back(x[p]);
  }
  outs->push_back(s);
  return Status::Ok();
}

Status infer_pad(const NodeChecker& c, const Node& n, std::vector<Shape>* outs) {
  const Attrs& a = n.attrs;
  EDGEQ_RETURN_IF_ERROR(c.counts(1, 1, 1, 1));
  EDGEQ_RETURN_IF_ERROR(c.same_quant(c.in(0), c.out(0)));
  const Shape& x = c.in(0).shape;
  if (a.pads.size() != 2 * x.size() || x.size() > 6) return c.fail("pads do not match the input rank");
  if (!std::isfinite(a.pad_value)) return c.fail("pad value not finite");
  Shape s = x;
  for (size_t d = 0; d < x.size(); ++d) {
    EDGEQ_RETURN_IF_ERROR(c.non_negative(a.pads[d], "pad"));
    EDGEQ_RETURN_IF_ERROR(c.non_negative(a.pads[d + x.size()], "pad"));
    if (n.op == OpType::kPadReflect && (a.pads[d] >= x[d] || a.pads[d + x.size()] >= x[d]) &&
        (a.pads[d] > 0 || a.pads[d + x.size()] > 0))
      return c.fail("a reflect pad must be below the dimension it pads");
    if (n.op == OpType::kPadEdge && x[d] == 0 && (a.pads[d] > 0 || a.pads[d + x.size()] > 0))
      return c.fail("an edge pad of an empty dimension");
    s[d] += a.pads[d] + a.pads[d + x.size()];
  }
  outs->push_back(s);
  return Status::Ok();
}

Status infer_resize_nearest(const NodeChecker& c, const Node& n, std::vector<Shape>* outs) {
  const Attrs& a = n.attrs;
  EDGEQ_RETURN_IF_ERROR(c.counts(1, 1, 1, 1));
  EDGEQ_RETURN_IF_ERROR(c.same_quant(c.in(0), c.out(0)));
  EDGEQ_RETURN_IF_ERROR(c.rank(c.in(0), 4));
  EDGEQ_RETURN_IF_ERROR(c.positive(a.scale_h, "scale"));
  EDGEQ_RETURN_IF_ERROR(c.positive(a.scale_w, "scale"));
  const Shape& x = c.in(0).shape;
  outs->push_back({x[0], x[1] * a.scale_h, x[2] * a.scale_w, x[3]});
  return Status::Ok();
}

Status infer_split(const NodeChecker& c, const Node& n, std::vector<Shape>* outs) {
  const Attrs& a = n.attrs;
  EDGEQ_RETURN_IF_ERROR(c.counts(1, 1, 1, 1024));
  const Shape& x = c.in(0).shape;
  EDGEQ_RETURN_IF_ERROR(normalize_axis(c, a.axis, x.size()));
  int64_t total = 0;
  for (size_t i = 0; i < n.outputs.size(); ++i) {
    const Tensor& t = c.out(i);
    EDGEQ_RETURN_IF_ERROR(c.same_quant(c.in(0), t));
    if (t.shape.size() != x.size()) return c.fail("output differs in rank");
    for (size_t d = 0; d < x.size(); ++d)
      if (static_cast<int32_t>(d) != a.axis && t.shape[d] != x[d]) return c.fail("output " + shape_string(t.shape) + " does not match the input");
    total += t.shape[a.axis];
    outs->push_back(t.shape);
  }
  if (total != x[a.axis]) return c.fail("output sizes do not add up to the input's");
  return Status::Ok();
}

Status infer_slice(const NodeChecker& c, const Node& n, std::vector<Shape>* outs) {
  const Attrs& a = n.attrs;
  EDGEQ_RETURN_IF_ERROR(c.counts(1, 1, 1, 1));
  EDGEQ_RETURN_IF_ERROR(c.same_quant(c.in(0), c.out(0)));
  const Shape &x = c.in(0).shape, &y = c.out(0).shape;
  if (a.starts.size() != x.size() || a.steps.size() != x.size() || y.size() != x.size() || x.size() > 6)
    return c.fail("starts/steps do not match the input rank");
  for (size_t d = 0; d < x.size(); ++d) {
    const int64_t last = int64_t{a.starts[d]} + int64_t{y[d] - 1} * a.steps[d];
    if (a.steps[d] == 0 || a.starts[d] < 0 || a.starts[d] >= x[d] || last < 0 || last >= x[d])
      return c.fail("slice out of bounds in dimension " + std::to_string(d));
  }
  outs->push_back(y);
  return Status::Ok();
}

Status infer_conversion(const NodeChecker& c, const Node& n, std::vector<Shape>* outs) {
  EDGEQ_RETURN_IF_ERROR(c.counts(1, 1, 1, 1));
  const Tensor &x = c.in(0), &y = c.out(0);
  const bool ok =
      n.op == OpType::kQuantize ? x.dtype == DType::kF32 && is_quantized_type(y.dtype) && y.quant.per_tensor()
      : n.op == OpType::kDequantize ? x.dtype != DType::kF32 && !x.quant.empty() && y.dtype == DType::kF32
                                    : is_quantized_type(x.dtype) && is_quantized_type(y.dtype) &&
                                          x.quant.per_tensor() && y.quant.per_tensor();
  if (!ok) return c.fail(std::string("unsupported dtypes ") + dtype_name(x.dtype) + " -> " + dtype_name(y.dtype));
  outs->push_back(x.shape);
  return Status::Ok();
}

// numpy broadcast of the leading (batch) dimensions of a and b, which keep their last
// `keep` dimensions out of it; false when they do not broadcast.
bool broadcast_batch(const Shape& a, const Shape& b, size_t keep, Shape* out) {
  const size_t ra = a.size() - keep, rb = b.size() - keep, r = std::max(ra, rb);
  out->assign(r, 1);
  for (size_t i = 0; i < r; ++i) {
    const int32_t da = i < r - ra ? 1 : a[i - (r - ra)];
    const int32_t db = i < r - rb ? 1 : b[i - (r - rb)];
    if (da != db && da != 1 && db != 1) return false;
    (*out)[i] = std::max(da, db);
  }
  return true;
}

Status infer_matmul(const NodeChecker& c, const Node& n, std::vector<Shape>* outs) {
  EDGEQ_RETURN_IF_ERROR(c.counts(2, 2, 1, 1));
  const Tensor &a = c.in(0), &b = c.in(1), &y = c.out(0);
  if (a.shape.size() < 2 || b.shape.size() < 2 || a.shape.size() > 6 || b.shape.size() > 6)
    return c.fail("operands must have rank 2 to 6");
  for (const Tensor* t : {&a, &b, &y}) EDGEQ_RETURN_IF_ERROR(c.activation(*t));
  const int32_t m = a.shape[a.shape.size() - 2], k = a.shape.back(), nn = b.shape.back();
  if (b.shape[b.shape.size() - 2] != k)
    return c.fail("shapes " + shape_string(a.shape) + " and " + shape_string(b.shape) + " do not multiply");
  Shape s;
  if (!broadcast_batch(a.shape, b.shape, 2, &s))
    return c.fail("batch dimensions of " + shape_string(a.shape) + " and " + shape_string(b.shape) +
                  " do not broadcast");
  const bool fl = a.dtype == DType::kF32;
  // Quantized operands may give a float result (ref::qmatmul_float).
  if ((b.dtype == DType::kF32) != fl || ((y.dtype == DType::kF32) != fl && fl))
    return c.fail("operands and result must be all float, all quantized, or quantized with a float result");
  if (n.attrs.dynamic < 0 || n.attrs.dynamic > 2 || (n.attrs.dynamic != 0 && !fl))
    return c.fail("dynamic quantization mode " + std::to_string(n.attrs.dynamic) + " needs float operands");
  s.push_back(m);
  s.push_back(nn);
  outs->push_back(s);
  return Status::Ok();
}

Status infer_layer_norm(const NodeChecker& c, const Node& n, std::vector<Shape>* outs) {
  EDGEQ_RETURN_IF_ERROR(c.counts(2, 3, 1, 1));
  const Tensor &x = c.in(0), &y = c.out(0);
  if (x.shape.empty()) return c.fail("input has rank 0");
  EDGEQ_RETURN_IF_ERROR(c.activation(x));
  EDGEQ_RETURN_IF_ERROR(c.activation(y));
  EDGEQ_RETURN_IF_ERROR(c.same_kind(x, y));
  const Shape ch{x.shape.back()};
  for (size_t i = 1; i < 3; ++i) {
    if (!c.has_in(i)) continue;
    const Tensor& p = c.in(i);
    if (!p.is_constant() || p.dtype != DType::kF32 || p.shape != ch)
      return c.fail(std::string(i == 1 ? "scale" : "bias") + " must be an f32 constant of shape " +
                    shape_string(ch));
  }
  if (!(n.attrs.epsilon >= 0.f) || !std::isfinite(n.attrs.epsilon)) return c.fail("epsilon is negative or not finite");
  outs->push_back(x.shape);
  return Status::Ok();
}

Status infer_gather(const NodeChecker& c, const Node&, std::vector<Shape>* outs) {
  EDGEQ_RETURN_IF_ERROR(c.counts(2, 2, 1, 1));
  const Tensor &t = c.in(0), &i = c.in(1), &y = c.out(0);
  if (t.shape.empty() || t.shape[0] < 1) return c.fail("the table must have rank 1 or more");
  // A constant table (an embedding), or a run-time tensor (CLIP's x[arange(B), eos]).
  EDGEQ_RETURN_IF_ERROR(t.is_constant() ? c.activation(t) : c.movable(t));
  EDGEQ_RETURN_IF_ERROR(c.same_quant(t, y));
  if (!is_index_type(i.dtype)) return c.fail("indices '" + i.name + "' must be s32 or s64");
  if (i.is_constant()) return c.fail("indices are constant (fold the lookup when importing)");
  Shape s = i.shape;
  s.insert(s.end(), t.shape.begin() + 1, t.shape.end());
  if (s.size() > 6) return c.fail("result rank above 6");
  outs->push_back(s);
  return Status::Ok();
}

Status infer_reduce(const NodeChecker& c, const Node& n, std::vector<Shape>* outs) {
  EDGEQ_RETURN_IF_ERROR(c.counts(1, 1, 1, 1));
  const Tensor &x = c.in(0), &y = c.out(0);
  const bool integer_ok = n.op != OpType::kReduceMean && is_index_type(x.dtype) && x.quant.empty();
  if ((x.dtype != DType::kF32 && !integer_ok) || y.dtype != x.dtype)
    return c.fail("float input and output (or int32 / int64 for sum, max, min) only");
  if (x.shape.empty() || x.shape.size() > 6 || y.shape.size() != x.shape.size())
    return c.fail("the output must have the input's rank (1 to 6), keeping reduced axes as 1");
  // Reduced axes (Y 1, X not): one contiguous block once size-1 axes are ignored.
  int first = -1, last = -1;
  for (size_t d = 0; d < x.shape.size(); ++d) {
    if (y.shape[d] != x.shape[d] && y.shape[d] != 1)
      return c.fail("output " + shape_string(y.shape) + " does not reduce input " + shape_string(x.shape));
    if (y.shape[d] == 1 && x.shape[d] != 1) {
      if (first < 0) first = static_cast<int>(d);
      last = static_cast<int>(d);
    }
  }
  for (int d = first + 1; d < last; ++d)
    if (y.shape[d] != 1 && x.shape[d] != 1) return c.fail("the reduced axes are not contiguous");
  outs->push_back(y.shape);
  return Status::Ok();
}

bool comparable(DType t) { return t == DType::kF32 || is_index_type(t) || t == DType::kBool; }

Status infer_logical(const NodeChecker& c, const Node& n, std::vector<Shape>* outs) {
  const bool unary = n.op == OpType::kNot;
  EDGEQ_RETURN_IF_ERROR(c.counts(unary ? 1 : 2, unary ? 1 : 2, 1, 1));
  const bool compare = n.op == OpType::kEqual || n.op == OpType::kLess || n.op == OpType::kGreater;
  const Tensor& a = c.in(0);
  for (size_t i = 0; i < (unary ? 1u : 2u); ++i) {
    const Tensor& t = c.in(i);
    if (compare ? !comparable(t.dtype) || !t.quant.empty() : t.dtype != DType::kBool)
      return c.fail("tensor '" + t.name + "' has dtype " + dtype_name(t.dtype) +
                    (compare ? " (compared: f32, s32, s64 or bool)" : " (needs bool)"));
  }
  if (c.out(0).dtype != DType::kBool) return c.fail("the output must be bool");
  if (unary) {
    outs->push_back(a.shape);
    return Status::Ok();
  }
  EDGEQ_RETURN_IF_ERROR(c.same_kind(a, c.in(1)));
  Shape s;
  EDGEQ_RETURN_IF_ERROR(broadcast_shape(c, a.shape, c.in(1).shape, &s));
  outs->push_back(s);
  return Status::Ok();
}

Status infer_where(const NodeChecker& c, const Node&, std::vector<Shape>* outs) {
  EDGEQ_RETURN_IF_ERROR(c.counts(3, 3, 1, 1));
  const Tensor &cond = c.in(0), &x = c.in(1), &y = c.in(2), &out = c.out(0);
  if (cond.dtype != DType::kBool) return c.fail("the condition '" + cond.name + "' must be bool");
  if (!comparable(x.dtype) && !is_quantized_type(x.dtype))
    return c.fail("tensor '" + x.name + "' has dtype " + dtype_name(x.dtype));
  if (is_quantized_type(x.dtype) && !x.quant.per_tensor())
    return c.fail("tensor '" + x.name + "' needs per-tensor quantization");
  EDGEQ_RETURN_IF_ERROR(c.same_quant(x, y));
  EDGEQ_RETURN_IF_ERROR(c.same_quant(x, out));
  Shape s, t;
  EDGEQ_RETURN_IF_ERROR(broadcast_shape(c, cond.shape, x.shape, &s));
  EDGEQ_RETURN_IF_ERROR(broadcast_shape(c, s, y.shape, &t));
  outs->push_back(t);
  return Status::Ok();
}

Status infer_minmax(const NodeChecker& c, const Node&, std::vector<Shape>* outs);

// Mod: Max / Min's operands, and fmod 1 for floats.
Status infer_mod(const NodeChecker& c, const Node& n, std::vector<Shape>* outs) {
  EDGEQ_RETURN_IF_ERROR(infer_minmax(c, n, outs));
  if (n.attrs.fmod != 0 && n.attrs.fmod != 1) return c.fail("fmod must be 0 or 1");
  if (c.in(0).dtype == DType::kF32 && n.attrs.fmod != 1) return c.fail("a float Mod needs fmod 1");
  return Status::Ok();
}

Status infer_minmax(const NodeChecker& c, const Node&, std::vector<Shape>* outs) {
  EDGEQ_RETURN_IF_ERROR(c.counts(2, 2, 1, 1));
  const Tensor &a = c.in(0), &b = c.in(1), &y = c.out(0);
  if ((a.dtype != DType::kF32 && !is_index_type(a.dtype)) || !a.quant.empty())
    return c.fail("tensor '" + a.name + "' has dtype " + dtype_name(a.dtype) + " (f32, s32 or s64, not quantized)");
  EDGEQ_RETURN_IF_ERROR(c.same_quant(a, b));
  EDGEQ_RETURN_IF_ERROR(c.same_quant(a, y));
  Shape s;
  EDGEQ_RETURN_IF_ERROR(broadcast_shape(c, a.shape, b.shape, &s));
  outs->push_back(s);
  return Status::Ok();
}

Status infer_argmax(const NodeChecker& c, const Node& n, std::vector<Shape>* outs) {
  EDGEQ_RETURN_IF_ERROR(c.counts(1, 1, 1, 1));
  const Tensor &x = c.in(0), &y = c.out(0);
  if (!is_index_type(x.dtype) || !x.quant.empty()) EDGEQ_RETURN_IF_ERROR(c.activation(x));  // or ids
  if (y.dtype != DType::kS64) return c.fail("the output must be s64");
  if (x.shape.empty() || x.shape.size() > 6) return c.fail("rank must be 1 to 6");
  EDGEQ_RETURN_IF_ERROR(normalize_axis(c, n.attrs.axis, x.shape.size()));
  Shape s = x.shape;
  s[n.attrs.axis] = 1;
  outs->push_back(s);
  return Status::Ok();
}

// LSTM (gates 4) and GRU (gates 3): every input present (the importer gives zeros for
// ONNX's absent ones), float, the weights constant.
Status infer_recurrent(const NodeChecker& c, const Node& n, int32_t gates, std::vector<Shape>* outs) {
  const bool lstm = gates == 4;
  EDGEQ_RETURN_IF_ERROR(lstm ? c.counts(7, 7, 3, 3) : c.counts(5, 5, 2, 2));
  const Attrs& a = n.attrs;
  EDGEQ_RETURN_IF_ERROR(c.positive(a.hidden_size, "hidden_size"));
  if (a.direction < 0 || a.direction > 2) return c.fail("direction must be 0, 1 or 2");
  if (!(std::isfinite(a.clip) && a.clip >= 0.f)) return c.fail("clip must be finite and not negative");
  if (a.linear_before_reset != 0 && (lstm || a.linear_before_reset != 1)) return c.fail("invalid linear_before_reset");
  const int32_t d = a.direction == 2 ? 2 : 1, h = a.hidden_size;
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    const Tensor& t = c.in(i);
    if (t.dtype != DType::kF32 || !t.quant.empty()) return c.fail("tensor '" + t.name + "' must be float");
    if (i != 0 && i != 4 && i != 5 && !t.is_constant()) return c.fail("tensor '" + t.name + "' must be a constant");
  }
  const Tensor& x = c.in(0);
  EDGEQ_RETURN_IF_ERROR(c.rank(x, 3));
  const int32_t seq = x.shape[0], batch = x.shape[1], input = x.shape[2];
  const auto expect = [&](size_t i, const Shape& want) -> Status {
    if (c.in(i).shape != want)
      return c.fail("tensor '" + c.in(i).name + "' has shape " + shape_string(c.in(i).shape) + ", expected " +
                    shape_string(want));
    return Status::Ok();
  };
  EDGEQ_RETURN_IF_ERROR(expect(1, {d, gates * h, input}));
  EDGEQ_RETURN_IF_ERROR(expect(2, {d, gates * h, h}));
  EDGEQ_RETURN_IF_ERROR(expect(3, {d, 2 * gates * h}));
  EDGEQ_RETURN_IF_ERROR(expect(4, {d, batch, h}));
  if (lstm) {
    EDGEQ_RETURN_IF_ERROR(expect(5, {d, batch, h}));
    EDGEQ_RETURN_IF_ERROR(expect(6, {d, 3 * h}));
  }
  for (size_t k = 0; k < n.outputs.size(); ++k)
    if (c.out(k).dtype != DType::kF32 || !c.out(k).quant.empty()) return c.fail("the outputs must be float");
  outs->push_back({seq, d, batch, h});
  outs->push_back({d, batch, h});
  if (lstm) outs->push_back({d, batch, h});
  return Status::Ok();
}

Status infer_lstm(const NodeChecker& c, const Node& n, std::vector<Shape>* outs) { return infer_recurrent(c, n, 4, outs); }
Status infer_gru(const NodeChecker& c, const Node& n, std::vector<Shape>* outs) { return infer_recurrent(c, n, 3, outs); }

Status infer_gather_elements(const NodeChecker& c, const Node& n, std::vector<Shape>* outs) {
  EDGEQ_RETURN_IF_ERROR(c.counts(2, 2, 1, 1));
  const Tensor &x = c.in(0), &i = c.in(1), &y = c.out(0);
  EDGEQ_RETURN_IF_ERROR(c.movable(x));
  EDGEQ_RETURN_IF_ERROR(c.same_quant(x, y));
  if (!is_index_type(i.dtype) || !i.quant.empty()) return c.fail("indices '" + i.name + "' must be s32 or s64");
  if (x.shape.empty() || x.shape.size() > 6 || i.shape.size() != x.shape.size())
    return c.fail("the input and the indices must have one rank, 1 to 6");
  EDGEQ_RETURN_IF_ERROR(normalize_axis(c, n.attrs.axis, x.shape.size()));
  for (size_t d = 0; d < x.shape.size(); ++d)
    if (static_cast<int>(d) != n.attrs.axis && i.shape[d] > x.shape[d])
      return c.fail("indices " + shape_string(i.shape) + " exceed the input " + shape_string(x.shape));
  outs->push_back(i.shape);
  return Status::Ok();
}

// ScatterElements / ScatterND: data and updates of one dtype and quantization; a reduction
// only on float and integer tensors (ref::ScatterReduction).
Status check_scatter(const NodeChecker& c, const Node& n) {
  EDGEQ_RETURN_IF_ERROR(c.counts(3, 3, 1, 1));
  const Tensor &x = c.in(0), &i = c.in(1), &u = c.in(2), &y = c.out(0);
  EDGEQ_RETURN_IF_ERROR(c.movable(x));
  EDGEQ_RETURN_IF_ERROR(c.same_quant(x, u));
  EDGEQ_RETURN_IF_ERROR(c.same_quant(x, y));
  if (!is_index_type(i.dtype) || !i.quant.empty()) return c.fail("indices '" + i.name + "' must be s32 or s64");
  if (x.shape.empty() || x.shape.size() > 6) return c.fail("the data must have rank 1 to 6");
  if (n.attrs.reduction < 0 || n.attrs.reduction > 4)
    return c.fail("reduction " + std::to_string(n.attrs.reduction) + " is not 0 to 4");
  if (n.attrs.reduction != 0 && x.dtype != DType::kF32 && x.dtype != DType::kS32 && x.dtype != DType::kS64)
    return c.fail("a reduction needs f32, s32 or s64 data, not " + std::string(dtype_name(x.dtype)));
  return Status::Ok();
}

Status infer_scatter_elements(const NodeChecker& c, const Node& n, std::vector<Shape>* outs) {
  EDGEQ_RETURN_IF_ERROR(check_scatter(c, n));
  const Tensor &x = c.in(0), &i = c.in(1), &u = c.in(2);
  if (i.shape.size() != x.shape.size() || u.shape != i.shape)
    return c.fail("the indices and the updates must have the data's rank and one shape");
  EDGEQ_RETURN_IF_ERROR(normalize_axis(c, n.attrs.axis, x.shape.size()));
  for (size_t d = 0; d < x.shape.size(); ++d)
    if (static_cast<int>(d) != n.attrs.axis && i.shape[d] > x.shape[d])
      return c.fail("indices " + shape_string(i.shape) + " exceed the data " + shape_string(x.shape));
  outs->push_back(x.shape);
  return Status::Ok();
}

Status infer_scatter_nd(const NodeChecker& c, const Node& n, std::vector<Shape>* outs) {
  EDGEQ_RETURN_IF_ERROR(check_scatter(c, n));
  const Tensor &x = c.in(0), &i = c.in(1), &u = c.in(2);
  if (i.shape.empty() || i.shape.back() < 1 || static_cast<size_t>(i.shape.back()) > x.shape.size())
    return c.fail("the indices' last dimension must be 1 to the data's rank");
  Shape want(i.shape.begin(), i.shape.end() - 1);
  want.insert(want.end(), x.shape.begin() + i.shape.back(), x.shape.end());
  if (u.shape != want)
    return c.fail("updates " + shape_string(u.shape) + " must have the shape " + shape_string(want));
  outs->push_back(x.shape);
  return Status::Ok();
}

Status infer_topk(const NodeChecker& c, const Node& n, std::vector<Shape>* outs) {
  EDGEQ_RETURN_IF_ERROR(c.counts(1, 1, 2, 2));
  const Tensor &x = c.in(0), &v = c.out(0), &i = c.out(1);
  if (!is_index_type(x.dtype) || !x.quant.empty()) EDGEQ_RETURN_IF_ERROR(c.activation(x));
  EDGEQ_RETURN_IF_ERROR(c.same_quant(x, v));
  if (i.dtype != DType::kS64 || !i.quant.empty()) return c.fail("the indices must be s64");
  if (x.shape.empty() || x.shape.size() > 6) return c.fail("rank must be 1 to 6");
  EDGEQ_RETURN_IF_ERROR(normalize_axis(c, n.attrs.axis, x.shape.size()));
  if (n.attrs.k < 1 || n.attrs.k > x.shape[n.attrs.axis]) return c.fail("k is outside [1, the axis's size]");
  if (n.attrs.largest != 0 && n.attrs.largest != 1) return c.fail("largest must be 0 or 1");
  Shape s = x.shape;
  s[n.attrs.axis] = n.attrs.k;
  outs->push_back(s);
  outs->push_back(s);
  return Status::Ok();
}

Status infer_cumsum(const NodeChecker& c, const Node& n, std::vector<Shape>* outs) {
  EDGEQ_RETURN_IF_ERROR(c.counts(1, 1, 1, 1));
  const Tensor &x = c.in(0), &y = c.out(0);
  if ((x.dtype != DType::kF32 && !is_index_type(x.dtype)) || !x.quant.empty())
    return c.fail("tensor '" + x.name + "' has dtype " + dtype_name(x.dtype) + " (f32, s32 or s64)");
  EDGEQ_RETURN_IF_ERROR(c.same_kind(x, y));
  if (x.shape.empty() || x.shape.size() > 6) return c.fail("rank must be 1 to 6");
  EDGEQ_RETURN_IF_ERROR(normalize_axis(c, n.attrs.axis, x.shape.size()));
  outs->push_back(x.shape);
  return Status::Ok();
}

// A resize's coordinate scales: 0 (out / in) or a finite positive number.
Status check_coord_scales(const NodeChecker& c, const Node& n) {
  for (float s : {n.attrs.coord_scale_h, n.attrs.coord_scale_w})
    if (!(s == 0.f || (std::isfinite(s) && s > 0.f))) return c.fail("invalid coordinate scale");
  return Status::Ok();
}

Status infer_resize_linear(const NodeChecker& c, const Node& n, std::vector<Shape>* outs) {
  EDGEQ_RETURN_IF_ERROR(c.counts(1, 1, 1, 1));
  const Tensor &x = c.in(0), &y = c.out(0);
  if (x.dtype != DType::kF32 || y.dtype != DType::kF32) return c.fail("float input and output only");
  EDGEQ_RETURN_IF_ERROR(c.rank(x, 4));
  EDGEQ_RETURN_IF_ERROR(c.rank(y, 4));
  if (y.shape[0] != x.shape[0] || y.shape[3] != x.shape[3] || y.shape[1] < 1 || y.shape[2] < 1 ||
      y.shape[1] > kMaxAttr * 16 || y.shape[2] > kMaxAttr * 16)
    return c.fail("resizes " + shape_string(x.shape) + " to " + shape_string(y.shape));
  if (n.attrs.coord_mode < 0 || n.attrs.coord_mode > 3) return c.fail("unknown coordinate mode");
  EDGEQ_RETURN_IF_ERROR(check_coord_scales(c, n));
  outs->push_back(y.shape);
  return Status::Ok();
}

Status infer_resize_cubic(const NodeChecker& c, const Node& n, std::vector<Shape>* outs) {
  EDGEQ_RETURN_IF_ERROR(infer_resize_linear(c, n, outs));
  if (!std::isfinite(n.attrs.cubic_a) || std::fabs(n.attrs.cubic_a) > 16.f) return c.fail("invalid cubic coefficient");
  if (n.attrs.exclude_outside != 0 && n.attrs.exclude_outside != 1) return c.fail("exclude_outside must be 0 or 1");
  return Status::Ok();
}

Status infer_grid_sample(const NodeChecker& c, const Node& n, std::vector<Shape>* outs) {
  EDGEQ_RETURN_IF_ERROR(c.counts(2, 2, 1, 1));
  const Tensor &x = c.in(0), &grid = c.in(1), &y = c.out(0);
  for (const Tensor* t : {&x, &grid, &y})
    if (t->dtype != DType::kF32 || !t->quant.empty()) return c.fail("float input, grid and output only");
  EDGEQ_RETURN_IF_ERROR(c.rank(x, 4));
  EDGEQ_RETURN_IF_ERROR(c.rank(grid, 4));
  if (grid.shape[0] != x.shape[0] || grid.shape[3] != 2 || x.shape[1] < 1 || x.shape[2] < 1)
    return c.fail("samples " + shape_string(x.shape) + " at grid " + shape_string(grid.shape) +
                  " (expected [N, H, W, C] and [N, OH, OW, 2])");
  if (n.attrs.grid_mode < 0 || n.attrs.grid_mode > 2) return c.fail("unknown sampling mode");
  if (n.attrs.grid_padding < 0 || n.attrs.grid_padding > 2) return c.fail("unknown padding mode");
  if (n.attrs.align_corners != 0 && n.attrs.align_corners != 1) return c.fail("align_corners must be 0 or 1");
  outs->push_back({x.shape[0], grid.shape[1], grid.shape[2], x.shape[3]});
  return Status::Ok();
}

Status infer_resize_nearest_to(const NodeChecker& c, const Node& n, std::vector<Shape>* outs) {
  EDGEQ_RETURN_IF_ERROR(c.counts(1, 1, 1, 1));
  const Tensor &x = c.in(0), &y = c.out(0);
  EDGEQ_RETURN_IF_ERROR(c.same_quant(x, y));
  EDGEQ_RETURN_IF_ERROR(c.rank(x, 4));
  EDGEQ_RETURN_IF_ERROR(c.rank(y, 4));
  if (y.shape[0] != x.shape[0] || y.shape[3] != x.shape[3] || y.shape[1] < 1 || y.shape[2] < 1 ||
      y.shape[1] > kMaxAttr * 16 || y.shape[2] > kMaxAttr * 16)
    return c.fail("resizes " + shape_string(x.shape) + " to " + shape_string(y.shape));
  if (n.attrs.coord_mode < 0 || n.attrs.coord_mode > 4 || n.attrs.nearest_mode < 0 || n.attrs.nearest_mode > 3)
    return c.fail("unknown coordinate or rounding mode");
  EDGEQ_RETURN_IF_ERROR(check_coord_scales(c, n));
  outs->push_back(y.shape);
  return Status::Ok();
}

Status infer_cast(const NodeChecker& c, const Node&, std::vector<Shape>* outs) {
  EDGEQ_RETURN_IF_ERROR(c.counts(1, 1, 1, 1));
  const Tensor &x = c.in(0), &y = c.out(0);
  // A quantized 8-bit tensor casts to int32 / int64 as its stored integers (ONNX's Cast
  // of the uint8 / int8 tensor); other quantized operands need Quantize / Dequantize.
  const bool stored = is_quantized_type(x.dtype) && is_index_type(y.dtype);
  for (const Tensor* t : {&x, &y})
    if (!t->quant.empty() && !(stored && t == &x))
      return c.fail("tensor '" + t->name + "' is quantized: use Quantize/Dequantize");
  if (x.dtype == y.dtype) return c.fail("casts to its own dtype");
  outs->push_back(x.shape);
  return Status::Ok();
}

// Validates node n and gives its output shapes: the op table's shape rule for its op.
Status infer_node(const Graph& g, const Node& n, std::vector<Shape>* outs) {
  NodeChecker c(g, n);
  switch (n.op) {
#define EDGEQ_OP_SHAPE(Name, Options, Shape, Prepare, Flags) \
  case OpType::k##Name:                                    \
    return infer_##Shape(c, n, outs);
    EDGEQ_OPS(EDGEQ_OP_SHAPE)
#undef EDGEQ_OP_SHAPE
    case OpType::kCount: break;
  }
  return c.fail("unknown op");
}

Status check_quant(const Tensor& t, size_t i) {
  const std::string label = "tensor " + std::to_string(i) + " '" + t.name + "'";
  const QuantParams& q = t.quant;
  if (q.empty()) {
    if (is_quantized_type(t.dtype)) return InvalidModel(label + ": quantized dtype without scale");
    if (!q.zero_point.empty()) return InvalidModel(label + ": zero points without scales");
    return Status::Ok();
  }
  if (t.dtype == DType::kF32 || t.dtype == DType::kS64 || t.dtype == DType::kBool)
    return InvalidModel(label + ": " + dtype_name(t.dtype) + " tensor with quantization");
  if (q.zero_point.size() != q.scale.size()) return InvalidModel(label + ": scale and zero point counts differ");
  if (q.scale.size() > 1) {
    if (q.axis < 0 || static_cast<size_t>(q.axis) >= t.shape.size() ||
        static_cast<size_t>(t.shape[q.axis]) != q.scale.size())
      return InvalidModel(label + ": per-axis quantization does not match axis " + std::to_string(q.axis));
  }
  for (float s : q.scale)
    if (!(s > 0.f) || !std::isfinite(s) || s < std::numeric_limits<float>::min())
      return InvalidModel(label + ": scale " + std::to_string(s) + " is not a positive finite number");
  for (int32_t z : q.zero_point)
    if (z < dtype_min(t.dtype) || z > dtype_max(t.dtype) || (t.dtype == DType::kS32 && z != 0))
      return InvalidModel(label + ": zero point " + std::to_string(z) + " outside " + dtype_name(t.dtype));
  return Status::Ok();
}

}  // namespace

Status infer_shapes(const Graph& g, const Node& n, std::vector<std::vector<int32_t>>* out_shapes) {
  const int32_t nt = static_cast<int32_t>(g.tensors.size());
  for (int32_t i : n.inputs)
    if (i < -1 || i >= nt) return InvalidModel("node '" + n.name + "': input index " + std::to_string(i) + " out of range");
  for (int32_t i : n.outputs)
    if (i < 0 || i >= nt) return InvalidModel("node '" + n.name + "': output index " + std::to_string(i) + " out of range");
  // Only the optional bias of Conv2D / FullyConnected may be absent.
  const bool has_bias_slot = op_has(n.op, kOpWeights);
  for (size_t k = 0; k < n.inputs.size(); ++k)
    if (n.inputs[k] < 0 && !(has_bias_slot && k == 2))
      return InvalidModel("node '" + n.name + "': input " + std::to_string(k) + " is missing");
  out_shapes->clear();
  return infer_node(g, n, out_shapes);
}

Status validate_graph(const Graph& g) {
  const size_t nt = g.tensors.size();
  for (size_t i = 0; i < nt; ++i) EDGEQ_RETURN_IF_ERROR(check_quant(g.tensors[i], i));
  // available[i]: tensor i has a value before the current node runs.
  std::vector<bool> available(nt, false), produced(nt, false);
  for (size_t i = 0; i < nt; ++i) available[i] = g.tensors[i].is_constant();
  if (g.inputs.empty() || g.outputs.empty()) return InvalidModel("graph has no inputs or no outputs");
  for (int32_t i : g.inputs) {
    if (i < 0 || static_cast<size_t>(i) >= nt) return InvalidModel("graph input index out of range");
    if (g.tensors[i].is_constant()) return InvalidModel("graph input '" + g.tensors[i].name + "' is a constant");
    available[i] = true;
  }
  std::vector<Shape> shapes;
  for (const Node& n : g.nodes) {
    EDGEQ_RETURN_IF_ERROR(infer_shapes(g, n, &shapes));
    for (int32_t i : n.inputs)
      if (i >= 0 && !available[i])
        return InvalidModel("node '" + n.name + "': input '" + g.tensors[i].name +
                            "' is not computed before it (nodes out of order or a cycle)");
    for (size_t k = 0; k < n.outputs.size(); ++k) {
      const int32_t o = n.outputs[k];
      const Tensor& t = g.tensors[o];
      if (t.is_constant() || available[o] || produced[o])
        return InvalidModel("node '" + n.name + "': output '" + t.name + "' is a constant, an input or produced twice");
      if (t.shape != shapes[k])
        return InvalidModel("node '" + n.name + "' (" + op_name(n.op) + "): output '" + t.name + "' has shape " +
                            shape_string(t.shape) + ", the op gives " + shape_string(shapes[k]));
      produced[o] = available[o] = true;
    }
  }
  for (int32_t o : g.outputs) {
    if (o < 0 || static_cast<size_t>(o) >= nt) return InvalidModel("graph output index out of range");
    if (!available[o] || g.tensors[o].is_constant())
      return InvalidModel("graph output '" + g.tensors[o].name + "' is never computed");
  }
  return Status::Ok();
}

}  // namespace edgeq
