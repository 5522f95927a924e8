// The weight layouts of every level's GEMM kernel, on any architecture.
//
// Packing weights needs a kernel's names and packing parameters (nr, kr, activation
// offsets, wide_weights: kernels/qconv.h), not its code, so a host can pre-pack a model
// for a device of another architecture (`edgeq convert --pack neondot`). This table
// restates the parameters of the kernels that kernels/x86/gemm_ukernels.h and
// kernels/arm/gemm_ukernels.h register; test/pack_test.cc checks, on every
// architecture the tests run on (ARM under qemu), that it equals the registration of
// every level the CPU supports.
#pragma once

#include <vector>

#include "kernels/kernels.h"

namespace edgeq {
namespace kern {

// Level `isa`'s GEMM kernels on every architecture that has the level, without their
// function pointers (mr, nr, kr, offsets, wide weights, names): one for x86 levels,
// four for neon (AArch64's and ARMv7's kernels differ, and each has an exact kernel
// and one for weights in [-127, 127]: w127_only, w127_name), none for kRef. A layer is
// packed for one of a pair: gemm_layout_takes() (kernels/gemm_pick.h).
std::vector<QGemmKernel> gemm_pack_layouts(Isa isa);

}  // namespace kern
}  // namespace edgeq
