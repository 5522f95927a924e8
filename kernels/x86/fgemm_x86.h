// Registration entry points of the x86 float GEMM microkernels (kernels/fgemm.h), one
// per ISA translation unit; kernels/x86/misc_register.cc picks one per level.
#pragma once

#include "kernels/fgemm.h"

namespace edgeq {
namespace kern {

// 6x16 on 256-bit vectors: with fused multiply-add (fma3, for CPUs that have FMA3),
// or a multiply and an add (bit-exact with ref::matmul_f32; AVX2 does not imply FMA3).
FGemmKernel fgemm_kernel_avx2(bool fma);
// 8x32 on 512-bit vectors with fused multiply-add (AVX-512F).
FGemmKernel fgemm_kernel_avx512();

}  // namespace kern
}  // namespace edgeq
