// The x86 float depthwise microkernels (kernels/fdw_kernel.h), each in its own file
// with its ISA's flags: FMA3 on 256-bit vectors, AVX-512F.
#pragma once

#include "kernels/fdw_kernel.h"

namespace edgeq {
namespace kern {

FDwKernel fdw_kernel_fma3();
FDwKernel fdw_kernel_avx512();

}  // namespace kern
}  // namespace edgeq
