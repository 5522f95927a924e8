// Pieces of assembly text shared by the AArch64 GEMM kernels whose accumulation is one asm
// block (q8_igemm_minmax_ukernel_4x16c4__neondot.cc, ..._4x16c8__neoni8mm.cc). Both keep
// 16 accumulators in v16-v31 and 4 indirect rows, and name their operands alike:
//   [a]  the tile's row pointers, 4 per tap (advanced);  [ks] taps left (counted down);
//   [r0]..[r3] the current tap's rows;  [k] the k index;  [kmain] the k of the main loop
//   (a multiple of 16);  [krem] the rest;  [out] where the accumulators are stored.
// Labels: 0 starts a tap, 1 the main loop, 3 the remainder test, 5 the tap's end.
#pragma once

// A tap's 4 row pointers, advanced past the main loop's k, and the index k = -kmain
// (so that the main loop's one adds steps it and ends the loop at 0); with no main loop,
// straight to the remainder.
#define EDGEQ_IGEMM_ASM_TAP_ROWS                                                    \
  "0:\n\t"                                                                          \
  "ldp %[r0], %[r1], [%[a]], #16\n\t"                                               \
  "ldp %[r2], %[r3], [%[a]], #16\n\t"                                               \
  "cbz %[kmain], 3f\n\t"                                                            \
  "add %[r0], %[r0], %[kmain]\n\t"                                                  \
  "add %[r1], %[r1], %[kmain]\n\t"                                                  \
  "add %[r2], %[r2], %[kmain]\n\t"                                                  \
  "add %[r3], %[r3], %[kmain]\n\t"                                                  \
  "neg %[k], %[kmain]\n\t"

// 16 bytes of each row at index k, into v0-v3.
#define EDGEQ_IGEMM_ASM_ROW_LOADS \
  "ldr q0, [%[r0], %[k]]\n\t"     \
  "ldr q1, [%[r1], %[k]]\n\t"     \
  "ldr q2, [%[r2], %[k]]\n\t"     \
  "ldr q3, [%[r3], %[k]]\n\t"

// The end of a tap (the next one, or done), then v16-v31 stored to [out] in order.
#define EDGEQ_IGEMM_ASM_NEXT_TAP_AND_STORE                   \
  "5:\n\t"                                                   \
  "subs %[ks], %[ks], #1\n\t"                                \
  "b.ne 0b\n\t"                                              \
  "st1 {v16.4s, v17.4s, v18.4s, v19.4s}, [%[out]]\n\t"       \
  "add %[k], %[out], #64\n\t"                                \
  "st1 {v20.4s, v21.4s, v22.4s, v23.4s}, [%[k]], #64\n\t"    \
  "st1 {v24.4s, v25.4s, v26.4s, v27.4s}, [%[k]], #64\n\t"    \
  "st1 {v28.4s, v29.4s, v30.4s, v31.4s}, [%[k]]\n\t"

// The vector registers both kernels use (d8-d11 are then saved by the compiler).
#define EDGEQ_IGEMM_ASM_CLOBBERS                                                                              \
  "cc", "memory", "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v16", "v17", "v18", \
      "v19", "v20", "v21", "v22", "v23", "v24", "v25", "v26", "v27", "v28", "v29", "v30", "v31"
