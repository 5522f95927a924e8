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
// Layers of at most 8 input channels per group (a network's first convolution: 3) keep
// it too: its k-block of 16 would pad their k to twice the exact kernel's 8, and the
// cycle model (docs/arm-cycle-model.md) has that cost more than the pairing saves.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/kernels.h"

namespace edgeq {
namespace kern {

// True when one of the n int8 weights is -128.
bool weights_hold_int8_min(const int8_t* w, size_t n);

// Whether a layer of n weights w, kc input channels per group (k per tap), runs on a
// level's kernel for weights in [-127, 127] when the level has one: no weight is
// -128 and kc > 8.
bool gemm_w127_suits(const int8_t* w, size_t n, size_t kc);

// set.gemm_w127 when the level has one and gemm_w127_suits(w, n, kc), else set.gemm.
const QGemmKernel& gemm_for_weights(const KernelSet& set, const int8_t* w, size_t n, size_t kc);

// Whether a layer (w127_suits: gemm_w127_suits of it) is packed for `layout` (a
// pack_layout.h layout or a registered kernel): a w127_only layout takes only the
// layers that suit it, an exact layout that has a w127 partner (w127_name) only the
// others, any other layout every layer.
bool gemm_layout_takes(const QGemmKernel& layout, bool w127_suits);

}  // namespace kern
}  // namespace edgeq
