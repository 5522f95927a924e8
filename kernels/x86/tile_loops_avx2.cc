// AVX2 versions of the int32-tile products' loops (kernels/x86/tile_loops_x86.h): the
// dynamic modes' range of a row (or of a whole tensor), the bytes' sum of a quantized
// row, and the finish of a tile row to float. 8 lanes at a time, the rest in scalar code
// that makes the same comparisons and roundings.
//
// The range: min and max lane-wise, then across lanes; min(v, l) is `v < l ? v : l` and
// max(v, h) is `v > h ? v : h` per lane (a NaN never enters, as in the scalar loop), and
// min and max of the same non-NaN values do not depend on their order. Finiteness: the
// exponent bits of every value are not all ones.
#include <immintrin.h>

#include "kernels/x86/tile_loops_x86.h"

namespace edgeq {
namespace kern {
namespace x86 {

bool range_f32_avx2(size_t n, const float* x, float* lo, float* hi) {
  __m256 l = _mm256_setzero_ps(), h = _mm256_setzero_ps();
  const __m256i exp_mask = _mm256_set1_epi32(0x7f800000);
  __m256i bad = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    l = _mm256_min_ps(v, l);
    h = _mm256_max_ps(v, h);
    const __m256i e = _mm256_and_si256(_mm256_castps_si256(v), exp_mask);
    bad = _mm256_or_si256(bad, _mm256_cmpeq_epi32(e, exp_mask));
  }
  alignas(32) float ls[8], hs[8];
  _mm256_store_ps(ls, l);
  _mm256_store_ps(hs, h);
  float lv = 0.f, hv = 0.f;
  for (int j = 0; j < 8; ++j) {
    lv = ls[j] < lv ? ls[j] : lv;
    hv = hs[j] > hv ? hs[j] : hv;
  }
  bool finite = _mm256_testz_si256(bad, bad) != 0;
  for (; i < n; ++i) {
    const float v = x[i];
    lv = v < lv ? v : lv;
    hv = v > hv ? v : hv;
    finite = finite && v - v == 0.f;
  }
  *lo = lv;
  *hi = hv;
  return finite;
}

void finish_f32_avx2(size_t mc, size_t nc, const int32_t* acc, size_t acc_stride, const uint32_t* colsum,
                     const uint32_t* z, const uint32_t* r, const float* rs, const float* cs, const float* bias,
                     float lo, float hi, float* out, size_t out_stride) {
  const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
  // Rows sharing z, r and rs (a per-tensor quantized A) take the column terms made once
  // per 8 columns: a + (r - z * s) is a - z * s + r in int32's wrapping arithmetic.
  const bool shared = rows_share_terms(mc, z, r, rs);
  size_t j = 0;
  for (; j + 8 <= nc; j += 8) {
    // The column terms of these 8 columns, loaded once for every row of the tile.
    const __m256i s = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(colsum + j));
    const __m256 c = _mm256_loadu_ps(cs + j);
    const __m256 b = bias != nullptr ? _mm256_loadu_ps(bias + j) : _mm256_setzero_ps();
    const __m256i t0 = _mm256_sub_epi32(_mm256_set1_epi32(static_cast<int32_t>(r[0])),
                                        _mm256_mullo_epi32(_mm256_set1_epi32(static_cast<int32_t>(z[0])), s));
    const __m256 c0 = _mm256_mul_ps(_mm256_set1_ps(rs[0]), c);
    for (size_t i = 0; i < mc; ++i) {
      const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + i * acc_stride + j));
      __m256i v;
      __m256 ci;
      if (shared) {
        v = _mm256_add_epi32(a, t0);
        ci = c0;
      } else {
        const __m256i zs = _mm256_mullo_epi32(_mm256_set1_epi32(static_cast<int32_t>(z[i])), s);
        v = _mm256_add_epi32(_mm256_sub_epi32(a, zs), _mm256_set1_epi32(static_cast<int32_t>(r[i])));
        ci = _mm256_mul_ps(_mm256_set1_ps(rs[i]), c);
      }
      __m256 o = _mm256_mul_ps(_mm256_cvtepi32_ps(v), ci);
      if (bias != nullptr) o = _mm256_add_ps(o, b);
      o = _mm256_min_ps(vhi, _mm256_max_ps(vlo, o));  // lo > o ? lo : o, then hi < o ? hi : o
      _mm256_storeu_ps(out + i * out_stride + j, o);
    }
  }
  for (size_t i = 0; i < mc; ++i) {
    for (size_t jj = j; jj < nc; ++jj) {
      const int32_t v = static_cast<int32_t>(static_cast<uint32_t>(acc[i * acc_stride + jj]) - z[i] * colsum[jj] + r[i]);
      float o = static_cast<float>(v) * (rs[i] * cs[jj]);
      if (bias != nullptr) o += bias[jj];
      o = o < lo ? lo : o;
      out[i * out_stride + jj] = o > hi ? hi : o;
    }
  }
}

uint32_t sum_u8_avx2(size_t n, const uint8_t* x) {
  __m256i s = _mm256_setzero_si256();
  const __m256i zero = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 32 <= n; i += 32)
    s = _mm256_add_epi64(s, _mm256_sad_epu8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i)), zero));
  alignas(32) uint64_t parts[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(parts), s);
  uint32_t sum = static_cast<uint32_t>(parts[0] + parts[1] + parts[2] + parts[3]);
  for (; i < n; ++i) sum += x[i];
  return sum;
}

}  // namespace x86
}  // namespace kern
}  // namespace edgeq
