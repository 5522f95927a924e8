// qu8_igemm_minmax_ukernel_2x8c16__neon_mlal and qs8_igemm_minmax_ukernel_2x8c16__neon_mlal:
// the NEON kernel that sums two products in int16 (smull + smlal) before sadalp
// (q8_igemm_c8_neon.h), on AArch64, 2 rows x 8 channels, kr 16. Valid only for weights
// in [-127, 127]: the level registers it as KernelSet::gemm_w127 (kernels/gemm_pick.h).
#include "kernels/arm/q8_igemm_c8_neon.h"

namespace edgeq {
namespace kern {

static_assert(kMr == 2 && kNr == 8 && kKrMlal == 16,
              "the tile this file is named after (arm.cmake builds it for one target)");

EDGEQ_ARM_IGEMM_DEFINE(qu8_igemm_minmax_ukernel_2x8c16__neon_mlal, qs8_igemm_minmax_ukernel_2x8c16__neon_mlal,
                       igemm_c16_mlal)

}  // namespace kern
}  // namespace edgeq
