// The conversion family of the op layer: Quantize (float -> int8/uint8), Dequantize
// (int8/uint8/int32 -> float, per tensor or per axis). Quantize and int8/uint8
// Dequantize run the level's vector kernels (kern::MiscKernels), split over the
// session's threads in ranges of elements; int32 Dequantize runs the reference.
// Requantize (between two 8-bit parameter sets) is a table lookup: elementwise.cc.
#include <memory>
#include <type_traits>

#include "runtime/ops/common.h"

namespace edgeq {
namespace ops {
namespace {

// Elements per range of a split over threads.
constexpr int64_t kConvertChunk = 1024;

template <typename T>
class Quantize : public PreparedOp {
 public:
  Quantize(const Graph& g, const Node& n)
      : n_(n), count_(g.tensors[n.inputs[0]].num_elements()), q_(qparam(g.tensors[n.outputs[0]])) {}
  Status init(const Graph&, const OpContext& ctx) {
    fn_ = pick<T, kern::QuantizeFn>(ctx.kernels->misc.quantize_s8, ctx.kernels->misc.quantize_u8, &ref::quantize<T>);
    name_ = ctx.kernels->misc.names.quantize;
    scheduler_ = ctx.scheduler;
    return Status::Ok();
  }
  void run(uint8_t* const* p) override {
    const float* x = at<float>(p, n_.inputs[0]);
    T* y = at<T>(p, n_.outputs[0]);
    element_ranges(scheduler_, count_, kConvertChunk,
                   [&](size_t i0, size_t i1) { fn_(i1 - i0, x + i0, q_.scale, q_.zero_point, y + i0); });
  }
  const char* kernel_name() const override {
    return misc_kernel_name<kern::QuantizeFn<T>>(fn_, &ref::quantize<T>, name_);
  }

 private:
  const Node& n_;
  int64_t count_;
  QParam q_;
  kern::QuantizeFn<T> fn_ = nullptr;
  const char* name_ = nullptr;
  const Scheduler* scheduler_ = nullptr;
};

// The vector kernel of an int8 / uint8 input; int32 (biases) has none.
template <typename T>
kern::DequantizeFn<T> dequantize_kernel(const kern::MiscKernels& m) {
  if constexpr (std::is_same<T, int32_t>::value) {
    (void)m;
    return &ref::dequantize<T>;
  } else {
    return pick<T, kern::DequantizeFn>(m.dequantize_s8, m.dequantize_u8, &ref::dequantize<T>);
  }
}

template <typename T>
class Dequantize : public PreparedOp {
 public:
  Dequantize(const Graph& g, const Node& n) : n_(n) {
    const Tensor& x = g.tensors[n.inputs[0]];
    scale_ = x.quant.scale;
    zero_point_ = x.quant.zero_point;
    if (x.quant.per_tensor()) {
      axis_size_ = 1;
      inner_ = x.num_elements();
    } else {
      outer_ = product(x.shape, 0, x.quant.axis);
      axis_size_ = x.shape[x.quant.axis];
      inner_ = product(x.shape, x.quant.axis + 1, x.shape.size());
    }
  }
  Status init(const Graph&, const OpContext& ctx) {
    fn_ = dequantize_kernel<T>(ctx.kernels->misc);
    name_ = ctx.kernels->misc.names.dequantize;
    scheduler_ = ctx.scheduler;
    return Status::Ok();
  }
  void run(uint8_t* const* p) override {
    const T* x = at<T>(p, n_.inputs[0]);
    float* y = at<float>(p, n_.outputs[0]);
    if (axis_size_ == 1) {  // per tensor: one run of outer_ * inner_ elements
      element_ranges(scheduler_, outer_ * inner_, kConvertChunk,
                     [&](size_t i0, size_t i1) { fn_(i1 - i0, x + i0, scale_[0], zero_point_[0], y + i0); });
      return;
    }
    for (int64_t o = 0; o < outer_; ++o) {
      for (int32_t a = 0; a < axis_size_; ++a) {
        const int64_t base = (o * axis_size_ + a) * inner_;
        fn_(static_cast<size_t>(inner_), x + base, scale_[a], zero_point_[a], y + base);
      }
    }
  }
  const char* kernel_name() const override {
    return misc_kernel_name<kern::DequantizeFn<T>>(fn_, &ref::dequantize<T>, name_);
  }

 private:
  const Node& n_;
  int64_t outer_ = 1, inner_ = 1;
  int32_t axis_size_ = 1;
  std::vector<float> scale_;
  std::vector<int32_t> zero_point_;
  kern::DequantizeFn<T> fn_ = nullptr;
  const char* name_ = nullptr;
  const Scheduler* scheduler_ = nullptr;
};

}  // namespace

Status prepare_quantize(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  return own_typed<Quantize>(g.tensors[n.outputs[0]].dtype, g, ctx, out, g, n);
}
Status prepare_dequantize(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  switch (g.tensors[n.inputs[0]].dtype) {
    case DType::kS8: return own(std::make_unique<Dequantize<int8_t>>(g, n), g, ctx, out);
    case DType::kU8: return own(std::make_unique<Dequantize<uint8_t>>(g, n), g, ctx, out);
    default: return own(std::make_unique<Dequantize<int32_t>>(g, n), g, ctx, out);
  }
}

}  // namespace ops
}  // namespace edgeq
