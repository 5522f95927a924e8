// The weight layouts of every level's depthwise kernels, on any architecture.
//
// Packing depthwise weights (kernels/qdwconv.h) needs a kernel's tile, row group,
// accumulator order, activation offsets and name, not its code, so a host can
// pre-pack a model's depthwise layers for a device of another architecture (`edgeq
// pack model neondot` on x86), as pack_layout.h does for the GEMM kernels. This table
// restates what kernels/x86/dw_*.cc and kernels/arm/dw_*.cc register;
// test/pack_test.cc checks, on every architecture the tests run on, that it equals
// the registration of every level the CPU supports.
#pragma once

#include "kernels/kernels.h"
#include "kernels/misc.h"

namespace edgeq {
namespace kern {

// Level `isa`'s depthwise kernels without their function pointers, widest tile first
// as the level registers them (pick_dw_kernel() chooses among them the same way);
// empty for kRef.
DwKernels dw_pack_layouts(Isa isa);

}  // namespace kern
}  // namespace edgeq
