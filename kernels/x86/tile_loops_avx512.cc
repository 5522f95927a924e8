// AVX-512 versions of the int32-tile products' loops (kernels/x86/tile_loops_x86.h): 16
// lanes, the last partial vector under a mask (masked-off lanes neither load nor store).
// The same comparisons and roundings as the portable loops; see tile_loops_avx2.cc for
// why the range's lane order does not matter.
#include <immintrin.h>

#include <cmath>

#include "kernels/x86/tile_loops_x86.h"

namespace edgeq {
namespace kern {
namespace x86 {

namespace {
inline __mmask16 tail_mask(size_t left) {
  return left >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << left) - 1u);
}
template <bool kClamp>
void finish_shared(size_t mc, size_t nc, const int32_t* acc, size_t acc_stride, const uint32_t* colsum, uint32_t z,
                   uint32_t r, float rs, const float* cs, const float* bias, __m512 vlo, __m512 vhi, float* out,
                   size_t out_stride) {
  const __m512i vz = _mm512_set1_epi32(static_cast<int32_t>(z)), vr = _mm512_set1_epi32(static_cast<int32_t>(r));
  const __m512 vrs = _mm512_set1_ps(rs);
  for (size_t j = 0; j < nc; j += 16) {
    const __mmask16 m = tail_mask(nc - j);
    const __m512i t = _mm512_sub_epi32(vr, _mm512_mullo_epi32(vz, _mm512_maskz_loadu_epi32(m, colsum + j)));
    const __m512 c = _mm512_mul_ps(vrs, _mm512_maskz_loadu_ps(m, cs + j));
    const __m512 b = bias != nullptr ? _mm512_maskz_loadu_ps(m, bias + j) : _mm512_setzero_ps();
    const int32_t* a = acc + j;
    float* o = out + j;
    for (size_t i = 0; i < mc; ++i, a += acc_stride, o += out_stride) {
      __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(_mm512_maskz_loadu_epi32(m, a), t)), c);
      if (bias != nullptr) v = _mm512_add_ps(v, b);
      if (kClamp) v = _mm512_min_ps(vhi, _mm512_max_ps(vlo, v));
      _mm512_mask_storeu_ps(o, m, v);
    }
  }
}

}  // namespace

bool range_f32_avx512(size_t n, const float* x, float* lo, float* hi) {
  __m512 l = _mm512_setzero_ps(), h = _mm512_setzero_ps();
  const __m512i exp_mask = _mm512_set1_epi32(0x7f800000);
  __mmask16 bad = 0;
  for (size_t i = 0; i < n; i += 16) {
    const __mmask16 m = tail_mask(n - i);
    // Masked-off lanes read as 0, which changes neither min(0, ...) nor max(0, ...).
    const __m512 v = _mm512_maskz_loadu_ps(m, x + i);
    l = _mm512_min_ps(v, l);
    h = _mm512_max_ps(v, h);
    const __m512i e = _mm512_and_si512(_mm512_castps_si512(v), exp_mask);
    bad = static_cast<__mmask16>(bad | _mm512_cmpeq_epi32_mask(e, exp_mask));
  }
  *lo = _mm512_reduce_min_ps(l);
  *hi = _mm512_reduce_max_ps(h);
  // Lanes start at +0 and only strictly smaller (larger) values replace them, so no lane
  // holds -0 and the reductions' order cannot pick a zero of the other sign.
  return bad == 0;
}

void finish_f32_avx512(size_t mc, size_t nc, const int32_t* acc, size_t acc_stride, const uint32_t* colsum,
                       const uint32_t* z, const uint32_t* r, const float* rs, const float* cs, const float* bias,
                       float lo, float hi, float* out, size_t out_stride) {
  const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
  if (rows_share_terms(mc, z, r, rs)) {
    // Every row has the same z, r and rs (a per-tensor quantized A: ONNX's
    // DynamicQuantizeLinear): the column terms r - z * colsum and rs * cs are made once
    // per 16 columns. a - z * s + r is a + (r - z * s) in int32's wrapping arithmetic,
    // and rs * cs is the value the row loop forms, so the outputs are the same bits.
    if (lo == -INFINITY && hi == INFINITY) {  // max(-inf, o) and min(inf, o) are o, NaN included
      finish_shared<false>(mc, nc, acc, acc_stride, colsum, z[0], r[0], rs[0], cs, bias, vlo, vhi, out, out_stride);
    } else {
      finish_shared<true>(mc, nc, acc, acc_stride, colsum, z[0], r[0], rs[0], cs, bias, vlo, vhi, out, out_stride);
    }
    return;
  }
  for (size_t j = 0; j < nc; j += 16) {
    // The column terms of these 16 columns, loaded once for every row of the tile.
    const __mmask16 m = tail_mask(nc - j);
    const __m512i s = _mm512_maskz_loadu_epi32(m, colsum + j);
    const __m512 c = _mm512_maskz_loadu_ps(m, cs + j);
    const __m512 b = bias != nullptr ? _mm512_maskz_loadu_ps(m, bias + j) : _mm512_setzero_ps();
    for (size_t i = 0; i < mc; ++i) {
      const __m512i a = _mm512_maskz_loadu_epi32(m, acc + i * acc_stride + j);
      const __m512i zs = _mm512_mullo_epi32(_mm512_set1_epi32(static_cast<int32_t>(z[i])), s);
      const __m512i v = _mm512_add_epi32(_mm512_sub_epi32(a, zs), _mm512_set1_epi32(static_cast<int32_t>(r[i])));
      __m512 o = _mm512_mul_ps(_mm512_cvtepi32_ps(v), _mm512_mul_ps(_mm512_set1_ps(rs[i]), c));
      if (bias != nullptr) o = _mm512_add_ps(o, b);
      o = _mm512_min_ps(vhi, _mm512_max_ps(vlo, o));  // lo > o ? lo : o, then hi < o ? hi : o
      _mm512_mask_storeu_ps(out + i * out_stride + j, m, o);
    }
  }
}

uint32_t sum_u8_avx512(size_t n, const uint8_t* x) {
  __m512i s = _mm512_setzero_si512();
  const __m512i zero = _mm512_setzero_si512();
  size_t i = 0;
  for (; i + 64 <= n; i += 64) s = _mm512_add_epi64(s, _mm512_sad_epu8(_mm512_loadu_si512(x + i), zero));
  uint32_t sum = static_cast<uint32_t>(_mm512_reduce_add_epi64(s));
  for (; i < n; ++i) sum += x[i];
  return sum;
}

}  // namespace x86
}  // namespace kern
}  // namespace edgeq
