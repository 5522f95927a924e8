// AVX-512 VBMI quantized softmax over contiguous rows (kernels/misc.h, QSoftmaxRowsFn),
// equal to ref::qsoftmax_rows bit for bit (the numerics are in kernels/ref/ref.h).
//
// No gathers: the table of exponentials E[d] (256 entries below 2^24) is split into three
// byte planes, E[d] = P0[d] + 2^8 P1[d] + 2^16 P2[d]. A plane (256 bytes) lives in four
// zmm registers, and 64 steps d = max - q (one byte each: max - q is in [0, 255], so the
// wrapping byte subtraction is exact) are looked up in it with two vpermi2b, one for
// d < 128 and one for d >= 128, each zeroing the lanes of the other half (and the lanes
// past the row's end) under a mask, and one OR.
//  * row maximum: 64 bytes at a time (vpmaxsb / vpmaxub), the tail loaded under a mask
//    with the type's lowest value in the other lanes.
//  * sum: vpsadbw adds each plane's bytes into 8 uint64 lanes; S = S0 + 2^8 S1 + 2^16 S2
//    is the reference's exact integer sum.
//  * outputs: the planes looked up again and interleaved into 32-bit E (bytes, then
//    words: this permutes the elements within each 128-bit lane, and the packs at the
//    end restore the order), then the reference's float steps 16 lanes at a time:
//    float(E) * r, min 65536, rounded half to even (the default MXCSR mode, as
//    nearbyint), plus the zero point; the saturating packs to int16 and then to int8 /
//    uint8 are the clamp to the type's range (saturations compose).
#include <immintrin.h>

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <limits>

#include "kernels/ref/ref.h"
#include "kernels/x86/byte_max.h"
#include "kernels/x86/misc_x86.h"

namespace edgeq {
namespace kern {
namespace {

// The first `count` of 64 lanes (count in [0, 64]).
__mmask64 first_lanes(int32_t count) { return count >= 64 ? ~__mmask64{0} : (__mmask64{1} << count) - 1; }

// The table as three planes of four registers: plane[k][i] holds bytes k of entries
// 64 i .. 64 i + 63.
struct Planes {
  __m512i plane[3][4];
};

Planes split_table(const uint32_t table[256]) {
  Planes p;
  for (int i = 0; i < 4; ++i) {
    // 16 entries at a time: vpmovdb keeps the low byte of each 32-bit lane.
    __m128i part[3][4];
    for (int q = 0; q < 4; ++q) {
      const __m512i e = _mm512_loadu_si512(table + 64 * i + 16 * q);
      assert(_mm512_cmpge_epu32_mask(e, _mm512_set1_epi32(1 << 24)) == 0);
      for (int k = 0; k < 3; ++k) part[k][q] = _mm512_cvtepi32_epi8(_mm512_srli_epi32(e, 8 * k));
    }
    for (int k = 0; k < 3; ++k) {
      const __m256i lo = _mm256_inserti128_si256(_mm256_castsi128_si256(part[k][0]), part[k][1], 1);
      const __m256i hi = _mm256_inserti128_si256(_mm256_castsi128_si256(part[k][2]), part[k][3], 1);
      p.plane[k][i] = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
    }
  }
  return p;
}

// Plane bytes of 64 steps d: entry d of the plane in the lanes of `low` (d < 128) and
// `high` (d >= 128), zero in the others.
__m512i look_up(const __m512i t[4], __m512i d, __mmask64 low, __mmask64 high) {
  const __m512i a = _mm512_maskz_permutex2var_epi8(low, t[0], d, t[1]);
  const __m512i b = _mm512_maskz_permutex2var_epi8(high, t[2], d, t[3]);
  return _mm512_or_si512(a, b);
}

template <typename T>
__m512i max_bytes(__m512i a, __m512i b) {
  return is_signed<T>() ? _mm512_max_epi8(a, b) : _mm512_max_epu8(a, b);
}

template <typename T>
T row_max(const T* x, int32_t n) {
  const __m512i lowest = _mm512_set1_epi8(static_cast<char>(std::numeric_limits<T>::lowest()));
  __m512i m = lowest;
  int32_t j = 0;
  for (; j + 64 <= n; j += 64) m = max_bytes<T>(m, _mm512_loadu_si512(x + j));
  if (j < n) m = max_bytes<T>(m, _mm512_mask_loadu_epi8(lowest, first_lanes(n - j), x + j));
  const __m256i m256 = _mm512_castsi512_si256(max_bytes<T>(m, _mm512_shuffle_i64x2(m, m, 0xEE)));
  return fold_max_bytes<T>(max_bytes<T>(_mm256_castsi256_si128(m256), _mm256_extracti128_si256(m256, 1)));
}

// The exact sum of the table entries of a row with maximum max_q.
template <typename T>
uint64_t row_sum(const Planes& p, const T* x, int32_t n, T max_q) {
  const __m512i zero = _mm512_setzero_si512();
  const __m512i vmax = _mm512_set1_epi8(static_cast<char>(max_q));
  __m512i s0 = zero, s1 = zero, s2 = zero;
  for (int32_t j = 0; j < n; j += 64) {
    const __mmask64 valid = first_lanes(n - j);
    const __m512i d = _mm512_sub_epi8(vmax, _mm512_maskz_loadu_epi8(valid, x + j));
    const __mmask64 high = _mm512_movepi8_mask(d) & valid, low = ~high & valid;
    s0 = _mm512_add_epi64(s0, _mm512_sad_epu8(look_up(p.plane[0], d, low, high), zero));
    s1 = _mm512_add_epi64(s1, _mm512_sad_epu8(look_up(p.plane[1], d, low, high), zero));
    s2 = _mm512_add_epi64(s2, _mm512_sad_epu8(look_up(p.plane[2], d, low, high), zero));
  }
  const __m512i s = _mm512_add_epi64(_mm512_add_epi64(s0, _mm512_slli_epi64(s1, 8)), _mm512_slli_epi64(s2, 16));
  return static_cast<uint64_t>(_mm512_reduce_add_epi64(s));
}

// The outputs of a row with maximum max_q and multiplier r.
template <typename T>
void row_out(const Planes& p, const T* x, int32_t n, T max_q, float r, int32_t out_zero_point, T* y) {
  const __m512i zero = _mm512_setzero_si512();
  const __m512i vmax = _mm512_set1_epi8(static_cast<char>(max_q));
  const __m512i zp = _mm512_set1_epi32(out_zero_point);
  const __m512 cap = _mm512_set1_ps(65536.f), scale = _mm512_set1_ps(r);
  auto requantize = [&](__m512i e) {
    const __m512 v = _mm512_min_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(e), scale), cap);
    return _mm512_add_epi32(_mm512_cvtps_epi32(v), zp);
  };
  for (int32_t j = 0; j < n; j += 64) {
    const __mmask64 valid = first_lanes(n - j);
    const __m512i d = _mm512_sub_epi8(vmax, _mm512_maskz_loadu_epi8(valid, x + j));
    const __mmask64 high = _mm512_movepi8_mask(d), low = ~high;  // lanes past the end: stored under `valid`
    const __m512i b0 = look_up(p.plane[0], d, low, high);
    const __m512i b1 = look_up(p.plane[1], d, low, high);
    const __m512i b2 = look_up(p.plane[2], d, low, high);
    const __m512i w_lo = _mm512_unpacklo_epi8(b0, b1), w_hi = _mm512_unpackhi_epi8(b0, b1);
    const __m512i z_lo = _mm512_unpacklo_epi8(b2, zero), z_hi = _mm512_unpackhi_epi8(b2, zero);
    const __m512i q0 = requantize(_mm512_unpacklo_epi16(w_lo, z_lo));  // elements 0-3 of each 128-bit lane
    const __m512i q1 = requantize(_mm512_unpackhi_epi16(w_lo, z_lo));  // 4-7
    const __m512i q2 = requantize(_mm512_unpacklo_epi16(w_hi, z_hi));  // 8-11
    const __m512i q3 = requantize(_mm512_unpackhi_epi16(w_hi, z_hi));  // 12-15
    const __m512i h01 = _mm512_packs_epi32(q0, q1), h23 = _mm512_packs_epi32(q2, q3);
    const __m512i b = is_signed<T>() ? _mm512_packs_epi16(h01, h23) : _mm512_packus_epi16(h01, h23);
    _mm512_mask_storeu_epi8(y + j, valid, b);
  }
}

// Rows in batches of kBatch, each step for the whole batch before the next: the rows'
// chains (maximum, sum, multiplier) are independent, so short rows overlap instead of
// waiting on one another's reductions.
template <typename T>
void qsoftmax_rows_avx512vbmi(int64_t rows, int32_t n, const T* in, const uint32_t table[256], float out_scale,
                              int32_t out_zero_point, T* out) {
  constexpr int64_t kBatch = 8;
  const Planes p = split_table(table);
  for (int64_t r0 = 0; r0 < rows; r0 += kBatch) {
    const int count = static_cast<int>(std::min(kBatch, rows - r0));
    const T* x = in + r0 * n;
    T max_q[kBatch];
    float r[kBatch];
    for (int i = 0; i < count; ++i) max_q[i] = row_max(x + i * n, n);
    for (int i = 0; i < count; ++i) r[i] = ref::qsoftmax_row_multiplier(row_sum(p, x + i * n, n, max_q[i]), out_scale);
    for (int i = 0; i < count; ++i) row_out(p, x + i * n, n, max_q[i], r[i], out_zero_point, out + (r0 + i) * n);
  }
}

}  // namespace

void add_softmax_kernels_avx512vbmi(MiscKernels* k) {
  k->qsoftmax_s8 = qsoftmax_rows_avx512vbmi<int8_t>;
  k->qsoftmax_u8 = qsoftmax_rows_avx512vbmi<uint8_t>;
  k->names.qsoftmax = "q8_softmax_ukernel__avx512vbmi";
}

}  // namespace kern
}  // namespace edgeq
