// Prepared ops on the reference kernels (see ops.h).
//
// Each op family has a small class holding what its kernel needs; quantized ones are
// templates on the activation type (int8_t / uint8_t). The registry at the bottom maps
// every OpType to its prepare function; validate_graph() has already checked operand
// counts, dtypes and shapes, so preparing only computes parameters and rejects what
// the numbers make impossible (e.g. a requantization scale that is not finite).
#include "runtime/ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <utility>

#include "kernels/qconv.h"
#include "kernels/qdwconv.h"
#include "kernels/ref/ref.h"
#include "runtime/xnn_float.h"

namespace edgeq {
namespace {

template <typename T>
T* at(uint8_t* const* ptrs, int32_t index) {
  return reinterpret_cast<T*>(ptrs[index]);
}

Status op_error(const Node& n, const std::string& what) {
  return Unsupported("node '" + n.name + "' (" + op_name(n.op) + "): " + what);
}

struct QParam {
  float scale;
  int32_t zero_point;
};
QParam qparam(const Tensor& t) { return {t.quant.scale[0], t.quant.zero_point[0]}; }

int64_t product(const std::vector<int32_t>& s, size_t begin, size_t end) {
  int64_t p = 1;
  for (size_t i = begin; i < end && i < s.size(); ++i) p *= s[i];
  return p;
}

ref::Scheme scheme_of(const Graph& g) {
  return g.requant == RequantScheme::kFixedPoint ? ref::Scheme::kFixedPoint : ref::Scheme::kFp32;
}

// The int8 or the uint8 variant of an optimized kernel, or `fallback` (the reference)
// when the session's level has none.
template <typename T, template <typename> class Fn>
Fn<T> pick(Fn<int8_t> s8, Fn<uint8_t> u8, Fn<T> fallback) {
  Fn<T> f = nullptr;
  if constexpr (std::is_same<T, int8_t>::value) f = s8;
  else f = u8;
  return f ? f : fallback;
}

// Requantization parameters per output channel, owned by the op.
struct RequantStore {
  std::vector<float> scale;
  std::vector<int32_t> multiplier, exponent;
  ref::Requant rq;

  // acc has scale s_in * s_w[c]; the output has scale s_out.
  Status init(const Node& n, ref::Scheme scheme, float s_in, const std::vector<float>& s_w, const Tensor& y,
              float act_min, float act_max) {
    const QParam out = qparam(y);
    for (float sw : s_w) {
      const float s = (s_in * sw) / out.scale;  // float, in this order, as ONNX Runtime does
      if (!std::isfinite(s) || !(s > 0.f))
        return op_error(n, "requantization scale " + std::to_string(s) + " is not a positive finite number");
      scale.push_back(s);
      int32_t m = 0, e = 0;
      ref::quantize_multiplier(static_cast<double>(s_in) * sw / out.scale, &m, &e);
      if (scheme == ref::Scheme::kFixedPoint && e > 31)
        return op_error(n, "requantization scale too large for the fixed-point scheme");
      multiplier.push_back(m);
      exponent.push_back(e);
    }
    rq.scheme = scheme;
    rq.per_channel = s_w.size() > 1;
    rq.scale = scale.data();
    rq.multiplier = multiplier.data();
    rq.exponent = exponent.data();
    rq.zero_point = out.zero_point;
    quantized_output_range(y, act_min, act_max, &rq.qmin, &rq.qmax);
    return Status::Ok();
  }
};

// ------------------------------------------------------------------ convolution

ref::ConvShape conv_shape(const Graph& g, const Node& n) {
  const auto& x = g.tensors[n.inputs[0]].shape;
  const auto& w = g.tensors[n.inputs[1]].shape;
  const auto& y = g.tensors[n.outputs[0]].shape;
  const Attrs& a = n.attrs;
  return ref::ConvShape{x[0], x[1], x[2], x[3], y[1], y[2], y[3], w[1], w[2], a.stride_h, a.stride_w,
                        a.dilation_h, a.dilation_w, a.pad_top, a.pad_left, a.groups};
}

class ConvF32 : public PreparedOp {
 public:
  ConvF32(const Graph& g, const Node& n) : n_(n), s_(conv_shape(g, n)) {}
  void run(uint8_t* const* p) override {
    ref::conv2d_f32(s_, at<float>(p, n_.inputs[0]), at<float>(p, n_.inputs[1]),
                    n_.inputs.size() > 2 && n_.inputs[2] >= 0 ? at<float>(p, n_.inputs[2]) : nullptr,
                    n_.attrs.act_min, n_.attrs.act_max, at<float>(p, n_.outputs[0]));
  }

 private:
  const Node& n_;
  ref::ConvShape s_;
};

// Shared by quantized conv and fully connected: weight zero points, bias, requant.
struct QWeights {
  std::vector<int32_t> w_zero_point;
  const int32_t* bias = nullptr;
  int32_t x_zero_point = 0;
  RequantStore rs;

  Status init(const Graph& g, const Node& n) {
    const Tensor &x = g.tensors[n.inputs[0]], &w = g.tensors[n.inputs[1]], &y = g.tensors[n.outputs[0]];
    w_zero_point = w.quant.zero_point;
    for (int32_t z : w_zero_point)
      if (z < -128 || z > 127) return op_error(n, "weight zero point outside int8");
    if (n.inputs.size() > 2 && n.inputs[2] >= 0) bias = g.tensors[n.inputs[2]].as<int32_t>();
    x_zero_point = qparam(x).zero_point;
    return rs.init(n, scheme_of(g), qparam(x).scale, w.quant.scale, y, n.attrs.act_min, n.attrs.act_max);
  }
  bool per_channel() const { return w_zero_point.size() > 1; }

  // The optimized GEMM engine for this node, or null when the ISA level has none or
  // cannot run it (the reference kernel runs then).
  pthreadpool_t pool = nullptr;
  const char* gemm_name = "ref";
  // Whether an optimized kernel may take the node: constant weights, zero points 0.
  bool optimizable(const Graph& g, const Node& n, const OpContext& ctx) const {
    if (!ctx.kernels || !g.tensors[n.inputs[1]].is_constant()) return false;
    for (int32_t z : w_zero_point)
      if (z != 0) return false;
    return true;
  }
  // Builds and initializes an engine (kern::QConvOp or kern::QDwConvOp) from this
  // node's parameters; null when it declines them.
  template <typename Op, typename Params, typename Kernels>
  std::unique_ptr<Op> make_engine(const Graph& g, const Node& n, const ref::ConvShape& shape, bool act_s8,
                                  const OpContext& ctx, const Kernels& kernels) {
    Params p;
    p.shape = shape;
    p.act_s8 = act_s8;
    p.x_zero_point = x_zero_point;
    p.weight = g.tensors[n.inputs[1]].as<int8_t>();
    p.bias = bias;
    p.rq = rs.rq;
    auto op = std::make_unique<Op>();
    if (!op->init(p, kernels)) return nullptr;
    pool = ctx.pool;
    return op;
  }
  std::unique_ptr<kern::QConvOp> try_gemm(const Graph& g, const Node& n, const ref::ConvShape& shape, bool act_s8,
                                          const OpContext& ctx) {
    if (!optimizable(g, n, ctx) || !ctx.kernels->gemm.u8 || shape.groups != 1) return nullptr;
    gemm_name = ctx.kernels->gemm.name;
    return make_engine<kern::QConvOp, kern::QConvParams>(g, n, shape, act_s8, ctx, ctx.kernels->gemm);
  }
  // The depthwise engine (groups == in_c == out_c), or null.
  std::unique_ptr<kern::QDwConvOp> try_dw(const Graph& g, const Node& n, const ref::ConvShape& shape, bool act_s8,
                                          const OpContext& ctx) {
    if (!optimizable(g, n, ctx) || shape.groups == 1 || shape.groups != shape.in_c || shape.out_c != shape.in_c)
      return nullptr;
    return make_engine<kern::QDwConvOp, kern::QDwConvParams>(g, n, shape, act_s8, ctx, ctx.kernels->dw);
  }
};

// Quantized convolution: the ISA's indirect-GEMM engine (kern::QConvOp) when it takes
// the node (groups 1, weight zero point 0, a constant weight), else the reference.
template <typename T>
class QConv : public PreparedOp {
 public:
  QConv(const Graph& g, const Node& n) : n_(n), s_(conv_shape(g, n)) {}
  Status init(const Graph& g, const OpContext& ctx) {
    EDGEQ_RETURN_IF_ERROR(qw_.init(g, n_));
    gemm_ = qw_.try_gemm(g, n_, s_, std::is_same<T, int8_t>::value, ctx);
    if (!gemm_) dw_ = qw_.try_dw(g, n_, s_, std::is_same<T, int8_t>::value, ctx);
    return Status::Ok();
  }
  void run(uint8_t* const* p) override {
    if (gemm_) return gemm_->run(at<T>(p, n_.inputs[0]), at<T>(p, n_.outputs[0]), qw_.pool);
    if (dw_) return dw_->run(at<T>(p, n_.inputs[0]), at<T>(p, n_.outputs[0]), qw_.pool);
    ref::qconv2d<T>(s_, at<T>(p, n_.inputs[0]), qw_.x_zero_point, at<int8_t>(p, n_.inputs[1]),
                    qw_.w_zero_point.data(), qw_.per_channel(), qw_.bias, qw_.rs.rq, at<T>(p, n_.outputs[0]));
  }
  size_t packed_bytes() const override {
    return gemm_ ? gemm_->packed_bytes() : (dw_ ? dw_->packed_bytes() : 0);
  }
  const char* kernel_name() const override { return gemm_ ? qw_.gemm_name : (dw_ ? dw_->kernel_name() : "ref"); }

 private:
  const Node& n_;
  ref::ConvShape s_;
  QWeights qw_;
  std::unique_ptr<kern::QConvOp> gemm_;
  std::unique_ptr<kern::QDwConvOp> dw_;
};

// ------------------------------------------------------------------ fully connected

struct FcDims {
  int32_t m, n, k;
  FcDims(const Graph& g, const Node& node) {
    const auto& x = g.tensors[node.inputs[0]].shape;
    const auto& w = g.tensors[node.inputs[1]].shape;
    k = w[1];
    n = w[0];
    m = static_cast<int32_t>(product(x, 0, x.size() - 1));
  }
};

class FcF32 : public PreparedOp {
 public:
  FcF32(const Graph& g, const Node& n) : n_(n), d_(g, n) {}
  void run(uint8_t* const* p) override {
    ref::fully_connected_f32(d_.m, d_.n, d_.k, at<float>(p, n_.inputs[0]), at<float>(p, n_.inputs[1]),
                             n_.inputs.size() > 2 && n_.inputs[2] >= 0 ? at<float>(p, n_.inputs[2]) : nullptr,
                             n_.attrs.act_min, n_.attrs.act_max, at<float>(p, n_.outputs[0]));
  }

 private:
  const Node& n_;
  FcDims d_;
};

// Dynamically quantized fully connected: float rows quantized at run time, int8 weights.
class DynamicFc : public PreparedOp {
 public:
  DynamicFc(const Graph& g, const Node& n) : n_(n), d_(g, n), w_scale_(g.tensors[n.inputs[1]].quant.scale) {
    row_.resize(static_cast<size_t>(d_.k));
  }
  void run(uint8_t* const* p) override {
    ref::dynamic_fully_connected(d_.m, d_.n, d_.k, at<float>(p, n_.inputs[0]), at<int8_t>(p, n_.inputs[1]),
                                 w_scale_.data(), w_scale_.size() > 1,
                                 n_.inputs.size() > 2 && n_.inputs[2] >= 0 ? at<float>(p, n_.inputs[2]) : nullptr,
                                 n_.attrs.act_min, n_.attrs.act_max, row_.data(), at<float>(p, n_.outputs[0]));
  }
  size_t packed_bytes() const override { return row_.size(); }

 private:
  const Node& n_;
  FcDims d_;
  std::vector<float> w_scale_;
  std::vector<uint8_t> row_;
};

// Quantized fully connected: a 1x1 convolution over m pixels on the GEMM engine when it
// takes the node, else the reference.
template <typename T>
class QFc : public PreparedOp {
 public:
  QFc(const Graph& g, const Node& n) : n_(n), d_(g, n) {}
  Status init(const Graph& g, const OpContext& ctx) {
    EDGEQ_RETURN_IF_ERROR(qw_.init(g, n_));
    const ref::ConvShape s{1, 1, d_.m, d_.k, 1, d_.m, d_.n, 1, 1, 1, 1, 1, 1, 0, 0, 1};
    gemm_ = qw_.try_gemm(g, n_, s, std::is_same<T, int8_t>::value, ctx);
    return Status::Ok();
  }
  size_t packed_bytes() const override { return gemm_ ? gemm_->packed_bytes() : 0; }
  const char* kernel_name() const override { return gemm_ ? qw_.gemm_name : "ref"; }
  void run(uint8_t* const* p) override {
    if (gemm_) return gemm_->run(at<T>(p, n_.inputs[0]), at<T>(p, n_.outputs[0]), qw_.pool);
    ref::qfully_connected<T>(d_.m, d_.n, d_.k, at<T>(p, n_.inputs[0]), qw_.x_zero_point,
                             at<int8_t>(p, n_.inputs[1]), qw_.w_zero_point.data(), qw_.per_channel(), qw_.bias,
                             qw_.rs.rq, at<T>(p, n_.outputs[0]));
  }

 private:
  const Node& n_;
  FcDims d_;
  QWeights qw_;
  std::unique_ptr<kern::QConvOp> gemm_;
};

// ------------------------------------------------------------------ binary

ref::BinaryOp binary_kind(OpType op) {
  switch (op) {
    case OpType::kSub: return ref::BinaryOp::kSub;
    case OpType::kMul: return ref::BinaryOp::kMul;
    case OpType::kDiv: return ref::BinaryOp::kDiv;
    default: return ref::BinaryOp::kAdd;
  }
}

Status make_bc(const Graph& g, const Node& n, ref::Broadcast* bc) {
  const auto &a = g.tensors[n.inputs[0]].shape, &b = g.tensors[n.inputs[1]].shape, &y = g.tensors[n.outputs[0]].shape;
  if (!ref::make_broadcast(a.data(), static_cast<int>(a.size()), b.data(), static_cast<int>(b.size()), y.data(),
                           static_cast<int>(y.size()), bc))
    return op_error(n, "shapes do not broadcast");
  return Status::Ok();
}

class BinaryF32 : public PreparedOp {
 public:
  explicit BinaryF32(const Node& n) : n_(n) {}
  Status init(const Graph& g, const OpContext&) { return make_bc(g, n_, &bc_); }
  void run(uint8_t* const* p) override {
    ref::binary_f32(binary_kind(n_.op), bc_, at<float>(p, n_.inputs[0]), at<float>(p, n_.inputs[1]),
                    n_.attrs.act_min, n_.attrs.act_max, at<float>(p, n_.outputs[0]));
  }

 private:
  const Node& n_;
  ref::Broadcast bc_;
};

// What kernel_name() says for the elementwise, pooling and lookup kernels of a level
// (kern::MiscKernels), which have no names of their own: they are one set per
// architecture.
#if defined(__aarch64__) || defined(__arm__)
constexpr const char* kVectorKernelName = "neon vector";
#else
constexpr const char* kVectorKernelName = "x86 vector";
#endif

// ------------------------------------------------------------------ splitting an op over the pool

// Below this many output elements an elementwise or pooling op runs on the caller: a
// pool dispatch would cost more than it saves.
constexpr int64_t kParallelMinElements = int64_t{1} << 15;

// Calls fn(begin, end) on consecutive ranges covering [0, n): on the pool, about four
// ranges a thread, or once on the caller when there is no pool or `elements` is small.
// The ranges only split work whose parts are independent, so results do not depend on
// the thread count.
template <typename Fn>
void parallel_ranges(pthreadpool_t pool, int64_t n, int64_t elements, Fn&& fn) {
  const int64_t threads = pool != nullptr ? static_cast<int64_t>(pthreadpool_get_threads_count(pool)) : 1;
  if (threads <= 1 || n < 2 || elements < kParallelMinElements) {
    fn(int64_t{0}, n);
    return;
  }
  struct Ranges {
    std::remove_reference_t<Fn>* fn;
    int64_t n, count;
  } ranges{&fn, n, std::min<int64_t>(n, 4 * threads)};
  pthreadpool_parallelize_1d(
      pool,
      [](void* ctx, size_t i) {
        const Ranges& r = *static_cast<const Ranges*>(ctx);
        const int64_t t = static_cast<int64_t>(i);
        (*r.fn)(r.n * t / r.count, r.n * (t + 1) / r.count);
      },
      &ranges, static_cast<size_t>(ranges.count), 0);
}

template <typename T>
class QBinary : public PreparedOp {
 public:
  explicit QBinary(const Node& n) : n_(n) {}
  Status init(const Graph& g, const OpContext& ctx) {
    EDGEQ_RETURN_IF_ERROR(make_bc(g, n_, &bc_));
    const QParam a = qparam(g.tensors[n_.inputs[0]]), b = qparam(g.tensors[n_.inputs[1]]);
    const Tensor& y = g.tensors[n_.outputs[0]];
    p_.a_scale = a.scale;
    p_.b_scale = b.scale;
    p_.out_scale = qparam(y).scale;
    p_.a_zero_point = a.zero_point;
    p_.b_zero_point = b.zero_point;
    p_.out_zero_point = qparam(y).zero_point;
    p_.scheme = scheme_of(g);
    quantized_output_range(y, n_.attrs.act_min, n_.attrs.act_max, &p_.qmin, &p_.qmax);
    fn_ = pick<T, kern::QBinaryFn>(ctx.kernels->misc.qbinary_s8, ctx.kernels->misc.qbinary_u8, &ref::qbinary<T>);
    pool_ = ctx.pool;
    // Split along the outermost output dimension larger than 1.
    while (split_ < ref::kMaxDims - 1 && bc_.out_shape[split_] == 1) ++split_;
    for (int d = split_ + 1; d < ref::kMaxDims; ++d) inner_ *= bc_.out_shape[d];
    return Status::Ok();
  }
  void run(uint8_t* const* p) override {
    const T* a = at<T>(p, n_.inputs[0]);
    const T* b = at<T>(p, n_.inputs[1]);
    T* y = at<T>(p, n_.outputs[0]);
    const int64_t n = bc_.out_shape[split_];
    parallel_ranges(pool_, n, n * inner_, [&](int64_t i0, int64_t i1) {
      ref::Broadcast bc = bc_;
      bc.out_shape[split_] = static_cast<int32_t>(i1 - i0);
      fn_(binary_kind(n_.op), bc, a + i0 * bc_.a_stride[split_], b + i0 * bc_.b_stride[split_], p_, y + i0 * inner_);
    });
  }
  const char* kernel_name() const override { return fn_ == &ref::qbinary<T> ? "ref" : kVectorKernelName; }

 private:
  const Node& n_;
  ref::Broadcast bc_;
  ref::BinaryQParams p_;
  kern::QBinaryFn<T> fn_ = nullptr;
  pthreadpool_t pool_ = nullptr;
  int split_ = 0;       // the dimension split over the pool
  int64_t inner_ = 1;   // output elements per index of that dimension
};

// ------------------------------------------------------------------ unary

ref::UnaryOp unary_kind(OpType op) {
  switch (op) {
    case OpType::kClip: return ref::UnaryOp::kClip;
    case OpType::kLeakyRelu: return ref::UnaryOp::kLeakyRelu;
    case OpType::kSigmoid: return ref::UnaryOp::kSigmoid;
    case OpType::kHardSigmoid: return ref::UnaryOp::kHardSigmoid;
    case OpType::kHardSwish: return ref::UnaryOp::kHardSwish;
    case OpType::kTanh: return ref::UnaryOp::kTanh;
    default: return ref::UnaryOp::kRelu;
  }
}

class UnaryF32 : public PreparedOp {
 public:
  UnaryF32(const Graph& g, const Node& n) : n_(n), count_(static_cast<size_t>(g.tensors[n.outputs[0]].num_elements())) {}
  void run(uint8_t* const* p) override {
    ref::unary_f32(unary_kind(n_.op), n_.attrs.alpha, n_.attrs.beta, count_, at<float>(p, n_.inputs[0]),
                   at<float>(p, n_.outputs[0]));
  }

 private:
  const Node& n_;
  size_t count_;
};

template <typename T>
class QUnary : public PreparedOp {
 public:
  QUnary(const Graph& g, const Node& n) : n_(n), count_(static_cast<size_t>(g.tensors[n.outputs[0]].num_elements())) {
    const QParam x = qparam(g.tensors[n.inputs[0]]), y = qparam(g.tensors[n.outputs[0]]);
    ref::build_unary_table<T>(unary_kind(n.op), n.attrs.alpha, n.attrs.beta, x.scale, x.zero_point, y.scale,
                              y.zero_point, table_);
  }
  Status init(const Graph&, const OpContext& ctx) {
    fn_ = pick<T, kern::LookupFn>(ctx.kernels->misc.lookup_s8, ctx.kernels->misc.lookup_u8, &ref::lookup<T>);
    return Status::Ok();
  }
  void run(uint8_t* const* p) override { fn_(count_, at<T>(p, n_.inputs[0]), table_, at<T>(p, n_.outputs[0])); }
  const char* kernel_name() const override { return fn_ == &ref::lookup<T> ? "ref" : kVectorKernelName; }

 private:
  const Node& n_;
  size_t count_;
  kern::LookupFn<T> fn_ = nullptr;
  T table_[256];
};

// ------------------------------------------------------------------ softmax

struct AxisDims {
  int64_t outer, inner;
  int32_t axis_size;
  AxisDims(const std::vector<int32_t>& s, int32_t axis)
      : outer(product(s, 0, axis)), inner(product(s, axis + 1, s.size())), axis_size(s[axis]) {}
};

class Softmax : public PreparedOp {
 public:
  Softmax(const Graph& g, const Node& n)
      : n_(n), d_(g.tensors[n.inputs[0]].shape, n.attrs.axis), dtype_(g.tensors[n.inputs[0]].dtype) {
    if (dtype_ != DType::kF32) {
      in_ = qparam(g.tensors[n.inputs[0]]);
      out_ = qparam(g.tensors[n.outputs[0]]);
    }
  }
  void run(uint8_t* const* p) override {
    const int32_t x = n_.inputs[0], y = n_.outputs[0];
    if (dtype_ == DType::kF32)
      ref::softmax_f32(d_.outer, d_.axis_size, d_.inner, at<float>(p, x), at<float>(p, y));
    else if (dtype_ == DType::kS8)
      ref::qsoftmax<int8_t>(d_.outer, d_.axis_size, d_.inner, at<int8_t>(p, x), in_.scale, in_.zero_point,
                            out_.scale, out_.zero_point, at<int8_t>(p, y));
    else
      ref::qsoftmax<uint8_t>(d_.outer, d_.axis_size, d_.inner, at<uint8_t>(p, x), in_.scale, in_.zero_point,
                             out_.scale, out_.zero_point, at<uint8_t>(p, y));
  }

 private:
  const Node& n_;
  AxisDims d_;
  DType dtype_;
  QParam in_{1.f, 0}, out_{1.f, 0};
};

// ------------------------------------------------------------------ pooling

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
    pool_ = ctx.pool;
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
    parallel_ranges(pool_, rows, rows * row_elements, [&](int64_t r0, int64_t r1) {
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
    const bool ref = n_.op == OpType::kMaxPool2D   ? max_ == &ref::qmaxpool<T>
                     : n_.op == OpType::kAvgPool2D ? avg_ == &ref::qavgpool<T>
                                                   : gap_ == &ref::qglobal_avgpool<T>;
    return ref ? "ref" : kVectorKernelName;
  }

 private:
  const Node& n_;
  ref::PoolShape s_;
  ref::PoolQParams q_;
  kern::QPoolFn<T> max_ = nullptr, avg_ = nullptr;
  kern::QGlobalPoolFn<T> gap_ = nullptr;
  pthreadpool_t pool_ = nullptr;
};

// ------------------------------------------------------------------ data movement

class Concat : public PreparedOp {
 public:
  Concat(const Graph& g, const Node& n) : n_(n) {
    const Tensor& y = g.tensors[n.outputs[0]];
    const int32_t axis = n.attrs.axis;
    outer_ = product(y.shape, 0, axis);
    inner_ = product(y.shape, axis + 1, y.shape.size());
    elem_ = dtype_size(y.dtype);
    dtype_ = y.dtype;
    for (int32_t i : n.inputs) {
      const Tensor& t = g.tensors[i];
      sizes_.push_back(t.shape[axis]);
      const bool same = !is_quantized_type(y.dtype) ||
                        (t.quant.scale == y.quant.scale && t.quant.zero_point == y.quant.zero_point);
      if (!same) requant_ = true;
      in_q_.push_back(is_quantized_type(t.dtype) ? qparam(t) : QParam{1.f, 0});
    }
    if (is_quantized_type(y.dtype)) out_q_ = qparam(y);
    inputs_.resize(n.inputs.size());
  }
  Status init(const Graph&, const OpContext& ctx) {
    if (ctx.kernels->misc.concat) concat_ = ctx.kernels->misc.concat;
    return Status::Ok();
  }
  void run(uint8_t* const* p) override {
    for (size_t i = 0; i < inputs_.size(); ++i) inputs_[i] = p[n_.inputs[i]];
    uint8_t* y = p[n_.outputs[0]];
    if (!requant_) {
      concat_(outer_, inner_, static_cast<int>(inputs_.size()), sizes_.data(), inputs_.data(), elem_, y);
    } else if (dtype_ == DType::kS8) {
      requant_concat<int8_t>(y);
    } else {
      requant_concat<uint8_t>(y);
    }
  }

 private:
  kern::ConcatFn concat_ = &ref::concat;
  // Inputs with other quantization than the output are requantized into their slice.
  template <typename T>
  void requant_concat(uint8_t* y_bytes) {
    T* y = reinterpret_cast<T*>(y_bytes);
    int64_t total = 0;
    for (int32_t s : sizes_) total += s;
    int64_t offset = 0;
    for (size_t i = 0; i < inputs_.size(); ++i) {
      const int64_t row = sizes_[i] * inner_;
      const T* x = static_cast<const T*>(inputs_[i]);
      for (int64_t o = 0; o < outer_; ++o)
        ref::requantize_tensor<T, T>(static_cast<size_t>(row), x + o * row, in_q_[i].scale, in_q_[i].zero_point,
                                     out_q_.scale, out_q_.zero_point, dtype_min(dtype_), dtype_max(dtype_),
                                     y + o * total * inner_ + offset);
      offset += row;
    }
  }

  const Node& n_;
  int64_t outer_ = 1, inner_ = 1;
  size_t elem_ = 1;
  DType dtype_ = DType::kF32;
  bool requant_ = false;
  std::vector<int32_t> sizes_;
  std::vector<QParam> in_q_;
  QParam out_q_{1.f, 0};
  std::vector<const void*> inputs_;
};

// Reshape outputs share their input's memory (planner): nothing to do.
class Reshape : public PreparedOp {
 public:
  void run(uint8_t* const*) override {}
};

class Transpose : public PreparedOp {
 public:
  Transpose(const Graph& g, const Node& n) : n_(n), shape_(g.tensors[n.inputs[0]].shape), elem_(dtype_size(g.tensors[n.inputs[0]].dtype)) {}
  void run(uint8_t* const* p) override {
    ref::transpose(static_cast<int>(shape_.size()), shape_.data(), n_.attrs.perm.data(), elem_, p[n_.inputs[0]],
                   p[n_.outputs[0]]);
  }

 private:
  const Node& n_;
  std::vector<int32_t> shape_;
  size_t elem_;
};

class Pad : public PreparedOp {
 public:
  Pad(const Graph& g, const Node& n) : n_(n) {
    const Tensor& x = g.tensors[n.inputs[0]];
    shape_ = x.shape;
    elem_ = dtype_size(x.dtype);
    if (x.dtype == DType::kF32) {
      std::memcpy(fill_, &n.attrs.pad_value, 4);
    } else {
      const QParam q = qparam(x);
      const int32_t v = ref::quantize_value(n.attrs.pad_value, q.scale, q.zero_point, dtype_min(x.dtype), dtype_max(x.dtype));
      if (x.dtype == DType::kS8) {
        const int8_t b = static_cast<int8_t>(v);
        std::memcpy(fill_, &b, 1);
      } else {
        const uint8_t b = static_cast<uint8_t>(v);
        std::memcpy(fill_, &b, 1);
      }
    }
  }
  void run(uint8_t* const* p) override {
    ref::pad(static_cast<int>(shape_.size()), shape_.data(), n_.attrs.pads.data(), elem_, fill_, p[n_.inputs[0]],
             p[n_.outputs[0]]);
  }

 private:
  const Node& n_;
  std::vector<int32_t> shape_;
  size_t elem_;
  uint8_t fill_[4] = {0, 0, 0, 0};
};

class Resize : public PreparedOp {
 public:
  Resize(const Graph& g, const Node& n) : n_(n), shape_(g.tensors[n.inputs[0]].shape), elem_(dtype_size(g.tensors[n.inputs[0]].dtype)) {}
  void run(uint8_t* const* p) override {
    ref::resize_nearest(shape_[0], shape_[1], shape_[2], shape_[3], n_.attrs.scale_h, n_.attrs.scale_w, elem_,
                        p[n_.inputs[0]], p[n_.outputs[0]]);
  }

 private:
  const Node& n_;
  std::vector<int32_t> shape_;
  size_t elem_;
};

class Split : public PreparedOp {
 public:
  Split(const Graph& g, const Node& n) : n_(n) {
    const Tensor& x = g.tensors[n.inputs[0]];
    outer_ = product(x.shape, 0, n.attrs.axis);
    inner_ = product(x.shape, n.attrs.axis + 1, x.shape.size());
    in_axis_ = x.shape[n.attrs.axis];
    elem_ = dtype_size(x.dtype);
    for (int32_t o : n.outputs) sizes_.push_back(g.tensors[o].shape[n.attrs.axis]);
    outputs_.resize(n.outputs.size());
  }
  void run(uint8_t* const* p) override {
    for (size_t i = 0; i < outputs_.size(); ++i) outputs_[i] = p[n_.outputs[i]];
    ref::split(outer_, inner_, in_axis_, static_cast<int>(outputs_.size()), sizes_.data(), p[n_.inputs[0]], elem_,
               outputs_.data());
  }

 private:
  const Node& n_;
  int64_t outer_ = 1, inner_ = 1;
  int32_t in_axis_ = 0;
  size_t elem_ = 1;
  std::vector<int32_t> sizes_;
  std::vector<void*> outputs_;
};

class Slice : public PreparedOp {
 public:
  Slice(const Graph& g, const Node& n)
      : n_(n), in_(g.tensors[n.inputs[0]].shape), out_(g.tensors[n.outputs[0]].shape),
        elem_(dtype_size(g.tensors[n.inputs[0]].dtype)) {}
  void run(uint8_t* const* p) override {
    ref::slice(static_cast<int>(in_.size()), in_.data(), out_.data(), n_.attrs.starts.data(), n_.attrs.steps.data(),
               elem_, p[n_.inputs[0]], p[n_.outputs[0]]);
  }

 private:
  const Node& n_;
  std::vector<int32_t> in_, out_;
  size_t elem_;
};

// ------------------------------------------------------------------ (de/re)quantize

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
    const int32_t axis = x.quant.per_tensor() ? 0 : x.quant.axis;
    dims_ = {product(x.shape, 0, axis), product(x.shape, axis + 1, x.shape.size()),
             x.quant.per_tensor() ? static_cast<int32_t>(x.num_elements()) : x.shape[axis]};
    if (x.quant.per_tensor()) dims_.inner = 1;
    scale_ = x.quant.scale;
    zero_point_ = x.quant.zero_point;
  }
  void run(uint8_t* const* p) override {
    const T* x = at<T>(p, n_.inputs[0]);
    float* y = at<float>(p, n_.outputs[0]);
    if (scale_.size() == 1) {
      for (int64_t i = 0; i < dims_.outer * dims_.axis_size * dims_.inner; ++i)
        y[i] = static_cast<float>(static_cast<int64_t>(x[i]) - zero_point_[0]) * scale_[0];
    } else {
      for (int64_t o = 0; o < dims_.outer; ++o)
        for (int32_t c = 0; c < dims_.axis_size; ++c)
          for (int64_t i = 0; i < dims_.inner; ++i) {
            const int64_t k = (o * dims_.axis_size + c) * dims_.inner + i;
            y[k] = static_cast<float>(static_cast<int64_t>(x[k]) - zero_point_[c]) * scale_[c];
          }
    }
  }

 private:
  struct Dims {
    int64_t outer, inner;
    int32_t axis_size;
  };
  const Node& n_;
  Dims dims_{1, 1, 1};
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

// ------------------------------------------------------------------ registry

template <typename Op>
struct HasInit {
  template <typename U>
  static auto test(int) -> decltype(std::declval<U&>().init(std::declval<const Graph&>(), std::declval<const OpContext&>()),
                                        std::true_type());
  template <typename>
  static std::false_type test(...);
  static constexpr bool value = decltype(test<Op>(0))::value;
};

template <typename Op>
Status own(std::unique_ptr<Op> op, const Graph& g, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  if constexpr (HasInit<Op>::value) EDGEQ_RETURN_IF_ERROR(op->init(g, ctx));
  *out = std::move(op);
  return Status::Ok();
}

template <template <typename> class Op, typename... Args>
Status own_typed(DType t, const Graph& g, const OpContext& ctx, std::unique_ptr<PreparedOp>* out,
                 const Args&... args) {
  if (t == DType::kS8) return own(std::make_unique<Op<int8_t>>(args...), g, ctx, out);
  return own(std::make_unique<Op<uint8_t>>(args...), g, ctx, out);
}

using PrepareFn = Status (*)(const Graph&, const Node&, const OpContext&, std::unique_ptr<PreparedOp>*);

Status prepare_conv(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  const DType t = g.tensors[n.inputs[0]].dtype;
  if (t == DType::kF32) return own(std::make_unique<ConvF32>(g, n), g, ctx, out);
  return own_typed<QConv>(t, g, ctx, out, g, n);
}
Status prepare_fc(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  const DType t = g.tensors[n.inputs[0]].dtype;
  if (t == DType::kF32 && g.tensors[n.inputs[1]].dtype == DType::kS8)
    return own(std::make_unique<DynamicFc>(g, n), g, ctx, out);
  if (t == DType::kF32) return own(std::make_unique<FcF32>(g, n), g, ctx, out);
  return own_typed<QFc>(t, g, ctx, out, g, n);
}
Status prepare_binary(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  const DType t = g.tensors[n.inputs[0]].dtype;
  if (t == DType::kF32) return own(std::make_unique<BinaryF32>(n), g, ctx, out);
  return own_typed<QBinary>(t, g, ctx, out, n);
}
Status prepare_unary(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  const DType t = g.tensors[n.inputs[0]].dtype;
  if (t == DType::kF32) return own(std::make_unique<UnaryF32>(g, n), g, ctx, out);
  return own_typed<QUnary>(t, g, ctx, out, g, n);
}
Status prepare_softmax(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  return own(std::make_unique<Softmax>(g, n), g, ctx, out);
}
Status prepare_pool(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  const DType t = g.tensors[n.inputs[0]].dtype;
  if (t == DType::kF32) return own(std::make_unique<PoolF32>(g, n), g, ctx, out);
  return own_typed<QPool>(t, g, ctx, out, g, n);
}
Status prepare_concat(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  return own(std::make_unique<Concat>(g, n), g, ctx, out);
}
Status prepare_reshape(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  return own(std::make_unique<Reshape>(), g, ctx, out);
}
Status prepare_transpose(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  return own(std::make_unique<Transpose>(g, n), g, ctx, out);
}
Status prepare_pad(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  return own(std::make_unique<Pad>(g, n), g, ctx, out);
}
Status prepare_resize(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  return own(std::make_unique<Resize>(g, n), g, ctx, out);
}
Status prepare_split(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  return own(std::make_unique<Split>(g, n), g, ctx, out);
}
Status prepare_slice(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  return own(std::make_unique<Slice>(g, n), g, ctx, out);
}
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

// The op table, one entry per OpType in enum order.
constexpr PrepareFn kRegistry[] = {
    prepare_conv,    prepare_fc,        prepare_binary,  prepare_binary,   prepare_binary,   prepare_binary,
    prepare_unary,   prepare_unary,     prepare_unary,   prepare_unary,    prepare_unary,    prepare_unary,
    prepare_unary,   prepare_softmax,   prepare_pool,    prepare_pool,     prepare_pool,     prepare_concat,
    prepare_reshape, prepare_transpose, prepare_pad,     prepare_resize,   prepare_split,    prepare_slice,
    prepare_quantize, prepare_dequantize, prepare_requantize,
};
static_assert(sizeof(kRegistry) / sizeof(kRegistry[0]) == static_cast<size_t>(OpType::kCount),
              "every op needs a registry entry");

}  // namespace

void quantized_output_range(const Tensor& y, float act_min, float act_max, int32_t* qmin, int32_t* qmax) {
  const QParam q = qparam(y);
  const double lo = dtype_min(y.dtype), hi = dtype_max(y.dtype);
  auto map = [&](float v) {
    if (std::isinf(v)) return v < 0 ? lo : hi;
    const double r = std::nearbyint(static_cast<double>(v) / q.scale) + q.zero_point;
    return std::min(hi, std::max(lo, r));
  };
  *qmin = static_cast<int32_t>(map(act_min));
  *qmax = static_cast<int32_t>(map(act_max));
}

Status prepare_op(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  const auto i = static_cast<size_t>(n.op);
  if (i >= static_cast<size_t>(OpType::kCount)) return op_error(n, "unknown op");
  // Float nodes run on XNNPACK where it has the op, except at the reference level,
  // which is the scalar reference everywhere.
  if (ctx.kernels->isa != kern::Isa::kRef) {
    EDGEQ_RETURN_IF_ERROR(prepare_xnn_float_op(g, n, ctx, out));
    if (*out) return Status::Ok();
  }
  return kRegistry[i](g, n, ctx, out);
}

}  // namespace edgeq
