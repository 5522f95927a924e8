// x86 depthwise, elementwise, pooling, lookup and concat kernels per level. The misc
// kernels are AVX2 at every level; the depthwise kernel has one version per level.
#include "kernels/kernels.h"
#include "kernels/x86/misc_x86.h"

namespace edgeq {
namespace kern {

void register_misc_kernels(Isa isa, KernelSet* set) {
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
  add_unary_kernels_avx2(&set->misc);
}

}  // namespace kern
}  // namespace edgeq
