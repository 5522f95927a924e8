// AVX2 requantization helpers of the x86 depthwise and elementwise kernels: the vector
// ref::requantize_fp32 / ref::requantize_fixed and of the fixed-point steps behind
// them (SRDHM, rounding divide by a power of two, saturating left shift).
//
// Everything sits in an anonymous namespace on purpose: each ISA's translation unit
// (compiled with its own -m flags) gets its own copy, so the linker can never pick a
// copy built for a wider ISA than the caller's.
//
// Exactness notes. fp32: clamping the float product to [qmin - zp, qmax - zp] before
// rounding equals rounding then clamping, because both bounds are integers and
// round-to-nearest-even (the MXCSR default, as std::nearbyint) is monotonic; the
// bounds are exact floats for |zp| <= 2^24. Fixed point: SRDHM takes bits 31..62 of
// a * b + 2^30 (valid unless a == b == INT32_MIN, which callers exclude); the rounding
// divide uses gemmlowp's mask/threshold form (shifts 0..31); the left shift saturates
// by checking that shifting back gives the input (counts >= 32 shift out everything).
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace edgeq {
namespace kern {
namespace {

inline __m256i requant_fp32_avx2(__m256i acc, __m256 scale, __m256 lo, __m256 hi, __m256i zp) {
  __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), scale);
  f = _mm256_min_ps(_mm256_max_ps(f, lo), hi);
  return _mm256_add_epi32(_mm256_cvtps_epi32(f), zp);
}

inline __m256i srdhm_avx2(__m256i a, __m256i b) {
  const __m256i nudge = _mm256_set1_epi64x(int64_t{1} << 30);
  __m256i even = _mm256_add_epi64(_mm256_mul_epi32(a, b), nudge);
  __m256i odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(a, 32), _mm256_srli_epi64(b, 32)), nudge);
  even = _mm256_srli_epi64(even, 31);  // result in the low dword
  odd = _mm256_slli_epi64(odd, 1);     // result in the high dword
  return _mm256_blend_epi32(even, odd, 0xAA);
}

// x / 2^shift rounded half away from zero, shift in [0, 31] per lane.
inline __m256i rdbp_avx2(__m256i x, __m256i shift) {
  const __m256i one = _mm256_set1_epi32(1);
  const __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, shift), one);
  const __m256i rem = _mm256_and_si256(x, mask);
  const __m256i threshold = _mm256_sub_epi32(_mm256_srli_epi32(mask, 1), _mm256_srai_epi32(x, 31));
  return _mm256_sub_epi32(_mm256_srav_epi32(x, shift), _mm256_cmpgt_epi32(rem, threshold));
}

// x * 2^shift saturated to int32, shift >= 0 per lane.
inline __m256i shl_sat_avx2(__m256i x, __m256i shift) {
  const __m256i shifted = _mm256_sllv_epi32(x, shift);
  const __m256i exact = _mm256_cmpeq_epi32(_mm256_srav_epi32(shifted, shift), x);
  const __m256i saturated = _mm256_xor_si256(_mm256_srai_epi32(x, 31), _mm256_set1_epi32(INT32_MAX));
  return _mm256_blendv_epi8(saturated, shifted, exact);
}

inline __m256i mbqm_avx2(__m256i x, __m256i multiplier, __m256i left, __m256i right) {
  return rdbp_avx2(srdhm_avx2(shl_sat_avx2(x, left), multiplier), right);
}

// lo/hi: qmin - zp and qmax - zp.
inline __m256i requant_fixed_avx2(__m256i acc, __m256i multiplier, __m256i left, __m256i right, __m256i lo, __m256i hi,
                                  __m256i zp) {
  const __m256i x = mbqm_avx2(acc, multiplier, left, right);
  return _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(x, lo), hi), zp);
}

// The output clamp and zero point as vectors, for both schemes.
struct EpilogueAvx2 {
  __m256 lo_f, hi_f;
  __m256i lo_i, hi_i, zp;
  EpilogueAvx2(int32_t zero_point, int32_t qmin, int32_t qmax)
      : lo_f(_mm256_set1_ps(static_cast<float>(qmin - zero_point))),
        hi_f(_mm256_set1_ps(static_cast<float>(qmax - zero_point))),
        lo_i(_mm256_set1_epi32(qmin - zero_point)),
        hi_i(_mm256_set1_epi32(qmax - zero_point)),
        zp(_mm256_set1_epi32(zero_point)) {}
};

}  // namespace
}  // namespace kern
}  // namespace edgeq
