// qu8_igemm_minmax_ukernel_2x4c8__neon and qs8_igemm_minmax_ukernel_2x4c8__neon: the
// NEON baseline kernel (q8_igemm_c8_neon.h) on ARMv7, 2 rows x 4 channels (its 16 q
// registers hold the 8 accumulators).
#include "kernels/arm/q8_igemm_c8_neon.h"

namespace edgeq {
namespace kern {

static_assert(kMr == 2 && kNr == 4 && kKr == 8,
              "the tile this file is named after (arm.cmake builds it for one target)");

EDGEQ_ARM_IGEMM_DEFINE(qu8_igemm_minmax_ukernel_2x4c8__neon, qs8_igemm_minmax_ukernel_2x4c8__neon, igemm_c8)

}  // namespace kern
}  // namespace edgeq
