// Float FullyConnected (every operand float): the level's float GEMM microkernel through
// kern::FFcOp (kernels/ffc.h) when the weights are a constant, else the reference
// (ref::fully_connected_f32).
//
// The packed weights belong to the model: the first session on a kernel layout packs
// them through the model's PackCache (runtime/pack_cache.h; key "ffc/<kernel>") and every
// later session on any thread shares that copy. Once packed from weights read in place
// from a mapped file, their pages are dropped: a reference path that reads them (a
// session on the reference level) faults them back in from the file.
//
// Where XNNPACK is available, float_xnn.cc leaves a float FullyConnected to this op on
// levels whose float GEMM says it is the faster choice there (kern::FGemmKernel::
// fc_over_xnnpack, set per CPU at registration); elsewhere XNNPACK runs it (and packs
// per session). The op's clamp keeps NaN as the reference does, so it propagates
// non-finite values and a session needs no IEEE fallback for it.
#include <memory>
#include <string>

#include "kernels/ffc.h"
#include "runtime/ops/common.h"

namespace edgeq {
namespace ops {
namespace {

class FloatFc : public PreparedOp {
 public:
  explicit FloatFc(const Graph& g, const Node& n) : n_(n) {
    const auto& x = g.tensors[n.inputs[0]].shape;
    const auto& w = g.tensors[n.inputs[1]].shape;
    k_ = w[1];
    n_out_ = w[0];
    m_ = static_cast<int32_t>(product(x, 0, x.size() - 1));
  }

  Status init(const Graph& g, const OpContext& ctx) {
    const Tensor& w = g.tensors[n_.inputs[1]];
    const bool has_bias = n_.inputs.size() > 2 && n_.inputs[2] >= 0;
    if (!ctx.kernels || !w.is_constant() || (has_bias && !g.tensors[n_.inputs[2]].is_constant())) return Status::Ok();
    const kern::FGemmKernel& kernel = ctx.kernels->fgemm;
    if (kernel.fn == nullptr || m_ <= 0) return Status::Ok();
    std::shared_ptr<const kern::FFcPacked> packed;
    EDGEQ_RETURN_IF_ERROR((shared_packed<kern::FFcPacked>(
        g, n_, ctx, std::string("ffc/") + kernel.name,
        [&](std::shared_ptr<const kern::FFcPacked>* out, size_t* bytes) {
          if (kern::FFcPacked::pack(w.as<float>(), n_out_, k_, kernel, out).code() == kern::InitResult::kOutOfMemory)
            return OutOfMemory("node '" + n_.name + "' (" + op_name(n_.op) + "): out of memory packing the weights");
          if (!*out) return Status::Ok();  // declined: the reference runs the node
          *bytes = (*out)->heap_bytes();
          if (ctx.cache != nullptr) ctx.cache->drop_pages(w.data, w.nbytes);
          return Status::Ok();
        },
        &packed)));
    if (!packed) return Status::Ok();
    const float* bias = has_bias ? g.tensors[n_.inputs[2]].as<float>() : nullptr;
    if (!engine_.init(m_, std::move(packed), kernel, bias, n_.attrs.act_min, n_.attrs.act_max)) return Status::Ok();
    scheduler_ = ctx.scheduler;
    name_ = kernel.name;
    return Status::Ok();
  }

  void run(uint8_t* const* p) override {
    const float* x = at<float>(p, n_.inputs[0]);
    float* y = at<float>(p, n_.outputs[0]);
    if (scheduler_ == nullptr) {
      ref::fully_connected_f32(m_, n_out_, k_, x, at<float>(p, n_.inputs[1]),
                               n_.inputs.size() > 2 && n_.inputs[2] >= 0 ? at<float>(p, n_.inputs[2]) : nullptr,
                               n_.attrs.act_min, n_.attrs.act_max, y);
      return;
    }
    scheduler_->ranges(static_cast<int64_t>(engine_.row_blocks()), static_cast<int64_t>(engine_.elements()),
                       [&](int64_t r0, int64_t r1) {
                         engine_.run_rows(x, y, static_cast<size_t>(r0), static_cast<size_t>(r1));
                       });
  }
  const char* kernel_name() const override { return name_; }

 private:
  const Node& n_;
  int32_t m_ = 0, n_out_ = 0, k_ = 0;
  kern::FFcOp engine_;
  const Scheduler* scheduler_ = nullptr;  // null: the reference runs
  const char* name_ = "ref";
};

}  // namespace

Status prepare_float_fc(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  return own(std::make_unique<FloatFc>(g, n), g, ctx, out);
}

}  // namespace ops
}  // namespace edgeq
