// ARM GEMM kernels per level: expands the one kernel list (gemm_ukernels.h) into the
// KernelSet of the requested level, each kernel registered under its u8 function's
// name. AArch64 has neon, neondot and neoni8mm; ARMv7 has neon. The neon level also
// registers its kernel for weights in [-127, 127] (KernelSet::gemm_w127).
#include "kernels/arm/gemm_ukernels.h"
#include "kernels/kernels.h"

namespace edgeq {
namespace kern {
namespace {

QGemmKernel make(const char* name, const char* name_s8, uint32_t mr, uint32_t nr, uint32_t kr, int32_t u8_act_offset,
                 QIgemmUkernel u8, QIgemmUkernel s8) {
  QGemmKernel k;
  k.name = name;
  k.name_s8 = name_s8;
  k.mr = mr;
  k.nr = nr;
  k.kr = kr;
  k.s8_act_offset = 0;  // every ARM kernel multiplies int8 activations as they are
  k.u8_act_offset = u8_act_offset;
  k.u8 = u8;
  k.s8 = s8;
  k.int32_output = true;  // neon_requantize_store honours QuantEpilogue::int32_output
  k.flip_swappable = true;  // neon_requantize_store clamps in int32, then narrows without saturating
  return k;
}

#define EDGEQ_ARM_GEMM_ENTRY(level, mr, nr, kr, u8_act_offset, u8_fn, s8_fn) \
  if (isa == level) return make(#u8_fn, #s8_fn, mr, nr, kr, u8_act_offset, u8_fn, s8_fn);

QGemmKernel gemm_kernel(Isa isa) {
  EDGEQ_ARM_GEMM_UKERNELS(EDGEQ_ARM_GEMM_ENTRY)
  return QGemmKernel();
}

QGemmKernel gemm_w127_kernel(Isa isa) {
  EDGEQ_ARM_GEMM_W127_UKERNELS(EDGEQ_ARM_GEMM_ENTRY)
  return QGemmKernel();
}

#undef EDGEQ_ARM_GEMM_ENTRY

}  // namespace

void register_gemm_kernels(Isa isa, KernelSet* set) {
  set->gemm = gemm_kernel(isa);
  set->gemm_w127 = gemm_w127_kernel(isa);
  if (set->gemm_w127.u8 != nullptr) {
    set->gemm_w127.w127_only = true;
    set->gemm.w127_name = set->gemm_w127.name;
  }
}

}  // namespace kern
}  // namespace edgeq
