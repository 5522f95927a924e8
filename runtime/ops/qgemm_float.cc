// FullyConnected and MatMul with quantized inputs and a float output (ONNX Runtime's
// MatMulIntegerToFloat; graph/op_table.h): the int32 sum scaled to float, + bias.
//
// Both run on the level's int8 GEMM microkernels through kern::QMatMulOp in its
// float-output mode (the int32 tile scaled per column in the driver): a fully connected
// layer's constant weights packed once per model, a MatMul's right operand per run.
// A level whose kernels cannot store int32 tiles, weights with a zero point other than
// 0, or a constant left operand (no read slack past its rows) run the reference
// (ref::qfully_connected_float, ref::qmatmul_float), which the kernels equal bit for bit.
#include <memory>

#include "runtime/ops/qmatmul_op.h"

namespace edgeq {
namespace ops {
namespace {

Status check_int8(const Node& n, const Tensor& t) {
  if (t.dtype != DType::kS8 && t.dtype != DType::kU8)
    return op_error(n, "tensor '" + t.name + "' has dtype " + dtype_name(t.dtype) + " (int8 or uint8 needed)");
  if (!t.quant.per_tensor()) return op_error(n, "tensor '" + t.name + "' needs per-tensor quantization");
  return Status::Ok();
}

template <typename T>
class QFcFloat : public QMatMulEngineOp {
 public:
  explicit QFcFloat(const Node& n) : n_(n) {}
  Status init(const Graph& g, const OpContext& ctx) {
    const Tensor &x = g.tensors[n_.inputs[0]], &w = g.tensors[n_.inputs[1]];
    EDGEQ_RETURN_IF_ERROR(check_int8(n_, x));
    if (w.dtype != DType::kS8 || !w.is_constant() || w.shape.size() != 2)
      return op_error(n_, "weights '" + w.name + "' must be an s8 constant matrix");
    k_ = w.shape[1];
    n_out_ = w.shape[0];
    m_ = static_cast<int32_t>(product(x.shape, 0, x.shape.size() - 1));
    x_ = qparam(x);
    w_zp_ = w.quant.zero_point;
    w_scale_ = w.quant.scale;
    per_channel_ = w_scale_.size() > 1;
    if (w_zp_.size() != w_scale_.size()) return op_error(n_, "weights have unequal scale and zero point counts");
    bias_ = optional_f32(g, n_, 2);
    bool ok = false;
    const kern::QMatMulParams p = float_out_fc_engine_params(g, n_, w_scale_, &ok);
    if (!ok) return Status::Ok();
    return make_fc_engine(g, n_, p, ctx.kernels->gemm, gemm_kernel_name<T>(ctx.kernels->gemm), ctx);
  }
  void run(uint8_t* const* p) override {
    const T* x = at<T>(p, n_.inputs[0]);
    float* y = at<float>(p, n_.outputs[0]);
    if (engine()) return run_engine(x, nullptr, y);
    ref::qfully_connected_float<T>(m_, n_out_, k_, x, x_.zero_point, x_.scale, at<int8_t>(p, n_.inputs[1]),
                                   w_zp_.data(), w_scale_.data(), per_channel_, bias_, n_.attrs.act_min,
                                   n_.attrs.act_max, y);
  }

 private:
  const Node& n_;
  int32_t m_ = 0, n_out_ = 0, k_ = 0;
  QParam x_{1.f, 0};
  std::vector<int32_t> w_zp_;
  std::vector<float> w_scale_;
  bool per_channel_ = false;
  const float* bias_ = nullptr;
};

using QMatMulFloatFn = void (*)(const ref::MatMulShape&, const void*, QParam, const void*, QParam, float*);

template <typename TA, typename TB>
void qmatmul_float_ref(const ref::MatMulShape& s, const void* a, QParam qa, const void* b, QParam qb, float* y) {
  ref::qmatmul_float<TA, TB>(s, static_cast<const TA*>(a), qa.zero_point, qa.scale, static_cast<const TB*>(b),
                             qb.zero_point, qb.scale, y);
}

class QMatMulFloat : public QMatMulEngineOp {
 public:
  QMatMulFloat(const Node& n, const ref::MatMulShape& s) : n_(n), s_(s) {}
  Status init(const Graph& g, const OpContext& ctx) {
    const Tensor &a = g.tensors[n_.inputs[0]], &b = g.tensors[n_.inputs[1]];
    EDGEQ_RETURN_IF_ERROR(check_int8(n_, a));
    EDGEQ_RETURN_IF_ERROR(check_int8(n_, b));
    const bool a_s8 = a.dtype == DType::kS8, b_s8 = b.dtype == DType::kS8;
    qa_ = qparam(a);
    qb_ = qparam(b);
    fn_ = a_s8 ? (b_s8 ? &qmatmul_float_ref<int8_t, int8_t> : &qmatmul_float_ref<int8_t, uint8_t>)
               : (b_s8 ? &qmatmul_float_ref<uint8_t, int8_t> : &qmatmul_float_ref<uint8_t, uint8_t>);
    // The kernels read a little past A's rows: only arena tensors have that slack.
    if (a.is_constant()) return Status::Ok();
    kern::QMatMulParams p;
    p.shape = s_;
    p.y_f32 = true;
    p.a_s8 = a_s8;
    p.b_s8 = b_s8;
    p.a_zero_point = qa_.zero_point;
    p.b_zero_point = qb_.zero_point;
    p.a_scale = qa_.scale;
    p.b_scale = qb_.scale;
    return make_engine(n_, p, ctx.kernels->gemm, a_s8 ? ctx.kernels->gemm.name_s8 : ctx.kernels->gemm.name, ctx);
  }
  void run(uint8_t* const* p) override {
    const void *a = p[n_.inputs[0]], *b = p[n_.inputs[1]];
    float* y = at<float>(p, n_.outputs[0]);
    if (engine()) return run_engine(a, b, y);
    fn_(s_, a, qa_, b, qb_, y);
  }

 private:
  const Node& n_;
  ref::MatMulShape s_;
  QParam qa_{1.f, 0}, qb_{1.f, 0};
  QMatMulFloatFn fn_ = nullptr;
};

}  // namespace

kern::QMatMulParams float_out_fc_engine_params(const Graph& g, const Node& n, const std::vector<float>& w_scale,
                                               bool* ok) {
  kern::QMatMulParams p;
  const Tensor &x = g.tensors[n.inputs[0]], &w = g.tensors[n.inputs[1]];
  *ok = false;
  if ((x.dtype != DType::kS8 && x.dtype != DType::kU8) || !x.quant.per_tensor() || x.is_constant() ||
      w.dtype != DType::kS8 || !w.is_constant() || w.shape.size() != 2 || w.quant.zero_point.size() != w_scale.size())
    return p;
  for (int32_t z : w.quant.zero_point)
    if (z != 0) return p;
  const int32_t k = w.shape[1], n_out = w.shape[0], m = static_cast<int32_t>(product(x.shape, 0, x.shape.size() - 1));
  const int32_t a_shape[2] = {m, k}, b_shape[2] = {k, n_out};
  ref::make_matmul_shape(a_shape, 2, b_shape, 2, &p.shape);
  const QParam xq = qparam(x);
  p.y_f32 = true;
  p.a_s8 = x.dtype == DType::kS8;
  p.a_zero_point = xq.zero_point;
  p.a_scale = xq.scale;
  p.weight = w.as<int8_t>();
  p.weight_scale = w_scale.data();
  p.per_channel = w_scale.size() > 1;
  p.bias = optional_f32(g, n, 2);
  p.act_min = n.attrs.act_min;
  p.act_max = n.attrs.act_max;
  *ok = true;
  return p;
}

Status prepare_fc_float_out(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  if (n.attrs.dynamic != 0) return op_error(n, "dynamic quantization needs float activations");
  if (n.inputs.size() > 2 && n.inputs[2] >= 0 && g.tensors[n.inputs[2]].dtype != DType::kF32)
    return op_error(n, "a fully-connected op with a float output needs an f32 bias");
  const DType t = g.tensors[n.inputs[0]].dtype;
  if (t == DType::kS8) return own(std::make_unique<QFcFloat<int8_t>>(n), g, ctx, out);
  return own(std::make_unique<QFcFloat<uint8_t>>(n), g, ctx, out);
}

Status prepare_matmul_float_out(const Graph& g, const Node& n, const ref::MatMulShape& s, const OpContext& ctx,
                                std::unique_ptr<PreparedOp>* out) {
  if (n.attrs.dynamic != 0) return op_error(n, "dynamic quantization needs float operands");
  return own(std::make_unique<QMatMulFloat>(n, s), g, ctx, out);
}

}  // namespace ops
}  // namespace edgeq
