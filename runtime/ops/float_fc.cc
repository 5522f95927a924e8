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

// The model's packed panels of node n's constant float weights ([n_out][k]: a fully
// connected layer's, or a convolution's [out_c][kh][kw][in_c]) for the level's float
// GEMM: a pre-packed file's segment in place, else packed once through the model's
// PackCache. *out stays null where the kernel declines the layer.
Status packed_float_weights(const Graph& g, const Node& n, const OpContext& ctx, int32_t n_out, int32_t k,
                            std::shared_ptr<const kern::FFcPacked>* out) {
  const kern::FGemmKernel& kernel = ctx.kernels->fgemm;
  const std::string layout = kern::ffc_layout_name(kernel.nr);
  return shared_packed<kern::FFcPacked>(
      g, n, ctx, "ffc/" + layout,
      [&](std::shared_ptr<const kern::FFcPacked>* packed, size_t* bytes) {
        if (const PackedWeights* pre = find_prepacked(g, n, layout, kern::kFFcPackLayout)) {
          if (!kern::FFcPacked::wrap(pre->data, pre->nbytes, n_out, k, kernel.nr, packed))
            return InvalidModel("node '" + n.name + "' (" + op_name(n.op) + "): its pre-packed weights for " + layout +
                                " hold " + std::to_string(pre->nbytes) +
                                " bytes, which is not the size of its packed layout");
          return Status::Ok();  // in place: nothing allocated, the raw pages never read
        }
        return pack_ffc_weights(n, g.tensors[n.inputs[1]], n_out, k, kernel.nr, ctx, packed, bytes);
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
    std::shared_ptr<const kern::FFcPacked> packed;
    EDGEQ_RETURN_IF_ERROR(packed_float_weights(g, n_, ctx, n_out_, k_, &packed));
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

// FloatConv: see the file comment. A 1x1 convolution at stride 1 without padding reads
// its input rows in place; any other builds its window rows per task, a chunk of row
// blocks at a time, in the worker's slot of the workspace.
class FloatConv : public PreparedOp {
 public:
  FloatConv(const Graph& g, const Node& n) : n_(n), s_(conv_shape(g, n)) {
    k_ = s_.kernel_h * s_.kernel_w * s_.in_c;
    m_ = s_.batch * s_.out_h * s_.out_w;
    direct_ = s_.kernel_h == 1 && s_.kernel_w == 1 && s_.stride_h == 1 && s_.stride_w == 1 && s_.pad_top == 0 &&
              s_.pad_left == 0 && s_.out_h == s_.in_h && s_.out_w == s_.in_w;
  }

  Status init(const Graph& g, const OpContext& ctx) {
    const kern::FGemmKernel& kernel = ctx.kernels->fgemm;
    std::shared_ptr<const kern::FFcPacked> packed;
    EDGEQ_RETURN_IF_ERROR(packed_float_weights(g, n_, ctx, s_.out_c, k_, &packed));
    if (!packed) return Status::Ok();
    if (!engine_.init(m_, std::move(packed), kernel, optional_f32(g, n_, 2), n_.attrs.act_min, n_.attrs.act_max))
      return Status::Ok();
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
    const size_t k = static_cast<size_t>(k_), n = static_cast<size_t>(s_.out_c), m = static_cast<size_t>(m_);
    const size_t chunk_rows = chunk_blocks_ * mr_;
    scheduler_->slots(chunks_ * groups_, static_cast<int64_t>(engine_.elements()), [&](size_t slot, size_t t) {
      const size_t chunk = t / groups_, group = t % groups_;
      const size_t r0 = chunk * chunk_rows, rows = std::min(chunk_rows, m - r0);
      const size_t p0 = engine_.panels() * group / groups_, p1 = engine_.panels() * (group + 1) / groups_;
      const float* a = x + r0 * k;
      if (!direct_) {
        float* scratch = rows_ + slot * chunk_rows * k;
        copy_windows(x, r0, rows, scratch);
        a = scratch;
      }
      engine_.run_tile(a, k, y + r0 * n, rows, p0, p1);
    });
  }
  const char* kernel_name() const override { return name_; }

 private:
  // Chunks and column groups from the cache sizes: a chunk's window rows take at most
  // half the L2, so they stay there while every panel of the weights passes over them;
  // with fewer chunks than four a worker, the panels are split too (each group of a
  // chunk builds its rows again), so small images still spread over the threads.
  void plan(const kern::CacheSizes& caches) {
    const size_t k = static_cast<size_t>(k_), blocks = engine_.row_blocks(), panels = engine_.panels();
    const size_t block_bytes = mr_ * k * sizeof(float);
    chunk_blocks_ = std::max<size_t>(1, std::min(blocks, caches.l2 / 2 / std::max<size_t>(block_bytes, 1)));
    chunks_ = (blocks + chunk_blocks_ - 1) / chunk_blocks_;
    const size_t threads = scheduler_->threads();
    groups_ = 1;
    if (threads > 1 && chunks_ < 4 * threads) groups_ = std::min(panels, (4 * threads + chunks_ - 1) / chunks_);
    slots_ = std::min(threads, chunks_ * groups_);
  }

  // Rows [r0, r0 + rows) of the windows into dst (k floats each, NHWC input; taps
  // outside the image are zeros).
  void copy_windows(const float* x, size_t r0, size_t rows, float* dst) const {
    const size_t in_c = static_cast<size_t>(s_.in_c), k = static_cast<size_t>(k_);
    const size_t row_floats = static_cast<size_t>(s_.in_w) * in_c, kw = static_cast<size_t>(s_.kernel_w);
    for (size_t i = 0; i < rows; ++i, dst += k) {
      const size_t r = r0 + i;
      const int64_t ow = static_cast<int64_t>(r % static_cast<size_t>(s_.out_w));
      const size_t q = r / static_cast<size_t>(s_.out_w);
      const int64_t oh = static_cast<int64_t>(q % static_cast<size_t>(s_.out_h));
      const size_t b = q / static_cast<size_t>(s_.out_h);
      const int64_t ix0 = ow * s_.stride_w - s_.pad_left;
      const bool row_inside = s_.dilation_w == 1 && ix0 >= 0 && ix0 + s_.kernel_w <= s_.in_w;
      for (int32_t th = 0; th < s_.kernel_h; ++th) {
        float* out = dst + static_cast<size_t>(th) * kw * in_c;
        const int64_t iy = oh * s_.stride_h - s_.pad_top + int64_t{th} * s_.dilation_h;
        if (iy < 0 || iy >= s_.in_h) {
          std::memset(out, 0, kw * in_c * sizeof(float));
          continue;
        }
        const float* src = x + (b * static_cast<size_t>(s_.in_h) + static_cast<size_t>(iy)) * row_floats;
        if (row_inside) {
          std::memcpy(out, src + static_cast<size_t>(ix0) * in_c, kw * in_c * sizeof(float));
          continue;
        }
        for (int32_t tw = 0; tw < s_.kernel_w; ++tw, out += in_c) {
          const int64_t ix = ix0 + int64_t{tw} * s_.dilation_w;
          if (ix < 0 || ix >= s_.in_w) {
            std::memset(out, 0, in_c * sizeof(float));
          } else {
            std::memcpy(out, src + static_cast<size_t>(ix) * in_c, in_c * sizeof(float));
          }
        }
      }
    }
  }

  const Node& n_;
  ref::ConvShape s_;
  int32_t m_ = 0, k_ = 0;
  bool direct_ = false;
  kern::FFcOp engine_;
  const Scheduler* scheduler_ = nullptr;  // null: the reference runs
  const char* name_ = "ref";
  size_t mr_ = 1, chunk_blocks_ = 1, chunks_ = 0, groups_ = 1, slots_ = 1;
  float* rows_ = nullptr;
};

}  // namespace

namespace {
// Whether the float GEMM takes Conv2D node n of graph g at all: one group, every
// operand float, constant weights (and bias), a non-empty output, k below 2^24.
bool float_conv_shape_fits(const Graph& g, const Node& n) {
  if (n.op != OpType::kConv2D || n.inputs.size() < 2 || n.outputs.size() != 1) return false;
  for (int32_t t : n.inputs)
    if (t >= 0 && g.tensors[t].dtype != DType::kF32) return false;
  if (g.tensors[n.outputs[0]].dtype != DType::kF32 || !constant_operands(g, n)) return false;
  const ref::ConvShape s = conv_shape(g, n);
  const int64_t k = int64_t{s.kernel_h} * s.kernel_w * s.in_c;
  return s.groups == 1 && k > 0 && k <= (int64_t{1} << 24) && s.out_h > 0 && s.out_w > 0 && s.out_c > 0;
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
    int32_t n_out = 0, k = 0;
    if (n.op == OpType::kConv2D) {
      if (!ops::float_conv_shape_fits(g, n)) continue;
      const ref::ConvShape s = ops::conv_shape(g, n);
      n_out = s.out_c;
      k = s.kernel_h * s.kernel_w * s.in_c;
    } else {
      if (n.op != OpType::kFullyConnected || n.inputs.size() < 2 || n.outputs.size() != 1) continue;
      bool all_float = g.tensors[n.outputs[0]].dtype == DType::kF32;
      for (int32_t t : n.inputs) all_float = all_float && (t < 0 || g.tensors[t].dtype == DType::kF32);
      if (!all_float || !ops::constant_operands(g, n)) continue;
      n_out = g.tensors[n.inputs[1]].shape[0];
      k = g.tensors[n.inputs[1]].shape[1];
    }
    const Tensor& w = g.tensors[n.inputs[1]];
    std::shared_ptr<const kern::FFcPacked> packed;
    const kern::InitResult r = kern::FFcPacked::pack(w.as<float>(), n_out, k, nr, &packed);
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
