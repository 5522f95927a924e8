// Float depthwise convolution (Conv2D with every operand float, groups == in_c ==
// out_c, constant weights) on kern::FDwConvOp (kernels/fdwconv.h), its output rows
// spread over the session's threads by the scheduler.
//
// The packed weights belong to the model: the first session packs them through the
// model's PackCache (key kern::kFDwLayoutName: one layout for every level) and every
// later session on any thread shares that copy; once packed from a mapped file, the raw
// weights' pages are dropped (a reference path faults them back in). A pre-packed
// file's segment (prepack_float_dw(), `edgeq convert --pack`) is used in place instead;
// one whose size is not the layout's is an error naming the node.
//
// Where XNNPACK is available, float_xnn.cc leaves these nodes to this op on every level
// with a float GEMM (all but the reference level).
#include <memory>
#include <string>
#include <vector>

#include "kernels/fdwconv.h"
#include "runtime/ops/common.h"

namespace edgeq {
namespace ops {
namespace {

// Whether node n is a float depthwise convolution with constant weights (and bias).
bool float_dw_node(const Graph& g, const Node& n) {
  if (n.op != OpType::kConv2D || n.inputs.size() < 2 || n.outputs.size() != 1) return false;
  for (int32_t t : n.inputs)
    if (t >= 0 && g.tensors[t].dtype != DType::kF32) return false;
  if (g.tensors[n.outputs[0]].dtype != DType::kF32) return false;
  const bool has_bias = n.inputs.size() > 2 && n.inputs[2] >= 0;
  if (!g.tensors[n.inputs[1]].is_constant() || (has_bias && !g.tensors[n.inputs[2]].is_constant())) return false;
  const ref::ConvShape s = conv_shape(g, n);
  return s.groups > 1 && s.groups == s.in_c && s.out_c == s.in_c && s.out_h > 0 && s.out_w > 0 && s.batch > 0;
}

class FloatDw : public PreparedOp {
 public:
  FloatDw(const Graph& g, const Node& n) : n_(n), s_(conv_shape(g, n)) {}

  Status init(const Graph& g, const OpContext& ctx) {
    const int32_t taps = s_.kernel_h * s_.kernel_w;
    std::shared_ptr<const kern::FDwPacked> packed;
    EDGEQ_RETURN_IF_ERROR((shared_packed<kern::FDwPacked>(
        g, n_, ctx, kern::kFDwLayoutName,
        [&](std::shared_ptr<const kern::FDwPacked>* out, size_t* bytes) {
          if (const PackedWeights* pre = find_prepacked(g, n_, kern::kFDwLayoutName, kern::kFDwPackLayout)) {
            if (!kern::FDwPacked::wrap(pre->data, pre->nbytes, s_.in_c, taps, out))
              return InvalidModel("node '" + n_.name + "' (" + op_name(n_.op) + "): its pre-packed weights for " +
                                  kern::kFDwLayoutName + " hold " + std::to_string(pre->nbytes) +
                                  " bytes, which is not the size of its packed layout");
            return Status::Ok();
          }
          const Tensor& w = g.tensors[n_.inputs[1]];
          if (kern::FDwPacked::pack(w.as<float>(), optional_f32(g, n_, 2), s_.in_c, taps, out).code() ==
              kern::InitResult::kOutOfMemory)
            return OutOfMemory("node '" + n_.name + "' (" + op_name(n_.op) + "): out of memory packing the weights");
          if (*out == nullptr) return Status::Ok();
          *bytes = (*out)->heap_bytes();
          if (ctx.cache != nullptr) ctx.cache->drop_pages(w.data, w.nbytes);
          return Status::Ok();
        },
        &packed)));
    const kern::FDwKernel kernel = ctx.kernels->fdw.fn != nullptr ? ctx.kernels->fdw : kern::fdw_kernel_portable();
    if (!packed || !engine_.init(s_, std::move(packed), kernel, n_.attrs.act_min, n_.attrs.act_max))
      return Status::Ok();
    scheduler_ = ctx.scheduler;
    return Status::Ok();
  }

  void run(uint8_t* const* p) override {
    const float* x = at<float>(p, n_.inputs[0]);
    float* y = at<float>(p, n_.outputs[0]);
    if (scheduler_ == nullptr) {
      ref::conv2d_f32(s_, x, at<float>(p, n_.inputs[1]), optional_input_f32(p), n_.attrs.act_min, n_.attrs.act_max, y);
      return;
    }
    scheduler_->ranges(
        static_cast<int64_t>(engine_.rows()), static_cast<int64_t>(engine_.elements()),
        [&](int64_t r0, int64_t r1) { engine_.run_rows(x, y, static_cast<size_t>(r0), static_cast<size_t>(r1)); });
  }
  const char* kernel_name() const override { return scheduler_ != nullptr ? engine_.kernel_name() : "ref"; }

 private:
  const float* optional_input_f32(uint8_t* const* p) const {
    return n_.inputs.size() > 2 && n_.inputs[2] >= 0 ? at<float>(p, n_.inputs[2]) : nullptr;
  }

  const Node& n_;
  ref::ConvShape s_;
  kern::FDwConvOp engine_;
  const Scheduler* scheduler_ = nullptr;  // null: the reference runs
};

}  // namespace

bool float_dw_takes(const Graph& g, const Node& n, const OpContext& ctx) {
  return ctx.kernels != nullptr && ctx.kernels->fgemm.fn != nullptr && float_dw_node(g, n);
}

Status prepare_float_dw(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  return own(std::make_unique<FloatDw>(g, n), g, ctx, out);
}

}  // namespace ops

Status prepack_float_dw(const Graph& g, std::vector<PackedWeights>* out) {
  for (const Node& n : g.nodes) {
    if (!ops::float_dw_node(g, n)) continue;
    const ref::ConvShape s = ops::conv_shape(g, n);
    std::shared_ptr<const kern::FDwPacked> packed;
    const kern::InitResult r = kern::FDwPacked::pack(g.tensors[n.inputs[1]].as<float>(), ops::optional_f32(g, n, 2),
                                                     s.in_c, s.kernel_h * s.kernel_w, &packed);
    if (r.code() == kern::InitResult::kOutOfMemory)
      return OutOfMemory("node '" + n.name + "' (" + op_name(n.op) + "): out of memory packing the weights");
    if (!packed) continue;
    PackedWeights pw;
    pw.node = ops::node_index(g, n);
    pw.kernel = kern::kFDwLayoutName;
    pw.layout = kern::kFDwPackLayout;
    pw.data = packed->bytes();
    pw.nbytes = packed->nbytes();
    pw.owner = packed;
    out->push_back(std::move(pw));
  }
  return Status::Ok();
}

}  // namespace edgeq
