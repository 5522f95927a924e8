// The depthwise family of the op layer: a quantized Conv2D with groups == in_c ==
// out_c (depth multiplier 1) on the level's depthwise row kernels (kernels/qdwconv.h),
// its output rows spread over the session's threads by the scheduler. A node the
// engine declines is left to gemm.cc, whose reference convolution runs it.
#include <memory>

#include "kernels/qdwconv.h"
#include "runtime/ops/common.h"

namespace edgeq {
namespace ops {
namespace {

template <typename T>
class QDwConv : public PreparedOp {
 public:
  QDwConv(const Node& n, QWeights qw, std::unique_ptr<kern::QDwConvOp> dw, const Scheduler* scheduler)
      : n_(n), qw_(std::move(qw)), dw_(std::move(dw)), scheduler_(scheduler) {}
  void run(uint8_t* const* p) override { scheduler_->run(*dw_, at<T>(p, n_.inputs[0]), at<T>(p, n_.outputs[0])); }
  size_t packed_bytes() const override { return dw_->packed_bytes(); }
  const char* kernel_name() const override { return dw_->kernel_name(); }

 private:
  const Node& n_;
  QWeights qw_;  // owns the requantization arrays the engine copied from
  std::unique_ptr<kern::QDwConvOp> dw_;
  const Scheduler* scheduler_;
};

}  // namespace

Status prepare_depthwise(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  out->reset();
  const ref::ConvShape s = conv_shape(g, n);
  if (s.groups == 1 || s.groups != s.in_c || s.out_c != s.in_c) return Status::Ok();
  QWeights qw;
  EDGEQ_RETURN_IF_ERROR(qw.init(g, n));
  if (!qw.optimizable(g, n, ctx)) return Status::Ok();
  const bool act_s8 = g.tensors[n.inputs[0]].dtype == DType::kS8;
  std::unique_ptr<kern::QDwConvOp> dw;
  EDGEQ_RETURN_IF_ERROR((qw.make_engine<kern::QDwConvOp, kern::QDwConvParams>(g, n, s, act_s8, ctx.kernels->dw, &dw)));
  if (!dw) return Status::Ok();
  if (act_s8)
    *out = std::make_unique<QDwConv<int8_t>>(n, std::move(qw), std::move(dw), ctx.scheduler);
  else
    *out = std::make_unique<QDwConv<uint8_t>>(n, std::move(qw), std::move(dw), ctx.scheduler);
  return Status::Ok();
}

}  // namespace ops
}  // namespace edgeq
