// ARM depthwise, elementwise, pooling and lookup kernels per level.
#include "kernels/arm/misc_neon.h"
#include "kernels/kernels.h"

namespace edgeq {
namespace kern {

void register_misc_kernels(Isa isa, KernelSet* set) {
  (void)isa;
  (void)set;
  if (isa == Isa::kNeon || isa == Isa::kNeonDot || isa == Isa::kNeonI8mm) set->misc = misc_kernels_neon();
}

}  // namespace kern
}  // namespace edgeq
