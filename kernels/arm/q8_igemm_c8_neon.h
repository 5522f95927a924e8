// The NEON (no dotprod) indirect-GEMM microkernel bodies, included by the files named
// after their functions: q8_igemm_minmax_ukernel_2x8c8__neon.cc and
// q8_igemm_minmax_ukernel_2x8c16__neon_mlal.cc (AArch64), q8_igemm_minmax_ukernel_2x4c8__neon.cc
// and q8_igemm_minmax_ukernel_2x4c16__neon_mlal.cc (ARMv7, whose 16 q registers hold 8
// accumulators). Anonymous namespace: one copy in each translation unit.
//
// igemm_c8, the exact kernel, valid for every weight. Weights are packed with kr = 8:
// each k-block holds 8 consecutive k of every channel, so one 16-byte load gives two
// channels. Per k-block and (row, channel) pair one smull multiplies 8 int8 activations
// by 8 int8 weights into 8 int16 products (each fits: |product| <= 128 * 128), and one
// sadalp adds them pairwise into 4 int32 lanes of that pair's accumulator. Two products
// are never summed in int16 (smlal would overflow when both are (-128) * (-128)).
//
// igemm_c16_mlal, for layers with no weight equal to -128 (the driver checks the
// weights when it packs them: kernels/gemm_pick.h). Weights are packed with kr = 16:
// per k-block and (row, channel) pair, smull multiplies the low 8 activations by the
// low 8 weights, smlal adds the high 8 products to them in int16, and one sadalp adds
// the 8 pair sums into the accumulator: 16 MACs in 3 instructions instead of 4. A pair
// sum fits int16 because |a * w| <= 128 * 127 = 16256 for int8 a and w in [-127, 127],
// and 2 * 16256 = 32512 < 32767; so the int32 sums equal the exact kernel's. Its
// products are written a channel group at a time (mlal_step) so that in-order cores
// overlap them, and its loop takes two k-blocks an iteration (then the odd one), which
// is what the cycle model (tools/arm_cycle_model.py, docs/arm-cycle-model.md) chose.
//
// After the last k-block the 4 lanes are reduced (addp) and the packed bias added.
// uint8 activations are flipped to int8 with x ^ 0x80 (u8_act_offset = -128); the
// bytes read past kc meet zero weights, flipped or not. On AArch64 igemm_c8 loads the 8
// activations into both halves at once (ld1r) and the weights of a k-block with one
// 64-byte ld1.
#pragma once

#include <arm_neon.h>

#include <cstring>

#include "kernels/arm/gemm_ukernels.h"
#include "kernels/arm/neon_epilogue.h"

namespace edgeq {
namespace kern {
namespace {

#if defined(__aarch64__)
constexpr size_t kMr = 2, kNr = 8;
#else
constexpr size_t kMr = 2, kNr = 4;  // 16 q registers: 8 accumulators
#endif
constexpr size_t kKr = 8;
constexpr size_t kKrMlal = 16;

#define EDGEQ_ARM_INLINE inline __attribute__((always_inline))

// Four channels' 4-lane partial sums -> one vector of four totals.
inline int32x4_t reduce4(int32x4_t a, int32x4_t b, int32x4_t c, int32x4_t d) {
#if defined(__aarch64__)
  return vpaddq_s32(vpaddq_s32(a, b), vpaddq_s32(c, d));
#else
  const int32x2_t ab =
      vpadd_s32(vpadd_s32(vget_low_s32(a), vget_high_s32(a)), vpadd_s32(vget_low_s32(b), vget_high_s32(b)));
  const int32x2_t cd =
      vpadd_s32(vpadd_s32(vget_low_s32(c), vget_high_s32(c)), vpadd_s32(vget_low_s32(d), vget_high_s32(d)));
  return vcombine_s32(ab, cd);
#endif
}

// The tile's accumulators set to zero.
EDGEQ_ARM_INLINE void zero_tile(int32x4_t (&acc)[kMr][kNr]) {
  EDGEQ_UNROLL
  for (size_t i = 0; i < kMr; ++i) EDGEQ_UNROLL
  for (size_t j = 0; j < kNr; ++j) acc[i][j] = vdupq_n_s32(0);
}

// The rows' activation pointers of tap t.
EDGEQ_ARM_INLINE void tap_rows(const void* const* a, size_t t, const int8_t* (&row)[kMr]) {
  EDGEQ_UNROLL
  for (size_t i = 0; i < kMr; ++i) row[i] = static_cast<const int8_t*>(a[t * kMr + i]);
}

// The tile's 4-lane accumulators reduced to one int32 per (row, channel), plus the
// packed bias, requantized and stored.
inline void reduce_requantize_store(const int32x4_t (&acc)[kMr][kNr], const int32_t* bias, size_t mr, size_t nc,
                                    void* c, size_t c_stride, size_t n0, const QuantEpilogue* q) {
  int32x4_t out[kMr][kNr / 4];
  EDGEQ_UNROLL
  for (size_t v = 0; v < kNr / 4; ++v) {
    const int32x4_t bv = vld1q_s32(bias + 4 * v);
    EDGEQ_UNROLL
    for (size_t i = 0; i < kMr; ++i) {
      out[i][v] = vaddq_s32(bv, reduce4(acc[i][4 * v], acc[i][4 * v + 1], acc[i][4 * v + 2], acc[i][4 * v + 3]));
    }
  }
  neon_requantize_store(out, mr, nc, c, c_stride, n0, *q);
}

template <bool kFlip>
void igemm_c8(size_t mr, size_t nc, size_t kc, size_t ks, const void* const* a, const void* w, void* c, size_t c_stride,
              size_t n0, const QuantEpilogue* q) {
  const int32_t* bias = static_cast<const int32_t*>(w);
  const int8_t* b = reinterpret_cast<const int8_t*>(bias + kNr);
  const size_t blocks = (kc + kKr - 1) / kKr;
  const int8x8_t flip = vdup_n_s8(kFlip ? -128 : 0);

  int32x4_t acc[kMr][kNr];
  zero_tile(acc);
  for (size_t t = 0; t < ks; ++t) {
    const int8_t* row[kMr];
    tap_rows(a, t, row);
    for (size_t kb = 0; kb < blocks; ++kb) {
      int8x16_t x[kMr];  // the row's 8 activations in both halves (for smull2)
      EDGEQ_UNROLL
      for (size_t i = 0; i < kMr; ++i) {
#if defined(__aarch64__)
        int64_t bytes;
        std::memcpy(&bytes, row[i], sizeof(bytes));
        x[i] = veorq_s8(vreinterpretq_s8_s64(vdupq_n_s64(bytes)), vcombine_s8(flip, flip));  // ld1r
#else
        const int8x8_t v = veor_s8(vld1_s8(row[i]), flip);
        x[i] = vcombine_s8(v, v);
#endif
        row[i] += kKr;
      }
#if defined(__aarch64__)
      const int8x16x4_t wv = vld1q_s8_x4(b);  // channels 2p, 2p + 1 in wv.val[p]
      b += kNr * kKr;
      EDGEQ_UNROLL
      for (size_t p = 0; p < kNr / 2; ++p) {
        EDGEQ_UNROLL
        for (size_t i = 0; i < kMr; ++i) {
          acc[i][2 * p] = vpadalq_s16(acc[i][2 * p], vmull_s8(vget_low_s8(x[i]), vget_low_s8(wv.val[p])));
          acc[i][2 * p + 1] = vpadalq_s16(acc[i][2 * p + 1], vmull_high_s8(x[i], wv.val[p]));
        }
      }
#else
      EDGEQ_UNROLL
      for (size_t p = 0; p < kNr / 2; ++p) {
        const int8x16_t wv = vld1q_s8(b);  // channels 2p and 2p + 1
        b += 2 * kKr;
        EDGEQ_UNROLL
        for (size_t i = 0; i < kMr; ++i) {
          acc[i][2 * p] = vpadalq_s16(acc[i][2 * p], vmull_s8(vget_low_s8(x[i]), vget_low_s8(wv)));
          acc[i][2 * p + 1] = vpadalq_s16(acc[i][2 * p + 1], vmull_s8(vget_high_s8(x[i]), vget_high_s8(wv)));
        }
      }
#endif
    }
  }

  reduce_requantize_store(acc, bias, mr, nc, c, c_stride, n0, q);
}

// One 16-k step of igemm_c16_mlal: the rows' activations from row[i], the weights of
// the NR channels from b; both advance by the step.
template <bool kFlip>
EDGEQ_ARM_INLINE void mlal_step(int32x4_t (&acc)[kMr][kNr], const int8_t* (&row)[kMr], const int8_t*& b) {
  const int8x16_t flip = vdupq_n_s8(kFlip ? -128 : 0);
  int8x16_t x[kMr];  // the row's 16 activations
  EDGEQ_UNROLL
  for (size_t i = 0; i < kMr; ++i) {
    x[i] = veorq_s8(vld1q_s8(row[i]), flip);
    row[i] += kKrMlal;
  }
  // kG channels at a time: their kG x MR products are independent chains (smull, then
  // smlal, then sadalp), written out side by side so that in-order cores (Cortex-A53,
  // A55) overlap their latencies; the registers they need: MR x NR accumulators, MR
  // activations, kG weights, kG x MR products (AArch64 30 of 32, ARMv7 16 of 16).
#if defined(__aarch64__)
  constexpr size_t kG = 4;
#else
  constexpr size_t kG = 2;
#endif
  EDGEQ_UNROLL
  for (size_t g = 0; g < kNr / kG; ++g) {
    int8x16_t wv[kG];  // channels kG * g ..., 16 k each
    EDGEQ_UNROLL
    for (size_t j = 0; j < kG; ++j) wv[j] = vld1q_s8(b + j * kKrMlal);
    b += kG * kKrMlal;
    int16x8_t pairs[kG][kMr];
    EDGEQ_UNROLL
    for (size_t j = 0; j < kG; ++j) EDGEQ_UNROLL
    for (size_t i = 0; i < kMr; ++i) pairs[j][i] = vmull_s8(vget_low_s8(x[i]), vget_low_s8(wv[j]));
    EDGEQ_UNROLL
    for (size_t j = 0; j < kG; ++j) EDGEQ_UNROLL
    for (size_t i = 0; i < kMr; ++i) {
#if defined(__aarch64__)
      pairs[j][i] = vmlal_high_s8(pairs[j][i], x[i], wv[j]);
#else
      pairs[j][i] = vmlal_s8(pairs[j][i], vget_high_s8(x[i]), vget_high_s8(wv[j]));
#endif
    }
    EDGEQ_UNROLL
    for (size_t j = 0; j < kG; ++j) EDGEQ_UNROLL
    for (size_t i = 0; i < kMr; ++i) acc[i][kG * g + j] = vpadalq_s16(acc[i][kG * g + j], pairs[j][i]);
  }
}

template <bool kFlip>
void igemm_c16_mlal(size_t mr, size_t nc, size_t kc, size_t ks, const void* const* a, const void* w, void* c,
                    size_t c_stride, size_t n0, const QuantEpilogue* q) {
  const int32_t* bias = static_cast<const int32_t*>(w);
  const int8_t* b = reinterpret_cast<const int8_t*>(bias + kNr);
  const size_t blocks = (kc + kKrMlal - 1) / kKrMlal;
  constexpr size_t kBlockBytes = kNr * kKrMlal;

  int32x4_t acc[kMr][kNr];
  zero_tile(acc);
  for (size_t t = 0; t < ks; ++t) {
    const int8_t* row[kMr];
    tap_rows(a, t, row);
    // Two k steps an iteration (the loads and the loop's compare and branch are what a
    // step adds to its multiplies), then the odd one; the weight pointer counts.
    const int8_t* const pairs_end = b + (blocks & ~size_t{1}) * kBlockBytes;
    const int8_t* const b_end = b + blocks * kBlockBytes;
    while (b != pairs_end) {
      mlal_step<kFlip>(acc, row, b);
      mlal_step<kFlip>(acc, row, b);
    }
    while (b != b_end) mlal_step<kFlip>(acc, row, b);
  }
  reduce_requantize_store(acc, bias, mr, nc, c, c_stride, n0, q);
}

}  // namespace
}  // namespace kern
}  // namespace edgeq
