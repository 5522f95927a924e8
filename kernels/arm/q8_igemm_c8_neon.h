// The NEON baseline indirect-GEMM microkernel body, included by the two files named
// after its functions: q8_igemm_minmax_ukernel_2x8c8__neon.cc (AArch64) and
// q8_igemm_minmax_ukernel_2x4c8__neon.cc (ARMv7, whose 16 q registers hold 8
// accumulators). Anonymous namespace: one copy in the one translation unit of each target.
//
// Weights are packed with kr = 8: each k-block holds 8 consecutive k of every channel,
// so one 16-byte load gives two channels. Per k-block and (row, channel) pair one smull
// multiplies 8 int8 activations by 8 int8 weights into 8 int16 products (each fits:
// |product| <= 128 * 128), and one sadalp adds them pairwise into 4 int32 lanes of that
// pair's accumulator. Two products are never summed in int16 (smlal would overflow
// when both are (-128) * (-128)), which keeps the kernel exact for every weight,
// including -128. After the last k-block the 4 lanes are reduced (addp) and the packed
// bias added.
//
// uint8 activations are flipped to int8 with x ^ 0x80 (u8_act_offset = -128); the
// bytes read past kc meet zero weights, flipped or not. On AArch64 the 8 activations
// are loaded into both halves at once (ld1r) and the 8 channels' weights of a k-block
// with one 64-byte ld1.
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

template <bool kFlip>
void igemm_c8(size_t mr, size_t nc, size_t kc, size_t ks, const void* const* a, const void* w, void* c, size_t c_stride,
              size_t n0, const QuantEpilogue* q) {
  const int32_t* bias = static_cast<const int32_t*>(w);
  const int8_t* b = reinterpret_cast<const int8_t*>(bias + kNr);
  const size_t blocks = (kc + kKr - 1) / kKr;
  const int8x8_t flip = vdup_n_s8(kFlip ? -128 : 0);

  int32x4_t acc[kMr][kNr];
  EDGEQ_UNROLL
  for (size_t i = 0; i < kMr; ++i) EDGEQ_UNROLL
  for (size_t j = 0; j < kNr; ++j) acc[i][j] = vdupq_n_s32(0);

  for (size_t t = 0; t < ks; ++t) {
    const int8_t* row[kMr];
    EDGEQ_UNROLL
    for (size_t i = 0; i < kMr; ++i) row[i] = static_cast<const int8_t*>(a[t * kMr + i]);
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

}  // namespace
}  // namespace kern
}  // namespace edgeq
