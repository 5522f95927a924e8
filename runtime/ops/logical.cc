// The mask family of the op layer: comparisons (Equal, Less, Greater), logical ops
// (And, Or, Xor, Not), Where, the reductions (ReduceMean / Sum / Max / Min), CumSum, and
// integer Add / Sub / Mul (position ids computed from token ids). They build
// attention masks from token ids or bool padding masks, apply them, and compute the
// statistics of normalizations the importer does not fuse; all on the reference
// kernels (kernels/ref/logical.cc), whose row-at-a-time walk keeps them cheap on the
// small tensors they see. Where splits its output rows over the session's threads.
#include "runtime/ops/common.h"

namespace edgeq {
namespace ops {
namespace {

ref::LogicalOp logical_kind(OpType op) {
  switch (op) {
    case OpType::kEqual: return ref::LogicalOp::kEqual;
    case OpType::kLess: return ref::LogicalOp::kLess;
    case OpType::kGreater: return ref::LogicalOp::kGreater;
    case OpType::kAnd: return ref::LogicalOp::kAnd;
    case OpType::kOr: return ref::LogicalOp::kOr;
    case OpType::kXor: return ref::LogicalOp::kXor;
    default: return ref::LogicalOp::kNot;
  }
}

template <int K>
Status broadcast_of(const Graph& g, const Node& n, ref::BroadcastN<K>* bc) {
  const std::vector<int32_t>* shapes[K];
  for (int k = 0; k < K; ++k) {
    // Not: its one input stands for both operands.
    const size_t i = static_cast<size_t>(k) < n.inputs.size() ? k : 0;
    shapes[k] = &g.tensors[n.inputs[i]].shape;
  }
  if (!ref::make_broadcast_n<K>(shapes, g.tensors[n.outputs[0]].shape, bc))
    return op_error(n, "shapes do not broadcast");
  return Status::Ok();
}

class Logical : public PreparedOp {
 public:
  Logical(const Graph& g, const Node& n) : n_(n), type_(g.tensors[n.inputs[0]].dtype), op_(logical_kind(n.op)) {}
  Status init(const Graph& g, const OpContext&) { return broadcast_of<2>(g, n_, &bc_); }
  void run(uint8_t* const* p) override {
    const uint8_t* a = p[n_.inputs[0]];
    const uint8_t* b = p[n_.inputs[n_.inputs.size() > 1 ? 1 : 0]];
    uint8_t* y = p[n_.outputs[0]];
    if (op_ != ref::LogicalOp::kEqual && op_ != ref::LogicalOp::kLess && op_ != ref::LogicalOp::kGreater) {
      ref::logical(op_, bc_, a, b, y);
      return;
    }
    switch (type_) {
      case DType::kF32: compare<float>(a, b, y); break;
      case DType::kS32: compare<int32_t>(a, b, y); break;
      case DType::kS64: compare<int64_t>(a, b, y); break;
      default: compare<uint8_t>(a, b, y); break;  // bool (the shape rule allows no other)
    }
  }

 private:
  template <typename T>
  void compare(const uint8_t* a, const uint8_t* b, uint8_t* y) const {
    ref::compare<T>(op_, bc_, reinterpret_cast<const T*>(a), reinterpret_cast<const T*>(b), y);
  }
  const Node& n_;
  DType type_;
  ref::LogicalOp op_;
  ref::BroadcastN<2> bc_;
};

class Where : public PreparedOp {
 public:
  Where(const Graph& g, const Node& n) : n_(n), elem_(dtype_size(g.tensors[n.outputs[0]].dtype)) {}
  Status init(const Graph& g, const OpContext& ctx) {
    EDGEQ_RETURN_IF_ERROR(broadcast_of<3>(g, n_, &bc_));
    scheduler_ = ctx.scheduler;
    while (split_ < ref::kMaxDims - 1 && bc_.out_shape[split_] == 1) ++split_;
    for (int d = split_ + 1; d < ref::kMaxDims; ++d) inner_ *= bc_.out_shape[d];
    return Status::Ok();
  }
  void run(uint8_t* const* p) override {
    const uint8_t* c = p[n_.inputs[0]];
    const uint8_t* x = p[n_.inputs[1]];
    const uint8_t* y = p[n_.inputs[2]];
    uint8_t* out = p[n_.outputs[0]];
    const int64_t n = bc_.out_shape[split_];
    // Split along the outermost output dimension larger than 1.
    scheduler_->ranges(n, n * inner_, [&](int64_t i0, int64_t i1) {
      ref::BroadcastN<3> bc = bc_;
      bc.out_shape[split_] = static_cast<int32_t>(i1 - i0);
      ref::where(bc, elem_, c + i0 * bc_.stride[0][split_], x + i0 * bc_.stride[1][split_] * elem_,
                 y + i0 * bc_.stride[2][split_] * elem_, out + i0 * inner_ * elem_);
    });
  }

 private:
  const Node& n_;
  size_t elem_;
  ref::BroadcastN<3> bc_;
  const Scheduler* scheduler_ = nullptr;
  int split_ = 0;
  int64_t inner_ = 1;
};

// Add, Sub, Mul on int32 / int64 tensors (position ids).
template <typename T>
class BinaryInt : public PreparedOp {
 public:
  explicit BinaryInt(const Node& n) : n_(n) {}
  Status init(const Graph& g, const OpContext&) { return broadcast_of<2>(g, n_, &bc_); }
  void run(uint8_t* const* p) override {
    const ref::BinaryOp op = n_.op == OpType::kSub   ? ref::BinaryOp::kSub
                             : n_.op == OpType::kMul ? ref::BinaryOp::kMul
                             : n_.op == OpType::kDiv ? ref::BinaryOp::kDiv
                                                     : ref::BinaryOp::kAdd;
    ref::binary_int<T>(op, bc_, at<T>(p, n_.inputs[0]), at<T>(p, n_.inputs[1]), at<T>(p, n_.outputs[0]));
  }

 private:
  const Node& n_;
  ref::BroadcastN<2> bc_;
};

// A broadcasting binary kernel with one flag: Max / Min (ref::min_max, is_max) and Mod
// (ref::mod, fmod).
template <typename T, void (*Kernel)(bool, const ref::BroadcastN<2>&, const T*, const T*, T*)>
class FlaggedBinary : public PreparedOp {
 public:
  FlaggedBinary(const Node& n, bool flag) : n_(n), flag_(flag) {}
  Status init(const Graph& g, const OpContext&) { return broadcast_of<2>(g, n_, &bc_); }
  void run(uint8_t* const* p) override {
    Kernel(flag_, bc_, at<T>(p, n_.inputs[0]), at<T>(p, n_.inputs[1]), at<T>(p, n_.outputs[0]));
  }

 private:
  const Node& n_;
  bool flag_;
  ref::BroadcastN<2> bc_;
};
template <typename T>
using MinMax = FlaggedBinary<T, ref::min_max<T>>;
template <typename T>
using Mod = FlaggedBinary<T, ref::mod<T>>;

// An op over one axis of its input, seen as [outer, count, inner]: Kernel(outer, count,
// inner, x, y) with X of type T and Y of type Out (ArgMax: int64; CumSum: T).
// The first input's shape as [outer, count, inner] around the node's axis.
void split_axis(const Graph& g, const Node& n, int64_t* outer, int64_t* count, int64_t* inner) {
  const std::vector<int32_t>& x = g.tensors[n.inputs[0]].shape;
  const size_t axis = static_cast<size_t>(n.attrs.axis);
  *outer = product(x, 0, axis);
  *count = x[axis];
  *inner = product(x, axis + 1, x.size());
}

template <typename T, typename Out, void (*Kernel)(int64_t, int64_t, int64_t, const T*, Out*)>
class AlongAxis : public PreparedOp {
 public:
  AlongAxis(const Graph& g, const Node& n) : n_(n) { split_axis(g, n, &outer_, &count_, &inner_); }
  void run(uint8_t* const* p) override {
    Kernel(outer_, count_, inner_, at<T>(p, n_.inputs[0]), at<Out>(p, n_.outputs[0]));
  }

 private:
  const Node& n_;
  int64_t outer_ = 1, count_ = 1, inner_ = 1;
};
template <typename T>
using ArgMax = AlongAxis<T, int64_t, &ref::argmax<T>>;
template <typename T>
using CumSum = AlongAxis<T, T, &ref::cumsum<T>>;

// TopK on the reference: values and indices along the axis.
template <typename T>
class TopK : public PreparedOp {
 public:
  TopK(const Graph& g, const Node& n) : n_(n) { split_axis(g, n, &outer_, &count_, &inner_); }
  void run(uint8_t* const* p) override {
    ref::topk<T>(outer_, count_, inner_, n_.attrs.k, n_.attrs.largest != 0, at<T>(p, n_.inputs[0]),
                 at<T>(p, n_.outputs[0]), at<int64_t>(p, n_.outputs[1]));
  }

 private:
  const Node& n_;
  int64_t outer_ = 1, count_ = 1, inner_ = 1;
};

// Bilinear resize, float (and bicubic, on the reference): the level's kernel (the
// reference's arithmetic a vector of channels at a time, the same bits) or the
// reference, output rows split over the session's threads.
class ResizeLinear : public PreparedOp {
 public:
  ResizeLinear(const Graph& g, const Node& n)
      : n_(n), x_(g.tensors[n.inputs[0]].shape), y_(g.tensors[n.outputs[0]].shape) {}
  Status init(const Graph&, const OpContext& ctx) {
    scheduler_ = ctx.scheduler;
    fn_ = ctx.kernels->misc.resize_linear_f32 ? ctx.kernels->misc.resize_linear_f32 : &ref::resize_linear_f32;
    name_ = ctx.kernels->misc.names.resize_linear_f32;
    return Status::Ok();
  }
  void run(uint8_t* const* p) override {
    const float* x = at<float>(p, n_.inputs[0]);
    float* y = at<float>(p, n_.outputs[0]);
    const int64_t rows = int64_t{y_[0]} * y_[1];
    const auto mode = static_cast<ref::ResizeCoord>(n_.attrs.coord_mode);
    const Attrs& a = n_.attrs;
    scheduler_->ranges(rows, rows * y_[2] * y_[3], [&](int64_t r0, int64_t r1) {
      if (n_.op == OpType::kResizeCubic) {
        ref::resize_cubic_f32(mode, x_[0], x_[1], x_[2], x_[3], y_[1], y_[2], r0, r1, x, y, a.coord_scale_h,
                              a.coord_scale_w, a.cubic_a, a.exclude_outside != 0);
      } else {
        fn_(mode, x_[0], x_[1], x_[2], x_[3], y_[1], y_[2], r0, r1, x, y, a.coord_scale_h, a.coord_scale_w);
      }
    });
  }
  const char* kernel_name() const override {
    if (n_.op == OpType::kResizeCubic) return "ref";
    return misc_kernel_name<kern::ResizeLinearF32Fn>(fn_, &ref::resize_linear_f32, name_);
  }

 private:
  const Node& n_;
  std::vector<int32_t> x_, y_;
  const Scheduler* scheduler_ = nullptr;
  kern::ResizeLinearF32Fn fn_ = &ref::resize_linear_f32;
  const char* name_ = nullptr;
};

// GridSample on the reference, output rows split over the session's threads.
class GridSample : public PreparedOp {
 public:
  GridSample(const Graph& g, const Node& n)
      : n_(n), x_(g.tensors[n.inputs[0]].shape), y_(g.tensors[n.outputs[0]].shape) {}
  Status init(const Graph&, const OpContext& ctx) {
    scheduler_ = ctx.scheduler;
    return Status::Ok();
  }
  void run(uint8_t* const* p) override {
    const float* x = at<float>(p, n_.inputs[0]);
    const float* grid = at<float>(p, n_.inputs[1]);
    float* y = at<float>(p, n_.outputs[0]);
    const int64_t rows = int64_t{y_[0]} * y_[1];
    const Attrs& a = n_.attrs;
    scheduler_->ranges(rows, rows * y_[2] * y_[3], [&](int64_t r0, int64_t r1) {
      ref::grid_sample_f32(static_cast<ref::GridMode>(a.grid_mode), static_cast<ref::GridPadding>(a.grid_padding),
                           a.align_corners != 0, x_[1], x_[2], x_[3], y_[1], y_[2], r0, r1, x, grid, y);
    });
  }

 private:
  const Node& n_;
  std::vector<int32_t> x_, y_;
  const Scheduler* scheduler_ = nullptr;
};

class Reduce : public PreparedOp {
 public:
  Reduce(const Graph& g, const Node& n) : n_(n), dtype_(g.tensors[n.inputs[0]].dtype) {
    const std::vector<int32_t>& x = g.tensors[n.inputs[0]].shape;
    const std::vector<int32_t>& y = g.tensors[n.outputs[0]].shape;
    // The reduced block (the shape rule checked it is contiguous): [first, last].
    size_t first = x.size(), last = 0;
    for (size_t d = 0; d < x.size(); ++d)
      if (y[d] == 1 && x[d] != 1) {
        first = std::min(first, d);
        last = d;
      }
    if (first == x.size()) {  // nothing reduced: a copy
      outer_ = product(x, 0, x.size());
      return;
    }
    outer_ = product(x, 0, first);
    count_ = product(x, first, last + 1);
    inner_ = product(x, last + 1, x.size());
  }
  void run(uint8_t* const* p) override {
    const ref::ReduceOp op = n_.op == OpType::kReduceMean  ? ref::ReduceOp::kMean
                             : n_.op == OpType::kReduceMax ? ref::ReduceOp::kMax
                             : n_.op == OpType::kReduceMin ? ref::ReduceOp::kMin
                                                           : ref::ReduceOp::kSum;
    switch (dtype_) {
      case DType::kS32:
        ref::reduce_int(op, outer_, count_, inner_, at<int32_t>(p, n_.inputs[0]), at<int32_t>(p, n_.outputs[0]));
        break;
      case DType::kS64:
        ref::reduce_int(op, outer_, count_, inner_, at<int64_t>(p, n_.inputs[0]), at<int64_t>(p, n_.outputs[0]));
        break;
      default:
        ref::reduce_f32(op, outer_, count_, inner_, at<float>(p, n_.inputs[0]), at<float>(p, n_.outputs[0]));
        break;
    }
  }

 private:
  const Node& n_;
  DType dtype_;
  int64_t outer_ = 1, count_ = 1, inner_ = 1;
};

}  // namespace

Status prepare_logical(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  return own(std::make_unique<Logical>(g, n), g, ctx, out);
}

Status prepare_where(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  return own(std::make_unique<Where>(g, n), g, ctx, out);
}

Status prepare_integer_binary(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  if (g.tensors[n.inputs[0]].dtype == DType::kS32) return own(std::make_unique<BinaryInt<int32_t>>(n), g, ctx, out);
  return own(std::make_unique<BinaryInt<int64_t>>(n), g, ctx, out);
}

Status prepare_mod(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  switch (g.tensors[n.inputs[0]].dtype) {
    case DType::kS32: return own(std::make_unique<Mod<int32_t>>(n, n.attrs.fmod != 0), g, ctx, out);
    case DType::kS64: return own(std::make_unique<Mod<int64_t>>(n, n.attrs.fmod != 0), g, ctx, out);
    default: return own(std::make_unique<Mod<float>>(n, n.attrs.fmod != 0), g, ctx, out);
  }
}

Status prepare_minmax(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  switch (g.tensors[n.inputs[0]].dtype) {
    case DType::kS32: return own(std::make_unique<MinMax<int32_t>>(n, n.op == OpType::kMax), g, ctx, out);
    case DType::kS64: return own(std::make_unique<MinMax<int64_t>>(n, n.op == OpType::kMax), g, ctx, out);
    default: return own(std::make_unique<MinMax<float>>(n, n.op == OpType::kMax), g, ctx, out);
  }
}

Status prepare_argmax(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  switch (g.tensors[n.inputs[0]].dtype) {
    case DType::kS8: return own(std::make_unique<ArgMax<int8_t>>(g, n), g, ctx, out);
    case DType::kU8: return own(std::make_unique<ArgMax<uint8_t>>(g, n), g, ctx, out);
    case DType::kS32: return own(std::make_unique<ArgMax<int32_t>>(g, n), g, ctx, out);
    case DType::kS64: return own(std::make_unique<ArgMax<int64_t>>(g, n), g, ctx, out);
    default: return own(std::make_unique<ArgMax<float>>(g, n), g, ctx, out);
  }
}

Status prepare_topk(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  switch (g.tensors[n.inputs[0]].dtype) {
    case DType::kS8: return own(std::make_unique<TopK<int8_t>>(g, n), g, ctx, out);
    case DType::kU8: return own(std::make_unique<TopK<uint8_t>>(g, n), g, ctx, out);
    case DType::kS32: return own(std::make_unique<TopK<int32_t>>(g, n), g, ctx, out);
    case DType::kS64: return own(std::make_unique<TopK<int64_t>>(g, n), g, ctx, out);
    default: return own(std::make_unique<TopK<float>>(g, n), g, ctx, out);
  }
}

Status prepare_cumsum(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  switch (g.tensors[n.inputs[0]].dtype) {
    case DType::kS32: return own(std::make_unique<CumSum<int32_t>>(g, n), g, ctx, out);
    case DType::kS64: return own(std::make_unique<CumSum<int64_t>>(g, n), g, ctx, out);
    default: return own(std::make_unique<CumSum<float>>(g, n), g, ctx, out);
  }
}

Status prepare_resize_linear(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  return own(std::make_unique<ResizeLinear>(g, n), g, ctx, out);
}

Status prepare_grid_sample(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  return own(std::make_unique<GridSample>(g, n), g, ctx, out);
}

Status prepare_reduce(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  return own(std::make_unique<Reduce>(g, n), g, ctx, out);
}

}  // namespace ops
}  // namespace edgeq
