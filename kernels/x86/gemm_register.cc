// x86 GEMM kernels per level (filled in as the microkernels land).
#include "kernels/kernels.h"

namespace edgeq {
namespace kern {

void register_gemm_kernels(Isa isa, KernelSet* set) { (void)isa; (void)set; }

}  // namespace kern
}  // namespace edgeq
