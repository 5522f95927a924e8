// Registration entry points of the x86 depthwise and misc kernels, one per ISA
// translation unit (kernels/x86/misc_register.cc fills the KernelSets from them).
#pragma once

#include "kernels/misc.h"

namespace edgeq {
namespace kern {

DwKernels dw_kernels_avx2();
DwKernels dw_kernels_avxvnni();
DwKernels dw_kernels_avx512vnni();
MiscKernels misc_kernels_avx2();

}  // namespace kern
}  // namespace edgeq
