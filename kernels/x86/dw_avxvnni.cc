// AVX-VNNI depthwise row kernel: dw_rows.h with the ymm byte-quad traits
// (dw_quads_ymm.h), 32-channel tiles.
#include "kernels/x86/dw_quads_ymm.h"
#include "kernels/dw_rows.h"
#include "kernels/x86/misc_x86.h"

namespace edgeq {
namespace kern {

DwKernels dw_kernels_avxvnni() {
  DwKernels set;
  set.kernel[0] = dw_kernel_of<DwQuadsYmm>("q8_dwconv_minmax_ukernel_32c4__avxvnni", 128, 0, 1);
  return set;
}

}  // namespace kern
}  // namespace edgeq
