// The x86 requantization epilogue: int32 accumulators -> clamped 8-bit outputs, equal to
// kernels/ref/requant.cc bit for bit. The algorithm is written once below, over a class
// V of lane operations; this header gives its 8-lane form (Lanes8, ymm) and the GEMM
// tile store on ymm, epilogue_avx512.h the 16-lane form (Lanes16, zmm). Every x86
// kernel that requantizes goes through it: the GEMM microkernels (igemm_*.cc), the
// depthwise kernels (dw_*) and the elementwise and pooling kernels (misc_avx2.cc).
//
//  * fp32: clamp(round_half_even(float(acc) * scale) + zp, qmin, qmax). The product is
//    clamped to [qmin - zp, qmax - zp] in float before the rounding conversion: equal,
//    since rounding is monotonic and both bounds are integers, exact as floats (the
//    drivers keep them within 2^24). The reference turns a NaN product into 0; a NaN
//    product needs a NaN scale, or an infinite one times 0, so finite_scale() makes
//    every scale finite once per channel instead of testing every product: NaN -> 0
//    (then every product is 0, as wanted), +-inf -> +-FLT_MAX (0 stays 0, and any
//    other accumulator, |acc| >= 1, still lands beyond the bound of its sign).
//  * fixed point: clamp(RDBP(SRDHM(sat(acc << L), M), R) + zp, qmin, qmax) with
//    L = max(e, 0), R = max(-e, 0):
//    - sat(acc << L): shift, shift back, and take the saturated value in the lanes
//      that changed (a count of 32 or more shifts everything out: every non-zero lane
//      saturates, as in the reference);
//    - SRDHM: floor((s * M + 2^30) / 2^31) from the 64-bit products of the even and
//      of the odd lanes (vpmuldq). Its one overflow, INT32_MIN * INT32_MIN, leaves
//      INT32_MIN where the reference saturates to INT32_MAX; INT32_MIN is no other
//      product's result, and RDBP below turns it into RDBP(INT32_MAX) for free;
//    - RDBP, x / 2^R rounded half away from zero, as the ARM epilogue does it
//      (kernels/arm/neon_epilogue.h): lowering a negative x by one turns its ties away
//      from zero into ties up, -floor((-x + 2^(R-1)) / 2^R) = floor((x - 1 + 2^(R-1)) / 2^R),
//      so with y = x - (x < 0) the result is floor((y + 2^(R-1)) / 2^R), which is
//      (y >> R) + bit R-1 of y: two arithmetic shifts (vpsravd) and no addition that
//      could overflow. vpsravd fills counts above 31 with the sign, which gives every R
//      the reference's value: for R = 0, "bit -1" is the sign and adds back the one
//      taken from negatives (y + 1 = x); R >= 32 gives 0. The lowering wraps SRDHM's
//      overflow, INT32_MIN, to INT32_MAX, the saturated value. Six operations and no
//      separate fix for the overflow: faster (a throughput loop on Zen 5, ymm and zmm)
//      than the magnitude form (|x| >> R plus bit R-1 of |x|, sign restored) and
//      gemmlowp's remainder/threshold form, which both need that fix besides.
//  * + zp: the value is clamped to [qmin - zp, qmax - zp] (saturated to int32), then
//    the zero point added: equal to the reference's clamp of the exact sum, since
//    where one bound saturates the other keeps the sum in range. A zero point below
//    qmin - INT32_MAX makes every output qmin, and so does qmin - INT32_MAX itself;
//    likewise above qmax - INT32_MIN for qmax. Such zero points are first moved to
//    those limits, from where at most one of the bounds leaves int32.
//
// Include only from translation units compiled with at least -mavx2. Everything here
// has internal linkage (unnamed namespace) on purpose: each ISA's file gets its own
// copy compiled with its own flags, so the linker can never pick a copy built for a
// wider ISA than the caller's.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cfloat>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

#include "kernels/kernels.h"

// For the GEMM tile stores and what calls them: inlined into each microkernel, so that
// the accumulator tile stays in registers (GCC may otherwise call the two schemes'
// stores out of line, through the stack).
#define EDGEQ_X86_ALWAYS_INLINE __attribute__((always_inline))

// The lane types, and the lane operations whose intrinsics differ between ymm and zmm
// only in their prefix P (_mm256, _mm512) and register size B (256, 512): spelled once
// for Lanes8 and Lanes16. I: int32 lanes, F: float lanes.
#define EDGEQ_X86_EPILOGUE_LANE_OPS(P, B)                                            \
  using I = __m##B##i;                                                               \
  using F = __m##B;                                                                  \
  static constexpr size_t kLanes = B / 32;                                           \
  static I load(const void* p) { return P##_loadu_si##B(static_cast<const I*>(p)); } \
  static F load_ps(const float* p) { return P##_loadu_ps(p); }                       \
  static I set1(int32_t v) { return P##_set1_epi32(v); }                             \
  static F set1_ps(float v) { return P##_set1_ps(v); }                               \
  static I add(I a, I b) { return P##_add_epi32(a, b); }                             \
  static I sub(I a, I b) { return P##_sub_epi32(a, b); }                             \
  static I min(I a, I b) { return P##_min_epi32(a, b); }                             \
  static I max(I a, I b) { return P##_max_epi32(a, b); }                             \
  static I bit_and(I a, I b) { return P##_and_si##B(a, b); }                         \
  static I bit_xor(I a, I b) { return P##_xor_si##B(a, b); }                         \
  static I sign_mask(I a) { return P##_srai_epi32(a, 31); }                          \
  static I sllv(I a, I count) { return P##_sllv_epi32(a, count); }                   \
  static I srav(I a, I count) { return P##_srav_epi32(a, count); }                   \
  static I mul_even(I a, I b) { return P##_mul_epi32(a, b); }                        \
  static I add64(I a, I b) { return P##_add_epi64(a, b); }                           \
  static I srl64(I a, int count) { return P##_srli_epi64(a, count); }                \
  static I sll64(I a, int count) { return P##_slli_epi64(a, count); }                \
  static F to_float(I a) { return P##_cvtepi32_ps(a); }                              \
  static I round(F a) { return P##_cvtps_epi32(a); }                                 \
  static F mul_ps(F a, F b) { return P##_mul_ps(a, b); }                             \
  static F min_ps(F a, F b) { return P##_min_ps(a, b); }                             \
  static F max_ps(F a, F b) { return P##_max_ps(a, b); }

namespace edgeq {
namespace kern {
namespace {

// 8 lanes: the AVX2 forms of the operations the epilogue uses.
struct Lanes8 {
  EDGEQ_X86_EPILOGUE_LANE_OPS(_mm256, 256)
  // The 64-bit lanes' low halves from even, the high halves from odd.
  static I blend_odd(I even, I odd) { return _mm256_blend_epi32(even, odd, 0xAA); }
  // a == b ? same : other, per lane.
  static I select_equal(I a, I b, I same, I other) { return _mm256_blendv_epi8(other, same, _mm256_cmpeq_epi32(a, b)); }
  static F zero_nan(F v) { return _mm256_and_ps(v, _mm256_cmp_ps(v, v, _CMP_ORD_Q)); }
  static I splat64(int64_t v) { return _mm256_set1_epi64x(v); }
};

// ------------------------------------------------------------------ the algorithm

// The output clamp and zero point (see the top: + zp).
template <class V>
struct OutputClamp {
  using I = typename V::I;
  using F = typename V::F;
  I lo, hi, zp;
  F lo_f, hi_f;

  OutputClamp(int32_t zero_point, int32_t qmin, int32_t qmax) {
    constexpr int64_t kMin = std::numeric_limits<int32_t>::min(), kMax = std::numeric_limits<int32_t>::max();
    const int64_t z = std::min(std::max(int64_t{zero_point}, qmin - kMax), qmax - kMin);
    const int64_t l = std::max(qmin - z, kMin), h = std::min(qmax - z, kMax);
    lo = V::set1(static_cast<int32_t>(l));
    hi = V::set1(static_cast<int32_t>(h));
    zp = V::set1(static_cast<int32_t>(z));
    lo_f = V::set1_ps(static_cast<float>(l));
    hi_f = V::set1_ps(static_cast<float>(h));
  }

  // clamp(x + zp, qmin, qmax) for any int32 x.
  I add_zero_point(I x) const { return V::add(V::min(V::max(x, lo), hi), zp); }

  // clamp(round_half_even(v) + zp, qmin, qmax) for any v but NaN, the bounds being
  // exact floats.
  I round(F v) const { return V::add(V::round(V::min_ps(V::max_ps(v, lo_f), hi_f)), zp); }

  // The fp32 scheme with a finite scale.
  I requantize(I acc, F scale) const { return round(V::mul_ps(V::to_float(acc), scale)); }
};

// A scale that gives every product the requantized value of `scale` (see the top:
// fp32).
template <class V>
typename V::F finite_scale(typename V::F scale) {
  return V::min_ps(V::max_ps(V::zero_nan(scale), V::set1_ps(-FLT_MAX)), V::set1_ps(FLT_MAX));
}

// RDBP(SRDHM(sat(x << left), multiplier), right) with one channel's parameters per
// lane: TFLite's MultiplyByQuantizedMultiplier (see the top: fixed point).
template <class V>
struct FixedPoint {
  using I = typename V::I;
  I multiplier, multiplier_odd, left, right, right_1;

  // left, right >= 0 (an exponent e gives max(e, 0) and max(-e, 0)).
  static FixedPoint from_shifts(I multiplier, I left, I right) {
    FixedPoint p;
    p.multiplier = multiplier;
    p.multiplier_odd = V::srl64(multiplier, 32);
    p.left = left;
    p.right = right;
    p.right_1 = V::sub(right, V::set1(1));  // -1 for 0: bit "-1" of y is its sign
    return p;
  }

  static FixedPoint from_exponent(I multiplier, I exponent) {
    const I zero = V::set1(0);
    return from_shifts(multiplier, V::max(exponent, zero), V::max(V::sub(zero, exponent), zero));
  }

  I apply(I x) const {
    const I shifted = V::sllv(x, left);
    const I saturated = V::bit_xor(V::sign_mask(x), V::set1(std::numeric_limits<int32_t>::max()));
    const I s = V::select_equal(V::srav(shifted, left), x, shifted, saturated);

    const I nudge = V::splat64(int64_t{1} << 30);
    const I even = V::add64(V::mul_even(s, multiplier), nudge);
    const I odd = V::add64(V::mul_even(V::srl64(s, 32), multiplier_odd), nudge);
    const I h = V::blend_odd(V::srl64(even, 31), V::sll64(odd, 1));

    const I y = V::add(h, V::sign_mask(h));  // h - 1 for negative h; INT32_MIN -> INT32_MAX
    return V::add(V::srav(y, right), V::bit_and(V::srav(y, right_1), V::set1(1)));
  }
};

// The epilogue of a QuantEpilogue's scheme for V::kLanes channels at a time, in the
// form the GEMM tile stores take: construct once per tile, channels(q, n) selects
// channels n.., apply(acc) requantizes one vector of them.
template <class V>
struct Fp32Channels {
  OutputClamp<V> out;
  typename V::F scale;
  explicit Fp32Channels(const QuantEpilogue& q) : out(q.zero_point, q.qmin, q.qmax) {}
  void channels(const QuantEpilogue& q, size_t n) { scale = finite_scale<V>(V::load_ps(q.scale + n)); }
  typename V::I apply(typename V::I acc) const { return out.requantize(acc, scale); }
};

template <class V>
struct FixedChannels {
  OutputClamp<V> out;
  FixedPoint<V> m;
  explicit FixedChannels(const QuantEpilogue& q) : out(q.zero_point, q.qmin, q.qmax) {}
  void channels(const QuantEpilogue& q, size_t n) {
    m = FixedPoint<V>::from_exponent(V::load(q.multiplier + n), V::load(q.exponent + n));
  }
  typename V::I apply(typename V::I acc) const { return out.add_zero_point(m.apply(acc)); }
};

// Calls store(epilogue) with the epilogue of q.scheme (one branch per tile).
template <class V, class Store>
EDGEQ_X86_ALWAYS_INLINE inline void with_epilogue(const QuantEpilogue& q, const Store& store) {
  if (q.scheme == ref::Scheme::kFp32) {
    store(Fp32Channels<V>(q));
  } else {
    store(FixedChannels<V>(q));
  }
}

// Requantizes the N vectors of a depthwise tile from the tile's packed requantization
// arrays (kernels/misc.h: three arrays of N * V::kLanes int32, fp32: the scale;
// fixed point: multiplier, left shift, right shift). The depthwise driver packs only
// finite scales, so they are used as they are.
template <class V, size_t N>
inline void requantize_dw_tile(typename V::I (&acc)[N], const uint8_t* rq, ref::Scheme scheme,
                               const OutputClamp<V>& out) {
  constexpr size_t kVector = V::kLanes * sizeof(int32_t), kArray = N * kVector;
  if (scheme == ref::Scheme::kFp32) {
#pragma GCC unroll 4
    for (size_t i = 0; i < N; ++i) {
      acc[i] = out.requantize(acc[i], V::load_ps(reinterpret_cast<const float*>(rq + kVector * i)));
    }
  } else {
#pragma GCC unroll 4
    for (size_t i = 0; i < N; ++i) {
      const uint8_t* p = rq + kVector * i;
      const FixedPoint<V> m = FixedPoint<V>::from_shifts(V::load(p), V::load(p + kArray), V::load(p + 2 * kArray));
      acc[i] = out.add_zero_point(m.apply(acc[i]));
    }
  }
}

// ------------------------------------------------------------------ GEMM tile store on ymm

// Requantizes the MR x (8 * NV) tile acc (NV = 1 or 2) with epilogue e and stores rows
// i < mr, nc bytes each. Requantized values lie in [qmin, qmax], inside the output
// type, so the saturating packs below are exact.
template <size_t MR, size_t NV, bool kS8, class Epilogue>
EDGEQ_X86_ALWAYS_INLINE inline void store_tile_x8(const __m256i (&acc)[MR][NV], size_t mr, size_t nc, uint8_t* c,
                                                  size_t c_stride, size_t n0, const QuantEpilogue& q, Epilogue e0) {
  static_assert(NV == 1 || NV == 2, "8 or 16 channels per tile");
  constexpr size_t kNr = 8 * NV;
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

// Stores the raw int32 tile (QuantEpilogue::int32_output): rows i < mr, nc values each.
template <size_t MR, size_t NV, class I>
EDGEQ_X86_ALWAYS_INLINE inline void store_int32_tile(const I (&acc)[MR][NV], size_t mr, size_t nc, void* c,
                                                     size_t c_stride) {
  constexpr size_t kLanes = sizeof(I) / sizeof(int32_t);
#pragma GCC unroll 16
  for (size_t i = 0; i < MR; ++i) {
    if (i >= mr) break;
    uint8_t* row = static_cast<uint8_t*>(c) + i * c_stride;
    if (nc == kLanes * NV) {
      std::memcpy(row, &acc[i][0], sizeof(acc[i]));
    } else {
      std::memcpy(row, &acc[i][0], nc * sizeof(int32_t));
    }
  }
}

template <size_t MR, size_t NV, bool kS8>
EDGEQ_X86_ALWAYS_INLINE inline void requantize_store_x8(const __m256i (&acc)[MR][NV], size_t mr, size_t nc, void* c,
                                                        size_t c_stride, size_t n0, const QuantEpilogue* q) {
  if (q->int32_output) return store_int32_tile<MR, NV>(acc, mr, nc, c, c_stride);
  with_epilogue<Lanes8>(*q, [&](auto e) EDGEQ_X86_ALWAYS_INLINE {
    store_tile_x8<MR, NV, kS8>(acc, mr, nc, static_cast<uint8_t*>(c), c_stride, n0, *q, e);
  });
}

}  // namespace
}  // namespace kern
}  // namespace edgeq
