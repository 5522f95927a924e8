// The depthwise family of the op layer: a quantized Conv2D with groups == in_c ==
// out_c (depth multiplier 1) on the level's depthwise row kernels (kernels/qdwconv.h),
// its output rows spread over the session's threads by the scheduler. A node the
// engine declines is left to gemm.cc, whose reference convolution runs it.
// prepack_depthwise() packs the nodes for a level's layouts into a pre-packed file's
// segments, which sessions then use in place.
#include <memory>

#include "kernels/dw_pack_layout.h"
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

// Whether the depthwise engine may take node n (prepare_depthwise's conditions); *s
// its shape.
bool depthwise_node(const Graph& g, const Node& n, ref::ConvShape* s) {
  if (n.op != OpType::kConv2D || g.tensors[n.inputs[0]].dtype == DType::kF32 ||
      g.tensors[n.outputs[0]].dtype == DType::kF32)
    return false;
  *s = conv_shape(g, n);
  return s->groups > 1 && s->groups == s->in_c && s->out_c == s->in_c;
}

// The engine of node n on `kernel` (its weights in place from `pre` when not null);
// *out null when the kernel declines the node.
Status make_dw(const QWeights& qw, const Graph& g, const Node& n, const ref::ConvShape& s, bool act_s8,
               const kern::DwKernel& kernel, const PackedWeights* pre, bool pack_only,
               std::unique_ptr<kern::QDwConvOp>* out) {
  out->reset();
  if (pre != nullptr && (pre->nbytes != kern::QDwConvOp::packed_weight_bytes(s, kernel) ||
                         reinterpret_cast<uintptr_t>(pre->data) % 64 != 0))
    return InvalidModel("node '" + n.name + "' (" + op_name(n.op) + "): its pre-packed weights for " + kernel.name +
                        " hold " + std::to_string(pre->nbytes) + " bytes, which is not the size of its packed layout");
  auto op = std::make_unique<kern::QDwConvOp>();
  const kern::InitResult r = op->init(qw.engine_params<kern::QDwConvParams>(g, n, s, act_s8), kernel,
                                      pre ? pre->data : nullptr, pack_only);
  if (r.code() == kern::InitResult::kOutOfMemory)
    return OutOfMemory("node '" + n.name + "' (" + op_name(n.op) + "): out of memory packing the weights");
  if (r) *out = std::move(op);
  return Status::Ok();
}

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
  // kernel for the node every time), each session's op sharing it; in place from a
  // pre-packed segment for that kernel when the file has one.
  const kern::DwKernels& set = ctx.kernels->dw;
  const kern::DwKernel* kernel = kern::pick_dw_kernel(set, s.in_c);
  if (kernel == nullptr) return Status::Ok();
  const std::string key = std::string("dw:") + (set.kernel[0].name ? set.kernel[0].name : "");
  std::shared_ptr<const kern::QDwConvOp> packed;
  EDGEQ_RETURN_IF_ERROR((shared_packed<kern::QDwConvOp>(
      g, n, ctx, key,
      [&](std::shared_ptr<const kern::QDwConvOp>* engine, size_t* bytes) {
        const PackedWeights* pre = find_prepacked(g, n, kernel->name, kern::kQDwPackLayout);
        std::unique_ptr<kern::QDwConvOp> dw;
        EDGEQ_RETURN_IF_ERROR(make_dw(qw, g, n, s, act_s8, *kernel, pre, false, &dw));
        *bytes = dw ? dw->packed_bytes() : 0;
        if (dw && !pre && ctx.cache != nullptr)
          ctx.cache->drop_pages(g.tensors[n.inputs[1]].data, g.tensors[n.inputs[1]].nbytes);
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

Status prepack_depthwise(const Graph& g, kern::Isa isa, std::vector<PackedWeights>* out) {
  const kern::DwKernels layouts = kern::dw_pack_layouts(isa);
  OpContext ctx;  // optimizable() needs a level; any non-null one
  for (const Node& n : g.nodes) {
    ref::ConvShape s;
    if (!ops::depthwise_node(g, n, &s)) continue;
    ops::QWeights qw;
    EDGEQ_RETURN_IF_ERROR(qw.init(g, n));
    if (!qw.optimizable(g, n, ctx)) continue;
    const kern::DwKernel* kernel = kern::pick_dw_kernel(layouts, s.in_c);
    if (kernel == nullptr) continue;
    std::unique_ptr<kern::QDwConvOp> dw;
    EDGEQ_RETURN_IF_ERROR(
        ops::make_dw(qw, g, n, s, g.tensors[n.inputs[0]].dtype == DType::kS8, *kernel, nullptr, true, &dw));
    if (!dw) continue;
    PackedWeights pw;
    pw.node = ops::node_index(g, n);
    pw.kernel = kernel->name;
    pw.layout = kern::kQDwPackLayout;
    pw.data = dw->weights();
    pw.nbytes = dw->weight_bytes();
    pw.owner = std::shared_ptr<const kern::QDwConvOp>(std::move(dw));
    out->push_back(std::move(pw));
  }
  return Status::Ok();
}

}  // namespace edgeq
