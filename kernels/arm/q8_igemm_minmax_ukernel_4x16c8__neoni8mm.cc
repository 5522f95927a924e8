// qu8_igemm_minmax_ukernel_4x16c8__neoni8mm and qs8_igemm_minmax_ukernel_4x16c8__neoni8mm:
// the AArch64 int8 matrix-multiply (ARMv8.6 i8mm) indirect-GEMM microkernel, 4x16c8.
//
// `smmla vd.4s, vn.16b, vm.16b` multiplies a 2x8 int8 matrix (vn: two rows of 8 k) by
// the transpose of another (vm: two channels of 8 k) into a 2x2 int32 block
// {r0c0, r0c1, r1c0, r1c1}: 32 multiply-accumulates per instruction. With kr = 8 one
// 16-byte load of packed weights is exactly vm for a channel pair. The activations of
// two rows are interleaved per 8 k (zip1/zip2 of 64-bit halves: one 16-byte load per
// row serves two k-blocks). 16 accumulators hold the 4 x 16 tile as 2 row pairs x 8
// channel pairs, initialized with the packed bias; at the end zip1/zip2 of two
// neighbouring blocks give each row's 4 channels.
//
// The accumulation (bias, every tap, both k loops, the store for the epilogue) is one
// block of assembly, as in the dotprod kernel (q8_igemm_minmax_ukernel_4x16c4__neondot.cc,
// whose register-offset row loads this one shares): per 16 k the main loop is 32 smmla,
// 4 activation loads, 4 zip, 4 four-register weight loads and adds + b.ne: 46
// instructions for 1,024 MACs, 22.3 per instruction (70% of smmla's 32; GCC's loop was
// 51). The 4 loads and 4 zips that pair the rows are what indirect rows cost: a 4x16
// tile cannot reach 85% with them, and a larger tile has no registers left (16
// accumulators, 4 activation and 8 weight registers).
//
// Registers: rows v0-v3, then interleaved (0, 1) / (2, 3) in v4 / v5 for k 0-7 and
// v6 / v7 for k 8-15; weights v8-v11 and v0-v3 (free once the rows are interleaved);
// accumulators v16-v31 (row pair p, channel pair c in v<16 + 8p + c>).
//
// uint8 activations use usmmla (uint8 x int8), int8 ones smmla: no flip, both offsets 0.
// Compiled with -march=armv8.2-a+i8mm; dispatch runs it only where the CPU has it.
#include <arm_neon.h>

#include "kernels/arm/gemm_ukernels.h"
#include "kernels/arm/igemm_asm.h"
#include "kernels/arm/neon_epilogue.h"

namespace edgeq {
namespace kern {
namespace {

constexpr size_t kMr = 4, kNr = 16, kKr = 8;

#define EDGEQ_MMLA(mm, acc, x, w) mm " v" #acc ".4s, v" #x ".16b, v" #w ".16b\n\t"
// Channel pairs 0-3 (first = 16) or 4-7 (first = 20) of one k-block of 8: row pairs in
// x01 / x23, weights of the 4 channel pairs in w..w+3.
#define EDGEQ_MMLA_HALF(mm, a0, a1, a2, a3, b0, b1, b2, b3, x01, x23, w0, w1, w2, w3)                           \
  EDGEQ_MMLA(mm, a0, x01, w0) EDGEQ_MMLA(mm, b0, x23, w0) EDGEQ_MMLA(mm, a1, x01, w1)                           \
  EDGEQ_MMLA(mm, b1, x23, w1) EDGEQ_MMLA(mm, a2, x01, w2) EDGEQ_MMLA(mm, b2, x23, w2)                           \
  EDGEQ_MMLA(mm, a3, x01, w3) EDGEQ_MMLA(mm, b3, x23, w3)
#define EDGEQ_MMLA_LO(mm, x01, x23, w0, w1, w2, w3)                                                             \
  EDGEQ_MMLA_HALF(mm, 16, 17, 18, 19, 24, 25, 26, 27, x01, x23, w0, w1, w2, w3)
#define EDGEQ_MMLA_HI(mm, x01, x23, w0, w1, w2, w3)                                                             \
  EDGEQ_MMLA_HALF(mm, 20, 21, 22, 23, 28, 29, 30, 31, x01, x23, w0, w1, w2, w3)

// Accumulates every tap into v16-v31 and stores them to `out` (acc[2][8] order); `mm`
// is "usmmla" for uint8 activations, "smmla" for int8 ones. ks >= 1, kp a multiple of 8
// and at least 8.
#define EDGEQ_MMLA_ACCUMULATE(mm)                                                                               \
  __asm__ volatile(                                                                                             \
      "ld1r {v16.2d}, [%[bias]], #8\n\t"                                                                        \
      "ld1r {v17.2d}, [%[bias]], #8\n\t"                                                                        \
      "ld1r {v18.2d}, [%[bias]], #8\n\t"                                                                        \
      "ld1r {v19.2d}, [%[bias]], #8\n\t"                                                                        \
      "ld1r {v20.2d}, [%[bias]], #8\n\t"                                                                        \
      "ld1r {v21.2d}, [%[bias]], #8\n\t"                                                                        \
      "ld1r {v22.2d}, [%[bias]], #8\n\t"                                                                        \
      "ld1r {v23.2d}, [%[bias]], #8\n\t"                                                                        \
      "mov v24.16b, v16.16b\n\t"                                                                                \
      "mov v25.16b, v17.16b\n\t"                                                                                \
      "mov v26.16b, v18.16b\n\t"                                                                                \
      "mov v27.16b, v19.16b\n\t"                                                                                \
      "mov v28.16b, v20.16b\n\t"                                                                                \
      "mov v29.16b, v21.16b\n\t"                                                                                \
      "mov v30.16b, v22.16b\n\t"                                                                                \
      "mov v31.16b, v23.16b\n\t"                                                                                \
      EDGEQ_IGEMM_ASM_TAP_ROWS                                                                                  \
      "1:\n\t" /* 16 k */                                                                                       \
      EDGEQ_IGEMM_ASM_ROW_LOADS                                                                                 \
      "ld1 {v8.16b, v9.16b, v10.16b, v11.16b}, [%[b]], #64\n\t"                                                 \
      "zip1 v4.2d, v0.2d, v1.2d\n\t"                                                                            \
      "zip1 v5.2d, v2.2d, v3.2d\n\t"                                                                            \
      "zip2 v6.2d, v0.2d, v1.2d\n\t"                                                                            \
      "zip2 v7.2d, v2.2d, v3.2d\n\t"                                                                            \
      "ld1 {v0.16b, v1.16b, v2.16b, v3.16b}, [%[b]], #64\n\t"                                                   \
      EDGEQ_MMLA_LO(mm, 4, 5, 8, 9, 10, 11)                                                                     \
      "adds %[k], %[k], #16\n\t"                                                                                \
      "ld1 {v8.16b, v9.16b, v10.16b, v11.16b}, [%[b]], #64\n\t"                                                 \
      EDGEQ_MMLA_HI(mm, 4, 5, 0, 1, 2, 3)                                                                       \
      "ld1 {v0.16b, v1.16b, v2.16b, v3.16b}, [%[b]], #64\n\t"                                                   \
      EDGEQ_MMLA_LO(mm, 6, 7, 8, 9, 10, 11)                                                                     \
      EDGEQ_MMLA_HI(mm, 6, 7, 0, 1, 2, 3)                                                                       \
      "b.ne 1b\n\t"                                                                                             \
      "3:\n\t" /* the last 8 k */                                                                               \
      "cbz %[krem], 5f\n\t"                                                                                     \
      "mov %[k], %[krem]\n\t"                                                                                   \
      "4:\n\t" /* one pass, a loop so that it is costed as the k remainder */                                   \
      "ldr d4, [%[r0]], #8\n\t"                                                                                 \
      "ld1 {v4.d}[1], [%[r1]], #8\n\t"                                                                          \
      "ldr d5, [%[r2]], #8\n\t"                                                                                 \
      "ld1 {v5.d}[1], [%[r3]], #8\n\t"                                                                          \
      "ld1 {v8.16b, v9.16b, v10.16b, v11.16b}, [%[b]], #64\n\t"                                                 \
      "ld1 {v0.16b, v1.16b, v2.16b, v3.16b}, [%[b]], #64\n\t"                                                   \
      EDGEQ_MMLA_LO(mm, 4, 5, 8, 9, 10, 11)                                                                     \
      EDGEQ_MMLA_HI(mm, 4, 5, 0, 1, 2, 3)                                                                       \
      "subs %[k], %[k], #8\n\t"                                                                                 \
      "b.ne 4b\n\t"                                                                                             \
      EDGEQ_IGEMM_ASM_NEXT_TAP_AND_STORE                                                                        \
      : [a] "+r"(a), [ks] "+r"(ks), [b] "+r"(b), [bias] "+r"(bias), [r0] "=&r"(r[0]),                           \
        [r1] "=&r"(r[1]), [r2] "=&r"(r[2]), [r3] "=&r"(r[3]), [k] "=&r"(k)                                      \
      : [kmain] "r"(kp / 16 * 16), [krem] "r"(kp % 16), [out] "r"(&acc[0][0])                                   \
      : EDGEQ_IGEMM_ASM_CLOBBERS)

template <bool kU8>
void igemm_4x16c8(size_t mr, size_t nc, size_t kc, size_t ks, const void* const* a, const void* w, void* c,
                  size_t c_stride, size_t n0, const QuantEpilogue* q) {
  const int32_t* bias = static_cast<const int32_t*>(w);
  const int8_t* b = reinterpret_cast<const int8_t*>(bias + kNr);
  const size_t kp = (kc + kKr - 1) / kKr * kKr;

  int32x4_t acc[kMr / 2][kNr / 2];
  if (ks == 0 || kp == 0) {
    EDGEQ_UNROLL
    for (size_t p = 0; p < kNr / 2; ++p) {
      const int32x2_t pair = vld1_s32(bias + 2 * p);
      acc[0][p] = acc[1][p] = vcombine_s32(pair, pair);
    }
  } else {
    const void* r[kMr];  // the asm's scratch registers
    size_t k;
    if (kU8) {
      EDGEQ_MMLA_ACCUMULATE("usmmla");
    } else {
      EDGEQ_MMLA_ACCUMULATE("smmla");
    }
  }

  int32x4_t out[kMr][kNr / 4];
  EDGEQ_UNROLL
  for (size_t p = 0; p < kMr / 2; ++p) {
    EDGEQ_UNROLL
    for (size_t v = 0; v < kNr / 4; ++v) {
      const int64x2_t lo = vreinterpretq_s64_s32(acc[p][2 * v]);
      const int64x2_t hi = vreinterpretq_s64_s32(acc[p][2 * v + 1]);
      out[2 * p][v] = vreinterpretq_s32_s64(vzip1q_s64(lo, hi));
      out[2 * p + 1][v] = vreinterpretq_s32_s64(vzip2q_s64(lo, hi));
    }
  }
  neon_requantize_store(out, mr, nc, c, c_stride, n0, *q);
}

}  // namespace

EDGEQ_ARM_IGEMM_DEFINE(qu8_igemm_minmax_ukernel_4x16c8__neoni8mm, qs8_igemm_minmax_ukernel_4x16c8__neoni8mm,
                       igemm_4x16c8)

}  // namespace kern
}  // namespace edgeq
