// The x86 indirect-GEMM microkernels (contract: QIgemmUkernel in kernels/kernels.h).
//
// EDGEQ_X86_GEMM_UKERNELS is the one list of them: registration (gemm_register.cc)
// expands it and registers each entry under its u8 function's name (kernels.h naming
// rule), and the tests and the benchmarks take every level's registered kernel, so a
// kernel added here is registered, tested and benchmarked. Each entry is
//   X(isa, mr, nr, kr, s8_act_offset, wide_weights, u8, s8, u8 single-row, s8 single-row)
// Each ISA's kernels live in their own file compiled with that ISA's flags
// (kernels/x86/gemm.cmake); nothing here may be called before dispatch checked the CPU.
//
// Requantization: every kernel reads q->scheme and runs the fp32 or fixed-point
// epilogue (one branch per tile, outside the accumulation loop).
#pragma once

#include <cstddef>

#include "kernels/kernels.h"

namespace edgeq {
namespace kern {
namespace x86 {

#define EDGEQ_X86_DECLARE_IGEMM(name)                                                                                  \
  void name(size_t mr, size_t nc, size_t kc, size_t ks, const void* const* a, const void* w, void* c, size_t c_stride, \
            size_t n0, const QuantEpilogue* q)

// Exact AVX2: bytes widened to int16, vpmaddwd (never saturates for u8/s8 x s8);
// weights packed as int16.
EDGEQ_X86_DECLARE_IGEMM(qu8_igemm_minmax_ukernel_3x8c8__avx2);
EDGEQ_X86_DECLARE_IGEMM(qs8_igemm_minmax_ukernel_3x8c8__avx2);
// AVX-VNNI: 256-bit vpdpbusd (u8 x s8 into int32, no saturation); int8 activations xor 0x80.
// The 1x16 kernels are the single-row variants (pointer layout of the 6-row kernels).
EDGEQ_X86_DECLARE_IGEMM(qu8_igemm_minmax_ukernel_6x16c4__avxvnni);
EDGEQ_X86_DECLARE_IGEMM(qs8_igemm_minmax_ukernel_6x16c4__avxvnni);
EDGEQ_X86_DECLARE_IGEMM(qu8_igemm_minmax_ukernel_1x16c4__avxvnni);
EDGEQ_X86_DECLARE_IGEMM(qs8_igemm_minmax_ukernel_1x16c4__avxvnni);
// AVX512-VNNI: 512-bit vpdpbusd; int8 activations xor 0x80. 1x32: single-row variants.
EDGEQ_X86_DECLARE_IGEMM(qu8_igemm_minmax_ukernel_8x32c4__avx512vnni);
EDGEQ_X86_DECLARE_IGEMM(qs8_igemm_minmax_ukernel_8x32c4__avx512vnni);
EDGEQ_X86_DECLARE_IGEMM(qu8_igemm_minmax_ukernel_1x32c4__avx512vnni);
EDGEQ_X86_DECLARE_IGEMM(qs8_igemm_minmax_ukernel_1x32c4__avx512vnni);
// AMX: 32x32 tiles of tdpbusd on the AVX512-VNNI packing (igemm_amx.cc); its short-K
// calls and single-row variants are the AVX512-VNNI loops over its 32-row pointer
// layout (the _mr32 functions).
EDGEQ_X86_DECLARE_IGEMM(qu8_igemm_minmax_ukernel_32x32c4__amx);
EDGEQ_X86_DECLARE_IGEMM(qs8_igemm_minmax_ukernel_32x32c4__amx);
EDGEQ_X86_DECLARE_IGEMM(qu8_igemm_minmax_ukernel_8x32c4__avx512vnni_mr32);
EDGEQ_X86_DECLARE_IGEMM(qs8_igemm_minmax_ukernel_8x32c4__avx512vnni_mr32);
EDGEQ_X86_DECLARE_IGEMM(qu8_igemm_minmax_ukernel_1x32c4__avx512vnni_mr32);
EDGEQ_X86_DECLARE_IGEMM(qs8_igemm_minmax_ukernel_1x32c4__avx512vnni_mr32);

#undef EDGEQ_X86_DECLARE_IGEMM

// Function names are unqualified: expand the list inside namespace edgeq::kern::x86.
// X(isa, mr, nr, kr, s8_act_offset, wide_weights, u8, s8, u8 single-row or nullptr, s8 single-row or nullptr)
#define EDGEQ_X86_GEMM_UKERNELS(X)                                                                                     \
  X(Isa::kAvx2, 3, 8, 8, 0, true, qu8_igemm_minmax_ukernel_3x8c8__avx2, qs8_igemm_minmax_ukernel_3x8c8__avx2, nullptr, \
    nullptr)                                                                                                           \
  X(Isa::kAvxVnni, 6, 16, 4, 128, false, qu8_igemm_minmax_ukernel_6x16c4__avxvnni,                                     \
    qs8_igemm_minmax_ukernel_6x16c4__avxvnni, qu8_igemm_minmax_ukernel_1x16c4__avxvnni,                                \
    qs8_igemm_minmax_ukernel_1x16c4__avxvnni)                                                                          \
  X(Isa::kAvx512Vnni, 8, 32, 4, 128, false, qu8_igemm_minmax_ukernel_8x32c4__avx512vnni,                               \
    qs8_igemm_minmax_ukernel_8x32c4__avx512vnni, qu8_igemm_minmax_ukernel_1x32c4__avx512vnni,                          \
    qs8_igemm_minmax_ukernel_1x32c4__avx512vnni)                                                                       \
  X(Isa::kAmx, 32, 32, 4, 128, false, qu8_igemm_minmax_ukernel_32x32c4__amx, qs8_igemm_minmax_ukernel_32x32c4__amx,    \
    qu8_igemm_minmax_ukernel_1x32c4__avx512vnni_mr32, qs8_igemm_minmax_ukernel_1x32c4__avx512vnni_mr32)

}  // namespace x86
}  // namespace kern
}  // namespace edgeq
