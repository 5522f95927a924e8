// The data-movement family of the op layer: Concat (inputs whose parameters differ
// from the output's through a 256-entry requantization table each), Reshape (a view: the planner aliases its
// output, nothing runs), Transpose, Pad, ResizeNearest, Split and Slice, on the
// reference kernels (Concat on the level's copy kernel, Transpose on the level's
// transpose kernel, which is faster for the channels-last change of a model's input,
// Slice and Pad on the level's slice and pad kernels, which copy contiguous runs).
#include <cstring>
#include <memory>

#include "runtime/ops/common.h"

namespace edgeq {
namespace ops {
namespace {

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
      same_q_.push_back(same ? 1 : 0);
      in_q_.push_back(is_quantized_type(t.dtype) ? qparam(t) : QParam{1.f, 0});
    }
    if (is_quantized_type(y.dtype)) out_q_ = qparam(y);
    inputs_.resize(n.inputs.size());
  }
  Status init(const Graph&, const OpContext& ctx) {
    if (ctx.kernels->misc.concat) concat_ = ctx.kernels->misc.concat;
    name_ = ctx.kernels->misc.names.concat;
    if (requant_) {
      // Requantizing a byte to other parameters is a function of the byte: one
      // 256-entry table per such input, its values the reference's.
      tables_.assign(in_q_.size() * 256, 0);
      for (size_t i = 0; i < in_q_.size(); ++i) {
        if (same_q_[i]) continue;
        uint8_t bytes[256];
        for (int b = 0; b < 256; ++b) bytes[b] = static_cast<uint8_t>(b);
        if (dtype_ == DType::kS8) {
          ref::requantize_tensor<int8_t, int8_t>(256, reinterpret_cast<const int8_t*>(bytes), in_q_[i].scale,
                                                 in_q_[i].zero_point, out_q_.scale, out_q_.zero_point,
                                                 dtype_min(dtype_), dtype_max(dtype_),
                                                 reinterpret_cast<int8_t*>(&tables_[i * 256]));
        } else {
          ref::requantize_tensor<uint8_t, uint8_t>(256, bytes, in_q_[i].scale, in_q_[i].zero_point, out_q_.scale,
                                                   out_q_.zero_point, dtype_min(dtype_), dtype_max(dtype_),
                                                   &tables_[i * 256]);
        }
      }
      lookup_s8_ = ctx.kernels->misc.lookup_s8 ? ctx.kernels->misc.lookup_s8 : &ref::lookup<int8_t>;
      lookup_u8_ = ctx.kernels->misc.lookup_u8 ? ctx.kernels->misc.lookup_u8 : &ref::lookup<uint8_t>;
    }
    return Status::Ok();
  }
  // Requantizing: the level's lookup kernel (with its copies), or the reference's.
  const char* kernel_name() const override {
    if (requant_ && lookup_u8_ == &ref::lookup<uint8_t>) return "ref";
    return misc_kernel_name<kern::ConcatFn>(concat_, &ref::concat, name_);
  }
  void run(uint8_t* const* p) override {
    for (size_t i = 0; i < inputs_.size(); ++i) inputs_[i] = p[n_.inputs[i]];
    uint8_t* y = p[n_.outputs[0]];
    if (!requant_) {
      concat_(outer_, inner_, static_cast<int>(inputs_.size()), sizes_.data(), inputs_.data(), elem_, y);
    } else {
      requant_concat(y);
    }
  }
  size_t packed_bytes() const override { return tables_.size(); }

 private:
  kern::ConcatFn concat_ = &ref::concat;
  const char* name_ = nullptr;
  // Inputs with other quantization than the output go through their table into their
  // slice of every outer row; the others are copied.
  void requant_concat(uint8_t* y) const {
    int64_t total = 0;
    for (int32_t s : sizes_) total += s;
    int64_t offset = 0;
    for (size_t i = 0; i < inputs_.size(); ++i) {
      const int64_t row = sizes_[i] * inner_;
      const uint8_t* x = static_cast<const uint8_t*>(inputs_[i]);
      for (int64_t o = 0; o < outer_; ++o) {
        uint8_t* dst = y + o * total * inner_ + offset;
        if (same_q_[i]) {
          std::memcpy(dst, x + o * row, static_cast<size_t>(row));
        } else if (dtype_ == DType::kS8) {
          lookup_s8_(static_cast<size_t>(row), reinterpret_cast<const int8_t*>(x + o * row),
                     reinterpret_cast<const int8_t*>(&tables_[i * 256]), reinterpret_cast<int8_t*>(dst));
        } else {
          lookup_u8_(static_cast<size_t>(row), x + o * row, &tables_[i * 256], dst);
        }
      }
      offset += row;
    }
  }
  std::vector<uint8_t> tables_;  // 256 bytes per input (used for the requantized ones)
  kern::LookupFn<int8_t> lookup_s8_ = nullptr;
  kern::LookupFn<uint8_t> lookup_u8_ = nullptr;

  const Node& n_;
  int64_t outer_ = 1, inner_ = 1;
  size_t elem_ = 1;
  DType dtype_ = DType::kF32;
  bool requant_ = false;
  std::vector<int32_t> sizes_;
  std::vector<QParam> in_q_;
  std::vector<uint8_t> same_q_;  // per input: its parameters are the output's
  QParam out_q_{1.f, 0};
  std::vector<const void*> inputs_;
};

// Reshape outputs share their input's memory (planner): nothing to do, no kernel (its
// profiles say "view", not "ref": nothing runs on the reference).
class Reshape : public PreparedOp {
 public:
  void run(uint8_t* const*) override {}
  const char* kernel_name() const override { return "view"; }
};

class Transpose : public PreparedOp {
 public:
  Transpose(const Graph& g, const Node& n) : n_(n), shape_(g.tensors[n.inputs[0]].shape), elem_(dtype_size(g.tensors[n.inputs[0]].dtype)) {}
  Status init(const Graph&, const OpContext& ctx) {
    fn_ = ctx.kernels->misc.transpose ? ctx.kernels->misc.transpose : &ref::transpose;
    name_ = ctx.kernels->misc.names.transpose;
    return Status::Ok();
  }
  void run(uint8_t* const* p) override {
    fn_(static_cast<int>(shape_.size()), shape_.data(), n_.attrs.perm.data(), elem_, p[n_.inputs[0]], p[n_.outputs[0]]);
  }
  // The level's kernel hands some permutations to the reference (kern::transpose_kernel_covers).
  const char* kernel_name() const override {
    if (!kern::transpose_kernel_covers(static_cast<int>(shape_.size()), shape_.data(), n_.attrs.perm.data(), elem_))
      return "ref";
    return misc_kernel_name<kern::TransposeFn>(fn_, &ref::transpose, name_);
  }

 private:
  const Node& n_;
  std::vector<int32_t> shape_;
  size_t elem_;
  kern::TransposeFn fn_ = nullptr;
  const char* name_ = nullptr;
};

class Pad : public PreparedOp {
 public:
  Pad(const Graph& g, const Node& n) : n_(n) {
    const Tensor& x = g.tensors[n.inputs[0]];
    shape_ = x.shape;
    elem_ = dtype_size(x.dtype);
    if (x.dtype == DType::kF32) {
      std::memcpy(fill_, &n.attrs.pad_value, 4);
    } else if (is_index_type(x.dtype)) {  // ids: the fill value truncated (finite: shape rule)
      int64_t v64 = 0;
      ref::cast(1, &n.attrs.pad_value, &v64);
      int32_t v32 = 0;
      ref::cast(1, &n.attrs.pad_value, &v32);
      if (x.dtype == DType::kS64) std::memcpy(fill_, &v64, 8);
      else std::memcpy(fill_, &v32, 4);
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
  Status init(const Graph&, const OpContext& ctx) {
    fn_ = ctx.kernels->misc.pad ? ctx.kernels->misc.pad : &ref::pad;
    name_ = ctx.kernels->misc.names.pad;
    return Status::Ok();
  }
  void run(uint8_t* const* p) override {
    fn_(static_cast<int>(shape_.size()), shape_.data(), n_.attrs.pads.data(), elem_, fill_, p[n_.inputs[0]],
        p[n_.outputs[0]]);
  }
  const char* kernel_name() const override { return misc_kernel_name<kern::PadFn>(fn_, &ref::pad, name_); }

 private:
  const Node& n_;
  std::vector<int32_t> shape_;
  size_t elem_;
  uint8_t fill_[8] = {};  // one element of any dtype
  kern::PadFn fn_ = &ref::pad;
  const char* name_ = nullptr;
};

// Integer upsampling: the level's kernel over index tables (output index / factor), or
// the reference.
class Resize : public PreparedOp {
 public:
  Resize(const Graph& g, const Node& n, const OpContext& ctx)
      : n_(n), shape_(g.tensors[n.inputs[0]].shape), elem_(dtype_size(g.tensors[n.inputs[0]].dtype)) {
    fn_ = ctx.kernels->misc.resize_nearest;
    name_ = ctx.kernels->misc.names.resize;
    if (fn_ == nullptr) return;
    for (int32_t r = 0; r < shape_[1] * n.attrs.scale_h; ++r) rows_.push_back(r / n.attrs.scale_h);
    for (int32_t c = 0; c < shape_[2] * n.attrs.scale_w; ++c) cols_.push_back(c / n.attrs.scale_w);
  }
  void run(uint8_t* const* p) override {
    if (fn_ != nullptr) {
      fn_(shape_[0], shape_[1], shape_[2], static_cast<int32_t>(rows_.size()), static_cast<int32_t>(cols_.size()),
          elem_ * static_cast<size_t>(shape_[3]), rows_.data(), cols_.data(), p[n_.inputs[0]], p[n_.outputs[0]]);
      return;
    }
    ref::resize_nearest(shape_[0], shape_[1], shape_[2], shape_[3], n_.attrs.scale_h, n_.attrs.scale_w, elem_,
                        p[n_.inputs[0]], p[n_.outputs[0]]);
  }
  const char* kernel_name() const override { return fn_ != nullptr && name_ != nullptr ? name_ : "ref"; }

 private:
  const Node& n_;
  std::vector<int32_t> shape_, rows_, cols_;
  size_t elem_;
  kern::ResizeIndexedFn fn_ = nullptr;
  const char* name_ = nullptr;
};

// Nearest resizing to any size: index tables built once, then copies of pixels and of
// repeated rows.
class ResizeNearestTo : public PreparedOp {
 public:
  ResizeNearestTo(const Graph& g, const Node& n, const OpContext& ctx)
      : n_(n), x_(g.tensors[n.inputs[0]].shape), y_(g.tensors[n.outputs[0]].shape) {
    pixel_ = dtype_size(g.tensors[n.inputs[0]].dtype) * static_cast<size_t>(x_[3]);
    const auto round = static_cast<ref::NearestRound>(n.attrs.nearest_mode);
    const auto coord = static_cast<uint8_t>(n.attrs.coord_mode);
    for (int32_t r = 0; r < y_[1]; ++r)
      rows_.push_back(ref::nearest_source(coord, round, r, x_[1], y_[1], n.attrs.coord_scale_h));
    for (int32_t c = 0; c < y_[2]; ++c)
      cols_.push_back(ref::nearest_source(coord, round, c, x_[2], y_[2], n.attrs.coord_scale_w));
    fn_ = ctx.kernels->misc.resize_nearest ? ctx.kernels->misc.resize_nearest : &ref::resize_nearest_indexed;
    name_ = ctx.kernels->misc.names.resize;
  }
  void run(uint8_t* const* p) override {
    fn_(x_[0], x_[1], x_[2], y_[1], y_[2], pixel_, rows_.data(), cols_.data(), p[n_.inputs[0]], p[n_.outputs[0]]);
  }
  const char* kernel_name() const override {
    return misc_kernel_name<kern::ResizeIndexedFn>(fn_, &ref::resize_nearest_indexed, name_);
  }

 private:
  const Node& n_;
  std::vector<int32_t> x_, y_, rows_, cols_;
  size_t pixel_ = 0;
  kern::ResizeIndexedFn fn_ = &ref::resize_nearest_indexed;
  const char* name_ = nullptr;
};

class PadMode : public PreparedOp {
 public:
  PadMode(const Graph& g, const Node& n, const OpContext& ctx)
      : n_(n), shape_(g.tensors[n.inputs[0]].shape), elem_(dtype_size(g.tensors[n.inputs[0]].dtype)) {
    fn_ = ctx.kernels->misc.pad_mode ? ctx.kernels->misc.pad_mode : &ref::pad_mode;
    name_ = ctx.kernels->misc.names.pad_mode;
  }
  void run(uint8_t* const* p) override {
    fn_(n_.op == OpType::kPadReflect, static_cast<int>(shape_.size()), shape_.data(), n_.attrs.pads.data(), elem_,
        p[n_.inputs[0]], p[n_.outputs[0]]);
  }
  const char* kernel_name() const override { return misc_kernel_name<kern::PadModeFn>(fn_, &ref::pad_mode, name_); }

 private:
  const Node& n_;
  std::vector<int32_t> shape_;
  size_t elem_;
  kern::PadModeFn fn_ = &ref::pad_mode;
  const char* name_ = nullptr;
};

class Split : public PreparedOp {
 public:
  Split(const Graph& g, const Node& n, const OpContext& ctx) : n_(n) {
    fn_ = ctx.kernels->misc.split ? ctx.kernels->misc.split : &ref::split;
    name_ = ctx.kernels->misc.names.split;
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
    fn_(outer_, inner_, in_axis_, static_cast<int>(outputs_.size()), sizes_.data(), p[n_.inputs[0]], elem_,
        outputs_.data());
  }
  const char* kernel_name() const override { return misc_kernel_name<kern::SplitFn>(fn_, &ref::split, name_); }

 private:
  const Node& n_;
  kern::SplitFn fn_ = &ref::split;
  const char* name_ = nullptr;
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
  Status init(const Graph&, const OpContext& ctx) {
    fn_ = ctx.kernels->misc.slice ? ctx.kernels->misc.slice : &ref::slice;
    name_ = ctx.kernels->misc.names.slice;
    return Status::Ok();
  }
  void run(uint8_t* const* p) override {
    fn_(static_cast<int>(in_.size()), in_.data(), out_.data(), n_.attrs.starts.data(), n_.attrs.steps.data(), elem_,
        p[n_.inputs[0]], p[n_.outputs[0]]);
  }
  const char* kernel_name() const override { return misc_kernel_name<kern::SliceFn>(fn_, &ref::slice, name_); }

 private:
  const Node& n_;
  std::vector<int32_t> in_, out_;
  size_t elem_;
  kern::SliceFn fn_ = nullptr;
  const char* name_ = nullptr;
};

}  // namespace

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
Status prepare_resize_nearest(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  return own(std::make_unique<Resize>(g, n, ctx), g, ctx, out);
}
Status prepare_resize_nearest_to(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  return own(std::make_unique<ResizeNearestTo>(g, n, ctx), g, ctx, out);
}
Status prepare_pad_mode(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  return own(std::make_unique<PadMode>(g, n, ctx), g, ctx, out);
}
Status prepare_split(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  return own(std::make_unique<Split>(g, n, ctx), g, ctx, out);
}
Status prepare_slice(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  return own(std::make_unique<Slice>(g, n), g, ctx, out);
}

}  // namespace ops
}  // namespace edgeq
