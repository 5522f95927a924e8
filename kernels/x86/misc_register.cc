// x86 depthwise, elementwise, pooling, lookup, concat and float GEMM kernels per level.
// The misc kernels are AVX2 at every level (the float unary one: FMA3 or AVX-512F where
// the CPU has them; QuantizeLinear, the binary ops, the float norms and softmax: AVX-512
// at its level); the depthwise kernel has one version per level.
#include <cpuinfo.h>

#include "kernels/kernels.h"
#include "kernels/x86/fdw_x86.h"
#include "kernels/x86/fgemm_x86.h"
#include "kernels/x86/misc_x86.h"

namespace edgeq {
namespace kern {

void register_misc_kernels(Isa isa, KernelSet* set) {
  if (isa == Isa::kAmx) isa = Isa::kAvx512Vnni;  // AMX changes the GEMM only (gemm_register.cc)
  switch (isa) {
    case Isa::kAvx2:
      set->dw = dw_kernels_avx2();
      break;
    case Isa::kAvxVnni:
      set->dw = dw_kernels_avxvnni();
      break;
    case Isa::kAvx512Vnni:
      set->dw = dw_kernels_avx512vnni();
      break;
    default:
      return;
  }
  set->misc = misc_kernels_avx2();
  add_norm_kernels_avx2(&set->misc);
  set->misc.names = EDGEQ_MISC_KERNEL_NAMES("avx2");  // misc.h: how profiles use them
  set->misc.names.split = "xx_split_ukernel__avx2";
  set->misc.names.pad_mode = "xx_padmode_ukernel__avx2";
  set->misc.names.resize = "xx_resize_nearest_ukernel__avx2";
  set->misc.names.resize_linear_f32 = "f32_resize_bilinear_ukernel__avx2";
  // Float MatMul: AVX-512F at its level; below, FMA3 where the CPU has it (AVX2 does not
  // imply it; cpuinfo is initialized: dispatch checked the level first).
  set->fgemm = isa == Isa::kAvx512Vnni ? fgemm_kernel_avx512() : fgemm_kernel_avx2(cpuinfo_has_x86_fma3());
  // Float depthwise convolutions: AVX-512F at its level, FMA3 below where the CPU has it,
  // else the portable kernel (kernels/fdwconv.h).
  if (isa == Isa::kAvx512Vnni) {
    set->fdw = fdw_kernel_avx512();
  } else if (cpuinfo_has_x86_fma3()) {
    set->fdw = fdw_kernel_fma3();
  }
  // Float unary ops: likewise AVX-512F at its level, FMA3 below where the CPU has it.
  if (isa == Isa::kAvx512Vnni) {
    add_unary_kernels_avx512(&set->misc);
    add_quantize_kernels_avx512(&set->misc);
    add_binary_kernels_avx512(&set->misc);
    add_norm_kernels_avx512(&set->misc);
  } else if (cpuinfo_has_x86_fma3()) {
    add_unary_kernels_fma3(&set->misc);
  } else {
    add_unary_kernels_avx2(&set->misc);
  }
  // Softmax: the int8 table lookups without gathers where the CPU has VBMI (not every
  // AVX-512 CPU does); the float kernel on AVX-512F at its level, else AVX2 with FMA3.
  if (isa == Isa::kAvx512Vnni && cpuinfo_has_x86_avx512vbmi()) add_softmax_kernels_avx512vbmi(&set->misc);
  if (isa == Isa::kAvx512Vnni) {
    add_softmax_kernels_avx512(&set->misc);
  } else if (cpuinfo_has_x86_fma3()) {
    add_softmax_kernels_avx2_fma(&set->misc);
  }
}

}  // namespace kern
}  // namespace edgeq
