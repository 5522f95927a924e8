// LayerNorm over the last axis, float and quantized (numerics: kernels/ref/ref.h).
// Preparing checks the constants and, for a quantized node, folds gamma and beta into
// per-channel multipliers and offsets of the output step (ref::qlayer_norm_fold);
// running calls the level's kernel (kernels/misc.h, or the reference) on ranges of rows
// split over the session's threads.
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "runtime/ops/common.h"

namespace edgeq {
namespace ops {
namespace {

struct RowDims {
  int64_t rows;
  int32_t channels;
  explicit RowDims(const std::vector<int32_t>& s)
      : rows(product(s, 0, s.size() - 1)), channels(s.back()) {}
};

Status check_finite(const Node& n, const char* what, const float* v, int32_t count) {
  for (int32_t c = 0; c < count; ++c) {
    if (!std::isfinite(v[c])) return op_error(n, std::string(what) + "[" + std::to_string(c) + "] is not finite");
  }
  return Status::Ok();
}

const float* optional_input(const Graph& g, const Node& n, size_t i) {
  return n.inputs.size() > i && n.inputs[i] >= 0 ? g.tensors[n.inputs[i]].as<float>() : nullptr;
}

class LayerNormF32 : public PreparedOp {
 public:
  LayerNormF32(const Graph& g, const Node& n) : n_(n), d_(g.tensors[n.inputs[0]].shape) {}
  Status init(const Graph& g, const OpContext& ctx) {
    gamma_ = g.tensors[n_.inputs[1]].as<float>();
    beta_ = optional_input(g, n_, 2);
    fn_ = ctx.kernels->misc.layer_norm_f32 ? ctx.kernels->misc.layer_norm_f32 : &ref::layer_norm_f32;
    name_ = ctx.kernels->misc.names.layer_norm_f32;
    scheduler_ = ctx.scheduler;
    return Status::Ok();
  }
  void run(uint8_t* const* p) override {
    const float* x = at<float>(p, n_.inputs[0]);
    float* y = at<float>(p, n_.outputs[0]);
    const int32_t c = d_.channels;
    scheduler_->ranges(d_.rows, d_.rows * c, [&](int64_t r0, int64_t r1) {
      fn_(r1 - r0, c, x + r0 * c, gamma_, beta_, n_.attrs.epsilon, y + r0 * c);
    });
  }
  const char* kernel_name() const override {
    return misc_kernel_name<kern::LayerNormF32Fn>(fn_, &ref::layer_norm_f32, name_);
  }

 private:
  const Node& n_;
  RowDims d_;
  const float* gamma_ = nullptr;
  const float* beta_ = nullptr;
  kern::LayerNormF32Fn fn_ = nullptr;
  const char* name_ = nullptr;
  const Scheduler* scheduler_ = nullptr;
};

template <typename T>
class QLayerNorm : public PreparedOp {
 public:
  QLayerNorm(const Graph& g, const Node& n) : n_(n), d_(g.tensors[n.inputs[0]].shape) {}
  Status init(const Graph& g, const OpContext& ctx) {
    const Tensor &x = g.tensors[n_.inputs[0]], &y = g.tensors[n_.outputs[0]];
    if (x.dtype != y.dtype) return op_error(n_, "input and output must have the same dtype");
    if (d_.channels > ref::kQLayerNormMaxChannels)
      return op_error(n_, "quantized over " + std::to_string(d_.channels) + " channels (at most " +
                              std::to_string(ref::kQLayerNormMaxChannels) + ")");
    const float* gamma = g.tensors[n_.inputs[1]].as<float>();
    const float* beta = optional_input(g, n_, 2);
    EDGEQ_RETURN_IF_ERROR(check_finite(n_, "scale", gamma, d_.channels));
    if (beta != nullptr) EDGEQ_RETURN_IF_ERROR(check_finite(n_, "bias", beta, d_.channels));
    const QParam in = qparam(x), out = qparam(y);
    if (!(in.scale > 0.f) || !std::isfinite(in.scale) || !(out.scale > 0.f) || !std::isfinite(out.scale))
      return op_error(n_, "input or output scale is not a positive finite number");
    g_.resize(static_cast<size_t>(d_.channels));
    b_.resize(static_cast<size_t>(d_.channels));
    ref::qlayer_norm_fold(d_.channels, gamma, beta, out.scale, g_.data(), b_.data());
    EDGEQ_RETURN_IF_ERROR(check_finite(n_, "scale / output scale", g_.data(), d_.channels));
    EDGEQ_RETURN_IF_ERROR(check_finite(n_, "bias / output scale", b_.data(), d_.channels));
    p_.in_scale = in.scale;
    p_.epsilon = n_.attrs.epsilon;
    p_.gamma = g_.data();
    p_.beta = b_.data();
    p_.out_zero_point = out.zero_point;
    quantized_output_range(y, -INFINITY, INFINITY, &p_.qmin, &p_.qmax);
    fn_ = pick<T, kern::QLayerNormFn>(ctx.kernels->misc.qlayer_norm_s8, ctx.kernels->misc.qlayer_norm_u8,
                                      &ref::qlayer_norm<T>);
    name_ = ctx.kernels->misc.names.qlayer_norm;
    scheduler_ = ctx.scheduler;
    return Status::Ok();
  }
  void run(uint8_t* const* p) override {
    const T* x = at<T>(p, n_.inputs[0]);
    T* y = at<T>(p, n_.outputs[0]);
    const int32_t c = d_.channels;
    scheduler_->ranges(d_.rows, d_.rows * c,
                       [&](int64_t r0, int64_t r1) { fn_(r1 - r0, c, x + r0 * c, p_, y + r0 * c); });
  }
  size_t packed_bytes() const override { return (g_.size() + b_.size()) * sizeof(float); }
  const char* kernel_name() const override {
    return misc_kernel_name<kern::QLayerNormFn<T>>(fn_, &ref::qlayer_norm<T>, name_);
  }

 private:
  const Node& n_;
  RowDims d_;
  std::vector<float> g_, b_;
  ref::QLayerNormParams p_;
  kern::QLayerNormFn<T> fn_ = nullptr;
  const char* name_ = nullptr;
  const Scheduler* scheduler_ = nullptr;
};

}  // namespace

Status prepare_layer_norm(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  const DType t = g.tensors[n.inputs[0]].dtype;
  if (t == DType::kF32) return own(std::make_unique<LayerNormF32>(g, n), g, ctx, out);
  if (t != DType::kS8 && t != DType::kU8) return op_error(n, "input must be f32, s8 or u8");
  return own_typed<QLayerNorm>(t, g, ctx, out, g, n);
}

}  // namespace ops
}  // namespace edgeq
