// qu8_igemm_minmax_ukernel_4x16c4__neondot and qs8_igemm_minmax_ukernel_4x16c4__neondot:
// the AArch64 dot-product (ARMv8.2 dotprod) indirect-GEMM microkernel, 4x16c4.
//
// Weights are packed with kr = 4: one 16-byte load is 4 channels x 4 consecutive k,
// exactly the layout `sdot vd.4s, vn.16b, vm.4b[lane]` multiplies with 4 k of one row
// (the lane). 16 accumulators hold the 4 x 16 tile, initialized with the packed bias.
// The main loop takes 16 k per row (one 16-byte load, four lanes); the last 4, 8 or 12
// k of round_up(kc, 4) go 4 at a time.
//
// uint8 activations are flipped to int8 with x ^ 0x80 (u8_act_offset = -128).
// Compiled with -march=armv8.2-a+dotprod; dispatch runs it only where the CPU has it.
#include <arm_neon.h>

#include <cstring>

#include "kernels/arm/gemm_ukernels.h"
#include "kernels/arm/neon_epilogue.h"

namespace edgeq {
namespace kern {
namespace {

constexpr size_t kMr = 4, kNr = 16, kKr = 4;

template <int kLane>
inline void dot_lane(int32x4_t (&acc)[kMr][kNr / 4], const int8x16_t (&x)[kMr], const int8_t*& b) {
  EDGEQ_UNROLL
  for (size_t v = 0; v < kNr / 4; ++v) {
    const int8x16_t wv = vld1q_s8(b);  // 4 channels x 4 k
    b += 16;
    EDGEQ_UNROLL
    for (size_t i = 0; i < kMr; ++i) acc[i][v] = vdotq_laneq_s32(acc[i][v], wv, x[i], kLane);
  }
}

template <bool kFlip>
void igemm_4x16c4(size_t mr, size_t nc, size_t kc, size_t ks, const void* const* a, const void* w, void* c,
                  size_t c_stride, size_t n0, const QuantEpilogue* q) {
  const int32_t* bias = static_cast<const int32_t*>(w);
  const int8_t* b = reinterpret_cast<const int8_t*>(bias + kNr);
  const size_t kp = (kc + kKr - 1) / kKr * kKr;
  const int8x16_t flip = vdupq_n_s8(kFlip ? -128 : 0);

  int32x4_t acc[kMr][kNr / 4];
  EDGEQ_UNROLL
  for (size_t v = 0; v < kNr / 4; ++v) {
    const int32x4_t bv = vld1q_s32(bias + 4 * v);
    EDGEQ_UNROLL
    for (size_t i = 0; i < kMr; ++i) acc[i][v] = bv;
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
        x[i] = veorq_s8(vld1q_s8(row[i]), flip);
        row[i] += 16;
      }
      dot_lane<0>(acc, x, b);
      dot_lane<1>(acc, x, b);
      dot_lane<2>(acc, x, b);
      dot_lane<3>(acc, x, b);
    }
    for (; k != 0; k -= 4) {  // the last 4, 8 or 12 k, 4 at a time
      int8x16_t x[kMr];
      EDGEQ_UNROLL
      for (size_t i = 0; i < kMr; ++i) {
        int32_t four;
        std::memcpy(&four, row[i], sizeof(four));
        x[i] = veorq_s8(vreinterpretq_s8_s32(vdupq_n_s32(four)), flip);
        row[i] += 4;
      }
      dot_lane<0>(acc, x, b);
    }
  }
  neon_requantize_store(acc, mr, nc, c, c_stride, n0, *q);
}

}  // namespace

EDGEQ_ARM_IGEMM_DEFINE(qu8_igemm_minmax_ukernel_4x16c4__neondot, qs8_igemm_minmax_ukernel_4x16c4__neondot, igemm_4x16c4)

}  // namespace kern
}  // namespace edgeq
