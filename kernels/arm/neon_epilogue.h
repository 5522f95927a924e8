// The requantization epilogue shared by the ARM GEMM microkernels: int32 accumulators
// (4 output channels per vector) -> clamped 8-bit outputs, equal to kernels/ref/
// requant.cc bit for bit. Its rounding steps (neon_round_nearest, neon_round_fixed)
// also serve the elementwise and pooling kernels (kernels/arm/misc_neon.cc).
//
//  * fp32: float(acc) * scale rounded half to even. AArch64 has vcvtnq_s32_f32; ARMv7
//    has no rounding conversion, so magnitudes below 2^23 are rounded by adding and
//    removing 2^23 (where the float spacing is 1, the addition itself rounds to nearest
//    even) and larger ones are integers already; the truncating conversion then
//    saturates like vcvtnq. NEON on ARMv7 flushes denormals to zero; a product that
//    small rounds to 0 in the reference too. A NaN product (a NaN or infinite scale,
//    which validation rejects) gives the zero point, as in the reference; vcvtnq_s32_f32
//    does that itself. A saturated int32 plus the zero point clamps like the
//    reference's exact sum as long as |zero point| < 2^30 (the driver refuses fp32
//    zero points far beyond the output range).
//  * fixed point: vqshlq_s32 (left shift, saturating), vqrdmulhq_s32 (SRDHM: rounds ties
//    toward +inf, saturates INT32_MIN * INT32_MIN, exactly the reference), then a
//    rounding right shift. vrshlq_s32 rounds ties up; the reference's RDBP rounds them
//    away from zero, so negative values are first lowered by one, which turns "ties up"
//    into "ties down" for them: floor((x - 1 + 2^(s-1)) / 2^s) = -floor((-x + 2^(s-1)) / 2^s)
//    for every s >= 1. The lowering saturates, but never does: SRDHM never returns
//    INT32_MIN (its lowest result is -(2^31 - 1), from INT32_MIN * INT32_MAX).
//    Shift amounts are clamped to what the reference distinguishes (left <= 32,
//    right <= 63), since NEON reads only a shift's low byte.
// Then + zero point (saturating), clamp to [qmin, qmax], narrow to bytes: the clamp
// puts every value in the output type's range, so the low byte is the int8 or uint8
// result alike.
//
// Everything here is in an anonymous namespace on purpose: each ISA's translation unit
// compiles its own copy with its own -march, so the linker can never pick a copy built
// for a newer ISA than the caller's.
#pragma once

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/arm/gemm_ukernels.h"  // EDGEQ_UNROLL
#include "kernels/kernels.h"

namespace edgeq {
namespace kern {
namespace {

// All ones in the lanes of v that hold a NaN. An integer compare of the bits: GCC
// turns ARMv7 NEON float compares (vceq/vclt .f32) into scalar VFP compares, one lane
// at a time.
inline uint32x4_t neon_nan_mask(float32x4_t v) {
  return vcgtq_u32(vandq_u32(vreinterpretq_u32_f32(v), vdupq_n_u32(0x7FFFFFFFu)), vdupq_n_u32(0x7F800000u));
}

// v rounded half to even to int32, saturating; NaN gives 0.
inline int32x4_t neon_round_nearest(float32x4_t v) {
#if defined(__aarch64__)
  return vcvtnq_s32_f32(v);
#else
  // |v| < 2^23: |v| + 2^23 lies where floats are the integers, so the addition rounds
  // half to even; |v| >= 2^23 is an integer already. The sign goes back on after.
  // The tests on v are integer compares of its bits (see neon_nan_mask).
  const uint32x4_t bits = vreinterpretq_u32_f32(v);
  const uint32x4_t abs_bits = vandq_u32(bits, vdupq_n_u32(0x7FFFFFFFu));
  const uint32x4_t nan = neon_nan_mask(v);  // NaN -> 0, as the reference
  const uint32x4_t magnitude_bits = vbicq_u32(abs_bits, nan);
  const float32x4_t magnitude = vreinterpretq_f32_u32(magnitude_bits);
  const float32x4_t two23 = vdupq_n_f32(8388608.0f);
  const float32x4_t small = vsubq_f32(vaddq_f32(magnitude, two23), two23);
  const uint32x4_t is_small = vcltq_u32(magnitude_bits, vdupq_n_u32(0x4B000000u));  // the bits of 2^23
  const float32x4_t rounded = vbslq_f32(is_small, small, magnitude);
  const uint32x4_t sign = vbicq_u32(vandq_u32(bits, vdupq_n_u32(0x80000000u)), nan);
  return vcvtq_s32_f32(vreinterpretq_f32_u32(vorrq_u32(vreinterpretq_u32_f32(rounded), sign)));  // saturates
#endif
}

inline int32x4_t neon_round_fp32(int32x4_t acc, float32x4_t scale) {
  return neon_round_nearest(vmulq_f32(vcvtq_f32_s32(acc), scale));
}

// An output's zero point and clamp, for callers whose scales are finite and whose zero
// point, qmin and qmax lie within 2^21 (the depthwise op's init refuses the rest,
// kernels/qdwconv.cc): clamp(rounded + zero_point, qmin, qmax).
//  * fixed(): a fixed-point result, saturating add and clamp in int32.
//  * fp32(): the fp32 scheme whole, clamp(round_half_even(float(acc) * scale) + zp, ...).
//    AArch64: vcvtnq, then as fixed(). ARMv7 clamps first, in float, to
//    [qmin - zp, qmax - zp] (integers, so clamping and rounding commute; an infinite
//    product clamps like the reference's saturated one, and with finite scales no
//    product is NaN), then rounds with one add: |f| <= 2^22, so f + 1.5 * 2^23 lies in
//    [2^23, 2^24], where floats are the integers, and the addition rounds half to even;
//    the sum's bits are 0x4B400000 + round(f), so one integer subtract of
//    0x4B400000 - zp leaves round(f) + zp. Five operations per 4 outputs instead of
//    about twenty.
struct NeonOutputClamp {
  int32x4_t zp, lo, hi;
#if !defined(__aarch64__)
  float32x4_t flo, fhi, magic;
  int32x4_t magic_less_zp;
#endif
  NeonOutputClamp(int32_t zero_point, int32_t qmin, int32_t qmax)
      : zp(vdupq_n_s32(zero_point)),
        lo(vdupq_n_s32(qmin)),
        hi(vdupq_n_s32(qmax))
#if !defined(__aarch64__)
        ,
        flo(vdupq_n_f32(static_cast<float>(qmin - zero_point))),
        fhi(vdupq_n_f32(static_cast<float>(qmax - zero_point))),
        magic(vdupq_n_f32(12582912.0f)),  // 1.5 * 2^23, bits 0x4B400000
        magic_less_zp(vdupq_n_s32(0x4B400000 - zero_point))
#endif
  {
  }
  int32x4_t fixed(int32x4_t rounded) const { return vminq_s32(vmaxq_s32(vqaddq_s32(rounded, zp), lo), hi); }
  int32x4_t fp32(int32x4_t acc, float32x4_t scale) const {
#if defined(__aarch64__)
    return fixed(vcvtnq_s32_f32(vmulq_f32(vcvtq_f32_s32(acc), scale)));
#else
    const float32x4_t f = vminq_f32(vmaxq_f32(vmulq_f32(vcvtq_f32_s32(acc), scale), flo), fhi);
    return vsubq_s32(vreinterpretq_s32_f32(vaddq_f32(f, magic)), magic_less_zp);
#endif
  }
};

// Fixed-point parameters of 4 channels, prepared once per tile.
struct NeonFixed {
  int32x4_t multiplier, left, right, negative_fixup;
};

inline NeonFixed neon_fixed_params(int32x4_t multiplier, int32x4_t e) {
  const int32x4_t zero = vdupq_n_s32(0);
  NeonFixed p;
  p.multiplier = multiplier;
  p.left = vminq_s32(vmaxq_s32(e, zero), vdupq_n_s32(32));
  p.right = vmaxq_s32(vminq_s32(e, zero), vdupq_n_s32(-63));     // vrshl shifts right by -amount
  p.negative_fixup = vreinterpretq_s32_u32(vcltq_s32(e, zero));  // lower negatives only when shifting right
  return p;
}

inline NeonFixed neon_fixed_params(const int32_t* multiplier, const int32_t* exponent) {
  return neon_fixed_params(vld1q_s32(multiplier), vld1q_s32(exponent));
}

inline int32x4_t neon_round_fixed(int32x4_t acc, const NeonFixed& p) {
  int32x4_t x = vqrdmulhq_s32(vqshlq_s32(acc, p.left), p.multiplier);
  x = vqaddq_s32(x, vandq_s32(vshrq_n_s32(x, 31), p.negative_fixup));
  return vrshlq_s32(x, p.right);
}

// Stores the first mr rows and nc columns of an MR x (4 * NV) tile of int32 as they
// are. Vector by vector through a small buffer: copying from acc itself would take its
// address, and GCC then keeps the accumulators of the calling loop in memory (the
// neondot main loop grew from 88 to 100 instructions).
template <size_t MR, size_t NV>
inline void neon_store_int32(const int32x4_t (&acc)[MR][NV], size_t mr, size_t nc, void* c, size_t c_stride) {
  for (size_t i = 0; i < MR && i < mr; ++i) {
    int32_t row[4 * NV];
    EDGEQ_UNROLL
    for (size_t v = 0; v < NV; ++v) vst1q_s32(row + 4 * v, acc[i][v]);
    std::memcpy(static_cast<uint8_t*>(c) + i * c_stride, row, nc * sizeof(int32_t));
  }
}

// Requantizes an MR x (4 * NV) tile of accumulators (acc[i][v] holds row i, channels
// 4v..4v+3 of the tile) and stores its first mr rows and nc columns.
template <size_t MR, size_t NV>
inline void neon_requantize_store(int32x4_t (&acc)[MR][NV], size_t mr, size_t nc, void* c, size_t c_stride, size_t n0,
                                  const QuantEpilogue& q) {
  if (q.int32_output) {  // the raw accumulators (kernels/qmatmul.h)
    neon_store_int32(acc, mr, nc, c, c_stride);
    return;
  }
  if (q.scheme == ref::Scheme::kFp32) {
    EDGEQ_UNROLL
    for (size_t v = 0; v < NV; ++v) {
      const float32x4_t scale = vld1q_f32(q.scale + n0 + 4 * v);
      EDGEQ_UNROLL
      for (size_t i = 0; i < MR; ++i) acc[i][v] = neon_round_fp32(acc[i][v], scale);
    }
  } else {
    EDGEQ_UNROLL
    for (size_t v = 0; v < NV; ++v) {
      const NeonFixed p = neon_fixed_params(q.multiplier + n0 + 4 * v, q.exponent + n0 + 4 * v);
      EDGEQ_UNROLL
      for (size_t i = 0; i < MR; ++i) acc[i][v] = neon_round_fixed(acc[i][v], p);
    }
  }
  const int32x4_t zp = vdupq_n_s32(q.zero_point);
  const int32x4_t lo = vdupq_n_s32(q.qmin);
  const int32x4_t hi = vdupq_n_s32(q.qmax);
  EDGEQ_UNROLL
  for (size_t i = 0; i < MR && i < mr; ++i) {
    int16x4_t half[NV + 1];
    EDGEQ_UNROLL
    for (size_t v = 0; v < NV; ++v) half[v] = vmovn_s32(vminq_s32(vmaxq_s32(vqaddq_s32(acc[i][v], zp), lo), hi));
    half[NV] = half[NV - 1];  // pads an odd NV; never stored past nc
    uint8_t row[8 * ((NV + 1) / 2)];
    EDGEQ_UNROLL
    for (size_t v = 0; v < NV; v += 2) {
      vst1_u8(row + 4 * v, vreinterpret_u8_s8(vmovn_s16(vcombine_s16(half[v], half[v + 1]))));
    }
    uint8_t* out = static_cast<uint8_t*>(c) + i * c_stride;
    if (nc == 4 * NV) {
      std::memcpy(out, row, 4 * NV);
    } else {
      std::memcpy(out, row, nc);
    }
  }
}

}  // namespace
}  // namespace kern
}  // namespace edgeq
