// Gather (embedding lookup) and Cast: the ops on integer index tensors.
//
// Gather copies one row of its constant table per index (ref::gather_rows: a memcpy of
// the row, whatever the table's dtype), split over the session's threads by ranges of
// indices. Its indices come from the user or from another op at run time, so it is the
// one op that checks its input when it runs: check() (PreparedOp) finds the first
// index outside [0, V) and names the tensor, and the session calls it just before
// run(), so a bad id is an error of the run, never a read outside the table.
//
// Cast converts values between f32, s32 and s64 (ref::cast: truncation toward zero
// and saturation from float, NaN -> 0; saturation from s64 to s32). The shape rule
// (graph/shape.cc) rejects quantized operands, so no other dtype reaches it.
#include "runtime/ops/common.h"

namespace edgeq {
namespace ops {
namespace {

template <typename I>
class Gather : public PreparedOp {
 public:
  Gather(const Graph& g, const Node& n, const OpContext& ctx)
      : table_(n.inputs[0]), idx_(n.inputs[1]), y_(n.outputs[0]), scheduler_(ctx.scheduler) {
    const Tensor &t = g.tensors[table_], &i = g.tensors[idx_];
    rows_ = t.shape[0];
    row_bytes_ = t.byte_size() / static_cast<size_t>(rows_);
    count_ = static_cast<size_t>(i.num_elements());
    idx_name_ = i.name;
    node_name_ = n.name;
  }
  bool checks_inputs() const override { return true; }
  Status check(const uint8_t* const* ptrs) const override {
    const I* idx = reinterpret_cast<const I*>(ptrs[idx_]);
    const size_t bad = ref::first_index_out_of_range(count_, idx, rows_);
    if (bad == count_) return Status::Ok();
    return InvalidArgument("node '" + node_name_ + "' (Gather): index " + std::to_string(idx[bad]) + " at position " +
                           std::to_string(bad) + " of '" + idx_name_ + "' is outside [" + std::to_string(-rows_) + ", " +
                           std::to_string(rows_) + ")");
  }
  void run(uint8_t* const* ptrs) override {
    const I* idx = at<const I>(ptrs, idx_);
    const uint8_t* table = ptrs[table_];
    uint8_t* y = ptrs[y_];
    const size_t row = row_bytes_;
    const int64_t elements = static_cast<int64_t>(count_ * row);
    scheduler_->ranges(static_cast<int64_t>(count_), elements, [&](int64_t b, int64_t e) {
      ref::gather_rows(static_cast<size_t>(e - b), idx + b, table, static_cast<size_t>(rows_), row,
                       y + static_cast<size_t>(b) * row);
    });
  }

 private:
  int32_t table_, idx_, y_;
  const Scheduler* scheduler_;
  int64_t rows_ = 0;
  size_t row_bytes_ = 0, count_ = 0;
  std::string idx_name_, node_name_;
};

// The element-indexed ops on the reference (GatherElements, ScatterElements, ScatterND):
// input 0's shape, input 1 the indices, checked before each run (as Gather's).
template <typename I>
class ElementIndexed : public PreparedOp {
 public:
  ElementIndexed(const Graph& g, const Node& n) : n_(n) {
    const Tensor &x = g.tensors[n.inputs[0]], &i = g.tensors[n.inputs[1]];
    x_shape_ = x.shape;
    i_shape_ = i.shape;
    elem_ = dtype_size(x.dtype);
    count_ = static_cast<size_t>(i.num_elements());
    idx_name_ = i.name;
  }
  bool checks_inputs() const override { return true; }

 protected:
  const I* indices(const uint8_t* const* ptrs) const { return reinterpret_cast<const I*>(ptrs[n_.inputs[1]]); }
  // Ok when bad == count_, else the error naming index `bad` and its range [-dim, dim).
  Status index_status(const I* idx, size_t bad, int64_t dim) const {
    if (bad == count_) return Status::Ok();
    return InvalidArgument("node '" + n_.name + "' (" + op_name(n_.op) + "): index " + std::to_string(idx[bad]) +
                           " at position " + std::to_string(bad) + " of '" + idx_name_ + "' is outside [" +
                           std::to_string(-dim) + ", " + std::to_string(dim) + ")");
  }

  const Node& n_;
  std::vector<int32_t> x_shape_, i_shape_;
  size_t elem_ = 1, count_ = 0;
  std::string idx_name_;
};

template <typename I>
class GatherElements : public ElementIndexed<I> {
 public:
  using ElementIndexed<I>::ElementIndexed;
  Status check(const uint8_t* const* ptrs) const override {
    const I* idx = this->indices(ptrs);
    const int64_t dim = this->x_shape_[static_cast<size_t>(this->n_.attrs.axis)];
    return this->index_status(idx, ref::first_index_out_of_range(this->count_, idx, dim), dim);
  }
  void run(uint8_t* const* p) override {
    const Node& n = this->n_;
    ref::gather_elements<I>(static_cast<int>(this->x_shape_.size()), this->x_shape_.data(), this->i_shape_.data(),
                            n.attrs.axis, this->elem_, p[n.inputs[0]], at<const I>(p, n.inputs[1]), p[n.outputs[0]]);
  }
};

// ScatterElements and ScatterND (input 2: the updates).
template <typename I>
class Scatter : public ElementIndexed<I> {
 public:
  Scatter(const Graph& g, const Node& n) : ElementIndexed<I>(g, n) {
    const Tensor& x = g.tensors[n.inputs[0]];
    if (n.attrs.reduction != 0) {
      type_ = x.dtype == DType::kF32 ? ref::ScatterType::kF32
              : x.dtype == DType::kS32 ? ref::ScatterType::kS32
                                       : ref::ScatterType::kS64;
    }
    nd_ = n.op == OpType::kScatterND;
    if (nd_) depth_ = g.tensors[n.inputs[1]].shape.back();
  }
  Status check(const uint8_t* const* ptrs) const override {
    const I* idx = this->indices(ptrs);
    const std::vector<int32_t>& shape = this->x_shape_;
    if (!nd_) {
      const int64_t dim = shape[static_cast<size_t>(this->n_.attrs.axis)];
      return this->index_status(idx, ref::first_index_out_of_range(this->count_, idx, dim), dim);
    }
    const size_t bad = ref::first_tuple_out_of_range(tuples(), depth_, shape.data(), idx);
    return this->index_status(idx, bad, bad == this->count_ ? 0 : shape[bad % static_cast<size_t>(depth_)]);
  }
  void run(uint8_t* const* p) override {
    const Node& n = this->n_;
    const auto r = static_cast<ref::ScatterReduction>(n.attrs.reduction);
    const int rank = static_cast<int>(this->x_shape_.size());
    if (nd_) {
      ref::scatter_nd<I>(rank, this->x_shape_.data(), tuples(), depth_, type_, r, this->elem_, p[n.inputs[0]],
                         at<const I>(p, n.inputs[1]), p[n.inputs[2]], p[n.outputs[0]]);
    } else {
      ref::scatter_elements<I>(rank, this->x_shape_.data(), this->i_shape_.data(), n.attrs.axis, type_, r, this->elem_,
                               p[n.inputs[0]], at<const I>(p, n.inputs[1]), p[n.inputs[2]], p[n.outputs[0]]);
    }
  }

 private:
  size_t tuples() const { return this->count_ / static_cast<size_t>(depth_); }
  int depth_ = 0;
  bool nd_ = false;
  ref::ScatterType type_ = ref::ScatterType::kBytes;
};

template <typename From, typename To>
class Cast : public PreparedOp {
 public:
  Cast(const Graph& g, const Node& n)
      : x_(n.inputs[0]), y_(n.outputs[0]), count_(static_cast<size_t>(g.tensors[n.inputs[0]].num_elements())) {}
  void run(uint8_t* const* ptrs) override { ref::cast(count_, at<const From>(ptrs, x_), at<To>(ptrs, y_)); }

 private:
  int32_t x_, y_;
  size_t count_;
};

// *out = the cast From -> To, left null for From == To (the shape rule forbids it).
template <typename From, typename To>
void set_cast(const Graph& g, const Node& n, std::unique_ptr<PreparedOp>* out) {
  if constexpr (!std::is_same<From, To>::value) *out = std::make_unique<Cast<From, To>>(g, n);
}

// A cast to bool (x != 0) or from bool (0 / 1).
template <typename T, bool kToBool>
class BoolCast : public PreparedOp {
 public:
  BoolCast(const Graph& g, const Node& n)
      : x_(n.inputs[0]), y_(n.outputs[0]), count_(static_cast<size_t>(g.tensors[n.inputs[0]].num_elements())) {}
  void run(uint8_t* const* ptrs) override {
    if constexpr (kToBool) ref::cast_to_bool(count_, at<const T>(ptrs, x_), at<uint8_t>(ptrs, y_));
    else ref::cast_from_bool(count_, at<const uint8_t>(ptrs, x_), at<T>(ptrs, y_));
  }

 private:
  int32_t x_, y_;
  size_t count_;
};

template <typename From>
void make_cast(const Graph& g, const Node& n, DType to, std::unique_ptr<PreparedOp>* out) {
  switch (to) {
    case DType::kF32: set_cast<From, float>(g, n, out); break;
    case DType::kS32: set_cast<From, int32_t>(g, n, out); break;
    case DType::kS64: set_cast<From, int64_t>(g, n, out); break;
    case DType::kBool: *out = std::make_unique<BoolCast<From, true>>(g, n); break;
    default: break;
  }
}

template <typename To>
void set_from_bool(const Graph& g, const Node& n, std::unique_ptr<PreparedOp>* out) {
  *out = std::make_unique<BoolCast<To, false>>(g, n);
}

}  // namespace

Status prepare_gather_elements(const Graph& g, const Node& n, const OpContext&, std::unique_ptr<PreparedOp>* out) {
  const Tensor& idx = g.tensors[n.inputs[1]];
  if (idx.dtype == DType::kS32) *out = std::make_unique<GatherElements<int32_t>>(g, n);
  else if (idx.dtype == DType::kS64) *out = std::make_unique<GatherElements<int64_t>>(g, n);
  else return op_error(n, "indices '" + idx.name + "' have dtype " + dtype_name(idx.dtype));
  return Status::Ok();
}

Status prepare_scatter(const Graph& g, const Node& n, const OpContext&, std::unique_ptr<PreparedOp>* out) {
  const Tensor& idx = g.tensors[n.inputs[1]];
  if (idx.dtype == DType::kS32) *out = std::make_unique<Scatter<int32_t>>(g, n);
  else if (idx.dtype == DType::kS64) *out = std::make_unique<Scatter<int64_t>>(g, n);
  else return op_error(n, "indices '" + idx.name + "' have dtype " + dtype_name(idx.dtype));
  return Status::Ok();
}

Status prepare_gather(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  const Tensor& idx = g.tensors[n.inputs[1]];
  if (idx.dtype == DType::kS32) *out = std::make_unique<Gather<int32_t>>(g, n, ctx);
  else if (idx.dtype == DType::kS64) *out = std::make_unique<Gather<int64_t>>(g, n, ctx);
  else return op_error(n, "indices '" + idx.name + "' have dtype " + dtype_name(idx.dtype));
  return Status::Ok();
}

Status prepare_cast(const Graph& g, const Node& n, const OpContext&, std::unique_ptr<PreparedOp>* out) {
  const DType from = g.tensors[n.inputs[0]].dtype, to = g.tensors[n.outputs[0]].dtype;
  out->reset();
  switch (from) {
    case DType::kF32: make_cast<float>(g, n, to, out); break;
    case DType::kS32: make_cast<int32_t>(g, n, to, out); break;
    case DType::kS64: make_cast<int64_t>(g, n, to, out); break;
    // The stored integers of an 8-bit tensor (a table's indices, as edgeq's exporter
    // writes a Lookup: Cast then Gather).
    case DType::kU8:
      if (to == DType::kS32) set_cast<uint8_t, int32_t>(g, n, out);
      else if (to == DType::kS64) set_cast<uint8_t, int64_t>(g, n, out);
      break;
    case DType::kS8:
      if (to == DType::kS32) set_cast<int8_t, int32_t>(g, n, out);
      else if (to == DType::kS64) set_cast<int8_t, int64_t>(g, n, out);
      break;
    case DType::kBool:
      if (to == DType::kF32) set_from_bool<float>(g, n, out);
      else if (to == DType::kS32) set_from_bool<int32_t>(g, n, out);
      else if (to == DType::kS64) set_from_bool<int64_t>(g, n, out);
      break;
    default: break;
  }
  if (!*out) return op_error(n, std::string("no cast from ") + dtype_name(from) + " to " + dtype_name(to));
  return Status::Ok();
}

}  // namespace ops
}  // namespace edgeq
