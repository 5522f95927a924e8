// edgeq graph IR -> ONNX in QDQ form (opset kExportOpset).
//
// Layout: every ONNX value keeps the shape its IR tensor has, so rank-4 activations are
// NHWC in the file, and ops that are layout-free in ONNX (elementwise, Concat, Softmax,
// Reshape, Transpose, Pad, Split, Slice, Gemm) take their IR axes, perms, pads and
// starts unchanged. Ops ONNX defines on NCHW (Conv, MaxPool, AveragePool,
// GlobalAveragePool and Resize, which the importer reads only on H and W) are wrapped:
// Transpose(0,3,1,2) before, Transpose(0,2,3,1) after, both on the integer side of the
// Q/DQ pair so that DequantizeLinear -> op -> QuantizeLinear stays a unit ONNX Runtime
// fuses. The graph's own NCHW<->NHWC Transposes at its inputs and outputs are ordinary IR
// nodes and are written as they are; ONNX Runtime's transpose optimizer cancels the
// pairs.
//
// A clamp that changes the quantized result is written as op -> Q -> DQ -> Relu/Clip -> Q
// (the integer clamp of edgeq's kernels, exactly); one that does not is left out.
//
// Values: each IR tensor has one ONNX value in its own element type ("raw": float, or
// the int8/uint8/int32 data) and, when quantized, a DequantizeLinear of it made on first
// use and shared by all float consumers. A quantized node writes its float result, then
// Relu/Clip for act_min/act_max, then QuantizeLinear into the raw value. Movement ops on
// quantized tensors with equal parameters on both sides run on the raw integers.
#include "graph/onnx/exporter.h"

#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <set>

#include "graph/write_file.h"

namespace edgeq {
namespace {

using onnx::TensorProto;
using Ints = std::vector<int64_t>;

const Ints kToNchw = {0, 3, 1, 2};
const Ints kToNhwc = {0, 2, 3, 1};

int32_t onnx_type(DType t) {
  switch (t) {
    case DType::kS8:
      return TensorProto::INT8;
    case DType::kU8:
      return TensorProto::UINT8;
    case DType::kS32:
      return TensorProto::INT32;
    case DType::kS64:
      return TensorProto::INT64;
    case DType::kBool:
      return TensorProto::BOOL;
    default:
      return TensorProto::FLOAT;
  }
}

bool act_bounded(const Attrs& a) { return std::isfinite(a.act_min) || std::isfinite(a.act_max); }

bool same_params(const Tensor& a, const Tensor& b) {
  return a.dtype == b.dtype && a.quant.scale == b.quant.scale && a.quant.zero_point == b.quant.zero_point &&
         (a.quant.scale.size() <= 1 || a.quant.axis == b.quant.axis);
}

// What follows a float result before it lands in its IR tensor's raw value.
struct Post {
  const Attrs* act = nullptr;  // Relu / Clip from act_min/act_max
  bool quantize = true;        // QuantizeLinear when the tensor is quantized
  Ints perm;                   // a final Transpose
  bool reshape = false;        // a final Reshape to the tensor's shape
};

class Exporter {
 public:
  explicit Exporter(const Graph& g) : g_(g), raw_(g.tensors.size()), float_(g.tensors.size()) {}
  Status Run(onnx::ModelProto* model);

 private:
  std::string Fresh(const std::string& base);
  onnx::NodeProto* Add(const std::string& op, const std::vector<std::string>& ins,
                       const std::vector<std::string>& outs);
  static void AttrInt(onnx::NodeProto* n, const std::string& name, int64_t v);
  static void AttrFloat(onnx::NodeProto* n, const std::string& name, float v);
  static void AttrInts(onnx::NodeProto* n, const std::string& name, const Ints& v);
  static void AttrString(onnx::NodeProto* n, const std::string& name, const std::string& v);
  std::string Initializer(const std::string& base, int32_t type, const Ints& dims, const void* data, size_t bytes,
                          bool exact_name = false);
  std::string IntsConst(const std::string& base, const Ints& v);
  std::string FloatsConst(const std::string& base, const std::vector<float>& v, bool scalar);

  // Scale and zero point initializers of tensor t's quantization (zero point omitted
  // for int32).
  Status QParams(int32_t t, std::string* scale, std::string* zp, bool* per_axis);
  Status Dequantize(int32_t params, const std::string& x, const std::string& out);
  Status Quantize(int32_t params, const std::string& x, const std::string& out);
  Status Raw(int32_t t, std::string* name);
  Status Float(int32_t t, std::string* name);
  // t as NCHW: Transpose on the raw value, then (quantized) DequantizeLinear.
  Status FloatNchw(int32_t t, std::string* name);
  // Name the op producing t's float result writes, given what follows it.
  std::string Target(int32_t t, const Post& p);
  Status Finish(int32_t t, const std::string& v, const Post& p);
  std::string Transposed(const std::string& x, const Ints& perm);

  Status ExportNode(const Node& n);
  Status Conv(const Node& n);
  Status FullyConnected(const Node& n);
  Status Window(const Node& n);
  Status Movement(const Node& n);
  // A ResizeLinear / ResizeNearestTo's `scales` (when the node has coordinate scales) or
  // `sizes` input (NCHW), the other left empty.
  Status ResizeTarget(const Node& n, const Ints& y_shape, std::string* scales, std::string* sizes);
  Status Fail(const Node& n, const std::string& msg) const {
    return Unsupported("node '" + n.name + "' (" + op_name(n.op) + "): " + msg);
  }

  const Graph& g_;
  onnx::GraphProto* gp_ = nullptr;
  std::set<std::string> values_, nodes_;
  std::vector<std::string> raw_, float_;
  std::map<int32_t, std::string> nchw_, conv_w_;
  std::map<int32_t, std::pair<std::string, std::string>> qparams_;
  std::set<int32_t> defined_;
  std::string node_;  // IR name of the node being written
};

std::string Exporter::Fresh(const std::string& base) {
  std::string name = base.empty() ? "v" : base;
  for (int k = 1; values_.count(name); ++k) name = base + "_" + std::to_string(k);
  values_.insert(name);
  return name;
}

onnx::NodeProto* Exporter::Add(const std::string& op, const std::vector<std::string>& ins,
                               const std::vector<std::string>& outs) {
  onnx::NodeProto* n = gp_->add_node();
  std::string name = node_.empty() ? op : node_ + "/" + op;
  for (int k = 1; nodes_.count(name); ++k) name = node_ + "/" + op + "_" + std::to_string(k);
  nodes_.insert(name);
  n->set_name(name);
  n->set_op_type(op);
  for (const auto& i : ins) n->add_input(i);
  for (const auto& o : outs) n->add_output(o);
  return n;
}

void Exporter::AttrInt(onnx::NodeProto* n, const std::string& name, int64_t v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}

void Exporter::AttrFloat(onnx::NodeProto* n, const std::string& name, float v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(v);
}

void Exporter::AttrInts(onnx::NodeProto* n, const std::string& name, const Ints& v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
}

void Exporter::AttrString(onnx::NodeProto* n, const std::string& name, const std::string& v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(v);
}

std::string Exporter::Initializer(const std::string& base, int32_t type, const Ints& dims, const void* data,
                                  size_t bytes, bool exact_name) {
  const std::string name = exact_name ? base : Fresh(base);
  TensorProto* t = gp_->add_initializer();
  t->set_name(name);
  t->set_data_type(type);
  for (int64_t d : dims) t->add_dims(d);
  t->set_raw_data(data, bytes);
  return name;
}

std::string Exporter::IntsConst(const std::string& base, const Ints& v) {
  return Initializer(base, TensorProto::INT64, {static_cast<int64_t>(v.size())}, v.data(), v.size() * 8);
}

std::string Exporter::FloatsConst(const std::string& base, const std::vector<float>& v, bool scalar) {
  const Ints dims = scalar ? Ints{} : Ints{static_cast<int64_t>(v.size())};
  return Initializer(base, TensorProto::FLOAT, dims, v.data(), v.size() * 4);
}

Status Exporter::QParams(int32_t t, std::string* scale, std::string* zp, bool* per_axis) {
  const Tensor& x = g_.tensors[t];
  const QuantParams& q = x.quant;
  if (q.empty() || q.zero_point.size() != q.scale.size())
    return Unsupported("tensor '" + x.name + "' is " + dtype_name(x.dtype) + " without quantization parameters");
  *per_axis = !q.per_tensor();
  auto it = qparams_.find(t);
  if (it == qparams_.end()) {
    const std::string s = FloatsConst(x.name + "_scale", q.scale, !*per_axis);
    std::string z;
    if (x.dtype == DType::kS8 || x.dtype == DType::kU8) {
      std::vector<uint8_t> zb;
      for (int32_t v : q.zero_point) zb.push_back(static_cast<uint8_t>(v));
      const Ints dims = *per_axis ? Ints{static_cast<int64_t>(zb.size())} : Ints{};
      z = Initializer(x.name + "_zero_point", onnx_type(x.dtype), dims, zb.data(), zb.size());
    } else {
      for (int32_t v : q.zero_point)
        if (v != 0) return Unsupported("tensor '" + x.name + "': an int32 tensor's zero point must be 0");
    }
    it = qparams_.emplace(t, std::make_pair(s, z)).first;
  }
  *scale = it->second.first;
  *zp = it->second.second;
  return Status::Ok();
}

Status Exporter::Dequantize(int32_t params, const std::string& x, const std::string& out) {
  std::string s, z;
  bool per_axis;
  EDGEQ_RETURN_IF_ERROR(QParams(params, &s, &z, &per_axis));
  std::vector<std::string> ins = {x, s};
  if (!z.empty()) ins.push_back(z);
  onnx::NodeProto* n = Add("DequantizeLinear", ins, {out});
  if (per_axis) AttrInt(n, "axis", g_.tensors[params].quant.axis);
  return Status::Ok();
}

Status Exporter::Quantize(int32_t params, const std::string& x, const std::string& out) {
  const Tensor& y = g_.tensors[params];
  if (y.dtype != DType::kS8 && y.dtype != DType::kU8)
    return Unsupported("tensor '" + y.name + "': quantization to " + dtype_name(y.dtype) + " is not expressible");
  std::string s, z;
  bool per_axis;
  EDGEQ_RETURN_IF_ERROR(QParams(params, &s, &z, &per_axis));
  onnx::NodeProto* n = Add("QuantizeLinear", {x, s, z}, {out});
  if (per_axis) AttrInt(n, "axis", y.quant.axis);
  return Status::Ok();
}

Status Exporter::Raw(int32_t t, std::string* name) {
  if (t < 0 || t >= static_cast<int32_t>(g_.tensors.size())) return InvalidModel("tensor index out of range");
  const Tensor& x = g_.tensors[t];
  if (x.is_constant() && !defined_.count(t)) {
    Ints dims(x.shape.begin(), x.shape.end());
    Initializer(raw_[t], onnx_type(x.dtype), dims, x.data, x.byte_size(), true);
    defined_.insert(t);
  }
  if (!defined_.count(t)) return InvalidModel("tensor '" + x.name + "' is used before it is produced");
  *name = raw_[t];
  return Status::Ok();
}

Status Exporter::Float(int32_t t, std::string* name) {
  std::string raw;
  EDGEQ_RETURN_IF_ERROR(Raw(t, &raw));
  if (g_.tensors[t].dtype == DType::kF32) {
    *name = raw;
    return Status::Ok();
  }
  if (float_[t].empty()) {
    const std::string out = Fresh(g_.tensors[t].name + "_dequantized");
    EDGEQ_RETURN_IF_ERROR(Dequantize(t, raw, out));
    float_[t] = out;
  }
  *name = float_[t];
  return Status::Ok();
}

std::string Exporter::Transposed(const std::string& x, const Ints& perm) {
  const std::string out = Fresh(x + (perm == kToNchw ? "_nchw" : "_transposed"));
  AttrInts(Add("Transpose", {x}, {out}), "perm", perm);
  return out;
}

Status Exporter::FloatNchw(int32_t t, std::string* name) {
  auto it = nchw_.find(t);
  if (it != nchw_.end()) {
    *name = it->second;
    return Status::Ok();
  }
  const Tensor& x = g_.tensors[t];
  if (x.shape.size() != 4) return Unsupported("tensor '" + x.name + "' must have rank 4");
  std::string raw;
  EDGEQ_RETURN_IF_ERROR(Raw(t, &raw));
  std::string v = Transposed(raw, kToNchw);
  if (x.dtype != DType::kF32) {
    const std::string out = Fresh(x.name + "_nchw_dequantized");
    EDGEQ_RETURN_IF_ERROR(Dequantize(t, v, out));
    v = out;
  }
  nchw_[t] = v;
  *name = v;
  return Status::Ok();
}

// True when act_min/act_max change the result: always for a float result; for a
// quantized one only when [zp + round(act_min / s), zp + round(act_max / s)] cuts into the
// type's range (a ReLU into a tensor whose zero point is the type minimum does not).
// Leaving out a clamp without effect lets ONNX Runtime fuse DequantizeLinear -> op ->
// QuantizeLinear into its integer op.
bool act_matters(const Tensor& y, bool quantize, const Attrs* a) {
  if (!a || !act_bounded(*a)) return false;
  if (!quantize || y.quant.scale.size() != 1) return true;
  const double s = y.quant.scale[0], zp = y.quant.zero_point[0];
  const bool lo = std::isfinite(a->act_min) && zp + std::nearbyint(a->act_min / s) > dtype_min(y.dtype);
  const bool hi = std::isfinite(a->act_max) && zp + std::nearbyint(a->act_max / s) < dtype_max(y.dtype);
  return lo || hi;
}

std::string Exporter::Target(int32_t t, const Post& p) {
  const bool quantize = p.quantize && g_.tensors[t].dtype != DType::kF32;
  const bool steps = act_matters(g_.tensors[t], quantize, p.act) || quantize || !p.perm.empty() || p.reshape;
  return steps ? Fresh(g_.tensors[t].name + "_float") : raw_[t];
}

Status Exporter::Finish(int32_t t, const std::string& value, const Post& p) {
  const Tensor& y = g_.tensors[t];
  const bool quantize = p.quantize && y.dtype != DType::kF32;
  const bool act = act_matters(y, quantize, p.act);
  int steps = act + quantize + !p.perm.empty() + p.reshape;
  std::string v = value;
  auto next = [&](const std::string& suffix) { return --steps == 0 ? raw_[t] : Fresh(y.name + suffix); };
  if (act && quantize) {
    // Quantize, then clamp the integers: DQ -> Relu/Clip -> Q with the same parameters
    // (exact, as DQ -> Q is), which leaves op -> Q for ONNX Runtime to fuse.
    const std::string q = Fresh(y.name + "_unclamped");
    EDGEQ_RETURN_IF_ERROR(Quantize(t, v, q));
    v = Fresh(y.name + "_unclamped_dequantized");
    EDGEQ_RETURN_IF_ERROR(Dequantize(t, q, v));
  }
  if (act) {
    const Attrs& a = *p.act;
    const std::string out = next("_clipped");
    if (a.act_min == 0.f && std::isinf(a.act_max) && a.act_max > 0) {
      Add("Relu", {v}, {out});
    } else {
      const std::string lo = std::isfinite(a.act_min) ? FloatsConst(y.name + "_min", {a.act_min}, true) : "";
      const std::string hi = std::isfinite(a.act_max) ? FloatsConst(y.name + "_max", {a.act_max}, true) : "";
      std::vector<std::string> ins = {v, lo, hi};
      while (ins.back().empty()) ins.pop_back();  // no trailing absent inputs
      Add("Clip", ins, {out});
    }
    v = out;
  }
  if (quantize) {
    const std::string out = next("_quantized");
    EDGEQ_RETURN_IF_ERROR(Quantize(t, v, out));
    v = out;
  }
  if (!p.perm.empty()) {
    const std::string out = next("_transposed");
    AttrInts(Add("Transpose", {v}, {out}), "perm", p.perm);
    v = out;
  }
  if (p.reshape) {
    const std::string shape = IntsConst(y.name + "_shape", Ints(y.shape.begin(), y.shape.end()));
    const std::string out = next("_reshaped");
    Add("Reshape", {v, shape}, {out});
    v = out;
  }
  if (v != raw_[t]) return Status(StatusCode::kInternal, "exporter: result of '" + y.name + "' misnamed");
  defined_.insert(t);
  return Status::Ok();
}

// ------------------------------------------------------------------ ops

Status Exporter::Conv(const Node& n) {
  const Attrs& a = n.attrs;
  const int32_t w = n.inputs[1];
  const Tensor& wt = g_.tensors[w];
  if (wt.shape.size() != 4) return Fail(n, "the weight must have rank 4");
  std::string x, wv, bv;
  EDGEQ_RETURN_IF_ERROR(FloatNchw(n.inputs[0], &x));
  // Weights [Cout,KH,KW,Cin/g] -> ONNX [Cout,Cin/g,KH,KW] (per-channel axis 0 stays 0).
  auto it = conv_w_.find(w);
  if (it != conv_w_.end()) {
    wv = it->second;
  } else if (wt.is_constant()) {
    const int64_t co = wt.shape[0], kh = wt.shape[1], kw = wt.shape[2], ci = wt.shape[3];
    const size_t es = dtype_size(wt.dtype);
    std::vector<uint8_t> p(wt.byte_size());
    for (int64_t o = 0; o < co; ++o)
      for (int64_t y = 0; y < kh; ++y)
        for (int64_t xx = 0; xx < kw; ++xx)
          for (int64_t c = 0; c < ci; ++c)
            std::memcpy(&p[(((o * ci + c) * kh + y) * kw + xx) * es],
                        wt.data + (((o * kh + y) * kw + xx) * ci + c) * es, es);
    wv = Initializer(wt.name, onnx_type(wt.dtype), {co, ci, kh, kw}, p.data(), p.size());
    if (wt.dtype != DType::kF32) {
      const std::string out = Fresh(wt.name + "_dequantized");
      EDGEQ_RETURN_IF_ERROR(Dequantize(w, wv, out));
      wv = out;
    }
    conv_w_[w] = wv;
  } else {
    std::string f;
    EDGEQ_RETURN_IF_ERROR(Float(w, &f));
    wv = Transposed(f, kToNchw);
    conv_w_[w] = wv;
  }
  std::vector<std::string> ins = {x, wv};
  if (n.inputs.size() > 2 && n.inputs[2] >= 0) {
    EDGEQ_RETURN_IF_ERROR(Float(n.inputs[2], &bv));
    ins.push_back(bv);
  }
  const int32_t y = n.outputs[0];
  Post p;
  p.act = &a;
  p.perm = kToNhwc;
  onnx::NodeProto* c = Add("Conv", ins, {Target(y, p)});
  AttrInts(c, "kernel_shape", {wt.shape[1], wt.shape[2]});
  AttrInts(c, "strides", {a.stride_h, a.stride_w});
  AttrInts(c, "dilations", {a.dilation_h, a.dilation_w});
  AttrInts(c, "pads", {a.pad_top, a.pad_left, a.pad_bottom, a.pad_right});
  AttrInt(c, "group", a.groups);
  return Finish(y, c->output(0), p);
}

// Gemm(transB=1) on [M, K]; other ranks are reshaped to 2-D around it.
Status Exporter::FullyConnected(const Node& n) {
  const Tensor& xt = g_.tensors[n.inputs[0]];
  const Tensor& wt = g_.tensors[n.inputs[1]];
  if (wt.shape.size() != 2 || xt.shape.empty() || xt.shape.back() != wt.shape[1])
    return Fail(n, "weight " + shape_string(wt.shape) + " does not match input " + shape_string(xt.shape));
  const int64_t k = wt.shape[1];
  const bool flat = xt.shape.size() == 2;
  std::string x, w, b;
  if (flat) {
    EDGEQ_RETURN_IF_ERROR(Float(n.inputs[0], &x));
  } else {
    EDGEQ_RETURN_IF_ERROR(Raw(n.inputs[0], &x));
    const std::string out = Fresh(xt.name + "_2d");
    Add("Reshape", {x, IntsConst(xt.name + "_2d_shape", {xt.num_elements() / k, k})}, {out});
    x = out;
    if (xt.dtype != DType::kF32) {
      const std::string deq = Fresh(xt.name + "_2d_dequantized");
      EDGEQ_RETURN_IF_ERROR(Dequantize(n.inputs[0], x, deq));
      x = deq;
    }
  }
  EDGEQ_RETURN_IF_ERROR(Float(n.inputs[1], &w));
  std::vector<std::string> ins = {x, w};
  if (n.inputs.size() > 2 && n.inputs[2] >= 0) {
    EDGEQ_RETURN_IF_ERROR(Float(n.inputs[2], &b));
    ins.push_back(b);
  }
  const int32_t y = n.outputs[0];
  Post p;
  p.act = &n.attrs;
  p.reshape = !flat;
  onnx::NodeProto* gemm = Add("Gemm", ins, {Target(y, p)});
  AttrInt(gemm, "transB", 1);
  return Finish(y, gemm->output(0), p);
}

// Pools on NCHW.
Status Exporter::Window(const Node& n) {
  const Attrs& a = n.attrs;
  std::string x;
  EDGEQ_RETURN_IF_ERROR(FloatNchw(n.inputs[0], &x));
  const int32_t y = n.outputs[0];
  Post p;
  p.act = &a;
  p.perm = kToNhwc;
  const char* op = n.op == OpType::kMaxPool2D   ? "MaxPool"
                   : n.op == OpType::kAvgPool2D ? "AveragePool"
                                                : "GlobalAveragePool";
  onnx::NodeProto* o = Add(op, {x}, {Target(y, p)});
  if (n.op != OpType::kGlobalAvgPool) {
    AttrInts(o, "kernel_shape", {a.kernel_h, a.kernel_w});
    AttrInts(o, "strides", {a.stride_h, a.stride_w});
    AttrInts(o, "pads", {a.pad_top, a.pad_left, a.pad_bottom, a.pad_right});
    if (n.op == OpType::kMaxPool2D && (a.dilation_h != 1 || a.dilation_w != 1))
      AttrInts(o, "dilations", {a.dilation_h, a.dilation_w});
    if (n.op == OpType::kAvgPool2D) AttrInt(o, "count_include_pad", a.count_include_pad ? 1 : 0);
  }
  return Finish(y, o->output(0), p);
}

// Reshape, Transpose, Pad, ResizeNearest, ResizeLinear (float), Split, Slice: on the raw values when every
// output has the input's element type and parameters, else DQ -> op -> Q.
Status Exporter::ResizeTarget(const Node& n, const Ints& y_shape, std::string* scales, std::string* sizes) {
  const Attrs& a = n.attrs;
  const Ints x_shape(g_.tensors[n.inputs[0]].shape.begin(), g_.tensors[n.inputs[0]].shape.end());
  const std::string& base = g_.tensors[n.outputs[0]].name;
  scales->clear();
  sizes->clear();
  if (a.coord_scale_h == 0.f && a.coord_scale_w == 0.f) {
    *sizes = IntsConst(base + "_sizes", {y_shape[0], y_shape[3], y_shape[1], y_shape[2]});
    return Status::Ok();
  }
  // ONNX Runtime sizes the output as floor(scale * in) in float: the scales must give
  // this node's sizes (an axis without a scale of its own takes out / in).
  float s[2];
  for (int k = 0; k < 2; ++k) {
    const float given = k == 0 ? a.coord_scale_h : a.coord_scale_w;
    const int64_t in = x_shape[1 + k], out = y_shape[1 + k];
    s[k] = given > 0.f ? given : static_cast<float>(out) / static_cast<float>(in);
    if (static_cast<int64_t>(std::floor(s[k] * static_cast<float>(in))) != out)
      return Fail(n, "a coordinate scale that does not give the output size (keep_aspect_ratio_policy) has no "
                     "ONNX form at opset " + std::to_string(kExportOpset));
  }
  *scales = FloatsConst(base + "_scales", {1.f, 1.f, s[0], s[1]}, false);
  return Status::Ok();
}

Status Exporter::Movement(const Node& n) {
  const Tensor& xt = g_.tensors[n.inputs[0]];
  bool raw = n.op != OpType::kPad || xt.dtype == DType::kF32;  // a quantized pad fills in real units
  for (int32_t o : n.outputs)
    raw &= same_params(xt, g_.tensors[o]) || (xt.dtype == DType::kF32 && g_.tensors[o].dtype == DType::kF32);
  const Attrs& a = n.attrs;
  std::string x;
  Post p;
  p.quantize = !raw;
  if (n.op == OpType::kResizeNearest || n.op == OpType::kResizeLinear || n.op == OpType::kResizeNearestTo ||
      n.op == OpType::kResizeCubic) {
    if (xt.shape.size() != 4) return Fail(n, "the input must have rank 4");
    if (raw) {
      EDGEQ_RETURN_IF_ERROR(Raw(n.inputs[0], &x));
      x = Transposed(x, kToNchw);
    } else {
      EDGEQ_RETURN_IF_ERROR(FloatNchw(n.inputs[0], &x));
    }
    p.perm = kToNhwc;
  } else if (raw) {
    EDGEQ_RETURN_IF_ERROR(Raw(n.inputs[0], &x));
  } else {
    EDGEQ_RETURN_IF_ERROR(Float(n.inputs[0], &x));
  }
  std::vector<std::string> outs;
  for (int32_t o : n.outputs) outs.push_back(Target(o, p));
  const std::string& base = g_.tensors[n.outputs[0]].name;
  const Ints y_shape(g_.tensors[n.outputs[0]].shape.begin(), g_.tensors[n.outputs[0]].shape.end());
  const int64_t r = static_cast<int64_t>(xt.shape.size());
  switch (n.op) {
    case OpType::kReshape:
      Add("Reshape", {x, IntsConst(base + "_shape", y_shape)}, outs);
      break;
    case OpType::kTranspose:
      AttrInts(Add("Transpose", {x}, outs), "perm", Ints(a.perm.begin(), a.perm.end()));
      break;
    case OpType::kPad: {
      if (static_cast<int64_t>(a.pads.size()) != 2 * r) return Fail(n, "pads do not match the rank");
      const std::string pads = IntsConst(base + "_pads", Ints(a.pads.begin(), a.pads.end()));
      Add("Pad", {x, pads, FloatsConst(base + "_pad_value", {a.pad_value}, true)}, outs);
      break;
    }
    case OpType::kPadReflect:
    case OpType::kPadEdge: {
      if (static_cast<int64_t>(a.pads.size()) != 2 * r) return Fail(n, "pads do not match the rank");
      onnx::NodeProto* pd = Add("Pad", {x, IntsConst(base + "_pads", Ints(a.pads.begin(), a.pads.end()))}, outs);
      AttrString(pd, "mode", n.op == OpType::kPadReflect ? "reflect" : "edge");
      break;
    }
    case OpType::kResizeNearest: {
      const std::vector<float> scales = {1.f, 1.f, static_cast<float>(a.scale_h), static_cast<float>(a.scale_w)};
      onnx::NodeProto* rs = Add("Resize", {x, "", FloatsConst(base + "_scales", scales, false)}, outs);
      // asymmetric + floor: Y[y] = X[floor(y / s)], exactly, for integer s.
      AttrString(rs, "mode", "nearest");
      AttrString(rs, "coordinate_transformation_mode", "asymmetric");
      AttrString(rs, "nearest_mode", "floor");
      break;
    }
    case OpType::kResizeLinear:
    case OpType::kResizeCubic: {
      static const char* const kCoord[] = {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric"};
      if (a.coord_mode < 0 || a.coord_mode > 3) return Fail(n, "unknown coordinate mode");
      std::string scales, sizes;
      EDGEQ_RETURN_IF_ERROR(ResizeTarget(n, y_shape, &scales, &sizes));
      onnx::NodeProto* rs = Add("Resize", {x, "", scales, sizes}, outs);
      AttrString(rs, "mode", n.op == OpType::kResizeCubic ? "cubic" : "linear");
      AttrString(rs, "coordinate_transformation_mode", kCoord[a.coord_mode]);
      if (n.op == OpType::kResizeCubic) {
        AttrFloat(rs, "cubic_coeff_a", a.cubic_a);
        AttrInt(rs, "exclude_outside", a.exclude_outside);
      }
      break;
    }
    case OpType::kResizeNearestTo: {
      static const char* const kCoord[] = {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric",
                                           "tf_half_pixel_for_nn"};
      static const char* const kRound[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
      if (a.coord_mode < 0 || a.coord_mode > 4 || a.nearest_mode < 0 || a.nearest_mode > 3)
        return Fail(n, "unknown coordinate or rounding mode");
      std::string scales, sizes;
      EDGEQ_RETURN_IF_ERROR(ResizeTarget(n, y_shape, &scales, &sizes));
      onnx::NodeProto* rs = Add("Resize", {x, "", scales, sizes}, outs);
      AttrString(rs, "mode", "nearest");
      AttrString(rs, "coordinate_transformation_mode", kCoord[a.coord_mode]);
      AttrString(rs, "nearest_mode", kRound[a.nearest_mode]);
      break;
    }
    case OpType::kSplit: {
      Ints sizes;
      for (int32_t o : n.outputs) sizes.push_back(g_.tensors[o].shape[a.axis]);
      AttrInt(Add("Split", {x, IntsConst(base + "_split", sizes)}, outs), "axis", a.axis);
      break;
    }
    case OpType::kSlice: {
      if (static_cast<int64_t>(a.starts.size()) != r || static_cast<int64_t>(a.steps.size()) != r)
        return Fail(n, "starts and steps must cover every dimension");
      Ints starts, ends, axes, steps;
      for (int64_t d = 0; d < r; ++d) {
        const int64_t s = a.starts[d], st = a.steps[d], cnt = y_shape[d];
        const int64_t end = s + cnt * st;
        starts.push_back(s);
        // A negative step ending before index 0 needs an end below -dim (ONNX clamps it to -1).
        ends.push_back(end < 0 ? std::numeric_limits<int64_t>::min() : end);
        axes.push_back(d);
        steps.push_back(st);
      }
      Add("Slice",
          {x, IntsConst(base + "_starts", starts), IntsConst(base + "_ends", ends), IntsConst(base + "_axes", axes),
           IntsConst(base + "_steps", steps)},
          outs);
      break;
    }
    default:
      return Fail(n, "not a movement op");
  }
  for (size_t k = 0; k < outs.size(); ++k) EDGEQ_RETURN_IF_ERROR(Finish(n.outputs[k], outs[k], p));
  return Status::Ok();
}

Status Exporter::ExportNode(const Node& n) {
  node_ = n.name;
  if (n.inputs.empty() || n.outputs.empty()) return Fail(n, "missing operands");
  for (int32_t t : n.outputs)
    if (t < 0 || t >= static_cast<int32_t>(g_.tensors.size())) return Fail(n, "output index out of range");
  const int32_t y = n.outputs[0];
  const Attrs& a = n.attrs;
  Post p;
  p.act = &a;
  std::vector<std::string> ins;
  auto floats = [&](size_t count) -> Status {
    for (size_t k = 0; k < count && k < n.inputs.size(); ++k) {
      std::string v;
      EDGEQ_RETURN_IF_ERROR(Float(n.inputs[k], &v));
      ins.push_back(v);
    }
    return Status::Ok();
  };
  // A float op on all (dequantized) inputs, then act / quantize.
  auto simple = [&](const std::string& op, size_t count) -> Status {
    EDGEQ_RETURN_IF_ERROR(floats(count));
    onnx::NodeProto* o = Add(op, ins, {Target(y, p)});
    if (op == "LeakyRelu" || op == "Elu" || op == "ThresholdedRelu") AttrFloat(o, "alpha", a.alpha);
    if (op == "Shrink") {
      AttrFloat(o, "lambd", a.alpha);
      AttrFloat(o, "bias", a.beta);
    }
    if (op == "HardSigmoid") {
      AttrFloat(o, "alpha", a.alpha);
      AttrFloat(o, "beta", a.beta);
    }
    if (op == "Softmax" || op == "Concat") AttrInt(o, "axis", a.axis);
    return Finish(y, o->output(0), p);
  };
  // Integer arithmetic (ids, positions) and Mod: on the stored values, nothing dequantized.
  const bool integer_op = (n.op == OpType::kAdd || n.op == OpType::kSub || n.op == OpType::kMul ||
                           n.op == OpType::kDiv || n.op == OpType::kMod) &&
                          is_index_type(g_.tensors[n.inputs[0]].dtype);
  if (integer_op || n.op == OpType::kMod) {
    std::string x0, x1;
    EDGEQ_RETURN_IF_ERROR(Raw(n.inputs[0], &x0));
    EDGEQ_RETURN_IF_ERROR(Raw(n.inputs[1], &x1));
    Post as_is;
    as_is.quantize = false;
    const std::string out = Target(y, as_is);
    const char* op = n.op == OpType::kAdd ? "Add" : n.op == OpType::kSub ? "Sub" : n.op == OpType::kMul ? "Mul"
                     : n.op == OpType::kDiv ? "Div" : "Mod";
    onnx::NodeProto* e = Add(op, {x0, x1}, {out});
    if (n.op == OpType::kMod) AttrInt(e, "fmod", a.fmod);
    return Finish(y, out, as_is);
  }
  switch (n.op) {
    case OpType::kConv2D:
      return Conv(n);
    case OpType::kFullyConnected:
      return FullyConnected(n);
    case OpType::kAdd:
      return simple("Add", 2);
    case OpType::kSub:
      return simple("Sub", 2);
    case OpType::kMul:
      return simple("Mul", 2);
    case OpType::kDiv:
      return simple("Div", 2);
    case OpType::kRelu:
      return simple("Relu", 1);
    case OpType::kLeakyRelu:
      return simple("LeakyRelu", 1);
    case OpType::kSigmoid:
      return simple("Sigmoid", 1);
    case OpType::kHardSigmoid:
      return simple("HardSigmoid", 1);
    case OpType::kHardSwish:
      return simple("HardSwish", 1);
    case OpType::kTanh:
      return simple("Tanh", 1);
    case OpType::kLookup: {
      // The table's entries dequantized with the output's parameters, gathered by the
      // input's values (Gather counts a negative int8 index from the end: byte 256 + q),
      // then quantized again, which gives back the table's bytes.
      std::string x;
      EDGEQ_RETURN_IF_ERROR(Raw(n.inputs[0], &x));
      const Tensor &t = g_.tensors[n.inputs[1]], &yt = g_.tensors[y];
      if (yt.quant.empty()) return Fail(n, "the output has no quantization parameters");
      std::vector<float> table(256);
      for (size_t b = 0; b < table.size(); ++b) {
        const int32_t q = t.dtype == DType::kS8 ? static_cast<int8_t>(t.data[b]) : t.data[b];
        table[b] = static_cast<float>(q - yt.quant.zero_point[0]) * yt.quant.scale[0];
      }
      const std::string index = Fresh(yt.name + "_index");
      AttrInt(Add("Cast", {x}, {index}), "to", TensorProto::INT32);
      onnx::NodeProto* o = Add("Gather", {FloatsConst(yt.name + "_table", table, false), index}, {Target(y, p)});
      return Finish(y, o->output(0), p);
    }
    case OpType::kErf:
      return simple("Erf", 1);
    case OpType::kSoftplus:
      return simple("Softplus", 1);
    case OpType::kElu:
      return simple("Elu", 1);
    case OpType::kSoftmax:
      return simple("Softmax", 1);
    case OpType::kSqrt:
      return simple("Sqrt", 1);
    case OpType::kMax:
      return simple("Max", 2);
    case OpType::kMin:
      return simple("Min", 2);
    case OpType::kReciprocal:
      return simple("Reciprocal", 1);
    case OpType::kExp:
      return simple("Exp", 1);
    case OpType::kLog:
      return simple("Log", 1);
    case OpType::kNeg:
      return simple("Neg", 1);
    case OpType::kAbs:
      return simple("Abs", 1);
    case OpType::kFloor:
      return simple("Floor", 1);
    case OpType::kCeil:
      return simple("Ceil", 1);
    case OpType::kRound:
      return simple("Round", 1);
    case OpType::kSin:
      return simple("Sin", 1);
    case OpType::kCos:
      return simple("Cos", 1);
    case OpType::kSoftsign:
      return simple("Softsign", 1);
    case OpType::kThresholdedRelu:
      return simple("ThresholdedRelu", 1);
    case OpType::kShrink:
      return simple("Shrink", 1);
    case OpType::kTan:
      return simple("Tan", 1);
    case OpType::kAsin:
      return simple("Asin", 1);
    case OpType::kAcos:
      return simple("Acos", 1);
    case OpType::kAtan:
      return simple("Atan", 1);
    case OpType::kSinh:
      return simple("Sinh", 1);
    case OpType::kCosh:
      return simple("Cosh", 1);
    case OpType::kAsinh:
      return simple("Asinh", 1);
    case OpType::kAcosh:
      return simple("Acosh", 1);
    case OpType::kAtanh:
      return simple("Atanh", 1);
    case OpType::kReduceMean:
    case OpType::kReduceSum:
    case OpType::kReduceMax:
    case OpType::kReduceMin: {
      // The reduced axes are those where the output is 1 and the input is not; kept.
      EDGEQ_RETURN_IF_ERROR(floats(1));
      const Tensor& xt = g_.tensors[n.inputs[0]];
      Ints axes;
      for (size_t d = 0; d < xt.shape.size(); ++d)
        if (g_.tensors[y].shape[d] == 1 && xt.shape[d] != 1) axes.push_back(static_cast<int64_t>(d));
      if (axes.empty()) {  // nothing reduced (ONNX would read no axes as all of them)
        onnx::NodeProto* o = Add("Identity", ins, {Target(y, p)});
        return Finish(y, o->output(0), p);
      }
      const char* op = n.op == OpType::kReduceMean  ? "ReduceMean"
                       : n.op == OpType::kReduceSum ? "ReduceSum"
                       : n.op == OpType::kReduceMax ? "ReduceMax"
                                                    : "ReduceMin";
      if (n.op == OpType::kReduceSum) ins.push_back(IntsConst(g_.tensors[y].name + "_axes", axes));  // an input from opset 13
      onnx::NodeProto* o = Add(op, ins, {Target(y, p)});
      if (n.op != OpType::kReduceSum) AttrInts(o, "axes", axes);
      AttrInt(o, "keepdims", 1);
      return Finish(y, o->output(0), p);
    }
    case OpType::kPow: {
      EDGEQ_RETURN_IF_ERROR(floats(1));
      ins.push_back(FloatsConst(g_.tensors[y].name + "_exponent", {a.alpha}, true));
      onnx::NodeProto* o = Add("Pow", ins, {Target(y, p)});
      return Finish(y, o->output(0), p);
    }
    case OpType::kTopK: {
      // On the input's own values (8-bit: its bytes, whose order is the real values').
      if (n.outputs.size() != 2) return Fail(n, "missing outputs");
      std::string x;
      EDGEQ_RETURN_IF_ERROR(g_.tensors[n.inputs[0]].dtype == DType::kF32 ? Float(n.inputs[0], &x)
                                                                          : Raw(n.inputs[0], &x));
      Post as_is;
      as_is.quantize = false;
      const std::vector<std::string> outs = {Target(n.outputs[0], as_is), Target(n.outputs[1], as_is)};
      onnx::NodeProto* o = Add("TopK", {x, IntsConst(g_.tensors[y].name + "_k", {a.k})}, outs);
      AttrInt(o, "axis", a.axis);
      AttrInt(o, "largest", a.largest);
      AttrInt(o, "sorted", 1);
      for (size_t k = 0; k < outs.size(); ++k) EDGEQ_RETURN_IF_ERROR(Finish(n.outputs[k], outs[k], as_is));
      return Status::Ok();
    }
    case OpType::kArgMax: {  // on the input's own values (8-bit: its bytes order as the real values)
      std::string x;
      EDGEQ_RETURN_IF_ERROR(g_.tensors[n.inputs[0]].dtype == DType::kF32 ? Float(n.inputs[0], &x)
                                                                          : Raw(n.inputs[0], &x));
      Post as_is;
      as_is.quantize = false;
      const std::string out = Target(y, as_is);
      onnx::NodeProto* o = Add("ArgMax", {x}, {out});
      AttrInt(o, "axis", a.axis);
      AttrInt(o, "keepdims", 1);
      return Finish(y, out, as_is);
    }
    case OpType::kGelu: {
      // The float function as PyTorch writes it (ONNX Runtime fuses it back into its Gelu):
      // x * 0.5 * (1 + erf(x / sqrt(2))), or with tanh(sqrt(2 / pi) (x + 0.044715 x^3)).
      EDGEQ_RETURN_IF_ERROR(floats(1));
      const std::string& x = ins[0];
      const std::string base = g_.tensors[y].name + "_gelu";
      const auto op2 = [&](const std::string& op, const std::string& l, const std::string& r) {
        return Add(op, {l, r}, {Fresh(base)})->output(0);
      };
      const auto scalar = [&](float v) { return FloatsConst(base + "_c", {v}, true); };
      std::string t;
      if (a.alpha == 0.f) {
        t = Add("Erf", {op2("Div", x, scalar(1.41421356f))}, {Fresh(base)})->output(0);
      } else {
        const std::string cube = op2("Mul", op2("Mul", x, x), x);
        const std::string inner = op2("Add", x, op2("Mul", cube, scalar(0.044715f)));
        t = Add("Tanh", {op2("Mul", inner, scalar(0.7978845608f))}, {Fresh(base)})->output(0);
      }
      const std::string out = Target(y, p);
      Add("Mul", {op2("Mul", x, op2("Add", t, scalar(1.f))), scalar(0.5f)}, {out});
      return Finish(y, out, p);
    }
    case OpType::kLayerNorm: {
      // Over the last axis, as PyTorch writes it below opset 17 (ONNX Runtime fuses it):
      // d = x - mean(x); y = d / sqrt(mean(d * d) + eps) * gamma [+ beta].
      EDGEQ_RETURN_IF_ERROR(floats(n.inputs.size() > 2 && n.inputs[2] >= 0 ? 3 : 2));
      const std::string base = g_.tensors[y].name + "_layer_norm";
      const auto op2 = [&](const std::string& op, const std::string& l, const std::string& r) {
        return Add(op, {l, r}, {Fresh(base)})->output(0);
      };
      const auto mean = [&](const std::string& v) {
        onnx::NodeProto* m = Add("ReduceMean", {v}, {Fresh(base)});
        AttrInts(m, "axes", {-1});
        AttrInt(m, "keepdims", 1);
        return m->output(0);
      };
      const std::string d = op2("Sub", ins[0], mean(ins[0]));
      const std::string sd = Add("Sqrt", {op2("Add", mean(op2("Mul", d, d)), FloatsConst(base + "_eps", {a.epsilon}, true))},
                                 {Fresh(base)})->output(0);
      const std::string scaled = op2("Mul", op2("Div", d, sd), ins[1]);
      const std::string out = Target(y, p);
      if (ins.size() > 2) Add("Add", {scaled, ins[2]}, {out});
      else Add("Identity", {scaled}, {out});
      return Finish(y, out, p);
    }
    case OpType::kGatherElements: {  // on the input's own values, as TopK
      std::string x, idx;
      EDGEQ_RETURN_IF_ERROR(g_.tensors[n.inputs[0]].dtype == DType::kF32 ? Float(n.inputs[0], &x)
                                                                          : Raw(n.inputs[0], &x));
      EDGEQ_RETURN_IF_ERROR(Raw(n.inputs[1], &idx));
      Post as_is;
      as_is.quantize = false;
      const std::string out = Target(y, as_is);
      AttrInt(Add("GatherElements", {x, idx}, {out}), "axis", a.axis);
      return Finish(y, out, as_is);
    }
    case OpType::kScatterElements:
    case OpType::kScatterND: {  // on the stored values: data and updates share parameters
      if (a.reduction != 0)
        return Fail(n, "a reduction has no ONNX form at opset " + std::to_string(kExportOpset) + " (from opset 16)");
      std::string x, idx, upd;
      const bool f32 = g_.tensors[n.inputs[0]].dtype == DType::kF32;
      EDGEQ_RETURN_IF_ERROR(f32 ? Float(n.inputs[0], &x) : Raw(n.inputs[0], &x));
      EDGEQ_RETURN_IF_ERROR(Raw(n.inputs[1], &idx));
      EDGEQ_RETURN_IF_ERROR(f32 ? Float(n.inputs[2], &upd) : Raw(n.inputs[2], &upd));
      Post as_is;
      as_is.quantize = false;
      const std::string out = Target(y, as_is);
      onnx::NodeProto* e = Add(n.op == OpType::kScatterND ? "ScatterND" : "ScatterElements", {x, idx, upd}, {out});
      if (n.op == OpType::kScatterElements) AttrInt(e, "axis", a.axis);
      return Finish(y, out, as_is);
    }
    case OpType::kMatMul:
      // Two activations: a float MatMul on the (dequantized) operands, quantized after
      // when the output is; a dynamically quantized product becomes the float one, as a
      // dynamic fully connected layer becomes a float Gemm.
      if (!a.matmul_views.empty()) return Fail(n, "a run-time view of its operands has no ONNX form");
      return simple("MatMul", 2);
    case OpType::kConcat:
      return simple("Concat", n.inputs.size());
    case OpType::kClip: {
      EDGEQ_RETURN_IF_ERROR(floats(1));
      ins.push_back(FloatsConst(g_.tensors[y].name + "_clip_min", {a.alpha}, true));
      ins.push_back(FloatsConst(g_.tensors[y].name + "_clip_max", {a.beta}, true));
      onnx::NodeProto* o = Add("Clip", ins, {Target(y, p)});
      return Finish(y, o->output(0), p);
    }
    case OpType::kLSTM:
    case OpType::kGRU: {  // every input present (graph/shape.cc); no sequence_lens
      const bool lstm = n.op == OpType::kLSTM;
      if (a.direction < 0 || a.direction > 2) return Fail(n, "unknown direction");
      EDGEQ_RETURN_IF_ERROR(floats(n.inputs.size()));
      ins.insert(ins.begin() + 4, "");
      std::vector<std::string> outs;
      for (int32_t t : n.outputs) outs.push_back(Target(t, p));
      onnx::NodeProto* o = Add(lstm ? "LSTM" : "GRU", ins, outs);
      static const char* const kDirection[] = {"forward", "reverse", "bidirectional"};
      AttrInt(o, "hidden_size", a.hidden_size);
      AttrString(o, "direction", kDirection[a.direction]);
      if (a.clip > 0.f) AttrFloat(o, "clip", a.clip);
      if (!lstm) AttrInt(o, "linear_before_reset", a.linear_before_reset);
      for (size_t k = 0; k < outs.size(); ++k) EDGEQ_RETURN_IF_ERROR(Finish(n.outputs[k], outs[k], p));
      return Status::Ok();
    }
    case OpType::kMaxPool2D:
    case OpType::kAvgPool2D:
    case OpType::kGlobalAvgPool:
      return Window(n);
    case OpType::kReshape:
    case OpType::kTranspose:
    case OpType::kPad:
    case OpType::kPadReflect:
    case OpType::kPadEdge:
    case OpType::kResizeNearest:
    case OpType::kResizeLinear:
    case OpType::kResizeCubic:
    case OpType::kResizeNearestTo:
    case OpType::kSplit:
    case OpType::kSlice:
      return Movement(n);
    case OpType::kQuantize:
    case OpType::kRequantize: {
      if (g_.tensors[y].dtype == DType::kF32) return Fail(n, "the output is not quantized");
      EDGEQ_RETURN_IF_ERROR(floats(1));
      Post q;
      return Finish(y, ins[0], q);
    }
    case OpType::kDequantize: {
      std::string x;
      EDGEQ_RETURN_IF_ERROR(Raw(n.inputs[0], &x));
      if (g_.tensors[n.inputs[0]].dtype == DType::kF32) return Fail(n, "the input is not quantized");
      EDGEQ_RETURN_IF_ERROR(Dequantize(n.inputs[0], x, raw_[y]));
      defined_.insert(y);
      return Status::Ok();
    }
    case OpType::kGridSample:
      return Fail(n, "GridSample has no ONNX form at opset " + std::to_string(kExportOpset) + " (from opset 16)");
    default:
      return Fail(n, "the op has no ONNX form");
  }
}

void set_value_info(onnx::ValueInfoProto* v, const std::string& name, const Tensor& t) {
  v->set_name(name);
  auto* tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(TensorProto::FLOAT);
  for (int32_t d : t.shape) tt->mutable_shape()->add_dim()->set_dim_value(d);
}

Status Exporter::Run(onnx::ModelProto* model) {
  model->set_ir_version(7);
  model->set_producer_name("edgeq");
  model->set_producer_version("0.1");
  model->set_doc_string(g_.producer);
  auto* opset = model->add_opset_import();
  opset->set_domain("");
  opset->set_version(kExportOpset);
  gp_ = model->mutable_graph();
  gp_->set_name("edgeq");

  for (size_t t = 0; t < g_.tensors.size(); ++t) {
    if (g_.tensors[t].name.empty() || !values_.insert(g_.tensors[t].name).second)
      return InvalidModel("tensor names must be unique and non-empty ('" + g_.tensors[t].name + "')");
    raw_[t] = g_.tensors[t].name;
  }
  // Graph inputs and outputs are float; quantized ones get a QuantizeLinear /
  // DequantizeLinear and their integer value another name.
  std::set<int32_t> ins(g_.inputs.begin(), g_.inputs.end());
  for (int32_t t : g_.outputs) {
    if (t < 0 || t >= static_cast<int32_t>(g_.tensors.size())) return InvalidModel("graph output out of range");
    if (ins.count(t)) return Unsupported("graph output '" + g_.tensors[t].name + "' is also a graph input");
    if (g_.tensors[t].dtype != DType::kF32) raw_[t] = Fresh(g_.tensors[t].name + "_quantized");
  }
  for (int32_t t : g_.inputs) {
    if (t < 0 || t >= static_cast<int32_t>(g_.tensors.size())) return InvalidModel("graph input out of range");
    if (is_integer_valued(g_.tensors[t].dtype))
      return Unsupported("graph input '" + g_.tensors[t].name + "' is " + dtype_name(g_.tensors[t].dtype) +
                         ": the export writes graphs of float and int8 inputs only");
    const Tensor& x = g_.tensors[t];
    if (x.is_constant()) return InvalidModel("graph input '" + x.name + "' is a constant");
    set_value_info(gp_->add_input(), x.name, x);
    if (x.dtype != DType::kF32) {
      raw_[t] = Fresh(x.name + "_quantized");
      node_ = x.name;
      EDGEQ_RETURN_IF_ERROR(Quantize(t, x.name, raw_[t]));
    }
    defined_.insert(t);
  }
  for (const Node& n : g_.nodes) EDGEQ_RETURN_IF_ERROR(ExportNode(n));
  for (int32_t t : g_.outputs) {
    const Tensor& y = g_.tensors[t];
    if (!defined_.count(t)) return InvalidModel("graph output '" + y.name + "' is not produced");
    if (y.dtype != DType::kF32) {
      node_ = y.name;
      EDGEQ_RETURN_IF_ERROR(Dequantize(t, raw_[t], y.name));
    }
    set_value_info(gp_->add_output(), y.name, y);
  }
  return Status::Ok();
}

}  // namespace

Status export_onnx_bytes(const Graph& g, std::string* bytes) {
  onnx::ModelProto model;
  Exporter e(g);
  EDGEQ_RETURN_IF_ERROR(e.Run(&model));
  if (!model.SerializeToString(bytes)) return Status(StatusCode::kInternal, "ONNX serialization failed");
  return Status::Ok();
}

Status export_onnx(const Graph& g, const std::string& path) {
  std::string bytes;
  EDGEQ_RETURN_IF_ERROR(export_onnx_bytes(g, &bytes));
  return write_file(path, bytes.data(), bytes.size());
}

}  // namespace edgeq
