// Contracts of the optimized depthwise-convolution, elementwise, pooling, lookup and
// concat kernels (the part of a KernelSet that is not GEMM). A null pointer means the
// reference kernel runs.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/ref/ref.h"

namespace edgeq {
namespace kern {

struct DwKernels {};

struct MiscKernels {};

}  // namespace kern
}  // namespace edgeq
