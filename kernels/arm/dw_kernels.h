// The ARM depthwise kernels per level (kernels/misc.h, DwKernels).
#pragma once

#include "kernels/misc.h"

namespace edgeq {
namespace kern {

// NEON (AArch64 and ARMv7): kernel rows in pairs, widened to int16, smlal.
DwKernels dw_kernels_neon();
#if defined(__aarch64__)
// ARMv8.2 dotprod: kernel rows in quads, sdot.
DwKernels dw_kernels_neondot();
#endif

}  // namespace kern
}  // namespace edgeq
