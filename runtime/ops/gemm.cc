// The GEMM family of the op layer: Conv2D and FullyConnected, float (reference),
// dynamically quantized fully connected, and quantized ones on the level's
// indirect-GEMM engine (kernels/qconv.h) run through the scheduler, or the reference.
// A depthwise Conv2D goes to depthwise.cc first.
#include <memory>

#include "kernels/qconv.h"
#include "runtime/ops/common.h"

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

// The GEMM engine of a quantized conv / fully connected node, when the level has one
// that takes the node (zero weight zero points, constant weights), with the
// name it reports and the scheduler that spreads its tiles; empty otherwise, and the
// op runs the reference.
template <typename T>
struct GemmEngine {
  std::unique_ptr<kern::QConvOp> op;
  const char* name = "ref";
  const Scheduler* scheduler = nullptr;

  // An error only when the engine runs out of memory.
  Status init(QWeights& qw, const Graph& g, const Node& n, const ref::ConvShape& shape, const OpContext& ctx) {
    if (!qw.optimizable(g, n, ctx) || !ctx.kernels->gemm.u8) return Status::Ok();
    EDGEQ_RETURN_IF_ERROR((qw.make_engine<kern::QConvOp, kern::QConvParams>(
        g, n, shape, std::is_same<T, int8_t>::value, ctx.kernels->gemm, &op)));
    if (op) name = gemm_kernel_name<T>(ctx.kernels->gemm);
    scheduler = ctx.scheduler;
    return Status::Ok();
  }
  // Runs the node on the engine; false when there is none.
  bool run(uint8_t* const* p, const Node& n) const {
    if (!op) return false;
    scheduler->run(*op, at<T>(p, n.inputs[0]), at<T>(p, n.outputs[0]));
    return true;
  }
  size_t packed_bytes() const { return op ? op->packed_bytes() : 0; }
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

class FcF32 : public PreparedOp {
 public:
  FcF32(const Graph& g, const Node& n) : n_(n), d_(g, n) {}
  void run(uint8_t* const* p) override {
    ref::fully_connected_f32(d_.m, d_.n, d_.k, at<float>(p, n_.inputs[0]), at<float>(p, n_.inputs[1]),
                             n_.inputs.size() > 2 && n_.inputs[2] >= 0 ? at<float>(p, n_.inputs[2]) : nullptr,
                             n_.attrs.act_min, n_.attrs.act_max, at<float>(p, n_.outputs[0]));
  }

 private:
  const Node& n_;
  FcDims d_;
};

// Dynamically quantized fully connected: float rows quantized at run time, int8 weights.
class DynamicFc : public PreparedOp {
 public:
  DynamicFc(const Graph& g, const Node& n) : n_(n), d_(g, n), w_scale_(g.tensors[n.inputs[1]].quant.scale) {
    row_.resize(static_cast<size_t>(d_.k));
  }
  void run(uint8_t* const* p) override {
    ref::dynamic_fully_connected(d_.m, d_.n, d_.k, at<float>(p, n_.inputs[0]), at<int8_t>(p, n_.inputs[1]),
                                 w_scale_.data(), w_scale_.size() > 1,
                                 n_.inputs.size() > 2 && n_.inputs[2] >= 0 ? at<float>(p, n_.inputs[2]) : nullptr,
                                 n_.attrs.act_min, n_.attrs.act_max, row_.data(), at<float>(p, n_.outputs[0]));
  }
  size_t packed_bytes() const override { return row_.size(); }

 private:
  const Node& n_;
  FcDims d_;
  std::vector<float> w_scale_;
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
    const ref::ConvShape s{1, 1, d_.m, d_.k, 1, d_.m, d_.n, 1, 1, 1, 1, 1, 1, 0, 0, 1};
    return gemm_.init(qw_, g, n_, s, ctx);
  }
  size_t packed_bytes() const override { return gemm_.packed_bytes(); }
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

Status prepare_conv(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  const DType t = g.tensors[n.inputs[0]].dtype;
  if (t == DType::kF32) return own(std::make_unique<ConvF32>(g, n), g, ctx, out);
  EDGEQ_RETURN_IF_ERROR(prepare_depthwise(g, n, ctx, out));
  if (*out) return Status::Ok();
  return own_typed<QConv>(t, g, ctx, out, g, n);
}

Status prepare_fully_connected(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  const DType t = g.tensors[n.inputs[0]].dtype;
  if (t == DType::kF32 && g.tensors[n.inputs[1]].dtype == DType::kS8)
    return own(std::make_unique<DynamicFc>(g, n), g, ctx, out);
  if (t == DType::kF32) return own(std::make_unique<FcF32>(g, n), g, ctx, out);
  return own_typed<QFc>(t, g, ctx, out, g, n);
}

}  // namespace ops
}  // namespace edgeq
