// x86 GEMM kernels per level: expands the one kernel list (gemm_ukernels.h) into the
// KernelSet of the requested level. Dispatch (kernels/dispatch.cc) only asks for the
// levels the CPU runs.
#include "kernels/kernels.h"
#include "kernels/x86/gemm_ukernels.h"
#include "kernels/x86/tile_loops_x86.h"

namespace edgeq {
namespace kern {

namespace x86 {
namespace {

#define EDGEQ_X86_STRINGIFY(x) #x
#define EDGEQ_X86_GEMM_ENTRY(level, mr_, nr_, kr_, offset, wide, u8_fn, s8_fn, u8_row_fn, s8_row_fn) \
  if (isa == level) {                                                                                \
    QGemmKernel k;                                                                                   \
    k.name = EDGEQ_X86_STRINGIFY(u8_fn);                                                             \
    k.name_s8 = EDGEQ_X86_STRINGIFY(s8_fn);                                                          \
    k.mr = mr_;                                                                                      \
    k.nr = nr_;                                                                                      \
    k.kr = kr_;                                                                                      \
    k.s8_act_offset = offset;                                                                        \
    k.wide_weights = wide;                                                                           \
    k.u8 = u8_fn;                                                                                    \
    k.s8 = s8_fn;                                                                                    \
    k.u8_row = u8_row_fn;                                                                            \
    k.s8_row = s8_row_fn;                                                                            \
    k.int32_output = true;                                                                           \
    k.acc_input = true;                                                                              \
    /* epilogue_avx512.h clamps in int32 and truncates (vpmovdb); AVX-VNNI's packs saturate by type */ \
    k.flip_swappable = level == Isa::kAvx512Vnni || level == Isa::kAmx;                              \
    return k;                                                                                        \
  }

QGemmKernel gemm_kernel(Isa isa) {
  EDGEQ_X86_GEMM_UKERNELS(EDGEQ_X86_GEMM_ENTRY)
  return QGemmKernel();
}

#undef EDGEQ_X86_GEMM_ENTRY
#undef EDGEQ_X86_STRINGIFY

}  // namespace
}  // namespace x86

void register_gemm_kernels(Isa isa, KernelSet* set) {
  set->gemm = x86::gemm_kernel(isa);
  QGemmKernel& k = set->gemm;
  const bool avx512 = isa == Isa::kAvx512Vnni || isa == Isa::kAmx;
  k.range_f32 = avx512 ? x86::range_f32_avx512 : x86::range_f32_avx2;
  k.finish_f32 = avx512 ? x86::finish_f32_avx512 : x86::finish_f32_avx2;
  k.sum_u8 = avx512 ? x86::sum_u8_avx512 : x86::sum_u8_avx2;
}

}  // namespace kern
}  // namespace edgeq
