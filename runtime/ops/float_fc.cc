// Float FullyConnected (every operand float): the level's float GEMM microkernel through
// kern::FFcOp (kernels/ffc.h) when the weights are a constant, else the reference
// (ref::fully_connected_f32).
//
// The packed weights belong to the model: the first session on a panel layout packs
// them through the model's PackCache (runtime/pack_cache.h; key "ffc/<layout>", one
// layout per kernel NR: kern::ffc_layout_name) and every later session on any thread
// shares that copy. Once packed from weights read in place from a mapped file, their
// pages are dropped: a reference path that reads them (a session on the reference
// level) faults them back in from the file. A pre-packed file's segment for the layout
// (prepack_float_fc(), `edgeq convert --pack`) is used in place instead; one whose size
// is not the layout's is an error naming the node.
//
// Where XNNPACK is available, float_xnn.cc leaves a float FullyConnected to this op on
// levels whose float GEMM says it is the faster choice there (kern::FGemmKernel::
// fc_over_xnnpack, set per CPU at registration); elsewhere XNNPACK runs it (and packs
// per session). The op's clamp keeps NaN as the reference does, so it propagates
// non-finite values and a session needs no IEEE fallback for it.
//
// A float patch embedding (Conv2D with stride equal to its window, no padding, no
// dilation, one group: ViT's 16x16 stride 16) is the same product: each output pixel's
// window is a row of kernel_h x kernel_w x in_c floats, and the weights [out_c][kh][kw]
// [in_c] are already the FC's [n][k]. FloatPatchConv copies the windows' rows into a
// workspace of the session's arena (kernel_h runs of kernel_w x in_c floats each) and
// runs them through the same FFcOp, on the same CPUs (fc_over_xnnpack), with the
// weights packed once per model, where XNNPACK's convolution packed them per session
// (without XNNPACK, on every level with a float GEMM).
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "kernels/ffc.h"
#include "runtime/ops/common.h"

namespace edgeq {
namespace ops {
namespace {

// Whether the float FC node n has constant weights (and bias): what this op packs.
bool constant_operands(const Graph& g, const Node& n) {
  const bool has_bias = n.inputs.size() > 2 && n.inputs[2] >= 0;
  return g.tensors[n.inputs[1]].is_constant() && (!has_bias || g.tensors[n.inputs[2]].is_constant());
}

// Node n's constant float weights w ([n_out][k]) packed into panels of width nr for the
// model's PackCache: an error only when out of memory; once packed, the raw weights'
// pages of a mapped file are dropped (a reference path faults them back in).
Status pack_ffc_weights(const Node& n, const Tensor& w, int32_t n_out, int32_t k, uint32_t nr, const OpContext& ctx,
                        std::shared_ptr<const kern::FFcPacked>* out, size_t* bytes) {
  if (kern::FFcPacked::pack(w.as<float>(), n_out, k, nr, out).code() == kern::InitResult::kOutOfMemory)
    return OutOfMemory("node '" + n.name + "' (" + op_name(n.op) + "): out of memory packing the weights");
  if (!*out) return Status::Ok();  // declined: the reference runs the node
  *bytes = (*out)->heap_bytes();
  if (ctx.cache != nullptr) ctx.cache->drop_pages(w.data, w.nbytes);
  return Status::Ok();
}

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
    if (!ctx.kernels || !constant_operands(g, n_)) return Status::Ok();
    const kern::FGemmKernel& kernel = ctx.kernels->fgemm;
    if (kernel.fn == nullptr || m_ <= 0) return Status::Ok();
    const std::string layout = kern::ffc_layout_name(kernel.nr);
    std::shared_ptr<const kern::FFcPacked> packed;
    EDGEQ_RETURN_IF_ERROR((shared_packed<kern::FFcPacked>(
        g, n_, ctx, "ffc/" + layout,
        [&](std::shared_ptr<const kern::FFcPacked>* out, size_t* bytes) {
          if (const PackedWeights* pre = find_prepacked(g, n_, layout, kern::kFFcPackLayout)) {
            if (!kern::FFcPacked::wrap(pre->data, pre->nbytes, n_out_, k_, kernel.nr, out))
              return InvalidModel("node '" + n_.name + "' (" + op_name(n_.op) + "): its pre-packed weights for " +
                                  layout + " hold " + std::to_string(pre->nbytes) +
                                  " bytes, which is not the size of its packed layout");
            return Status::Ok();  // in place: nothing allocated, the raw pages never read
          }
          return pack_ffc_weights(n_, w, n_out_, k_, kernel.nr, ctx, out, bytes);
        },
        &packed)));
    if (!packed) return Status::Ok();
    if (!engine_.init(m_, std::move(packed), kernel, optional_f32(g, n_, 2), n_.attrs.act_min, n_.attrs.act_max))
      return Status::Ok();
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

// FloatPatchConv: see the file comment. The window rows of output pixel r go to row r
// of the workspace; every block of rows is copied by the task that multiplies it.
class FloatPatchConv : public PreparedOp {
 public:
  FloatPatchConv(const Graph& g, const Node& n) : n_(n), s_(conv_shape(g, n)) {
    k_ = s_.kernel_h * s_.kernel_w * s_.in_c;
    m_ = s_.batch * s_.out_h * s_.out_w;
  }

  Status init(const Graph& g, const OpContext& ctx) {
    const kern::FGemmKernel& kernel = ctx.kernels->fgemm;
    const Tensor& w = g.tensors[n_.inputs[1]];
    std::shared_ptr<const kern::FFcPacked> packed;
    EDGEQ_RETURN_IF_ERROR((shared_packed<kern::FFcPacked>(
        g, n_, ctx, "ffc/" + kern::ffc_layout_name(kernel.nr),
        [&](std::shared_ptr<const kern::FFcPacked>* out, size_t* bytes) {
          return pack_ffc_weights(n_, w, s_.out_c, k_, kernel.nr, ctx, out, bytes);
        },
        &packed)));
    if (!packed) return Status::Ok();
    if (!engine_.init(m_, std::move(packed), kernel, optional_f32(g, n_, 2), n_.attrs.act_min, n_.attrs.act_max))
      return Status::Ok();
    scheduler_ = ctx.scheduler;
    name_ = kernel.name;
    mr_ = kernel.mr;
    return Status::Ok();
  }
  size_t workspace_bytes() const override {
    return scheduler_ != nullptr ? static_cast<size_t>(m_) * static_cast<size_t>(k_) * sizeof(float) : 0;
  }
  void set_workspace(uint8_t* workspace) override { rows_ = reinterpret_cast<float*>(workspace); }

  void run(uint8_t* const* p) override {
    const float* x = at<float>(p, n_.inputs[0]);
    float* y = at<float>(p, n_.outputs[0]);
    if (scheduler_ == nullptr) {
      ref::conv2d_f32(s_, x, at<float>(p, n_.inputs[1]),
                      n_.inputs.size() > 2 && n_.inputs[2] >= 0 ? at<float>(p, n_.inputs[2]) : nullptr,
                      n_.attrs.act_min, n_.attrs.act_max, y);
      return;
    }
    scheduler_->ranges(static_cast<int64_t>(engine_.row_blocks()), static_cast<int64_t>(engine_.elements()),
                       [&](int64_t b0, int64_t b1) {
                         const size_t r0 = static_cast<size_t>(b0) * mr_;
                         const size_t r1 = std::min(static_cast<size_t>(b1) * mr_, static_cast<size_t>(m_));
                         copy_windows(x, r0, r1);
                         engine_.run_rows(rows_, y, static_cast<size_t>(b0), static_cast<size_t>(b1));
                       });
  }
  const char* kernel_name() const override { return name_; }

 private:
  // Rows [r0, r1) of the windows (NHWC input, no padding: every window inside).
  void copy_windows(const float* x, size_t r0, size_t r1) const {
    const size_t run = static_cast<size_t>(s_.kernel_w) * s_.in_c;  // one window row: contiguous floats
    const size_t row_floats = static_cast<size_t>(s_.in_w) * s_.in_c;
    for (size_t r = r0; r < r1; ++r) {
      const size_t ow = r % static_cast<size_t>(s_.out_w), q = r / static_cast<size_t>(s_.out_w);
      const size_t oh = q % static_cast<size_t>(s_.out_h), b = q / static_cast<size_t>(s_.out_h);
      const float* src = x + (b * static_cast<size_t>(s_.in_h) + oh * static_cast<size_t>(s_.stride_h)) * row_floats +
                         ow * static_cast<size_t>(s_.stride_w) * s_.in_c;
      float* dst = rows_ + r * static_cast<size_t>(k_);
      for (int32_t th = 0; th < s_.kernel_h; ++th) std::memcpy(dst + th * run, src + th * row_floats, run * sizeof(float));
    }
  }

  const Node& n_;
  ref::ConvShape s_;
  int32_t m_ = 0, k_ = 0;
  kern::FFcOp engine_;
  const Scheduler* scheduler_ = nullptr;  // null: the reference runs
  const char* name_ = "ref";
  size_t mr_ = 1;
  float* rows_ = nullptr;
};

}  // namespace

bool float_patch_conv_takes(const Graph& g, const Node& n, const OpContext& ctx) {
  if (n.op != OpType::kConv2D || n.inputs.size() < 2 || ctx.kernels == nullptr) return false;
  if (ctx.kernels->fgemm.fn == nullptr) return false;
  for (int32_t t : n.inputs)
    if (t >= 0 && g.tensors[t].dtype != DType::kF32) return false;
  if (g.tensors[n.outputs[0]].dtype != DType::kF32 || !constant_operands(g, n)) return false;
  const ref::ConvShape s = conv_shape(g, n);
  const int64_t k = int64_t{s.kernel_h} * s.kernel_w * s.in_c;
  return s.groups == 1 && s.kernel_h * s.kernel_w >= 4 && s.stride_h == s.kernel_h && s.stride_w == s.kernel_w &&
         s.dilation_h == 1 && s.dilation_w == 1 && s.pad_top == 0 && s.pad_left == 0 && n.attrs.pad_bottom == 0 &&
         n.attrs.pad_right == 0 && k <= (int64_t{1} << 24) && s.out_h > 0 && s.out_w > 0;
}

Status prepare_float_patch_conv(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  return own(std::make_unique<FloatPatchConv>(g, n), g, ctx, out);
}

Status prepare_float_fc(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  return own(std::make_unique<FloatFc>(g, n), g, ctx, out);
}

}  // namespace ops

Status prepack_float_fc(const Graph& g, kern::Isa isa, std::vector<PackedWeights>* out) {
  const uint32_t nr = kern::ffc_pack_nr(isa);
  if (nr == 0) return Status::Ok();
  for (const Node& n : g.nodes) {
    if (n.op != OpType::kFullyConnected || n.inputs.size() < 2 || n.outputs.size() != 1) continue;
    bool all_float = g.tensors[n.outputs[0]].dtype == DType::kF32;
    for (int32_t t : n.inputs) all_float = all_float && (t < 0 || g.tensors[t].dtype == DType::kF32);
    if (!all_float || !ops::constant_operands(g, n)) continue;
    const Tensor& w = g.tensors[n.inputs[1]];
    std::shared_ptr<const kern::FFcPacked> packed;
    const kern::InitResult r = kern::FFcPacked::pack(w.as<float>(), w.shape[0], w.shape[1], nr, &packed);
    if (r.code() == kern::InitResult::kOutOfMemory)
      return OutOfMemory("node '" + n.name + "' (" + op_name(n.op) + "): out of memory packing the weights");
    if (!packed) continue;
    PackedWeights pw;
    pw.node = ops::node_index(g, n);
    pw.kernel = kern::ffc_layout_name(nr);
    pw.layout = kern::kFFcPackLayout;
    pw.data = reinterpret_cast<const uint8_t*>(packed->panels());
    pw.nbytes = packed->heap_bytes();
    pw.owner = packed;
    out->push_back(std::move(pw));
  }
  return Status::Ok();
}

}  // namespace edgeq
