// x86 depthwise, elementwise, pooling, lookup and concat kernels per level (filled in
// as the kernels land).
#include "kernels/kernels.h"

namespace edgeq {
namespace kern {

void register_misc_kernels(Isa isa, KernelSet* set) { (void)isa; (void)set; }

}  // namespace kern
}  // namespace edgeq
