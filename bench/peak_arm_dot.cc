// dotprod peak loop (bench/peak.h), AArch64 only, compiled with +dotprod: 24
// independent sdot accumulators, 16 int8 MACs each per iteration.
#include "bench/peak.h"
#include "bench/peak_arm64.h"

namespace edgeq {
namespace bench {

double peak_loop_neondot(uint64_t iters) {
  EDGEQ_PEAK_ARM64_LOOP(sdot, iters);
  return 24.0 * 16.0;
}

}  // namespace bench
}  // namespace edgeq
