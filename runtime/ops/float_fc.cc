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
// every level with a float GEMM, never to XNNPACK, which would pack per session. The
// op's clamp keeps NaN as the reference does, so it propagates non-finite values and a
// session needs no IEEE fallback for it.
//
// A float Conv2D (Conv2D with constant weights that is not depthwise, float_dw.cc) is
// the same product per group: each output pixel's window is a row of kernel_h x
// kernel_w x (in_c / groups) floats, and each group's weights [out_c / groups][kh][kw]
// [in_c / groups] are already an FC's [n][k]. FloatConv runs a 1x1 convolution at
// stride 1 without padding on its input rows in place, and builds any other's window
// rows (zeros outside the image) a chunk at a time in the running worker's slot of the
// workspace; the groups' panels are packed once per model like the FC's (one segment
// per node in a pre-packed file: the groups' panels one after another, each padded to
// 64 bytes), where XNNPACK's convolution packed them per session.
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "kernels/ffc.h"
#include "kernels/gemm_blocking.h"
#include "runtime/ops/common.h"

namespace edgeq {
namespace ops {
namespace {

// Whether the float FC node n has constant weights (and bias): what this op packs.
bool constant_operands(const Graph& g, const Node& n) {
  const bool has_bias = n.inputs.size() > 2 && n.inputs[2] >= 0;
  return g.tensors[n.inputs[1]].is_constant() && (!has_bias || g.tensors[n.inputs[2]].is_constant());
}

// A float FC's or convolution's packed panels, one set per group (one for an FC), for
// one kernel NR: the model's, shared by its sessions.
struct FloatPanels {
  std::vector<std::shared_ptr<const kern::FFcPacked>> groups;
};

// Bytes of one group's panels in a pre-packed segment: its packed bytes, rounded up to
// 64 when there are several groups so that every group starts aligned.
size_t group_stride(int32_t groups, int32_t n_out, int32_t k, uint32_t nr) {
  const size_t bytes = kern::FFcPacked::packed_bytes(n_out, k, nr);
  return groups == 1 ? bytes : (bytes + 63) / 64 * 64;
}

// The model's packed panels of node n's constant float weights ([groups * n_out][k]: a
// fully connected layer's, or a convolution's [out_c][kh][kw][in_c / groups]) for the
// level's float GEMM: a pre-packed file's segment in place, else packed once through
// the model's PackCache (the raw weights' pages of a mapped file dropped after). *out
// stays null where the kernel declines the layer.
Status packed_float_weights(const Graph& g, const Node& n, const OpContext& ctx, int32_t groups, int32_t n_out,
                            int32_t k, std::shared_ptr<const FloatPanels>* out) {
  const kern::FGemmKernel& kernel = ctx.kernels->fgemm;
  const std::string layout = kern::ffc_layout_name(kernel.nr);
  const size_t stride = group_stride(groups, n_out, k, kernel.nr);
  return shared_packed<FloatPanels>(
      g, n, ctx, "ffc/" + layout,
      [&](std::shared_ptr<const FloatPanels>* result, size_t* bytes) {
        auto panels = std::make_shared<FloatPanels>();
        const PackedWeights* pre = find_prepacked(g, n, layout, kern::kFFcPackLayout);
        if (pre != nullptr && pre->nbytes != stride * static_cast<size_t>(groups))
          return InvalidModel("node '" + n.name + "' (" + op_name(n.op) + "): its pre-packed weights for " + layout +
                              " hold " + std::to_string(pre->nbytes) +
                              " bytes, which is not the size of its packed layout");
        const Tensor& w = g.tensors[n.inputs[1]];
        for (int32_t gi = 0; gi < groups; ++gi) {
          std::shared_ptr<const kern::FFcPacked> one;
          if (pre != nullptr) {
            // In place: nothing allocated, the raw pages never read.
            if (!kern::FFcPacked::wrap(pre->data + static_cast<size_t>(gi) * stride,
                                       kern::FFcPacked::packed_bytes(n_out, k, kernel.nr), n_out, k, kernel.nr, &one))
              return InvalidModel("node '" + n.name + "' (" + op_name(n.op) + "): its pre-packed weights for " +
                                  layout + " are misaligned");
          } else {
            const float* wg = w.as<float>() + static_cast<size_t>(gi) * static_cast<size_t>(n_out) * k;
            if (kern::FFcPacked::pack(wg, n_out, k, kernel.nr, &one).code() == kern::InitResult::kOutOfMemory)
              return OutOfMemory("node '" + n.name + "' (" + op_name(n.op) + "): out of memory packing the weights");
            if (!one) return Status::Ok();  // declined: the reference runs the node
            *bytes += one->heap_bytes();
          }
          panels->groups.push_back(std::move(one));
        }
        if (pre == nullptr && ctx.cache != nullptr) ctx.cache->drop_pages(w.data, w.nbytes);
        *result = std::move(panels);
        return Status::Ok();
      },
      out);
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
    if (!ctx.kernels || !constant_operands(g, n_)) return Status::Ok();
    const kern::FGemmKernel& kernel = ctx.kernels->fgemm;
    if (kernel.fn == nullptr || m_ <= 0) return Status::Ok();
    std::shared_ptr<const FloatPanels> packed;
    EDGEQ_RETURN_IF_ERROR(packed_float_weights(g, n_, ctx, 1, n_out_, k_, &packed));
    if (!packed) return Status::Ok();
    if (!engine_.init(m_, packed->groups[0], kernel, optional_f32(g, n_, 2), n_.attrs.act_min, n_.attrs.act_max))
      return Status::Ok();
    panels_ = std::move(packed);
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
    // About four ranges of row blocks a worker (panel by panel over a range's blocks),
    // and with fewer blocks than that (a classifier's single row) the panels split too,
    // so that every thread streams its share of the weights.
    const size_t blocks = engine_.row_blocks(), panels = engine_.panels(), threads = scheduler_->threads();
    const size_t chunks = std::min(blocks, 4 * threads);
    const size_t splits = threads > 1 && blocks < 4 * threads ? std::min(panels, (4 * threads + blocks - 1) / blocks) : 1;
    const size_t n = static_cast<size_t>(n_out_), k = static_cast<size_t>(k_), m = static_cast<size_t>(m_);
    const size_t mr = engine_.row_block_rows();
    scheduler_->slots(chunks * splits, static_cast<int64_t>(m * n * k), [&](size_t, size_t t) {
      const size_t chunk = t / splits, split = t % splits;
      const size_t r0 = blocks * chunk / chunks * mr, r1 = std::min(m, blocks * (chunk + 1) / chunks * mr);
      engine_.run_tile(x + r0 * k, k, y + r0 * n, n, r1 - r0, panels * split / splits, panels * (split + 1) / splits);
    });
  }
  const char* kernel_name() const override { return name_; }

 private:
  const Node& n_;
  int32_t m_ = 0, n_out_ = 0, k_ = 0;
  std::shared_ptr<const FloatPanels> panels_;
  kern::FFcOp engine_;
  const Scheduler* scheduler_ = nullptr;  // null: the reference runs
  const char* name_ = "ref";
};

// FloatConv: see the file comment. Tasks are (chunk of row blocks, conv group, split of
// the group's panels); a task that builds rows builds its chunk's windows for its group
// in its worker's slot of the workspace.
class FloatConv : public PreparedOp {
 public:
  FloatConv(const Graph& g, const Node& n) : n_(n), s_(conv_shape(g, n)) {
    cg_ = s_.in_c / s_.groups;
    ng_ = s_.out_c / s_.groups;
    k_ = s_.kernel_h * s_.kernel_w * cg_;
    m_ = s_.batch * s_.out_h * s_.out_w;
    direct_ = s_.kernel_h == 1 && s_.kernel_w == 1 && s_.stride_h == 1 && s_.stride_w == 1 && s_.pad_top == 0 &&
              s_.pad_left == 0 && s_.out_h == s_.in_h && s_.out_w == s_.in_w;
  }

  Status init(const Graph& g, const OpContext& ctx) {
    const kern::FGemmKernel& kernel = ctx.kernels->fgemm;
    std::shared_ptr<const FloatPanels> packed;
    EDGEQ_RETURN_IF_ERROR(packed_float_weights(g, n_, ctx, s_.groups, ng_, k_, &packed));
    if (!packed) return Status::Ok();
    const float* bias = optional_f32(g, n_, 2);
    engines_.resize(static_cast<size_t>(s_.groups));
    for (int32_t gi = 0; gi < s_.groups; ++gi)
      if (!engines_[gi].init(m_, packed->groups[gi], kernel, bias ? bias + static_cast<size_t>(gi) * ng_ : nullptr,
                             n_.attrs.act_min, n_.attrs.act_max))
        return Status::Ok();
    panels_ = std::move(packed);
    scheduler_ = ctx.scheduler;
    name_ = kernel.name;
    mr_ = kernel.mr;
    plan(kern::host_cache_sizes());
    return Status::Ok();
  }
  size_t workspace_bytes() const override {
    return scheduler_ != nullptr && !direct_ ? slots_ * chunk_blocks_ * mr_ * static_cast<size_t>(k_) * sizeof(float)
                                             : 0;
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
    const size_t k = static_cast<size_t>(k_), m = static_cast<size_t>(m_), groups = engines_.size();
    const size_t in_c = static_cast<size_t>(s_.in_c), out_c = static_cast<size_t>(s_.out_c);
    const size_t chunk_rows = chunk_blocks_ * mr_;
    const int64_t macs = static_cast<int64_t>(m * out_c * k);
    scheduler_->slots(chunks_ * groups * splits_, macs, [&](size_t slot, size_t t) {
      const size_t chunk = t / (groups * splits_), gi = t / splits_ % groups, split = t % splits_;
      const kern::FFcOp& engine = engines_[gi];
      const size_t r0 = chunk * chunk_rows, rows = std::min(chunk_rows, m - r0);
      const size_t p0 = engine.panels() * split / splits_, p1 = engine.panels() * (split + 1) / splits_;
      const float* a = x + r0 * in_c + gi * static_cast<size_t>(cg_);  // 1x1: the rows in place
      size_t a_stride = in_c;
      if (!direct_) {
        float* scratch = rows_ + slot * chunk_rows * k;
        copy_windows(x, r0, rows, gi * static_cast<size_t>(cg_), scratch);
        a = scratch;
        a_stride = k;
      }
      engine.run_tile(a, a_stride, y + r0 * out_c + gi * static_cast<size_t>(ng_), out_c, rows, p0, p1);
    });
  }
  const char* kernel_name() const override { return name_; }

 private:
  // Chunks and panel splits from the cache sizes: a chunk's window rows take at most
  // half the L2, so they stay there while every panel of the weights passes over them;
  // with fewer tasks than four a worker, the panels are split too (each split of a
  // chunk builds its rows again), so small images still spread over the threads.
  void plan(const kern::CacheSizes& caches) {
    const size_t k = static_cast<size_t>(k_), blocks = engines_[0].row_blocks(), panels = engines_[0].panels();
    const size_t block_bytes = mr_ * k * sizeof(float);
    chunk_blocks_ = std::max<size_t>(1, std::min(blocks, caches.l2 / 2 / std::max<size_t>(block_bytes, 1)));
    chunks_ = (blocks + chunk_blocks_ - 1) / chunk_blocks_;
    const size_t threads = scheduler_->threads(), tasks = chunks_ * engines_.size();
    splits_ = 1;
    if (threads > 1 && tasks < 4 * threads) splits_ = std::min(panels, (4 * threads + tasks - 1) / tasks);
    slots_ = std::min(threads, tasks * splits_);
  }

  // Rows [r0, r0 + rows) of the windows of the group whose channels start at c0 into
  // dst (k floats each, NHWC input; taps outside the image are zeros).
  void copy_windows(const float* x, size_t r0, size_t rows, size_t c0, float* dst) const {
    const size_t in_c = static_cast<size_t>(s_.in_c), cg = static_cast<size_t>(cg_), k = static_cast<size_t>(k_);
    const size_t row_floats = static_cast<size_t>(s_.in_w) * in_c, kw = static_cast<size_t>(s_.kernel_w);
    for (size_t i = 0; i < rows; ++i, dst += k) {
      const size_t r = r0 + i;
      const int64_t ow = static_cast<int64_t>(r % static_cast<size_t>(s_.out_w));
      const size_t q = r / static_cast<size_t>(s_.out_w);
      const int64_t oh = static_cast<int64_t>(q % static_cast<size_t>(s_.out_h));
      const size_t b = q / static_cast<size_t>(s_.out_h);
      const int64_t ix0 = ow * s_.stride_w - s_.pad_left;
      // One group and no dilation: a window row inside the image is one run of floats.
      const bool row_run = cg == in_c && s_.dilation_w == 1 && ix0 >= 0 && ix0 + s_.kernel_w <= s_.in_w;
      for (int32_t th = 0; th < s_.kernel_h; ++th) {
        float* out = dst + static_cast<size_t>(th) * kw * cg;
        const int64_t iy = oh * s_.stride_h - s_.pad_top + int64_t{th} * s_.dilation_h;
        if (iy < 0 || iy >= s_.in_h) {
          std::memset(out, 0, kw * cg * sizeof(float));
          continue;
        }
        const float* src = x + (b * static_cast<size_t>(s_.in_h) + static_cast<size_t>(iy)) * row_floats + c0;
        if (row_run) {
          std::memcpy(out, src + static_cast<size_t>(ix0) * in_c, kw * cg * sizeof(float));
          continue;
        }
        for (int32_t tw = 0; tw < s_.kernel_w; ++tw, out += cg) {
          const int64_t ix = ix0 + int64_t{tw} * s_.dilation_w;
          if (ix < 0 || ix >= s_.in_w) {
            std::memset(out, 0, cg * sizeof(float));
          } else {
            std::memcpy(out, src + static_cast<size_t>(ix) * in_c, cg * sizeof(float));
          }
        }
      }
    }
  }

  const Node& n_;
  ref::ConvShape s_;
  int32_t m_ = 0, k_ = 0, cg_ = 0, ng_ = 0;  // k_, cg_, ng_: per group
  bool direct_ = false;
  std::shared_ptr<const FloatPanels> panels_;
  std::vector<kern::FFcOp> engines_;  // one per group
  const Scheduler* scheduler_ = nullptr;  // null: the reference runs
  const char* name_ = "ref";
  size_t mr_ = 1, chunk_blocks_ = 1, chunks_ = 0, splits_ = 1, slots_ = 1;
  float* rows_ = nullptr;
};

}  // namespace

namespace {
// Whether the float GEMM takes Conv2D node n of graph g at all: not depthwise (any
// other group count), every operand float, constant weights (and bias), a non-empty
// output, k (per group) below 2^24.
bool float_conv_shape_fits(const Graph& g, const Node& n) {
  if (n.op != OpType::kConv2D || n.inputs.size() < 2 || n.outputs.size() != 1) return false;
  for (int32_t t : n.inputs)
    if (t >= 0 && g.tensors[t].dtype != DType::kF32) return false;
  if (g.tensors[n.outputs[0]].dtype != DType::kF32 || !constant_operands(g, n)) return false;
  const ref::ConvShape s = conv_shape(g, n);
  if (s.groups < 1 || s.in_c % s.groups != 0 || s.out_c % s.groups != 0) return false;
  if (s.groups > 1 && s.groups == s.in_c && s.out_c == s.in_c) return false;  // depthwise: float_dw.cc
  const int64_t k = int64_t{s.kernel_h} * s.kernel_w * (s.in_c / s.groups);
  return k > 0 && k <= (int64_t{1} << 24) && s.out_h > 0 && s.out_w > 0 && s.out_c > 0;
}
}  // namespace

bool float_conv_takes(const Graph& g, const Node& n, const OpContext& ctx) {
  return ctx.kernels != nullptr && ctx.kernels->fgemm.fn != nullptr && float_conv_shape_fits(g, n);
}

Status prepare_float_conv(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  return own(std::make_unique<FloatConv>(g, n), g, ctx, out);
}

Status prepare_float_fc(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  return own(std::make_unique<FloatFc>(g, n), g, ctx, out);
}

}  // namespace ops

Status prepack_float_fc(const Graph& g, kern::Isa isa, std::vector<PackedWeights>* out) {
  const uint32_t nr = kern::ffc_pack_nr(isa);
  if (nr == 0) return Status::Ok();
  for (const Node& n : g.nodes) {
    int32_t groups = 1, n_out = 0, k = 0;
    if (n.op == OpType::kConv2D) {
      if (!ops::float_conv_shape_fits(g, n)) continue;
      const ref::ConvShape s = ops::conv_shape(g, n);
      groups = s.groups;
      n_out = s.out_c / groups;
      k = s.kernel_h * s.kernel_w * (s.in_c / groups);
    } else {
      if (n.op != OpType::kFullyConnected || n.inputs.size() < 2 || n.outputs.size() != 1) continue;
      bool all_float = g.tensors[n.outputs[0]].dtype == DType::kF32;
      for (int32_t t : n.inputs) all_float = all_float && (t < 0 || g.tensors[t].dtype == DType::kF32);
      if (!all_float || !ops::constant_operands(g, n)) continue;
      n_out = g.tensors[n.inputs[1]].shape[0];
      k = g.tensors[n.inputs[1]].shape[1];
    }
    if (n_out <= 0 || k <= 0) continue;
    // The groups' panels one after another, each from a 64-byte boundary (zeros between)
    // when there are several.
    const size_t stride = ops::group_stride(groups, n_out, k, nr), nbytes = stride * static_cast<size_t>(groups);
    auto buffer = std::make_shared<kern::AlignedBuffer>(kern::aligned_buffer(nbytes, 64));
    if (!*buffer) return OutOfMemory("node '" + n.name + "' (" + op_name(n.op) + "): out of memory packing the weights");
    std::memset(buffer->get(), 0, nbytes);
    const float* w = g.tensors[n.inputs[1]].as<float>();
    for (int32_t gi = 0; gi < groups; ++gi)
      kern::FFcPacked::write_panels(w + static_cast<size_t>(gi) * static_cast<size_t>(n_out) * k, n_out, k, nr,
                                    reinterpret_cast<float*>(buffer->get() + static_cast<size_t>(gi) * stride));
    PackedWeights pw;
    pw.node = ops::node_index(g, n);
    pw.kernel = kern::ffc_layout_name(nr);
    pw.layout = kern::kFFcPackLayout;
    pw.data = buffer->get();
    pw.nbytes = nbytes;
    pw.owner = buffer;
    out->push_back(std::move(pw));
  }
  return Status::Ok();
}

}  // namespace edgeq
