// qu8_igemm_minmax_ukernel_4x16c4__neondot and qs8_igemm_minmax_ukernel_4x16c4__neondot:
// the AArch64 dot-product (ARMv8.2 dotprod) indirect-GEMM microkernel, 4x16c4.
//
// Weights are packed with kr = 4: one 16-byte load is 4 channels x 4 consecutive k,
// exactly the layout `sdot vd.4s, vn.16b, vm.4b[lane]` multiplies with 4 k of one row
// (the lane). 16 accumulators hold the 4 x 16 tile, initialized with the packed bias.
// The main loop takes 16 k per row (one 16-byte load, four lanes); the last 4, 8 or 12
// k of round_up(kc, 4) go 4 at a time.
//
// The accumulation (bias, every tap, both k loops, the store for the epilogue) is one
// block of assembly, so that the main loop is exactly, per 16 k: 64 sdot, 4 activation
// loads, 4 four-register weight loads (ld1, 64 bytes, post-indexed) and adds + b.ne: 74
// instructions for 1,024 MACs, 13.8 per instruction (86% of sdot's 16); uint8
// activations add 4 eor (78). With intrinsics GCC loaded each 16-byte weight vector on
// its own (88 instructions), and given four-register loads it kept the accumulators on
// the stack across the loop; an asm statement of the loop alone cannot take the 16
// accumulators (GCC allows 30 operands and counts a read-write one twice).
//
// The activation loads use a register offset: the row pointers are advanced past the
// main loop's k and the index k runs from -kmain up to 0, so the one adds steps it and
// sets the loop's flags (post-indexed loads model slower on the in-order Cortex-A55).
// Two weight register sets alternate. docs/arm-cycle-model.md has the cycle figures.
//
// Registers: activations v0-v3 (row i in v<i>), weights v4-v7 and v8-v11, accumulators
// v16-v31 (row i, channels 4v..4v+3 in v<16 + 4i + v>); d8-d11 are saved by the compiler
// because they are clobbered.
//
// uint8 activations are flipped to int8 with x ^ 0x80 (u8_act_offset = -128).
// Compiled with -march=armv8.2-a+dotprod; dispatch runs it only where the CPU has it.
#include <arm_neon.h>

#include "kernels/arm/gemm_ukernels.h"
#include "kernels/arm/igemm_asm.h"
#include "kernels/arm/neon_epilogue.h"

namespace edgeq {
namespace kern {
namespace {

constexpr size_t kMr = 4, kNr = 16, kKr = 4;

#define EDGEQ_SDOT(acc, w, x, lane) "sdot v" #acc ".4s, v" #w ".16b, v" #x ".4b[" #lane "]\n\t"
// One lane (4 k) of the tile: weights of channels 0-3, 4-7, 8-11, 12-15 in w0..w3.
#define EDGEQ_SDOT_LANE(w0, w1, w2, w3, lane)                                                                   \
  EDGEQ_SDOT(16, w0, 0, lane) EDGEQ_SDOT(20, w0, 1, lane) EDGEQ_SDOT(24, w0, 2, lane)                           \
  EDGEQ_SDOT(28, w0, 3, lane) EDGEQ_SDOT(17, w1, 0, lane) EDGEQ_SDOT(21, w1, 1, lane)                           \
  EDGEQ_SDOT(25, w1, 2, lane) EDGEQ_SDOT(29, w1, 3, lane) EDGEQ_SDOT(18, w2, 0, lane)                           \
  EDGEQ_SDOT(22, w2, 1, lane) EDGEQ_SDOT(26, w2, 2, lane) EDGEQ_SDOT(30, w2, 3, lane)                           \
  EDGEQ_SDOT(19, w3, 0, lane) EDGEQ_SDOT(23, w3, 1, lane) EDGEQ_SDOT(27, w3, 2, lane)                           \
  EDGEQ_SDOT(31, w3, 3, lane)
#define EDGEQ_FLIP_ROWS                                                                                         \
  "eor v0.16b, v0.16b, %[flip].16b\n\t"                                                                         \
  "eor v1.16b, v1.16b, %[flip].16b\n\t"                                                                         \
  "eor v2.16b, v2.16b, %[flip].16b\n\t"                                                                         \
  "eor v3.16b, v3.16b, %[flip].16b\n\t"

// Accumulates every tap into v16-v31 and stores them to `out` (acc[4][4] order);
// `flip_text` is EDGEQ_FLIP_ROWS for uint8 activations, empty for int8 ones. ks >= 1,
// kp a multiple of 4 and at least 4.
#define EDGEQ_DOT_ACCUMULATE(flip_text)                                                                         \
  __asm__ volatile(                                                                                             \
      "ld1 {v16.4s, v17.4s, v18.4s, v19.4s}, [%[bias]]\n\t"                                                     \
      "mov v20.16b, v16.16b\n\t"                                                                                \
      "mov v21.16b, v17.16b\n\t"                                                                                \
      "mov v22.16b, v18.16b\n\t"                                                                                \
      "mov v23.16b, v19.16b\n\t"                                                                                \
      "mov v24.16b, v16.16b\n\t"                                                                                \
      "mov v25.16b, v17.16b\n\t"                                                                                \
      "mov v26.16b, v18.16b\n\t"                                                                                \
      "mov v27.16b, v19.16b\n\t"                                                                                \
      "mov v28.16b, v16.16b\n\t"                                                                                \
      "mov v29.16b, v17.16b\n\t"                                                                                \
      "mov v30.16b, v18.16b\n\t"                                                                                \
      "mov v31.16b, v19.16b\n\t"                                                                                \
      EDGEQ_IGEMM_ASM_TAP_ROWS                                                                                  \
      "1:\n\t" /* 16 k */                                                                                       \
      EDGEQ_IGEMM_ASM_ROW_LOADS                                                                                 \
      "ld1 {v4.16b, v5.16b, v6.16b, v7.16b}, [%[b]], #64\n\t"                                                   \
      "ld1 {v8.16b, v9.16b, v10.16b, v11.16b}, [%[b]], #64\n\t" flip_text                                       \
      EDGEQ_SDOT_LANE(4, 5, 6, 7, 0)                                                                            \
      "ld1 {v4.16b, v5.16b, v6.16b, v7.16b}, [%[b]], #64\n\t"                                                   \
      EDGEQ_SDOT_LANE(8, 9, 10, 11, 1)                                                                          \
      "ld1 {v8.16b, v9.16b, v10.16b, v11.16b}, [%[b]], #64\n\t"                                                 \
      EDGEQ_SDOT_LANE(4, 5, 6, 7, 2)                                                                            \
      "adds %[k], %[k], #16\n\t"                                                                                \
      EDGEQ_SDOT_LANE(8, 9, 10, 11, 3)                                                                          \
      "b.ne 1b\n\t"                                                                                             \
      "3:\n\t" /* the last 4, 8 or 12 k, 4 at a time */                                                         \
      "cbz %[krem], 5f\n\t"                                                                                     \
      "mov %[k], %[krem]\n\t"                                                                                   \
      "4:\n\t"                                                                                                  \
      "ld1r {v0.4s}, [%[r0]], #4\n\t"                                                                           \
      "ld1r {v1.4s}, [%[r1]], #4\n\t"                                                                           \
      "ld1r {v2.4s}, [%[r2]], #4\n\t"                                                                           \
      "ld1r {v3.4s}, [%[r3]], #4\n\t"                                                                           \
      "ld1 {v4.16b, v5.16b, v6.16b, v7.16b}, [%[b]], #64\n\t" flip_text                                         \
      EDGEQ_SDOT_LANE(4, 5, 6, 7, 0)                                                                            \
      "subs %[k], %[k], #4\n\t"                                                                                 \
      "b.ne 4b\n\t"                                                                                             \
      EDGEQ_IGEMM_ASM_NEXT_TAP_AND_STORE                                                                        \
      : [a] "+r"(a), [ks] "+r"(ks), [b] "+r"(b), [r0] "=&r"(r[0]), [r1] "=&r"(r[1]),                            \
        [r2] "=&r"(r[2]), [r3] "=&r"(r[3]), [k] "=&r"(k)                                                        \
      : [kmain] "r"(kp / 16 * 16), [krem] "r"(kp % 16), [bias] "r"(bias), [out] "r"(&acc[0][0]), [flip] "w"(flip) \
      : EDGEQ_IGEMM_ASM_CLOBBERS)

template <bool kFlip>
void igemm_4x16c4(size_t mr, size_t nc, size_t kc, size_t ks, const void* const* a, const void* w, void* c,
                  size_t c_stride, size_t n0, const QuantEpilogue* q) {
  const int32_t* bias = static_cast<const int32_t*>(w);
  const int8_t* b = reinterpret_cast<const int8_t*>(bias + kNr);
  const size_t kp = (kc + kKr - 1) / kKr * kKr;
  const int8x16_t flip = vdupq_n_s8(-128);

  int32x4_t acc[kMr][kNr / 4];
  if (ks == 0 || kp == 0) {
    EDGEQ_UNROLL
    for (size_t v = 0; v < kNr / 4; ++v) {
      const int32x4_t bv = vld1q_s32(bias + 4 * v);
      EDGEQ_UNROLL
      for (size_t i = 0; i < kMr; ++i) acc[i][v] = bv;
    }
  } else {
    const void* r[kMr];  // the asm's scratch registers
    size_t k;
    if (kFlip) {
      EDGEQ_DOT_ACCUMULATE(EDGEQ_FLIP_ROWS);
    } else {
      EDGEQ_DOT_ACCUMULATE("");
    }
  }
  neon_requantize_store(acc, mr, nc, c, c_stride, n0, *q);
}

}  // namespace

EDGEQ_ARM_IGEMM_DEFINE(qu8_igemm_minmax_ukernel_4x16c4__neondot, qs8_igemm_minmax_ukernel_4x16c4__neondot, igemm_4x16c4)

}  // namespace kern
}  // namespace edgeq
