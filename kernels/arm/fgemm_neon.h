// Registration entry point of the ARM float GEMM microkernel (kernels/fgemm.h), used at
// every ARM level (kernels/arm/misc_register.cc).
#pragma once

#include "kernels/fgemm.h"

namespace edgeq {
namespace kern {

// AArch64: 8x8 with fused multiply-add by lane; ARMv7 NEON: 4x8 with multiply-then-add.
FGemmKernel fgemm_kernel_neon();

}  // namespace kern
}  // namespace edgeq
