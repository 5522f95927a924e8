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
// uint8 activations use usmmla (uint8 x int8), int8 ones smmla: no flip, both offsets 0.
// Compiled with -march=armv8.2-a+i8mm; dispatch runs it only where the CPU has it.
#include <arm_neon.h>

#include "kernels/arm/gemm_ukernels.h"
#include "kernels/arm/neon_epilogue.h"

namespace edgeq {
namespace kern {
namespace {

constexpr size_t kMr = 4, kNr = 16, kKr = 8;

template <bool kU8>
inline int32x4_t mmla(int32x4_t acc, int8x16_t x, int8x16_t w) {
  if (kU8) return vusmmlaq_s32(acc, vreinterpretq_u8_s8(x), w);
  return vmmlaq_s32(acc, x, w);
}

// One k-block of 8: x01 / x23 hold rows (0, 1) and (2, 3).
template <bool kU8>
inline void mmla_block(int32x4_t (&acc)[kMr / 2][kNr / 2], int8x16_t x01, int8x16_t x23, const int8_t*& b) {
  EDGEQ_UNROLL
  for (size_t h = 0; h < 2; ++h) {
    const int8x16x4_t wv = vld1q_s8_x4(b);  // 4 channel pairs x 8 k in one ld1
    b += 64;
    EDGEQ_UNROLL
    for (size_t p = 0; p < 4; ++p) {
      acc[0][4 * h + p] = mmla<kU8>(acc[0][4 * h + p], x01, wv.val[p]);
      acc[1][4 * h + p] = mmla<kU8>(acc[1][4 * h + p], x23, wv.val[p]);
    }
  }
}

inline int8x16_t zip_lo(int8x16_t r0, int8x16_t r1) {
  return vreinterpretq_s8_s64(vzip1q_s64(vreinterpretq_s64_s8(r0), vreinterpretq_s64_s8(r1)));
}
inline int8x16_t zip_hi(int8x16_t r0, int8x16_t r1) {
  return vreinterpretq_s8_s64(vzip2q_s64(vreinterpretq_s64_s8(r0), vreinterpretq_s64_s8(r1)));
}

template <bool kU8>
void igemm_4x16c8(size_t mr, size_t nc, size_t kc, size_t ks, const void* const* a, const void* w, void* c,
                  size_t c_stride, size_t n0, const QuantEpilogue* q) {
  const int32_t* bias = static_cast<const int32_t*>(w);
  const int8_t* b = reinterpret_cast<const int8_t*>(bias + kNr);
  const size_t kp = (kc + kKr - 1) / kKr * kKr;

  int32x4_t acc[kMr / 2][kNr / 2];
  EDGEQ_UNROLL
  for (size_t p = 0; p < kNr / 2; ++p) {
    const int32x2_t pair = vld1_s32(bias + 2 * p);
    acc[0][p] = acc[1][p] = vcombine_s32(pair, pair);
  }

  for (size_t t = 0; t < ks; ++t) {
    const int8_t* row[kMr];
    EDGEQ_UNROLL
    for (size_t i = 0; i < kMr; ++i) row[i] = static_cast<const int8_t*>(a[t * kMr + i]);
    size_t k = kp;
    for (; k >= 16; k -= 16) {
      int8x16_t x[kMr];
      EDGEQ_UNROLL
      for (size_t i = 0; i < kMr; ++i) {
        x[i] = vld1q_s8(row[i]);
        row[i] += 16;
      }
      mmla_block<kU8>(acc, zip_lo(x[0], x[1]), zip_lo(x[2], x[3]), b);
      mmla_block<kU8>(acc, zip_hi(x[0], x[1]), zip_hi(x[2], x[3]), b);
    }
    if (k != 0) {  // k == 8
      const int8x16_t x01 = vcombine_s8(vld1_s8(row[0]), vld1_s8(row[1]));
      const int8x16_t x23 = vcombine_s8(vld1_s8(row[2]), vld1_s8(row[3]));
      mmla_block<kU8>(acc, x01, x23, b);
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
