// The pooling family of the op layer: max, average and global-average pooling, float
// on the reference and quantized on the level's vector kernels; quantized max and
// average pools split their output rows over the session's threads through the
// scheduler, each range reading only its own input rows.
#include <algorithm>
#include <memory>

#include "runtime/ops/common.h"

namespace edgeq {
namespace ops {
namespace {

ref::PoolShape pool_shape(const Graph& g, const Node& n) {
  const auto& x = g.tensors[n.inputs[0]].shape;
  const auto& y = g.tensors[n.outputs[0]].shape;
  const Attrs& a = n.attrs;
  return ref::PoolShape{x[0], x[1], x[2], x[3], y[1], y[2], a.kernel_h, a.kernel_w, a.stride_h, a.stride_w,
                        a.dilation_h, a.dilation_w, a.pad_top, a.pad_left, a.count_include_pad};
}

ref::PoolQParams pool_qparams(const Graph& g, const Node& n) {
  const Tensor& y = g.tensors[n.outputs[0]];
  const QParam x = qparam(g.tensors[n.inputs[0]]), yq = qparam(y);
  ref::PoolQParams p{x.scale, yq.scale, x.zero_point, yq.zero_point, 0, 0};
  quantized_output_range(y, n.attrs.act_min, n.attrs.act_max, &p.qmin, &p.qmax);
  return p;
}

class PoolF32 : public PreparedOp {
 public:
  PoolF32(const Graph& g, const Node& n) : n_(n), s_(pool_shape(g, n)) {}
  void run(uint8_t* const* p) override {
    const float* x = at<float>(p, n_.inputs[0]);
    float* y = at<float>(p, n_.outputs[0]);
    if (n_.op == OpType::kMaxPool2D)
      ref::maxpool_f32(s_, x, n_.attrs.act_min, n_.attrs.act_max, y);
    else if (n_.op == OpType::kAvgPool2D)
      ref::avgpool_f32(s_, x, n_.attrs.act_min, n_.attrs.act_max, y);
    else
      ref::global_avgpool_f32(s_.batch, s_.in_h * s_.in_w, s_.channels, x, n_.attrs.act_min, n_.attrs.act_max, y);
  }

 private:
  const Node& n_;
  ref::PoolShape s_;
};

template <typename T>
class QPool : public PreparedOp {
 public:
  QPool(const Graph& g, const Node& n) : n_(n), s_(pool_shape(g, n)), q_(pool_qparams(g, n)) {}
  Status init(const Graph&, const OpContext& ctx) {
    const kern::MiscKernels& k = ctx.kernels->misc;
    max_ = pick<T, kern::QPoolFn>(k.qmaxpool_s8, k.qmaxpool_u8, &ref::qmaxpool<T>);
    avg_ = pick<T, kern::QPoolFn>(k.qavgpool_s8, k.qavgpool_u8, &ref::qavgpool<T>);
    gap_ = pick<T, kern::QGlobalPoolFn>(k.qglobal_avgpool_s8, k.qglobal_avgpool_u8, &ref::qglobal_avgpool<T>);
    names_ = k.names;
    scheduler_ = ctx.scheduler;
    return Status::Ok();
  }
  void run(uint8_t* const* p) override {
    const T* x = at<T>(p, n_.inputs[0]);
    T* y = at<T>(p, n_.outputs[0]);
    if (n_.op == OpType::kGlobalAvgPool) {
      gap_(s_.batch, s_.in_h * s_.in_w, s_.channels, x, q_, y);
      return;
    }
    const kern::QPoolFn<T> fn = n_.op == OpType::kMaxPool2D ? max_ : avg_;
    // Every window must start above the input's last row for the rows to be cut into
    // shorter images (else the whole op runs at once).
    const bool splittable = static_cast<int64_t>(s_.out_h - 1) * s_.stride_h - s_.pad_top < s_.in_h;
    const int64_t rows = static_cast<int64_t>(s_.batch) * s_.out_h;
    const int64_t row_elements = static_cast<int64_t>(s_.out_w) * s_.channels;
    if (!splittable || rows == 0) {
      fn(s_, x, q_, y);
      return;
    }
    scheduler_->ranges(rows, rows * row_elements, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1;) {
        // Output rows [oh0, oh1) of image b: an image of the input rows from the first
        // one their windows read, with the padding above that row only.
        const int64_t b = r / s_.out_h, oh0 = r % s_.out_h;
        const int64_t oh1 = std::min<int64_t>(s_.out_h, oh0 + (r1 - r));
        const int64_t first = oh0 * s_.stride_h - s_.pad_top;
        const int64_t start = first > 0 ? first : 0;
        ref::PoolShape s = s_;
        s.batch = 1;
        s.out_h = static_cast<int32_t>(oh1 - oh0);
        s.in_h = static_cast<int32_t>(s_.in_h - start);
        s.pad_top = static_cast<int32_t>(start - first);
        const int64_t in_row = static_cast<int64_t>(s_.in_w) * s_.channels;
        fn(s, x + (b * s_.in_h + start) * in_row, q_, y + (b * s_.out_h + oh0) * row_elements);
        r += oh1 - oh0;
      }
    });
  }
  const char* kernel_name() const override {
    if (n_.op == OpType::kMaxPool2D) return misc_kernel_name<kern::QPoolFn<T>>(max_, &ref::qmaxpool<T>, names_.qmaxpool);
    if (n_.op == OpType::kAvgPool2D) return misc_kernel_name<kern::QPoolFn<T>>(avg_, &ref::qavgpool<T>, names_.qavgpool);
    return misc_kernel_name<kern::QGlobalPoolFn<T>>(gap_, &ref::qglobal_avgpool<T>, names_.qglobal_avgpool);
  }

 private:
  const Node& n_;
  ref::PoolShape s_;
  ref::PoolQParams q_;
  kern::QPoolFn<T> max_ = nullptr, avg_ = nullptr;
  kern::QGlobalPoolFn<T> gap_ = nullptr;
  kern::MiscKernelNames names_;
  const Scheduler* scheduler_ = nullptr;
};

}  // namespace

Status prepare_pool(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  const DType t = g.tensors[n.inputs[0]].dtype;
  if (t == DType::kF32) return own(std::make_unique<PoolF32>(g, n), g, ctx, out);
  return own_typed<QPool>(t, g, ctx, out, g, n);
}

}  // namespace ops
}  // namespace edgeq
