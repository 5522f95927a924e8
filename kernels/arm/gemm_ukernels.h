// The ARM indirect-GEMM microkernels (the QIgemmUkernel contract of kernels/kernels.h),
// one translation unit per ISA, each compiled with its own -march (kernels/arm/arm.cmake).
//
// Names follow kernels/kernels.h: q{u8,s8}_igemm_minmax_ukernel_<MR>x<NR>c<KR>__<isa>,
// uint8 or int8 activations, MR x NR output tile, weights packed in groups of KR
// consecutive k per channel; every kernel handles both requantization schemes (fp32 and
// fixed point), so the name has no <requant> part. The file
// q8_igemm_minmax_ukernel_<MR>x<NR>c<KR>__<isa>.cc holds the qu8 and qs8 functions.
//
// EDGEQ_ARM_GEMM_UKERNELS is the one list of them: registration (gemm_register.cc)
// expands it and registers each function under its own name (#u8), so a registered
// name is always the function's symbol; the tests and the benchmarks take the kernels
// of every level from that registration.
//
// Activation handling per kernel (QGemmKernel::u8_act_offset / s8_act_offset):
//  * neon (smull + sadalp) and neondot (sdot) multiply int8 by int8: uint8 activations
//    are flipped to int8 with x ^ 0x80 (= x - 128), so u8_act_offset = -128;
//  * neoni8mm multiplies uint8 by int8 natively (usmmla) and int8 by int8 (smmla).
//
// EDGEQ_ARM_GEMM_W127_UKERNELS lists the kernels valid only for weights in [-127, 127]
// (neon_mlal: smull + smlal sum two products in int16), registered as a level's
// KernelSet::gemm_w127 beside its exact kernel (kernels/gemm_pick.h picks per layer).
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

// Defines a kernel's two functions (names spelled out, so that both can be found)
// from its body template, whose bool parameter is true for uint8 activations.
#define EDGEQ_ARM_IGEMM_DEFINE(u8_name, s8_name, body)                                         \
  void u8_name(EDGEQ_ARM_IGEMM_ARGS) { body<true>(mr, nc, kc, ks, a, w, c, c_stride, n0, q); } \
  void s8_name(EDGEQ_ARM_IGEMM_ARGS) { body<false>(mr, nc, kc, ks, a, w, c, c_stride, n0, q); }

#if defined(__aarch64__)
void qu8_igemm_minmax_ukernel_2x8c8__neon(EDGEQ_ARM_IGEMM_ARGS);
void qs8_igemm_minmax_ukernel_2x8c8__neon(EDGEQ_ARM_IGEMM_ARGS);
void qu8_igemm_minmax_ukernel_2x8c16__neon_mlal(EDGEQ_ARM_IGEMM_ARGS);
void qs8_igemm_minmax_ukernel_2x8c16__neon_mlal(EDGEQ_ARM_IGEMM_ARGS);
void qu8_igemm_minmax_ukernel_4x16c4__neondot(EDGEQ_ARM_IGEMM_ARGS);
void qs8_igemm_minmax_ukernel_4x16c4__neondot(EDGEQ_ARM_IGEMM_ARGS);
void qu8_igemm_minmax_ukernel_4x16c8__neoni8mm(EDGEQ_ARM_IGEMM_ARGS);
void qs8_igemm_minmax_ukernel_4x16c8__neoni8mm(EDGEQ_ARM_IGEMM_ARGS);

// X(isa, mr, nr, kr, u8_act_offset, u8, s8); s8_act_offset is 0 for every ARM kernel
// (int8 activations are multiplied as they are).
#define EDGEQ_ARM_GEMM_UKERNELS(X)                                                                                     \
  X(Isa::kNeon, 2, 8, 8, -128, qu8_igemm_minmax_ukernel_2x8c8__neon, qs8_igemm_minmax_ukernel_2x8c8__neon)             \
  X(Isa::kNeonDot, 4, 16, 4, -128, qu8_igemm_minmax_ukernel_4x16c4__neondot, qs8_igemm_minmax_ukernel_4x16c4__neondot) \
  X(Isa::kNeonI8mm, 4, 16, 8, 0, qu8_igemm_minmax_ukernel_4x16c8__neoni8mm, qs8_igemm_minmax_ukernel_4x16c8__neoni8mm)
// The kernels for weights in [-127, 127] (KernelSet::gemm_w127), the same X arguments.
#define EDGEQ_ARM_GEMM_W127_UKERNELS(X) \
  X(Isa::kNeon, 2, 8, 16, -128, qu8_igemm_minmax_ukernel_2x8c16__neon_mlal, qs8_igemm_minmax_ukernel_2x8c16__neon_mlal)
#else
// ARMv7: NEON only (its dotprod needs ARMv8.2 AArch32, not a target of this build).
void qu8_igemm_minmax_ukernel_2x4c8__neon(EDGEQ_ARM_IGEMM_ARGS);
void qs8_igemm_minmax_ukernel_2x4c8__neon(EDGEQ_ARM_IGEMM_ARGS);
void qu8_igemm_minmax_ukernel_2x4c16__neon_mlal(EDGEQ_ARM_IGEMM_ARGS);
void qs8_igemm_minmax_ukernel_2x4c16__neon_mlal(EDGEQ_ARM_IGEMM_ARGS);

#define EDGEQ_ARM_GEMM_UKERNELS(X) \
  X(Isa::kNeon, 2, 4, 8, -128, qu8_igemm_minmax_ukernel_2x4c8__neon, qs8_igemm_minmax_ukernel_2x4c8__neon)
#define EDGEQ_ARM_GEMM_W127_UKERNELS(X) \
  X(Isa::kNeon, 2, 4, 16, -128, qu8_igemm_minmax_ukernel_2x4c16__neon_mlal, qs8_igemm_minmax_ukernel_2x4c16__neon_mlal)
#endif

}  // namespace kern
}  // namespace edgeq
