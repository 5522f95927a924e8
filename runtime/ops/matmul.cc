// MatMul: the batched product of two activations (attention's QK^T and scores x V).
//
// Float (`dynamic` 0): the level's float GEMM microkernel through kern::FMatMulOp
// (kernels/fmatmul.h: B packed per run into panels in the node's workspace, once for a
// broadcast B; the packing and the row blocks each split over the session's scheduler), or the reference's loop
// (ref::matmul_f32) on levels without one. Debian's XNNPACK has no batched product of
// two activations. Quantized (A, B, Y each int8 or uint8) and
// dynamically quantized (`dynamic` 1 and 2): the level's int8 GEMM kernels through
// kern::QMatMulOp, which packs B per run into scratch allocated here, or the reference
// on levels whose kernels cannot store int32 tiles. Batches broadcast in place: a B
// shared by every head is packed once and A is never copied. The run's phases (pack B,
// prepare A's rows, the tiles over batch x rows x column blocks) are each split over
// the session's scheduler.
#include <memory>

#include "kernels/fmatmul.h"
#include "runtime/ops/qmatmul_op.h"

namespace edgeq {
namespace ops {
namespace {

// The operands' logical shapes: the view fold's (runtime/view_fold.h), else the tensors'.
Status matmul_shape(const Graph& g, const Node& n, ref::MatMulShape* s) {
  const bool folded = !n.attrs.matmul_views.empty();
  const auto& a = folded ? n.attrs.matmul_a_shape : g.tensors[n.inputs[0]].shape;
  const auto& b = folded ? n.attrs.matmul_b_shape : g.tensors[n.inputs[1]].shape;
  if (!ref::make_matmul_shape(a.data(), static_cast<int>(a.size()), b.data(), static_cast<int>(b.size()), s))
    return op_error(n, "operand shapes do not multiply");
  return Status::Ok();
}

// The view fold's strides (ir.h, Attrs::matmul_views), else the dense layouts.
ref::MatMulViews matmul_views(const Node& n, const ref::MatMulShape& s) {
  const std::vector<int64_t>& v = n.attrs.matmul_views;
  if (v.empty()) return ref::dense_matmul_views(s);
  ref::MatMulViews out;
  size_t i = 0;
  for (ref::MatMulView* view : {&out.a, &out.b, &out.y}) {
    view->offset = v[i++];
    view->row = v[i++];
    view->col = v[i++];
    for (int d = 0; d < ref::kMaxDims; ++d) view->batch[d] = v[i++];
  }
  return out;
}

class MatMulF32 : public PreparedOp {
 public:
  MatMulF32(const Node& n, const ref::MatMulShape& s) : n_(n), s_(s), v_(matmul_views(n, s)) {}
  Status init(const Graph&, const OpContext& ctx) {
    if (!ctx.kernels) return Status::Ok();
    if (engine_.init(s_, v_, ctx.kernels->fgemm)) {
      name_ = ctx.kernels->fgemm.name;
      scheduler_ = ctx.scheduler;
    }
    return Status::Ok();
  }
  void run(uint8_t* const* p) override {
    const float *a = at<float>(p, n_.inputs[0]), *b = at<float>(p, n_.inputs[1]);
    float* y = at<float>(p, n_.outputs[0]);
    if (scheduler_ == nullptr) return ref::matmul_f32(s_, v_, a, b, y);
    engine_.begin(a, b, y);
    const int64_t elements = static_cast<int64_t>(engine_.elements());
    scheduler_->ranges(static_cast<int64_t>(engine_.b_parts()), elements, [&](int64_t b0, int64_t b1) {
      engine_.pack_b(static_cast<size_t>(b0), static_cast<size_t>(b1));
    });
    const kern::FMatMulOp& rows = engine_;
    scheduler_->ranges(static_cast<int64_t>(engine_.row_blocks()), elements, [&](int64_t r0, int64_t r1) {
      rows.run_rows(static_cast<size_t>(r0), static_cast<size_t>(r1));
    });
  }
  size_t workspace_bytes() const override { return scheduler_ != nullptr ? engine_.workspace_bytes() : 0; }
  void set_workspace(uint8_t* workspace) override { engine_.set_workspace(workspace); }
  const char* kernel_name() const override { return name_; }

 private:
  const Node& n_;
  ref::MatMulShape s_;
  ref::MatMulViews v_;
  kern::FMatMulOp engine_;
  const Scheduler* scheduler_ = nullptr;  // null: the reference runs
  const char* name_ = "ref";
};

class DynamicMatMul : public QMatMulEngineOp {
 public:
  DynamicMatMul(const Node& n, const ref::MatMulShape& s) : n_(n), s_(s) {}
  Status init(const Graph&, const OpContext& ctx) {
    kern::QMatMulParams params;
    params.shape = s_;
    params.mode = n_.attrs.dynamic;
    if (ctx.kernels) params.quantize_u8 = ctx.kernels->misc.quantize_u8;
    EDGEQ_RETURN_IF_ERROR(make_engine(n_, params, ctx.kernels->gemm, ctx.kernels->gemm.name, ctx));
    if (engine()) return Status::Ok();
    scratch_.resize((ref::dynamic_matmul_scratch_bytes(s_, n_.attrs.dynamic) + 3) / 4);
    return Status::Ok();
  }
  void run(uint8_t* const* p) override {
    const float *a = at<float>(p, n_.inputs[0]), *b = at<float>(p, n_.inputs[1]);
    float* y = at<float>(p, n_.outputs[0]);
    if (engine()) return run_engine(a, b, y);
    ref::dynamic_matmul(s_, n_.attrs.dynamic, a, b, scratch_.data(), y);
  }
  size_t reference_bytes() const override { return scratch_.size() * sizeof(uint32_t); }

 private:
  const Node& n_;
  ref::MatMulShape s_;
  std::vector<uint32_t> scratch_;
};

using QMatMulFn = void (*)(const ref::MatMulShape&, const void*, int32_t, const void*, int32_t, const ref::Requant&,
                           void*);

template <typename TA, typename TB, typename TY>
void qmatmul_ref(const ref::MatMulShape& s, const void* a, int32_t za, const void* b, int32_t zb,
                 const ref::Requant& rq, void* y) {
  ref::qmatmul<TA, TB, TY>(s, static_cast<const TA*>(a), za, static_cast<const TB*>(b), zb, rq, static_cast<TY*>(y));
}

template <typename TA, typename TB>
QMatMulFn pick_y(bool y_s8) {
  return y_s8 ? &qmatmul_ref<TA, TB, int8_t> : &qmatmul_ref<TA, TB, uint8_t>;
}

QMatMulFn pick_ref(bool a_s8, bool b_s8, bool y_s8) {
  if (a_s8) return b_s8 ? pick_y<int8_t, int8_t>(y_s8) : pick_y<int8_t, uint8_t>(y_s8);
  return b_s8 ? pick_y<uint8_t, int8_t>(y_s8) : pick_y<uint8_t, uint8_t>(y_s8);
}

class QMatMul : public QMatMulEngineOp {
 public:
  QMatMul(const Node& n, const ref::MatMulShape& s) : n_(n), s_(s) {}
  Status init(const Graph& g, const OpContext& ctx) {
    const Tensor &a = g.tensors[n_.inputs[0]], &b = g.tensors[n_.inputs[1]], &y = g.tensors[n_.outputs[0]];
    for (const Tensor* t : {&a, &b, &y})
      if (t->dtype != DType::kS8 && t->dtype != DType::kU8)
        return op_error(n_, "tensor '" + t->name + "' has dtype " + dtype_name(t->dtype) + " (int8 or uint8 needed)");
    const bool a_s8 = a.dtype == DType::kS8, b_s8 = b.dtype == DType::kS8, y_s8 = y.dtype == DType::kS8;
    za_ = qparam(a).zero_point;
    zb_ = qparam(b).zero_point;
    EDGEQ_RETURN_IF_ERROR(
        rs_.init(n_, scheme_of(g), qparam(a).scale, {qparam(b).scale}, y, n_.attrs.act_min, n_.attrs.act_max));
    fn_ = pick_ref(a_s8, b_s8, y_s8);
    // The kernels read a little past A's rows: only arena tensors have that slack.
    if (a.is_constant()) return Status::Ok();
    kern::QMatMulParams params;
    params.shape = s_;
    params.a_s8 = a_s8;
    params.b_s8 = b_s8;
    params.y_s8 = y_s8;
    params.a_zero_point = za_;
    params.b_zero_point = zb_;
    params.rq = rs_.rq;
    return make_engine(n_, params, ctx.kernels->gemm, a_s8 ? ctx.kernels->gemm.name_s8 : ctx.kernels->gemm.name, ctx);
  }
  void run(uint8_t* const* p) override {
    const void *a = p[n_.inputs[0]], *b = p[n_.inputs[1]];
    void* y = p[n_.outputs[0]];
    if (engine()) return run_engine(a, b, y);
    fn_(s_, a, za_, b, zb_, rs_.rq, y);
  }

 private:
  const Node& n_;
  ref::MatMulShape s_;
  int32_t za_ = 0, zb_ = 0;
  RequantStore rs_;
  QMatMulFn fn_ = nullptr;
};

}  // namespace

Status prepare_matmul(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out) {
  ref::MatMulShape s;
  EDGEQ_RETURN_IF_ERROR(matmul_shape(g, n, &s));
  const bool fl = g.tensors[n.inputs[0]].dtype == DType::kF32;
  const bool y_fl = g.tensors[n.outputs[0]].dtype == DType::kF32;
  if (!fl && y_fl && g.tensors[n.inputs[1]].dtype != DType::kF32)  // qgemm_float.cc
    return prepare_matmul_float_out(g, n, s, ctx, out);
  if (fl != (g.tensors[n.inputs[1]].dtype == DType::kF32) || fl != y_fl)
    return op_error(n, "operands and result must be all float, all quantized, or quantized with a float result");
  if (!fl) {
    if (n.attrs.dynamic != 0) return op_error(n, "dynamic quantization needs float operands");
    return own(std::make_unique<QMatMul>(n, s), g, ctx, out);
  }
  if (n.attrs.dynamic == 0) return own(std::make_unique<MatMulF32>(n, s), g, ctx, out);
  if (n.attrs.dynamic != 1 && n.attrs.dynamic != 2)
    return op_error(n, "dynamic quantization mode " + std::to_string(n.attrs.dynamic) + " is not 0, 1 or 2");
  return own(std::make_unique<DynamicMatMul>(n, s), g, ctx, out);
}

}  // namespace ops
}  // namespace edgeq
