// The conversion family of the op layer: Quantize (float -> int8/uint8), Dequantize
// (int8/uint8/int32 -> float, per tensor or per axis) and Requantize (between two
// integer parameter sets), on the reference kernels.
#include <memory>

#include "runtime/ops/common.h"

namespace edgeq {
namespace ops {
namespace {

template <typename T>
class Quantize : public PreparedOp {
 public:
  Quantize(const Graph& g, const Node& n)
      : n_(n), count_(static_cast<size_t>(g.tensors[n.inputs[0]].num_elements())), q_(qparam(g.tensors[n.outputs[0]])) {}
  void run(uint8_t* const* p) override {
    ref::quantize<T>(count_, at<float>(p, n_.inputs[0]), q_.scale, q_.zero_point, at<T>(p, n_.outputs[0]));
  }

 private:
  const Node& n_;
  size_t count_;
  QParam q_;
};

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
  void run(uint8_t* const* p) override {
    ref::dequantize_per_axis<T>(outer_, axis_size_, inner_, at<T>(p, n_.inputs[0]), scale_.data(), zero_point_.data(),
                                at<float>(p, n_.outputs[0]));
  }

 private:
  const Node& n_;
  int64_t outer_ = 1, inner_ = 1;
  int32_t axis_size_ = 1;
  std::vector<float> scale_;
  std::vector<int32_t> zero_point_;
};

template <typename TI, typename TO>
class Requantize : public PreparedOp {
 public:
  Requantize(const Graph& g, const Node& n)
      : n_(n), count_(static_cast<size_t>(g.tensors[n.inputs[0]].num_elements())),
        in_(qparam(g.tensors[n.inputs[0]])), out_(qparam(g.tensors[n.outputs[0]])) {
    const DType t = g.tensors[n.outputs[0]].dtype;
    qmin_ = dtype_min(t);
    qmax_ = dtype_max(t);
  }
  void run(uint8_t* const* p) override {
    ref::requantize_tensor<TI, TO>(count_, at<TI>(p, n_.inputs[0]), in_.scale, in_.zero_point, out_.scale,
                                   out_.zero_point, qmin_, qmax_, at<TO>(p, n_.outputs[0]));
  }

 private:
  const Node& n_;
  size_t count_;
  QParam in_, out_;
  int32_t qmin_ = 0, qmax_ = 0;
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
Status prepare_requantize(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  const DType ti = g.tensors[n.inputs[0]].dtype, to = g.tensors[n.outputs[0]].dtype;
  if (ti == DType::kS8 && to == DType::kS8) return own(std::make_unique<Requantize<int8_t, int8_t>>(g, n), g, ctx, out);
  if (ti == DType::kS8) return own(std::make_unique<Requantize<int8_t, uint8_t>>(g, n), g, ctx, out);
  if (to == DType::kS8) return own(std::make_unique<Requantize<uint8_t, int8_t>>(g, n), g, ctx, out);
  return own(std::make_unique<Requantize<uint8_t, uint8_t>>(g, n), g, ctx, out);
}

}  // namespace ops
}  // namespace edgeq
