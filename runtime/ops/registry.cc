// The op layer's registry (see ops.h): every op of the op table (graph/op_table.h) to
// its family's prepare_<Prepare>(), in enum order, built from the table itself.
#include <algorithm>
#include <cmath>

#include "runtime/ops/common.h"
#include "runtime/ops/float_xnn.h"

namespace edgeq {

const Scheduler OpContext::kSerial;

namespace {

using PrepareFn = Status (*)(const Graph&, const Node&, const OpContext&, std::unique_ptr<PreparedOp>*);

constexpr PrepareFn kRegistry[] = {
#define EDGEQ_OP_REGISTRY(Name, Opts, Shape, Prepare, Flags) &ops::prepare_##Prepare,
    EDGEQ_OPS(EDGEQ_OP_REGISTRY)
#undef EDGEQ_OP_REGISTRY
};
static_assert(sizeof(kRegistry) / sizeof(kRegistry[0]) == static_cast<size_t>(OpType::kCount),
              "every op needs a registry entry");

}  // namespace

void quantized_output_range(const Tensor& y, float act_min, float act_max, int32_t* qmin, int32_t* qmax) {
  const ops::QParam q = ops::qparam(y);
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
  if (i >= static_cast<size_t>(OpType::kCount)) return ops::op_error(n, "unknown op");
  // Float nodes run on XNNPACK where it has the op, except at the reference level,
  // which is the scalar reference everywhere.
  if (ctx.kernels->isa != kern::Isa::kRef) {
    EDGEQ_RETURN_IF_ERROR(prepare_xnn_float_op(g, n, ctx, out));
    if (*out) return Status::Ok();
  }
  return kRegistry[i](g, n, ctx, out);
}

}  // namespace edgeq
