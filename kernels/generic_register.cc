// Registration for architectures without optimized kernels: every set stays empty and
// the reference kernels run.
#include "kernels/kernels.h"

namespace edgeq {
namespace kern {

void register_gemm_kernels(Isa, KernelSet*) {}
void register_misc_kernels(Isa, KernelSet*) {}

}  // namespace kern
}  // namespace edgeq
