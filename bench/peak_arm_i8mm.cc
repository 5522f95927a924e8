// i8mm peak loop (bench/peak.h), AArch64 only, compiled with +i8mm: 24 independent
// smmla accumulators, each step a 2x8 by 8x2 int8 matrix product (32 MACs).
#include "bench/peak.h"
#include "bench/peak_arm64.h"

namespace edgeq {
namespace bench {

double peak_loop_neoni8mm(uint64_t iters) {
  EDGEQ_PEAK_ARM64_LOOP(smmla, iters);
  return 24.0 * 32.0;
}

}  // namespace bench
}  // namespace edgeq
