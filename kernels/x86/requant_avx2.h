// Requantization epilogue of the x86 GEMM microkernels on 8 int32 lanes (AVX2), and
// the int32 clamp bounds every x86 epilogue shares.
//
// Include only from translation units compiled with at least -mavx2. Everything here
// has internal linkage (unnamed namespace) on purpose: each ISA's file gets its own
// copy compiled with its own flags, so the linker can never pick a copy built for a
// wider ISA than the caller's.
//
// Both schemes equal kernels/ref/requant.cc bit for bit:
//  * fp32: clamp(round_half_even(float(acc) * scale) + zp, qmin, qmax). The product is
//    clamped to [qmin - zp, qmax - zp] before rounding; that is equal because rounding
//    is monotonic and both bounds are integers exactly representable in float (the
//    driver only runs these kernels when |qmin - zp|, |qmax - zp| <= 2^24). NaN
//    becomes 0 first, as in the reference.
//  * fixed point: clamp(RDBP(SRDHM(sat(acc << L), M), R) + zp, qmin, qmax),
//    L = max(e, 0), R = max(-e, 0):
//    - sat(acc << L): shift, shift back, saturate the lanes that changed;
//    - SRDHM: floor((a * M + 2^30) / 2^31) from the 64-bit products of the even and
//      the odd lanes; its one overflow (INT32_MIN * INT32_MIN) is the only way to get
//      INT32_MIN, so that value is replaced by INT32_MAX;
//    - RDBP (round half away from zero): |x| >> R plus bit R-1 of |x|, sign restored;
//      variable shifts by >= 32 give 0, matching the reference for every R;
//    - + zp without int32 overflow: clamp to [qmin - zp, qmax - zp] (saturated to
//      int32) first, then add and clamp to [qmin, qmax] (that second clamp only
//      matters for extreme zero points).
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

#include "kernels/kernels.h"

namespace edgeq {
namespace kern {
namespace x86 {
namespace {

// qmin - zp and qmax - zp saturated to int32.
struct ClampBounds {
  int32_t lo, hi;
  explicit ClampBounds(const QuantEpilogue& q)
      : lo(sat32(int64_t{q.qmin} - q.zero_point)), hi(sat32(int64_t{q.qmax} - q.zero_point)) {}
  static int32_t sat32(int64_t v) {
    if (v < std::numeric_limits<int32_t>::min()) return std::numeric_limits<int32_t>::min();
    if (v > std::numeric_limits<int32_t>::max()) return std::numeric_limits<int32_t>::max();
    return static_cast<int32_t>(v);
  }
};

struct Fp32x8 {
  __m256 lo, hi, scale;
  __m256i zp;
  explicit Fp32x8(const QuantEpilogue& q) {
    const ClampBounds c(q);
    lo = _mm256_set1_ps(static_cast<float>(c.lo));
    hi = _mm256_set1_ps(static_cast<float>(c.hi));
    zp = _mm256_set1_epi32(q.zero_point);
  }
  void channels(const QuantEpilogue& q, size_t n) { scale = _mm256_loadu_ps(q.scale + n); }
  __m256i apply(__m256i acc) const {
    __m256 p = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), scale);
    p = _mm256_and_ps(p, _mm256_cmp_ps(p, p, _CMP_ORD_Q));
    p = _mm256_min_ps(_mm256_max_ps(p, lo), hi);
    return _mm256_add_epi32(_mm256_cvtps_epi32(p), zp);  // default rounding: half to even
  }
};

struct Fixedx8 {
  __m256i lo, hi, zp, qmin, qmax;
  __m256i mult, lshift, rshift;
  explicit Fixedx8(const QuantEpilogue& q) {
    const ClampBounds c(q);
    lo = _mm256_set1_epi32(c.lo);
    hi = _mm256_set1_epi32(c.hi);
    zp = _mm256_set1_epi32(q.zero_point);
    qmin = _mm256_set1_epi32(q.qmin);
    qmax = _mm256_set1_epi32(q.qmax);
  }
  void channels(const QuantEpilogue& q, size_t n) {
    mult = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q.multiplier + n));
    const __m256i e = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q.exponent + n));
    const __m256i zero = _mm256_setzero_si256();
    lshift = _mm256_max_epi32(e, zero);
    rshift = _mm256_max_epi32(_mm256_sub_epi32(zero, e), zero);
  }
  __m256i apply(__m256i acc) const {
    const __m256i int_min = _mm256_set1_epi32(std::numeric_limits<int32_t>::min());
    const __m256i int_max = _mm256_set1_epi32(std::numeric_limits<int32_t>::max());
    const __m256i shifted = _mm256_sllv_epi32(acc, lshift);
    const __m256i kept = _mm256_cmpeq_epi32(_mm256_srav_epi32(shifted, lshift), acc);
    const __m256i saturated = _mm256_xor_si256(_mm256_srai_epi32(acc, 31), int_max);
    const __m256i s = _mm256_blendv_epi8(saturated, shifted, kept);

    const __m256i half = _mm256_set1_epi64x(int64_t{1} << 30);
    const __m256i even = _mm256_add_epi64(_mm256_mul_epi32(s, mult), half);
    const __m256i odd =
        _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(s, 32), _mm256_srli_epi64(mult, 32)), half);
    __m256i h = _mm256_blend_epi32(_mm256_srli_epi64(even, 31), _mm256_slli_epi64(odd, 1), 0xAA);
    h = _mm256_xor_si256(h, _mm256_cmpeq_epi32(h, int_min));

    const __m256i mag = _mm256_abs_epi32(h);
    const __m256i one = _mm256_set1_epi32(1);
    __m256i r = _mm256_add_epi32(_mm256_srlv_epi32(mag, rshift),
                                 _mm256_and_si256(_mm256_srlv_epi32(mag, _mm256_sub_epi32(rshift, one)), one));
    r = _mm256_sign_epi32(r, h);

    r = _mm256_min_epi32(_mm256_max_epi32(r, lo), hi);
    r = _mm256_add_epi32(r, zp);
    return _mm256_min_epi32(_mm256_max_epi32(r, qmin), qmax);
  }
};

// Requantizes the MR x (8 * NV) tile acc (NV = 1 or 2) and stores rows i < mr, nc
// bytes each. Requantized values lie in [qmin, qmax], inside the output type, so the
// saturating packs below are exact.
template <size_t MR, size_t NV, class Epilogue, bool kS8>
inline void store_tile_x8(const __m256i (&acc)[MR][NV], size_t mr, size_t nc, uint8_t* c, size_t c_stride,
                          size_t n0, const QuantEpilogue& q) {
  static_assert(NV == 1 || NV == 2, "8 or 16 channels per tile");
  constexpr size_t kNr = 8 * NV;
  Epilogue e0(q);
  e0.channels(q, n0);
  Epilogue e1 = e0;
  if (NV == 2) e1.channels(q, n0 + 8);
  #pragma GCC unroll 16
  for (size_t i = 0; i < MR && i < mr; ++i) {
    const __m256i v0 = e0.apply(acc[i][0]);
    const __m256i v1 = NV == 2 ? e1.apply(acc[i][NV - 1]) : v0;
    // int16 [v0 0-3, v1 0-3 | v0 4-7, v1 4-7] -> [v0 0-7 | v1 0-7]
    const __m256i w16 = _mm256_permute4x64_epi64(_mm256_packs_epi32(v0, v1), 0xD8);
    const __m128i lo = _mm256_castsi256_si128(w16), hi = _mm256_extracti128_si256(w16, 1);
    const __m128i bytes = kS8 ? _mm_packs_epi16(lo, hi) : _mm_packus_epi16(lo, hi);
    uint8_t* row = c + i * c_stride;
    if (nc == kNr) {
      if (NV == 2) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(row), bytes);
      } else {
        _mm_storel_epi64(reinterpret_cast<__m128i*>(row), bytes);
      }
    } else {
      alignas(16) uint8_t tmp[16];
      _mm_store_si128(reinterpret_cast<__m128i*>(tmp), bytes);
      std::memcpy(row, tmp, nc);
    }
  }
}

// Runs the epilogue q->scheme selects.
template <size_t MR, size_t NV, bool kS8>
inline void requantize_store_x8(const __m256i (&acc)[MR][NV], size_t mr, size_t nc, void* c, size_t c_stride,
                                size_t n0, const QuantEpilogue* q) {
  uint8_t* out = static_cast<uint8_t*>(c);
  if (q->scheme == ref::Scheme::kFp32) {
    store_tile_x8<MR, NV, Fp32x8, kS8>(acc, mr, nc, out, c_stride, n0, *q);
  } else {
    store_tile_x8<MR, NV, Fixedx8, kS8>(acc, mr, nc, out, c_stride, n0, *q);
  }
}

}  // namespace
}  // namespace x86
}  // namespace kern
}  // namespace edgeq
