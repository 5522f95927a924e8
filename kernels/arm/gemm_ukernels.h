// The ARM indirect-GEMM microkernels (the QIgemmUkernel contract of kernels/kernels.h),
// one translation unit per ISA, each compiled with its own -march (kernels/arm/arm.cmake).
//
// Naming: q{u8,s8}_igemm_minmax_<MR>x<NR>c<KR>__<isa>: uint8 or int8 activations, MR x NR
// output tile, weights packed in groups of KR consecutive k per channel. Every kernel
// handles both requantization schemes (fp32 and fixed point).
//
// Activation handling per kernel (QGemmKernel::u8_act_offset / s8_act_offset):
//  * neon (smull + sadalp) and neondot (sdot) multiply int8 by int8: uint8 activations
//    are flipped to int8 with x ^ 0x80 (= x - 128), so u8_act_offset = -128;
//  * neoni8mm multiplies uint8 by int8 natively (usmmla) and int8 by int8 (smmla).
#pragma once

#include "kernels/kernels.h"

namespace edgeq {
namespace kern {

// Full unrolling of the loops over a tile's rows and channels, so that accumulators
// stay in registers (GCC's -O2 does not unroll loops that contain loops by itself).
#define EDGEQ_UNROLL _Pragma("GCC unroll 16")

#define EDGEQ_ARM_IGEMM_ARGS                                                                                 \
  size_t mr, size_t nc, size_t kc, size_t ks, const void *const *a, const void *w, void *c, size_t c_stride, \
      size_t n0, const QuantEpilogue *q

#if defined(__aarch64__)
void qu8_igemm_minmax_2x8c8__neon(EDGEQ_ARM_IGEMM_ARGS);
void qs8_igemm_minmax_2x8c8__neon(EDGEQ_ARM_IGEMM_ARGS);
void qu8_igemm_minmax_4x16c4__neondot(EDGEQ_ARM_IGEMM_ARGS);
void qs8_igemm_minmax_4x16c4__neondot(EDGEQ_ARM_IGEMM_ARGS);
void qu8_igemm_minmax_4x16c8__neoni8mm(EDGEQ_ARM_IGEMM_ARGS);
void qs8_igemm_minmax_4x16c8__neoni8mm(EDGEQ_ARM_IGEMM_ARGS);
#else
void qu8_igemm_minmax_2x4c8__neon(EDGEQ_ARM_IGEMM_ARGS);
void qs8_igemm_minmax_2x4c8__neon(EDGEQ_ARM_IGEMM_ARGS);
#endif

}  // namespace kern
}  // namespace edgeq
