// ARM depthwise, elementwise, pooling and lookup kernels per level.
#include "kernels/kernels.h"

namespace edgeq {
namespace kern {

void register_misc_kernels(Isa isa, KernelSet* set) {
  (void)isa;
  (void)set;
}

}  // namespace kern
}  // namespace edgeq
