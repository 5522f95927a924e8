// Registration entry points of the ARM float microkernels, GEMM (kernels/fgemm.h) and
// depthwise (kernels/fdw_kernel.h), used at every ARM level (kernels/arm/misc_register.cc).
#pragma once

#include "kernels/fdw_kernel.h"
#include "kernels/fgemm.h"

namespace edgeq {
namespace kern {

// AArch64: 8x8 with fused multiply-add by lane; ARMv7 NEON: 4x8 with multiply-then-add.
FGemmKernel fgemm_kernel_neon();
// Four channels a register: AArch64 with fused multiply-add, ARMv7 multiply-then-add.
FDwKernel fdw_kernel_neon();

}  // namespace kern
}  // namespace edgeq
