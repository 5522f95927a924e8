// NEON peak loop (bench/peak.h), for AArch64 and ARMv7-A. The exact NEON int8 step of
// the baseline kernels (kernels/arm/q8_igemm_c8_neon.h) is a widening multiply of 8
// int8 pairs into int16 (smull; vmull.s8 on ARMv7) plus the pairwise add of those
// products into int32 accumulators (sadalp; vpadal.s16): 8 MACs per pair. smlal
// would be one instruction, but two int8 products summed in int16 can overflow, so no
// exact kernel is built on it and it would overstate the reachable peak.
#include "bench/peak.h"

namespace edgeq {
namespace bench {

#if defined(__aarch64__)
// 12 independent product / accumulator pairs (v0-v11 into v16-v27), twice per iteration.
double peak_loop_neon(uint64_t iters) {
  asm volatile(
      "movi v30.16b, #0\n\t"
      "movi v31.16b, #0\n\t"
      "1:\n\t"
#define EDGEQ_MA(t, a) "smull v" #t ".8h, v30.8b, v31.8b\n\tsadalp v" #a ".4s, v" #t ".8h\n\t"
      EDGEQ_MA(0, 16) EDGEQ_MA(1, 17) EDGEQ_MA(2, 18) EDGEQ_MA(3, 19) EDGEQ_MA(4, 20) EDGEQ_MA(5, 21) EDGEQ_MA(6, 22)
          EDGEQ_MA(7, 23) EDGEQ_MA(8, 24) EDGEQ_MA(9, 25) EDGEQ_MA(10, 26) EDGEQ_MA(11, 27) EDGEQ_MA(0, 16)
              EDGEQ_MA(1, 17) EDGEQ_MA(2, 18) EDGEQ_MA(3, 19) EDGEQ_MA(4, 20) EDGEQ_MA(5, 21) EDGEQ_MA(6, 22)
                  EDGEQ_MA(7, 23) EDGEQ_MA(8, 24) EDGEQ_MA(9, 25) EDGEQ_MA(10, 26) EDGEQ_MA(11, 27)
#undef EDGEQ_MA
                      "subs %0, %0, #1\n\t"
                      "b.ne 1b\n\t"
      : "+r"(iters)
      :
      : "cc", "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v16", "v17", "v18", "v19",
        "v20", "v21", "v22", "v23", "v24", "v25", "v26", "v27", "v30", "v31");
  return 24.0 * 8.0;
}
#elif defined(__arm__)
// 7 independent product / accumulator pairs (q0-q6 into q7-q13), twice per iteration;
// the count runs in 32 bits (callers pass far fewer than 2^32 iterations).
double peak_loop_neon(uint64_t iters) {
  uint32_t n = static_cast<uint32_t>(iters);
  asm volatile(
      "vmov.i8 q14, #0\n\t"
      "1:\n\t"
#define EDGEQ_MA(t, a) "vmull.s8 q" #t ", d28, d29\n\tvpadal.s16 q" #a ", q" #t "\n\t"
      EDGEQ_MA(0, 7) EDGEQ_MA(1, 8) EDGEQ_MA(2, 9) EDGEQ_MA(3, 10) EDGEQ_MA(4, 11) EDGEQ_MA(5, 12) EDGEQ_MA(6, 13)
          EDGEQ_MA(0, 7) EDGEQ_MA(1, 8) EDGEQ_MA(2, 9) EDGEQ_MA(3, 10) EDGEQ_MA(4, 11) EDGEQ_MA(5, 12) EDGEQ_MA(6, 13)
#undef EDGEQ_MA
              "subs %0, %0, #1\n\t"
              "bne 1b\n\t"
      : "+r"(n)
      :
      : "cc", "q0", "q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8", "q9", "q10", "q11", "q12", "q13", "q14");
  return 14.0 * 8.0;
}
#endif

}  // namespace bench
}  // namespace edgeq
