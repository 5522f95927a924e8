// NEON baseline indirect-GEMM microkernels (AArch64 2x8c8, ARMv7 2x4c8).
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
// bytes read past kc meet zero weights, flipped or not.
#include <arm_neon.h>

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
  for (size_t i = 0; i < kMr; ++i)
    for (size_t j = 0; j < kNr; ++j) acc[i][j] = vdupq_n_s32(0);

  for (size_t t = 0; t < ks; ++t) {
    const int8_t* row[kMr];
    for (size_t i = 0; i < kMr; ++i) row[i] = static_cast<const int8_t*>(a[t * kMr + i]);
    for (size_t kb = 0; kb < blocks; ++kb) {
      int8x16_t x[kMr];  // the row's 8 activations in both halves (for smull2)
      for (size_t i = 0; i < kMr; ++i) {
        const int8x8_t v = veor_s8(vld1_s8(row[i]), flip);
        x[i] = vcombine_s8(v, v);
        row[i] += kKr;
      }
      for (size_t j = 0; j < kNr; j += 2) {
        const int8x16_t wv = vld1q_s8(b);  // channels j and j + 1
        b += 2 * kKr;
        for (size_t i = 0; i < kMr; ++i) {
          acc[i][j] = vpadalq_s16(acc[i][j], vmull_s8(vget_low_s8(x[i]), vget_low_s8(wv)));
#if defined(__aarch64__)
          acc[i][j + 1] = vpadalq_s16(acc[i][j + 1], vmull_high_s8(x[i], wv));
#else
          acc[i][j + 1] = vpadalq_s16(acc[i][j + 1], vmull_s8(vget_high_s8(x[i]), vget_high_s8(wv)));
#endif
        }
      }
    }
  }

  int32x4_t out[kMr][kNr / 4];
  for (size_t v = 0; v < kNr / 4; ++v) {
    const int32x4_t bv = vld1q_s32(bias + 4 * v);
    for (size_t i = 0; i < kMr; ++i) {
      out[i][v] = vaddq_s32(bv, reduce4(acc[i][4 * v], acc[i][4 * v + 1], acc[i][4 * v + 2], acc[i][4 * v + 3]));
    }
  }
  neon_requantize_store(out, mr, nc, c, c_stride, n0, *q);
}

}  // namespace

#if defined(__aarch64__)
void qu8_igemm_minmax_2x8c8__neon(EDGEQ_ARM_IGEMM_ARGS) { igemm_c8<true>(mr, nc, kc, ks, a, w, c, c_stride, n0, q); }
void qs8_igemm_minmax_2x8c8__neon(EDGEQ_ARM_IGEMM_ARGS) { igemm_c8<false>(mr, nc, kc, ks, a, w, c, c_stride, n0, q); }
#else
void qu8_igemm_minmax_2x4c8__neon(EDGEQ_ARM_IGEMM_ARGS) { igemm_c8<true>(mr, nc, kc, ks, a, w, c, c_stride, n0, q); }
void qs8_igemm_minmax_2x4c8__neon(EDGEQ_ARM_IGEMM_ARGS) { igemm_c8<false>(mr, nc, kc, ks, a, w, c, c_stride, n0, q); }
#endif

}  // namespace kern
}  // namespace edgeq
