// ARM GEMM kernels per level: the best kernel of each level this build has. AArch64
// has neon, neondot and neoni8mm; ARMv7 has neon (its dotprod needs ARMv8.2 AArch32,
// not a target of this build).
#include "kernels/arm/gemm_ukernels.h"
#include "kernels/kernels.h"

namespace edgeq {
namespace kern {
namespace {

QGemmKernel make(const char* name, uint32_t mr, uint32_t nr, uint32_t kr, int32_t u8_act_offset, QIgemmUkernel u8,
                 QIgemmUkernel s8) {
  QGemmKernel k;
  k.name = name;
  k.mr = mr;
  k.nr = nr;
  k.kr = kr;
  k.s8_act_offset = 0;  // every ARM kernel multiplies int8 activations as they are
  k.u8_act_offset = u8_act_offset;
  k.u8 = u8;
  k.s8 = s8;
  return k;
}

}  // namespace

void register_gemm_kernels(Isa isa, KernelSet* set) {
  switch (isa) {
#if defined(__aarch64__)
    case Isa::kNeon:
      set->gemm = make("q8_igemm_minmax_2x8c8__neon", 2, 8, 8, -128, qu8_igemm_minmax_2x8c8__neon,
                       qs8_igemm_minmax_2x8c8__neon);
      break;
    case Isa::kNeonDot:
      set->gemm = make("q8_igemm_minmax_4x16c4__neondot", 4, 16, 4, -128, qu8_igemm_minmax_4x16c4__neondot,
                       qs8_igemm_minmax_4x16c4__neondot);
      break;
    case Isa::kNeonI8mm:
      set->gemm = make("q8_igemm_minmax_4x16c8__neoni8mm", 4, 16, 8, 0, qu8_igemm_minmax_4x16c8__neoni8mm,
                       qs8_igemm_minmax_4x16c8__neoni8mm);
      break;
#else
    case Isa::kNeon:
      set->gemm = make("q8_igemm_minmax_2x4c8__neon", 2, 4, 8, -128, qu8_igemm_minmax_2x4c8__neon,
                       qs8_igemm_minmax_2x4c8__neon);
      break;
#endif
    default:
      break;
  }
}

}  // namespace kern
}  // namespace edgeq
