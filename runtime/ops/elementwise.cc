// The elementwise family of the op layer: binary ops with broadcasting (Add, Sub,
// Mul, Div), unary ops (float on the level's unary kernel or the reference, quantized
// as a 256-entry lookup table built here), Lookup (a table the importer computed), and
// Softmax. Quantized binary ops split their outermost output dimension, float unary ops
// and table lookups their elements, over the session's threads through the scheduler.
#include <cstring>
#include <memory>

#include "graph/unary_island.h"
#include "runtime/ops/common.h"

namespace edgeq {
namespace ops {
namespace {

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

// The requantization parameters of a quantized binary node.
ref::BinaryQParams binary_qparams(const Graph& g, const Node& n) {
  const QParam a = qparam(g.tensors[n.inputs[0]]), b = qparam(g.tensors[n.inputs[1]]);
  const Tensor& y = g.tensors[n.outputs[0]];
  ref::BinaryQParams p;
  p.a_scale = a.scale;
  p.b_scale = b.scale;
  p.out_scale = qparam(y).scale;
  p.a_zero_point = a.zero_point;
  p.b_zero_point = b.zero_point;
  p.out_zero_point = qparam(y).zero_point;
  p.scheme = scheme_of(g);
  quantized_output_range(y, n.attrs.act_min, n.attrs.act_max, &p.qmin, &p.qmax);
  return p;
}

// The input of a quantized binary node that is a one-element constant while the other
// input has the output's shape (an attention score divided by sqrt(d), a bias added to
// a whole tensor), or -1. Such a node is a function of one byte: a 256-entry table.
int scalar_operand(const Graph& g, const Node& n) {
  const bool binary = n.op == OpType::kAdd || n.op == OpType::kSub || n.op == OpType::kMul || n.op == OpType::kDiv;
  if (!binary || n.inputs.size() != 2) return -1;
  const Tensor& y = g.tensors[n.outputs[0]];
  for (int c = 0; c < 2; ++c) {
    const Tensor& k = g.tensors[n.inputs[c]];
    const Tensor& x = g.tensors[n.inputs[1 - c]];
    if (k.is_constant() && k.num_elements() == 1 && !x.is_constant() && x.shape == y.shape) return c;
  }
  return -1;
}

// The 256 outputs of quantized binary node n whose input c is a one-element constant,
// indexed by the other input's byte: the reference op on every value of that input
// (each output element depends on its own inputs only, so a lookup equals the op).
template <typename T>
void scalar_binary_table(const Graph& g, const Node& n, int c, T table[256]) {
  const int32_t many[1] = {256}, one[1] = {1};
  ref::Broadcast bc;
  ref::make_broadcast(c == 0 ? one : many, 1, c == 0 ? many : one, 1, many, 1, &bc);
  T x[256];
  for (int b = 0; b < 256; ++b) x[b] = static_cast<T>(static_cast<uint8_t>(b));
  const T* k = g.tensors[n.inputs[c]].as<T>();
  ref::qbinary<T>(binary_kind(n.op), bc, c == 0 ? k : x, c == 0 ? x : k, binary_qparams(g, n), table);
}

template <typename T>
class QBinary : public PreparedOp {
 public:
  explicit QBinary(const Node& n) : n_(n) {}
  Status init(const Graph& g, const OpContext& ctx) {
    EDGEQ_RETURN_IF_ERROR(make_bc(g, n_, &bc_));
    p_ = binary_qparams(g, n_);
    fn_ = pick<T, kern::QBinaryFn>(ctx.kernels->misc.qbinary_s8, ctx.kernels->misc.qbinary_u8, &ref::qbinary<T>);
    name_ = ctx.kernels->misc.names.qbinary;
    scheduler_ = ctx.scheduler;
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
    scheduler_->ranges(n, n * inner_, [&](int64_t i0, int64_t i1) {
      ref::Broadcast bc = bc_;
      bc.out_shape[split_] = static_cast<int32_t>(i1 - i0);
      fn_(binary_kind(n_.op), bc, a + i0 * bc_.a_stride[split_], b + i0 * bc_.b_stride[split_], p_, y + i0 * inner_);
    });
  }
  const char* kernel_name() const override { return misc_kernel_name<kern::QBinaryFn<T>>(fn_, &ref::qbinary<T>, name_); }

 private:
  const Node& n_;
  ref::Broadcast bc_;
  ref::BinaryQParams p_;
  kern::QBinaryFn<T> fn_ = nullptr;
  const char* name_ = nullptr;
  const Scheduler* scheduler_ = nullptr;
  int split_ = 0;       // the dimension split over the pool
  int64_t inner_ = 1;   // output elements per index of that dimension
};

// ------------------------------------------------------------------ unary

ref::UnaryOp unary_kind(OpType op) {
  ref::UnaryOp kind = ref::UnaryOp::kRelu;
  unary_op_kind(op, &kind);  // validation let only unary ops reach here
  return kind;
}

// A float unary op: the level's unary_f32 kernel for the ops it covers
// (kern::unary_f32_kernel_covers), else the reference; elements split over the threads.
class UnaryF32 : public PreparedOp {
 public:
  UnaryF32(const Graph& g, const Node& n) : n_(n), count_(static_cast<size_t>(g.tensors[n.outputs[0]].num_elements())) {}
  Status init(const Graph&, const OpContext& ctx) {
    kind_ = unary_kind(n_.op);
    if (ctx.kernels->misc.unary_f32 != nullptr && kern::unary_f32_kernel_covers(kind_)) fn_ = ctx.kernels->misc.unary_f32;
    name_ = ctx.kernels->misc.names.unary_f32;
    scheduler_ = ctx.scheduler;
    return Status::Ok();
  }
  void run(uint8_t* const* p) override {
    const float* x = at<float>(p, n_.inputs[0]);
    float* y = at<float>(p, n_.outputs[0]);
    element_ranges(scheduler_, static_cast<int64_t>(count_), kChunk, [&](size_t i0, size_t i1) {
      fn_(kind_, n_.attrs.alpha, n_.attrs.beta, i1 - i0, x + i0, y + i0);
    });
  }
  const char* kernel_name() const override { return misc_kernel_name<kern::UnaryF32Fn>(fn_, &ref::unary_f32, name_); }

 private:
  const Node& n_;
  size_t count_;
  static constexpr int64_t kChunk = 4096;  // elements per range of a split over threads (whole vectors)
  ref::UnaryOp kind_ = ref::UnaryOp::kRelu;
  kern::UnaryF32Fn fn_ = &ref::unary_f32;
  const char* name_ = nullptr;
  const Scheduler* scheduler_ = nullptr;
};

// The 256 output bytes of a Requantize from TI to TO, indexed by the input's byte: the
// reference's requantization of every input value.
template <typename TI, typename TO>
void requantize_table(const Graph& g, const Node& n, uint8_t table[256]) {
  const QParam x = qparam(g.tensors[n.inputs[0]]), y = qparam(g.tensors[n.outputs[0]]);
  const DType t = g.tensors[n.outputs[0]].dtype;
  TI in[256];
  TO out[256];
  for (int b = 0; b < 256; ++b) in[b] = static_cast<TI>(static_cast<uint8_t>(b));
  ref::requantize_tensor<TI, TO>(256, in, x.scale, x.zero_point, y.scale, y.zero_point, dtype_min(t), dtype_max(t),
                                 out);
  std::memcpy(table, out, 256);
}

// A quantized unary op, a Lookup node (its table is its second input), a Requantize
// between 8-bit types (as QUnary<uint8_t> on the bytes, whatever their signedness), or
// a quantized binary op with a one-element constant operand (scalar_operand()): a table
// lookup per element.
template <typename T>
class QUnary : public PreparedOp {
 public:
  QUnary(const Graph& g, const Node& n) : n_(n), count_(static_cast<size_t>(g.tensors[n.outputs[0]].num_elements())) {
    const int c = scalar_operand(g, n);
    if (c >= 0) {
      x_ = n.inputs[1 - c];
      scalar_binary_table<T>(g, n, c, table_);
      return;
    }
    if (n.op == OpType::kLookup) {
      std::memcpy(table_, g.tensors[n.inputs[1]].data, sizeof(table_));
      return;
    }
    if (n.op == OpType::kRequantize) {
      static_assert(sizeof(T) == 1, "a requantization table maps bytes");
      const bool s8_in = g.tensors[n.inputs[0]].dtype == DType::kS8, s8_out = g.tensors[n.outputs[0]].dtype == DType::kS8;
      uint8_t* t = reinterpret_cast<uint8_t*>(table_);
      if (s8_in && s8_out) requantize_table<int8_t, int8_t>(g, n, t);
      else if (s8_in) requantize_table<int8_t, uint8_t>(g, n, t);
      else if (s8_out) requantize_table<uint8_t, int8_t>(g, n, t);
      else requantize_table<uint8_t, uint8_t>(g, n, t);
      return;
    }
    const QParam x = qparam(g.tensors[n.inputs[0]]), y = qparam(g.tensors[n.outputs[0]]);
    ref::build_unary_table<T>(unary_kind(n.op), n.attrs.alpha, n.attrs.beta, x.scale, x.zero_point, y.scale,
                              y.zero_point, table_);
  }
  Status init(const Graph&, const OpContext& ctx) {
    fn_ = pick<T, kern::LookupFn>(ctx.kernels->misc.lookup_s8, ctx.kernels->misc.lookup_u8, &ref::lookup<T>);
    name_ = ctx.kernels->misc.names.lookup;
    scheduler_ = ctx.scheduler;
    return Status::Ok();
  }
  void run(uint8_t* const* p) override {
    const T* x = at<T>(p, x_);
    T* y = at<T>(p, n_.outputs[0]);
    element_ranges(scheduler_, static_cast<int64_t>(count_), kChunk,
                   [&](size_t i0, size_t i1) { fn_(i1 - i0, x + i0, table_, y + i0); });
  }
  const char* kernel_name() const override { return misc_kernel_name<kern::LookupFn<T>>(fn_, &ref::lookup<T>, name_); }

 private:
  const Node& n_;
  size_t count_;
  int32_t x_ = n_.inputs[0];  // the input looked up
  static constexpr int64_t kChunk = 4096;  // elements per range of a split over threads
  kern::LookupFn<T> fn_ = nullptr;
  const char* name_ = nullptr;
  const Scheduler* scheduler_ = nullptr;
  T table_[256];
};

// ------------------------------------------------------------------ softmax

struct AxisDims {
  int64_t outer, inner;
  int32_t axis_size;
  AxisDims(const std::vector<int32_t>& s, int32_t axis)
      : outer(product(s, 0, axis)), inner(product(s, axis + 1, s.size())), axis_size(s[axis]) {}
};

// Float softmax: the level's kernels (kernels/softmax_f32_rows.h), over the innermost
// axis on ranges of rows, along another axis on ranges of its outer slices, split over the
// session's threads; without a kernel the reference.
class Softmax : public PreparedOp {
 public:
  Softmax(const Graph& g, const Node& n) : n_(n), d_(g.tensors[n.inputs[0]].shape, n.attrs.axis) {}
  Status init(const Graph&, const OpContext& ctx) {
    if (d_.inner == 1 && d_.axis_size > 0) fn_ = ctx.kernels->misc.softmax_f32;
    if (d_.inner > 1 && d_.axis_size > 0) columns_ = ctx.kernels->misc.softmax_f32_columns;
    name_ = ctx.kernels->misc.names.softmax_f32;
    scheduler_ = ctx.scheduler;
    return Status::Ok();
  }
  void run(uint8_t* const* p) override {
    const float* x = at<float>(p, n_.inputs[0]);
    float* y = at<float>(p, n_.outputs[0]);
    const int32_t n = d_.axis_size;
    if (columns_ != nullptr) {
      // Each slice's columns in ranges of 64 (YOLOv8's head is one slice of many columns).
      const int64_t plane = n * d_.inner, chunks = (d_.inner + 63) / 64;
      scheduler_->ranges(d_.outer * chunks, d_.outer * plane, [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) {
          const int64_t o = t / chunks, c0 = t % chunks * 64, c = std::min<int64_t>(64, d_.inner - c0);
          columns_(1, n, static_cast<int32_t>(c), d_.inner, x + o * plane + c0, y + o * plane + c0);
        }
      });
      return;
    }
    if (fn_ == nullptr) {
      ref::softmax_f32(d_.outer, d_.axis_size, d_.inner, x, y);
      return;
    }
    scheduler_->ranges(d_.outer, d_.outer * n, [&](int64_t r0, int64_t r1) { fn_(r1 - r0, n, x + r0 * n, y + r0 * n); });
  }
  const char* kernel_name() const override {
    return (fn_ != nullptr || columns_ != nullptr) && name_ != nullptr ? name_ : "ref";
  }

 private:
  const Node& n_;
  AxisDims d_;
  kern::SoftmaxF32RowsFn fn_ = nullptr;
  kern::SoftmaxF32ColumnsFn columns_ = nullptr;
  const char* name_ = nullptr;
  const Scheduler* scheduler_ = nullptr;
};

// Quantized softmax (kernels/ref/ref.h): the table of exponentials of the input step
// built once; over the innermost axis the level's kernel runs on ranges of rows split
// over the session's threads, along another axis the reference.
template <typename T>
class QSoftmax : public PreparedOp {
 public:
  QSoftmax(const Graph& g, const Node& n)
      : n_(n), d_(g.tensors[n.inputs[0]].shape, n.attrs.axis), in_(qparam(g.tensors[n.inputs[0]])),
        out_(qparam(g.tensors[n.outputs[0]])) {
    ref::qsoftmax_table(in_.scale, table_);
  }
  Status init(const Graph&, const OpContext& ctx) {
    fn_ = pick<T, kern::QSoftmaxRowsFn>(ctx.kernels->misc.qsoftmax_s8, ctx.kernels->misc.qsoftmax_u8,
                                        &ref::qsoftmax_rows<T>);
    name_ = ctx.kernels->misc.names.qsoftmax;
    scheduler_ = ctx.scheduler;
    return Status::Ok();
  }
  void run(uint8_t* const* p) override {
    const T* x = at<T>(p, n_.inputs[0]);
    T* y = at<T>(p, n_.outputs[0]);
    if (d_.inner != 1) {
      ref::qsoftmax<T>(d_.outer, d_.axis_size, d_.inner, x, in_.scale, in_.zero_point, out_.scale, out_.zero_point, y);
      return;
    }
    const int32_t n = d_.axis_size;
    scheduler_->ranges(d_.outer, d_.outer * n, [&](int64_t r0, int64_t r1) {
      fn_(r1 - r0, n, x + r0 * n, table_, out_.scale, out_.zero_point, y + r0 * n);
    });
  }
  const char* kernel_name() const override {
    if (d_.inner != 1) return "ref";
    return misc_kernel_name<kern::QSoftmaxRowsFn<T>>(fn_, &ref::qsoftmax_rows<T>, name_);
  }

 private:
  const Node& n_;
  AxisDims d_;
  QParam in_, out_;
  uint32_t table_[256];
  kern::QSoftmaxRowsFn<T> fn_ = nullptr;
  const char* name_ = nullptr;
  const Scheduler* scheduler_ = nullptr;
};

}  // namespace

Status prepare_binary(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  const DType t = g.tensors[n.inputs[0]].dtype;
  if (t == DType::kF32) return own(std::make_unique<BinaryF32>(n), g, ctx, out);
  if (is_index_type(t)) return prepare_integer_binary(g, n, ctx, out);
  if (scalar_operand(g, n) >= 0) return own_typed<QUnary>(t, g, ctx, out, g, n);
  return own_typed<QBinary>(t, g, ctx, out, n);
}

Status prepare_unary(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  const DType t = g.tensors[n.inputs[0]].dtype;
  if (t == DType::kF32) return own(std::make_unique<UnaryF32>(g, n), g, ctx, out);
  return own_typed<QUnary>(t, g, ctx, out, g, n);
}

Status prepare_lookup(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  return own_typed<QUnary>(g.tensors[n.inputs[0]].dtype, g, ctx, out, g, n);
}

// Requantize between int8 / uint8 tensors (the only ones it takes: infer_conversion)
// is a 256-entry table on the bytes.
Status prepare_requantize(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  return own(std::make_unique<QUnary<uint8_t>>(g, n), g, ctx, out);
}

Status prepare_softmax(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  const DType t = g.tensors[n.inputs[0]].dtype;
  if (t == DType::kF32) return own(std::make_unique<Softmax>(g, n), g, ctx, out);
  return own_typed<QSoftmax>(t, g, ctx, out, g, n);
}

}  // namespace ops
}  // namespace edgeq
