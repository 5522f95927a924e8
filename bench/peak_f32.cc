// Float multiply-add peak loops (bench/peak.h), behind kernels_bench.cc's %peak of the
// float GEMM benchmarks: independent accumulator chains of one vector multiply-add, in
// inline assembly, enough of them to cover the latency of two pipes. x86: FMA3 ymm
// (8 lanes) and AVX-512F zmm (16), each function with its target attribute; AArch64:
// fmla .4s (4); ARMv7 NEON: vmla.f32 on q registers (4, multiply-then-add).
#include "bench/peak.h"

namespace edgeq {
namespace bench {

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) double peak_loop_f32_fma3(uint64_t iters) {
  asm volatile(
      "vxorps %%ymm14, %%ymm14, %%ymm14\n\t"
      "vxorps %%ymm15, %%ymm15, %%ymm15\n\t"
      "1:\n\t"
#define EDGEQ_FMA(r) "vfmadd231ps %%ymm15, %%ymm14, %%ymm" #r "\n\t"
      EDGEQ_FMA(0) EDGEQ_FMA(1) EDGEQ_FMA(2) EDGEQ_FMA(3) EDGEQ_FMA(4) EDGEQ_FMA(5) EDGEQ_FMA(6) EDGEQ_FMA(7)
          EDGEQ_FMA(8) EDGEQ_FMA(9) EDGEQ_FMA(10) EDGEQ_FMA(11) EDGEQ_FMA(12) EDGEQ_FMA(13)
#undef EDGEQ_FMA
              "dec %0\n\t"
              "jnz 1b\n\t"
              "vzeroupper\n\t"
      : "+r"(iters)
      :
      : "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12",
        "xmm13", "xmm14", "xmm15");
  return 14.0 * 8.0;
}

__attribute__((target("avx512f"))) double peak_loop_f32_avx512(uint64_t iters) {
  asm volatile(
      "vpxord %%zmm30, %%zmm30, %%zmm30\n\t"
      "vpxord %%zmm31, %%zmm31, %%zmm31\n\t"
      "1:\n\t"
#define EDGEQ_FMA(r) "vfmadd231ps %%zmm31, %%zmm30, %%zmm" #r "\n\t"
      EDGEQ_FMA(0) EDGEQ_FMA(1) EDGEQ_FMA(2) EDGEQ_FMA(3) EDGEQ_FMA(4) EDGEQ_FMA(5) EDGEQ_FMA(6) EDGEQ_FMA(7)
          EDGEQ_FMA(8) EDGEQ_FMA(9) EDGEQ_FMA(10) EDGEQ_FMA(11) EDGEQ_FMA(12) EDGEQ_FMA(13) EDGEQ_FMA(14)
              EDGEQ_FMA(15) EDGEQ_FMA(16) EDGEQ_FMA(17) EDGEQ_FMA(18) EDGEQ_FMA(19) EDGEQ_FMA(20) EDGEQ_FMA(21)
                  EDGEQ_FMA(22) EDGEQ_FMA(23)
#undef EDGEQ_FMA
                      "dec %0\n\t"
                      "jnz 1b\n\t"
                      "vzeroupper\n\t"
      : "+r"(iters)
      :
      : "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12",
        "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm30",
        "xmm31");
  return 24.0 * 16.0;
}
#elif defined(__aarch64__)
double peak_loop_f32_neon(uint64_t iters) {
  asm volatile(
      "movi v30.16b, #0\n\t"
      "movi v31.16b, #0\n\t"
      "1:\n\t"
#define EDGEQ_FMA(r) "fmla v" #r ".4s, v30.4s, v31.4s\n\t"
      EDGEQ_FMA(0) EDGEQ_FMA(1) EDGEQ_FMA(2) EDGEQ_FMA(3) EDGEQ_FMA(4) EDGEQ_FMA(5) EDGEQ_FMA(6) EDGEQ_FMA(7)
          EDGEQ_FMA(8) EDGEQ_FMA(9) EDGEQ_FMA(10) EDGEQ_FMA(11) EDGEQ_FMA(12) EDGEQ_FMA(13) EDGEQ_FMA(14)
              EDGEQ_FMA(15)
#undef EDGEQ_FMA
                  "subs %0, %0, #1\n\t"
                  "b.ne 1b\n\t"
      : "+r"(iters)
      :
      : "cc", "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v12", "v13", "v14", "v15",
        "v30", "v31");
  return 16.0 * 4.0;
}
#elif defined(__arm__)
// The count runs in 32 bits (callers pass far fewer than 2^32 iterations).
double peak_loop_f32_neon(uint64_t iters) {
  uint32_t n = static_cast<uint32_t>(iters);
  asm volatile(
      "vmov.i32 q14, #0\n\t"
      "vmov.i32 q15, #0\n\t"
      "1:\n\t"
#define EDGEQ_FMA(r) "vmla.f32 q" #r ", q14, q15\n\t"
      EDGEQ_FMA(0) EDGEQ_FMA(1) EDGEQ_FMA(2) EDGEQ_FMA(3) EDGEQ_FMA(4) EDGEQ_FMA(5) EDGEQ_FMA(6) EDGEQ_FMA(7)
          EDGEQ_FMA(8) EDGEQ_FMA(9) EDGEQ_FMA(10) EDGEQ_FMA(11)
#undef EDGEQ_FMA
              "subs %0, %0, #1\n\t"
              "bne 1b\n\t"
      : "+r"(n)
      :
      : "cc", "q0", "q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8", "q9", "q10", "q11", "q14", "q15");
  return 12.0 * 4.0;
}
#endif

}  // namespace bench
}  // namespace edgeq
