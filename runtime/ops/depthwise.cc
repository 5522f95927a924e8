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
  QDwConv(const Node& n, std::unique_ptr<kern::QDwConvOp> dw, const Scheduler* scheduler)
      : n_(n), dw_(std::move(dw)), scheduler_(scheduler) {}
  void run(uint8_t* const* p) override { scheduler_->run(*dw_, at<T>(p, n_.inputs[0]), at<T>(p, n_.outputs[0])); }
  // The packed data is the model's (shared by its sessions); the op adds nothing.
  size_t packed_bytes() const override { return 0; }
  const char* kernel_name() const override { return dw_->kernel_name(); }

 private:
  const Node& n_;
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
  // The engine packed once per model and level (the level's kernel set picks the same
  // kernel for the node every time), each session's op sharing it.
  const kern::DwKernels& set = ctx.kernels->dw;
  const std::string key = std::string("dw:") + (set.kernel[0].name ? set.kernel[0].name : "");
  std::shared_ptr<const kern::QDwConvOp> packed;
  EDGEQ_RETURN_IF_ERROR((shared_packed<kern::QDwConvOp>(
      g, n, ctx, key,
      [&](std::shared_ptr<const kern::QDwConvOp>* engine, size_t* bytes) {
        std::unique_ptr<kern::QDwConvOp> dw;
        EDGEQ_RETURN_IF_ERROR(
            (qw.make_engine<kern::QDwConvOp, kern::QDwConvParams>(g, n, s, act_s8, set, &dw)));
        *bytes = dw ? dw->packed_bytes() : 0;
        if (dw && ctx.cache != nullptr) ctx.cache->drop_pages(g.tensors[n.inputs[1]].data, g.tensors[n.inputs[1]].nbytes);
        *engine = std::move(dw);
        return Status::Ok();
      },
      &packed)));
  if (!packed) return Status::Ok();
  std::unique_ptr<kern::QDwConvOp> dw = packed->share();
  if (!dw) return OutOfMemory("node '" + n.name + "' (" + op_name(n.op) + "): out of memory");
  if (act_s8)
    *out = std::make_unique<QDwConv<int8_t>>(n, std::move(dw), ctx.scheduler);
  else
    *out = std::make_unique<QDwConv<uint8_t>>(n, std::move(dw), ctx.scheduler);
  return Status::Ok();
}

}  // namespace ops
}  // namespace edgeq
