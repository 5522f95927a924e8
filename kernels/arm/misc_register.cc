// ARM depthwise, elementwise, pooling, lookup, concat and float kernels per level.
// The elementwise, pooling, lookup, concat and float kernels are NEON at every level.
#include "kernels/arm/dw_kernels.h"
#include "kernels/arm/fgemm_neon.h"
#include "kernels/arm/misc_neon.h"
#include "kernels/kernels.h"

namespace edgeq {
namespace kern {

void register_misc_kernels(Isa isa, KernelSet* set) {
  switch (isa) {
    case Isa::kNeon:
      set->dw = dw_kernels_neon();
      break;
#if defined(__aarch64__)
    case Isa::kNeonDot:
    case Isa::kNeonI8mm:  // every i8mm core has dotprod (dispatch.cc requires both)
      set->dw = dw_kernels_neondot();
      break;
#endif
    default:
      return;
  }
  set->misc = misc_kernels_neon();
  add_norm_kernels_neon(&set->misc);
  set->misc.names = EDGEQ_MISC_KERNEL_NAMES("neon");  // misc.h: how profiles use them
  set->misc.names.split = "xx_split_ukernel__neon";
  set->misc.names.pad_mode = "xx_padmode_ukernel__neon";
  set->misc.names.resize = "xx_resize_nearest_ukernel__neon";
  set->misc.names.resize_linear_f32 = "f32_resize_bilinear_ukernel__neon";
  set->fgemm = fgemm_kernel_neon();  // float MatMul, the same at every level
  // Float fully connected layers and convolutions run on it (float_xnn.cc leaves them
  // to edgeq's kernels): its 8x8 main loop models at 97-98% of the FMA ceiling of the
  // Cortex-A76 and Neoverse N1, 78% on the Cortex-A55 (docs/arm-cycle-model.md, "The
  // float GEMM").
  set->fdw = fdw_kernel_neon();
  add_unary_kernels_neon(&set->misc);
#if defined(__aarch64__)
  add_softmax_kernels_neon(&set->misc);  // ARMv7: the reference (softmax_f32_neon.cc)
#endif
}

}  // namespace kern
}  // namespace edgeq
