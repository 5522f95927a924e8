// The GEMM family of the op layer: Conv2D and FullyConnected, float (float_fc.cc; conv: reference),
// dynamically quantized fully connected, and quantized ones on the level's
// indirect-GEMM engine (kernels/qconv.h) run through the scheduler, or the reference.
// A depthwise Conv2D goes to depthwise.cc first.
#include <memory>

#include "kernels/gemm_pick.h"
#include "kernels/qconv.h"
#include "runtime/ops/qmatmul_op.h"

namespace edgeq {
namespace ops {

ref::ConvShape conv_shape(const Graph& g, const Node& n) {
  const auto& x = g.tensors[n.inputs[0]].shape;
  const auto& w = g.tensors[n.inputs[1]].shape;
  const auto& y = g.tensors[n.outputs[0]].shape;
  const Attrs& a = n.attrs;
  return ref::ConvShape{x[0], x[1], x[2], x[3], y[1], y[2], y[3], w[1], w[2], a.stride_h, a.stride_w,
                        a.dilation_h, a.dilation_w, a.pad_top, a.pad_left, a.groups};
}

namespace {

class ConvF32 : public PreparedOp {
 public:
  ConvF32(const Graph& g, const Node& n) : n_(n), s_(conv_shape(g, n)) {}
  void run(uint8_t* const* p) override {
    ref::conv2d_f32(s_, at<float>(p, n_.inputs[0]), at<float>(p, n_.inputs[1]),
                    n_.inputs.size() > 2 && n_.inputs[2] >= 0 ? at<float>(p, n_.inputs[2]) : nullptr,
                    n_.attrs.act_min, n_.attrs.act_max, at<float>(p, n_.outputs[0]));
  }

 private:
  const Node& n_;
  ref::ConvShape s_;
};

// Node n's weights packed for `layout` (its s8 or u8 layout as act_s8 says), in place
// from the graph's pre-packed segment for it when there is one: *out null when the
// layout declines the node; an error when out of memory or when the segment's size
// does not fit the node. *heap_bytes: what the packed data allocated.
Status pack_gemm(const QWeights& qw, const Graph& g, const Node& n, const ref::ConvShape& shape, bool act_s8,
                 const kern::QGemmKernel& layout, std::shared_ptr<const kern::QConvPacked>* out, size_t* heap_bytes) {
  out->reset();
  const kern::QConvParams p = qw.engine_params<kern::QConvParams>(g, n, shape, act_s8);
  const std::string key = act_s8 ? layout.name_s8 : layout.name;
  const PackedWeights* pre = find_prepacked(g, n, key, kern::kQConvPackLayout);
  auto packed = std::make_shared<kern::QConvPacked>();
  switch (packed->init(p, layout, pre ? pre->data : nullptr, pre ? pre->nbytes : 0)) {
    case kern::QConvPacked::kReady: break;
    case kern::QConvPacked::kDeclined: return Status::Ok();
    case kern::QConvPacked::kOutOfMemory:
      return OutOfMemory("node '" + n.name + "' (" + op_name(n.op) + "): out of memory packing the weights");
    case kern::QConvPacked::kBadSize:
      return InvalidModel("node '" + n.name + "' (" + op_name(n.op) + "): its pre-packed weights for " + key +
                          " hold " + std::to_string(pre->nbytes) + " bytes, which is not the size of its packed layout");
  }
  *heap_bytes = packed->heap_bytes();
  *out = std::move(packed);
  return Status::Ok();
}

// Whether the GEMM engine of a level may take node n: constant weights with zero
// points 0 (any group count).
bool gemm_takes(const QWeights& qw, const Graph& g, const Node& n, const OpContext& ctx) {
  return qw.optimizable(g, n, ctx);
}

// The GEMM engine of a quantized conv / fully connected node, when the level has one
// that takes the node (zero weight zero points, constant weights), with the
// name it reports and the scheduler that spreads its tiles; empty otherwise, and the
// op runs the reference. The packed weights are the model's, shared by its sessions.
// The level's kernel for weights in [-127, 127] runs the node when it has one and the
// weights allow (kern::gemm_for_weights).
template <typename T>
struct GemmEngine {
  std::unique_ptr<kern::QConvOp> op;
  const char* name = "ref";
  const Scheduler* scheduler = nullptr;

  // An error only when the engine runs out of memory or a pre-packed segment is bad.
  Status init(QWeights& qw, const Graph& g, const Node& n, const ref::ConvShape& shape, const OpContext& ctx) {
    if (!gemm_takes(qw, g, n, ctx) || !ctx.kernels->gemm.u8) return Status::Ok();
    const Tensor& weight = g.tensors[n.inputs[1]];
    const kern::QGemmKernel& k = kern::gemm_for_weights(*ctx.kernels, weight.as<int8_t>(), weight.nbytes,
                                                              static_cast<size_t>(shape.in_c / shape.groups));
    constexpr bool act_s8 = std::is_same<T, int8_t>::value;
    std::shared_ptr<const kern::QConvPacked> packed;
    EDGEQ_RETURN_IF_ERROR((shared_packed<kern::QConvPacked>(
        g, n, ctx, gemm_kernel_name<T>(k),
        [&](std::shared_ptr<const kern::QConvPacked>* out, size_t* bytes) {
          EDGEQ_RETURN_IF_ERROR(pack_gemm(qw, g, n, shape, act_s8, k, out, bytes));
          // Packed from the raw weights: the sessions read the packed copy only.
          const Tensor& w = g.tensors[n.inputs[1]];
          if (*out && ctx.cache != nullptr && !find_prepacked(g, n, gemm_kernel_name<T>(k), kern::kQConvPackLayout))
            ctx.cache->drop_pages(w.data, w.nbytes);
          return Status::Ok();
        },
        &packed)));
    if (!packed) return Status::Ok();
    auto engine = std::make_unique<kern::QConvOp>();
    const kern::InitResult r = engine->init(std::move(packed), shape, act_s8, k);
    if (r.code() == kern::InitResult::kOutOfMemory)
      return OutOfMemory("node '" + n.name + "' (" + op_name(n.op) + "): out of memory");
    if (!r) return Status::Ok();
    op = std::move(engine);
    name = gemm_kernel_name<T>(k);
    scheduler = ctx.scheduler;
    return Status::Ok();
  }
  // Runs the node on the engine; false when there is none.
  bool run(uint8_t* const* p, const Node& n) const {
    if (!op) return false;
    scheduler->run(*op, at<T>(p, n.inputs[0]), at<T>(p, n.outputs[0]));
    return true;
  }
  size_t packed_bytes() const { return op ? op->own_bytes() : 0; }
  // The flipped input copy (kern::QConvOp::flip_bytes), a workspace of the node's step.
  size_t workspace_bytes() const { return op ? op->flip_bytes() : 0; }
  void set_workspace(uint8_t* workspace) {
    if (op) op->set_flip_buffer(workspace);
  }
};

// Quantized convolution: the ISA's indirect-GEMM engine (kern::QConvOp) when it takes
// the node (weight zero point 0, a constant weight; any group count), else the reference.
// (Depthwise convolutions are prepared in depthwise.cc when its engine takes them.)
template <typename T>
class QConv : public PreparedOp {
 public:
  QConv(const Graph& g, const Node& n) : n_(n), s_(conv_shape(g, n)) {}
  Status init(const Graph& g, const OpContext& ctx) {
    EDGEQ_RETURN_IF_ERROR(qw_.init(g, n_));
    return gemm_.init(qw_, g, n_, s_, ctx);
  }
  void run(uint8_t* const* p) override {
    if (gemm_.run(p, n_)) return;
    ref::qconv2d<T>(s_, at<T>(p, n_.inputs[0]), qw_.x_zero_point, at<int8_t>(p, n_.inputs[1]),
                    qw_.w_zero_point.data(), qw_.per_channel(), qw_.bias, qw_.rs.rq, at<T>(p, n_.outputs[0]));
  }
  size_t packed_bytes() const override { return gemm_.packed_bytes(); }
  size_t workspace_bytes() const override { return gemm_.workspace_bytes(); }
  void set_workspace(uint8_t* workspace) override { gemm_.set_workspace(workspace); }
  const char* kernel_name() const override { return gemm_.name; }

 private:
  const Node& n_;
  ref::ConvShape s_;
  QWeights qw_;
  GemmEngine<T> gemm_;
};

// ------------------------------------------------------------------ fully connected

struct FcDims {
  int32_t m, n, k;
  FcDims(const Graph& g, const Node& node) {
    const auto& x = g.tensors[node.inputs[0]].shape;
    const auto& w = g.tensors[node.inputs[1]].shape;
    k = w[1];
    n = w[0];
    m = static_cast<int32_t>(product(x, 0, x.size() - 1));
  }
};

// A fully connected layer as a 1x1 convolution over m pixels.
ref::ConvShape fc_shape(const FcDims& d) { return {1, 1, d.m, d.k, 1, d.m, d.n, 1, 1, 1, 1, 1, 1, 0, 0, 1}; }

// Dynamically quantized fully connected: float rows quantized at run time (each row,
// or `dynamic` 1: the input as one tensor), int8 weights. On the level's GEMM kernels
// through kern::QMatMulOp (weights packed once per model, the input quantized into its
// workspace), else the reference.
class DynamicFc : public QMatMulEngineOp {
 public:
  DynamicFc(const Graph& g, const Node& n)
      : n_(n), d_(g, n), w_scale_(g.tensors[n.inputs[1]].quant.scale),
        w_zero_point_(g.tensors[n.inputs[1]].quant.zero_point) {}
  Status init(const Graph& g, const OpContext& ctx) {
    per_tensor_ = n_.attrs.dynamic == 1;
    bias_ = optional_f32(g, n_, 2);
    if (ctx.kernels) {
      bool ok = false;
      kern::QMatMulParams p = dynamic_fc_engine_params(g, n_, w_scale_, &ok);
      p.quantize_u8 = ctx.kernels->misc.quantize_u8;
      // Constant weights: the level's kernel for weights in [-127, 127] when they allow.
      const kern::QGemmKernel& k =
          kern::gemm_for_weights(*ctx.kernels, p.weight, static_cast<size_t>(d_.n) * static_cast<size_t>(d_.k),
                                 static_cast<size_t>(d_.k));
      EDGEQ_RETURN_IF_ERROR(make_fc_engine(g, n_, p, k, k.name, ctx));
      if (engine()) return Status::Ok();
    }
    row_.resize(static_cast<size_t>(d_.k) * (per_tensor_ ? static_cast<size_t>(d_.m) : 1));
    return Status::Ok();
  }
  void run(uint8_t* const* p) override {
    const float* x = at<float>(p, n_.inputs[0]);
    float* y = at<float>(p, n_.outputs[0]);
    if (engine()) return run_engine(x, nullptr, y);
    const int8_t* w = at<int8_t>(p, n_.inputs[1]);
    if (per_tensor_) {
      ref::dynamic_fully_connected_per_tensor(d_.m, d_.n, d_.k, x, w, w_zero_point_.empty() ? nullptr : w_zero_point_.data(),
                                              w_zero_point_.size() > 1, w_scale_.data(), w_scale_.size() > 1, bias_,
                                              n_.attrs.act_min, n_.attrs.act_max, row_.data(), y);
    } else {
      ref::dynamic_fully_connected(d_.m, d_.n, d_.k, x, w, w_scale_.data(), w_scale_.size() > 1, bias_,
                                   n_.attrs.act_min, n_.attrs.act_max, row_.data(), y);
    }
  }
  size_t reference_bytes() const override { return row_.size(); }

 private:
  const Node& n_;
  FcDims d_;
  std::vector<float> w_scale_;
  std::vector<int32_t> w_zero_point_;  // one, or one per column; not 0 in mode 1 only (graph/shape.cc)
  const float* bias_ = nullptr;
  bool per_tensor_ = false;
  std::vector<uint8_t> row_;
};

// Quantized fully connected: a 1x1 convolution over m pixels on the GEMM engine when it
// takes the node, else the reference.
template <typename T>
class QFc : public PreparedOp {
 public:
  QFc(const Graph& g, const Node& n) : n_(n), d_(g, n) {}
  Status init(const Graph& g, const OpContext& ctx) {
    EDGEQ_RETURN_IF_ERROR(qw_.init(g, n_));
    return gemm_.init(qw_, g, n_, fc_shape(d_), ctx);
  }
  size_t packed_bytes() const override { return gemm_.packed_bytes(); }
  size_t workspace_bytes() const override { return gemm_.workspace_bytes(); }
  void set_workspace(uint8_t* workspace) override { gemm_.set_workspace(workspace); }
  const char* kernel_name() const override { return gemm_.name; }
  void run(uint8_t* const* p) override {
    if (gemm_.run(p, n_)) return;
    ref::qfully_connected<T>(d_.m, d_.n, d_.k, at<T>(p, n_.inputs[0]), qw_.x_zero_point,
                             at<int8_t>(p, n_.inputs[1]), qw_.w_zero_point.data(), qw_.per_channel(), qw_.bias,
                             qw_.rs.rq, at<T>(p, n_.outputs[0]));
  }

 private:
  const Node& n_;
  FcDims d_;
  QWeights qw_;
  GemmEngine<T> gemm_;
};

}  // namespace

kern::QMatMulParams dynamic_fc_engine_params(const Graph& g, const Node& n, const std::vector<float>& w_scale,
                                             bool* ok) {
  const FcDims d(g, n);
  kern::QMatMulParams p;
  const int32_t a_shape[2] = {d.m, d.k}, b_shape[2] = {d.k, d.n};
  ref::make_matmul_shape(a_shape, 2, b_shape, 2, &p.shape);
  p.mode = n.attrs.dynamic == 1 ? 1 : 2;
  set_dynamic_weights(g, n, w_scale, optional_f32(g, n, 2), &p);
  *ok = true;
  return p;
}

Status prepare_conv(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  const DType t = g.tensors[n.inputs[0]].dtype;
  if (t == DType::kF32 && g.tensors[n.inputs[1]].dtype == DType::kS8) return prepare_dynamic_conv(g, n, ctx, out);
  if (t == DType::kF32 && float_conv_takes(g, n, ctx)) return prepare_float_conv(g, n, ctx, out);
  if (t == DType::kF32 && float_dw_takes(g, n, ctx)) return prepare_float_dw(g, n, ctx, out);
  if (t == DType::kF32) return own(std::make_unique<ConvF32>(g, n), g, ctx, out);
  EDGEQ_RETURN_IF_ERROR(prepare_depthwise(g, n, ctx, out));
  if (*out) return Status::Ok();
  return own_typed<QConv>(t, g, ctx, out, g, n);
}

Status prepare_fully_connected(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  const DType t = g.tensors[n.inputs[0]].dtype;
  if (t == DType::kF32 && g.tensors[n.inputs[1]].dtype == DType::kS8) {
    return own(std::make_unique<DynamicFc>(g, n), g, ctx, out);
  }
  if (t == DType::kF32) return prepare_float_fc(g, n, ctx, out);
  if (g.tensors[n.outputs[0]].dtype == DType::kF32) return prepare_fc_float_out(g, n, ctx, out);
  return own_typed<QFc>(t, g, ctx, out, g, n);
}

}  // namespace ops
Status prepack_gemm(const Graph& g, const kern::QGemmKernel& layout, std::vector<PackedWeights>* out) {
  OpContext ctx;  // optimizable() needs a level; any non-null one
  for (const Node& n : g.nodes) {
    if (n.op != OpType::kConv2D && n.op != OpType::kFullyConnected) continue;
    if (g.tensors[n.inputs[0]].dtype == DType::kF32) continue;
    if (g.tensors[n.outputs[0]].dtype == DType::kF32) continue;  // packed by qgemm_float.cc's op
    const ref::ConvShape shape = n.op == OpType::kConv2D ? ops::conv_shape(g, n) : ops::fc_shape(ops::FcDims(g, n));
    ops::QWeights qw;
    EDGEQ_RETURN_IF_ERROR(qw.init(g, n));
    if (!ops::gemm_takes(qw, g, n, ctx)) continue;
    // Depthwise nodes go to the depthwise engine, which packs at run time.
    if (shape.groups > 1 && shape.groups == shape.in_c && shape.out_c == shape.in_c) continue;
    // Of a level's exact kernel and its kernel for weights in [-127, 127], the one the
    // run time picks for the node (gemm_pick.h); the other layout leaves it out.
    const Tensor& w = g.tensors[n.inputs[1]];
    const size_t kc = static_cast<size_t>(shape.in_c / shape.groups);
    if (!kern::gemm_layout_takes(layout, kern::gemm_w127_suits(w.as<int8_t>(), w.nbytes, kc))) continue;
    const bool act_s8 = g.tensors[n.inputs[0]].dtype == DType::kS8;
    std::shared_ptr<const kern::QConvPacked> packed;
    size_t bytes = 0;
    EDGEQ_RETURN_IF_ERROR(ops::pack_gemm(qw, g, n, shape, act_s8, layout, &packed, &bytes));
    if (!packed) continue;
    PackedWeights pw;
    pw.node = ops::node_index(g, n);
    pw.kernel = act_s8 ? layout.name_s8 : layout.name;
    pw.layout = kern::kQConvPackLayout;
    pw.data = packed->weights();
    pw.nbytes = packed->weight_bytes();
    pw.owner = packed;
    out->push_back(std::move(pw));
  }
  return Status::Ok();
}

Status prepack_qmatmul(const Graph& g, const kern::QGemmKernel& layout, std::vector<PackedWeights>* out) {
  for (const Node& n : g.nodes) {
    if ((n.op != OpType::kFullyConnected && n.op != OpType::kConv2D) || n.inputs.size() < 2) continue;
    const Tensor& x = g.tensors[n.inputs[0]];
    const Tensor& w = g.tensors[n.inputs[1]];
    if (w.dtype != DType::kS8 || !w.is_constant()) continue;
    const std::vector<float> w_scale = w.quant.scale;
    bool ok = false;
    kern::QMatMulParams p;
    bool a_s8 = false;
    if (n.op == OpType::kConv2D) {
      if (x.dtype != DType::kF32) continue;
      p = ops::dynamic_conv_engine_params(g, n, w_scale, &ok);
      // Run time: the level's exact kernel.
      if (!ok || !kern::gemm_layout_takes(layout, false)) continue;
    } else if (x.dtype == DType::kF32) {
      p = ops::dynamic_fc_engine_params(g, n, w_scale, &ok);
      // Run time: the level's exact kernel or its kernel for weights in [-127, 127]
      // (gemm_pick.h), as prepack_gemm.
      const size_t k = static_cast<size_t>(p.shape.k);
      if (!ok || !kern::gemm_layout_takes(layout, kern::gemm_w127_suits(w.as<int8_t>(), w.nbytes, k))) continue;
    } else if (g.tensors[n.outputs[0]].dtype == DType::kF32) {
      p = ops::float_out_fc_engine_params(g, n, w_scale, &ok);
      if (!ok || !kern::gemm_layout_takes(layout, false)) continue;
      a_s8 = x.dtype == DType::kS8;
    } else {
      continue;  // int8 in and out: prepack_gemm's
    }
    EDGEQ_RETURN_IF_ERROR(ops::prepack_fc_engine(g, n, p, layout, a_s8 ? layout.name_s8 : layout.name, out));
  }
  return Status::Ok();
}

}  // namespace edgeq
