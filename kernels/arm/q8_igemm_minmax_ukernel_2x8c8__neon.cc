// qu8_igemm_minmax_ukernel_2x8c8__neon and qs8_igemm_minmax_ukernel_2x8c8__neon: the
// NEON baseline kernel (q8_igemm_c8_neon.h) on AArch64, 2 rows x 8 channels.
#include "kernels/arm/q8_igemm_c8_neon.h"

namespace edgeq {
namespace kern {

static_assert(kMr == 2 && kNr == 8 && kKr == 8,
              "the tile this file is named after (arm.cmake builds it for one target)");

EDGEQ_ARM_IGEMM_DEFINE(qu8_igemm_minmax_ukernel_2x8c8__neon, qs8_igemm_minmax_ukernel_2x8c8__neon, igemm_c8)

}  // namespace kern
}  // namespace edgeq
