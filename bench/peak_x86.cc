// x86 peak loops (bench/peak.h): AMX (tdpbusd, 16,384 MACs each), AVX512-VNNI (zmm
// vpdpbusd, 64 MACs each), AVX-VNNI
// (ymm vpdpbusd, 32) and exact AVX2 (ymm vpmaddwd + vpaddd, counted as the 16 int8
// products of a vpmaddwd). Built on x86-64 only; the AVX-512 loop carries its own
// target attribute, the others need none (the assembler takes every encoding).
#include "bench/peak.h"

namespace edgeq {
namespace bench {

__attribute__((target("avx512f,avx512vnni"))) double peak_loop_avx512vnni(uint64_t iters) {
  asm volatile(
      "vpxord %%zmm30, %%zmm30, %%zmm30\n\t"
      "vpxord %%zmm31, %%zmm31, %%zmm31\n\t"
      "1:\n\t"
#define EDGEQ_DP(r) "vpdpbusd %%zmm31, %%zmm30, %%zmm" #r "\n\t"
      EDGEQ_DP(0) EDGEQ_DP(1) EDGEQ_DP(2) EDGEQ_DP(3) EDGEQ_DP(4) EDGEQ_DP(5) EDGEQ_DP(6) EDGEQ_DP(7) EDGEQ_DP(8)
          EDGEQ_DP(9) EDGEQ_DP(10) EDGEQ_DP(11) EDGEQ_DP(12) EDGEQ_DP(13) EDGEQ_DP(14) EDGEQ_DP(15) EDGEQ_DP(16)
              EDGEQ_DP(17) EDGEQ_DP(18) EDGEQ_DP(19) EDGEQ_DP(20) EDGEQ_DP(21) EDGEQ_DP(22) EDGEQ_DP(23)
#undef EDGEQ_DP
                  "dec %0\n\t"
                  "jnz 1b\n\t"
                  "vzeroupper\n\t"
      : "+r"(iters)
      :
      : "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12",
        "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm30",
        "xmm31");
  return 24.0 * 64.0;
}

// AMX: four independent 16 x 16 accumulator tiles, each tdpbusd 16 x 64 by 64 x 16
// bytes. Only called once dispatch reported the amx level (tile state permitted).
__attribute__((target("amx-tile,amx-int8"))) double peak_loop_amx(uint64_t iters) {
  alignas(64) unsigned char cfg[64] = {};
  cfg[0] = 1;  // palette 1; every tile 16 rows of 64 bytes
  for (int t = 0; t < 8; ++t) {
    cfg[16 + 2 * t] = 64;
    cfg[48 + t] = 16;
  }
  asm volatile(
      "ldtilecfg %1\n\t"
      "tilezero %%tmm0\n\t"
      "tilezero %%tmm1\n\t"
      "tilezero %%tmm2\n\t"
      "tilezero %%tmm3\n\t"
      "tilezero %%tmm4\n\t"
      "tilezero %%tmm5\n\t"
      "tilezero %%tmm6\n\t"
      "tilezero %%tmm7\n\t"
      "1:\n\t"
      "tdpbusd %%tmm6, %%tmm4, %%tmm0\n\t"
      "tdpbusd %%tmm7, %%tmm4, %%tmm1\n\t"
      "tdpbusd %%tmm6, %%tmm5, %%tmm2\n\t"
      "tdpbusd %%tmm7, %%tmm5, %%tmm3\n\t"
      "dec %0\n\t"
      "jnz 1b\n\t"
      "tilerelease\n\t"
      : "+r"(iters)
      : "m"(cfg)
      : "cc", "memory");
  return 4.0 * 16 * 16 * 64;
}

double peak_loop_avxvnni(uint64_t iters) {
  asm volatile(
      "vpxor %%ymm14, %%ymm14, %%ymm14\n\t"
      "vpxor %%ymm15, %%ymm15, %%ymm15\n\t"
      "1:\n\t"
#define EDGEQ_DP(r) "%{vex%} vpdpbusd %%ymm15, %%ymm14, %%ymm" #r "\n\t"
      EDGEQ_DP(0) EDGEQ_DP(1) EDGEQ_DP(2) EDGEQ_DP(3) EDGEQ_DP(4) EDGEQ_DP(5) EDGEQ_DP(6) EDGEQ_DP(7) EDGEQ_DP(8)
          EDGEQ_DP(9) EDGEQ_DP(10) EDGEQ_DP(11) EDGEQ_DP(12) EDGEQ_DP(13)
#undef EDGEQ_DP
              "dec %0\n\t"
              "jnz 1b\n\t"
              "vzeroupper\n\t"
      : "+r"(iters)
      :
      : "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12",
        "xmm13", "xmm14", "xmm15");
  return 14.0 * 32.0;
}

// The exact AVX2 step is a vpmaddwd (16 int8 products widened to int16) plus the
// vpaddd that accumulates it: 7 independent pairs, twice per iteration.
double peak_loop_avx2(uint64_t iters) {
  asm volatile(
      "vpxor %%ymm14, %%ymm14, %%ymm14\n\t"
      "vpxor %%ymm15, %%ymm15, %%ymm15\n\t"
      "1:\n\t"
#define EDGEQ_MA(t, a) "vpmaddwd %%ymm15, %%ymm14, %%ymm" #t "\n\tvpaddd %%ymm" #t ", %%ymm" #a ", %%ymm" #a "\n\t"
      EDGEQ_MA(0, 7) EDGEQ_MA(1, 8) EDGEQ_MA(2, 9) EDGEQ_MA(3, 10) EDGEQ_MA(4, 11) EDGEQ_MA(5, 12) EDGEQ_MA(6, 13)
          EDGEQ_MA(0, 7) EDGEQ_MA(1, 8) EDGEQ_MA(2, 9) EDGEQ_MA(3, 10) EDGEQ_MA(4, 11) EDGEQ_MA(5, 12) EDGEQ_MA(6, 13)
#undef EDGEQ_MA
              "dec %0\n\t"
              "jnz 1b\n\t"
              "vzeroupper\n\t"
      : "+r"(iters)
      :
      : "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12",
        "xmm13", "xmm14", "xmm15");
  return 14.0 * 16.0;
}

}  // namespace bench
}  // namespace edgeq
