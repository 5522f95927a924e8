// Registration entry point of the NEON elementwise, pooling, lookup and concat kernels
// (kernels/arm/misc_neon.cc); kernels/arm/misc_register.cc fills the KernelSets with them.
#pragma once

#include "kernels/misc.h"

namespace edgeq {
namespace kern {

MiscKernels misc_kernels_neon();
// Sets the softmax and layer norm kernels of `k` (kernels/arm/norm_neon.cc).
void add_norm_kernels_neon(MiscKernels* k);
// Sets the float unary kernel of `k` (kernels/arm/unary_f32_neon.cc).
void add_unary_kernels_neon(MiscKernels* k);
// Sets the float softmax of `k` (kernels/arm/softmax_f32_neon.cc; AArch64 only).
void add_softmax_kernels_neon(MiscKernels* k);

}  // namespace kern
}  // namespace edgeq
