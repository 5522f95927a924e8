// Which of a level's GEMM kernels runs a layer, from its weights.
//
// A level may have, beside its exact GEMM kernel (KernelSet::gemm), a faster one valid
// only when no weight is -128 (KernelSet::gemm_w127, QGemmKernel::w127_only: NEON's
// smull + smlal kernels sum two int8 products in int16, which two (-128) x (-128)
// products would overflow; with weights in [-127, 127] every pair sum fits). The choice
// is made once per layer when its constant weights are packed, and a pre-packed segment
// is named after the kernel it was packed for (PackedWeights::kernel), so a segment of
// either layout is found only by the layer that picks that kernel. Operands packed per
// call from activations (MatMul's B, which may hold -128) keep the exact kernel.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/kernels.h"

namespace edgeq {
namespace kern {

// True when one of the n int8 weights is -128.
bool weights_hold_int8_min(const int8_t* w, size_t n);

// set.gemm_w127 when the level has one and no weight is -128, else set.gemm.
const QGemmKernel& gemm_for_weights(const KernelSet& set, const int8_t* w, size_t n);

// Whether a layer whose weights do (has_int8_min) or do not hold -128 is packed for
// `layout` (a pack_layout.h layout or a registered kernel): a w127_only layout takes
// only layers without -128, an exact layout that has a w127 partner (w127_name) only
// the others, any other layout every layer.
bool gemm_layout_takes(const QGemmKernel& layout, bool has_int8_min);

}  // namespace kern
}  // namespace edgeq
