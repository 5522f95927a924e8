// AVX512-VNNI indirect-GEMM microkernels: MR x 32 output tiles, weights packed c4.
//
// Accumulation: for every tap and every group of 4 input channels, each row's 4
// activation bytes are broadcast to a zmm and vpdpbusd multiplies them (unsigned)
// with 16 channels x 4 packed weight bytes (signed), adding the 4 products into the
// int32 accumulator. vpdpbusd does not saturate: accumulators wrap modulo 2^32 like
// the reference. Int8 activations are flipped to uint8 with xor 0x80; the packer
// folded the extra 128 * sum(w) into the bias. MR rows x 2 zmm = 16 accumulators.
//
// Epilogue (per tile, fused): fp32 or fixed-point requantization equal to
// kernels/ref/requant.cc bit for bit (Fp32 and Fixed below), then vpmovdb.
// Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512vnni (kernels/x86/gemm.cmake).
#include <immintrin.h>

#include <cstdint>
#include <limits>

#include "kernels/x86/gemm_ukernels.h"
#include "kernels/x86/igemm_c4.h"
#include "kernels/x86/requant_avx2.h"

namespace edgeq {
namespace kern {
namespace x86 {
namespace {

struct Zmm {
  using Vec = __m512i;
  static constexpr size_t kLanes = 16;
  static Vec load(const void* p) { return _mm512_loadu_si512(p); }
  static Vec broadcast32(int32_t v) { return _mm512_set1_epi32(v); }
  static Vec flip(Vec x) { return _mm512_xor_si512(x, _mm512_set1_epi32(static_cast<int32_t>(0x80808080u))); }
  static Vec dot(Vec acc, Vec a, Vec w) { return _mm512_dpbusd_epi32(acc, a, w); }
};

// The two schemes of requant_avx2.h on 16 lanes (the steps are explained there).
struct Fp32 {
  __m512 lo, hi;
  __m512i zp;
  __m512 scale;
  explicit Fp32(const QuantEpilogue& q) {
    const ClampBounds c(q);
    lo = _mm512_set1_ps(static_cast<float>(c.lo));
    hi = _mm512_set1_ps(static_cast<float>(c.hi));
    zp = _mm512_set1_epi32(q.zero_point);
  }
  void channels(const QuantEpilogue& q, size_t n) { scale = _mm512_loadu_ps(q.scale + n); }
  __m512i apply(__m512i acc) const {
    __m512 p = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), scale);
    p = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(p, p, _CMP_ORD_Q), p);
    p = _mm512_min_ps(_mm512_max_ps(p, lo), hi);
    return _mm512_add_epi32(_mm512_cvt_roundps_epi32(p, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), zp);
  }
};

struct Fixed {
  __m512i lo, hi, zp, qmin, qmax;
  __m512i mult, lshift, rshift;
  explicit Fixed(const QuantEpilogue& q) {
    const ClampBounds c(q);
    lo = _mm512_set1_epi32(c.lo);
    hi = _mm512_set1_epi32(c.hi);
    zp = _mm512_set1_epi32(q.zero_point);
    qmin = _mm512_set1_epi32(q.qmin);
    qmax = _mm512_set1_epi32(q.qmax);
  }
  void channels(const QuantEpilogue& q, size_t n) {
    mult = _mm512_loadu_si512(q.multiplier + n);
    const __m512i e = _mm512_loadu_si512(q.exponent + n);
    const __m512i zero = _mm512_setzero_si512();
    lshift = _mm512_max_epi32(e, zero);
    rshift = _mm512_max_epi32(_mm512_sub_epi32(zero, e), zero);
  }
  __m512i apply(__m512i acc) const {
    const __m512i int_min = _mm512_set1_epi32(std::numeric_limits<int32_t>::min());
    const __m512i int_max = _mm512_set1_epi32(std::numeric_limits<int32_t>::max());
    __m512i s = _mm512_sllv_epi32(acc, lshift);
    const __mmask16 ovf = _mm512_cmpneq_epi32_mask(_mm512_srav_epi32(s, lshift), acc);
    s = _mm512_mask_mov_epi32(s, ovf, _mm512_xor_si512(_mm512_srai_epi32(acc, 31), int_max));

    const __m512i half = _mm512_set1_epi64(int64_t{1} << 30);
    const __m512i even = _mm512_add_epi64(_mm512_mul_epi32(s, mult), half);
    const __m512i odd =
        _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(s, 32), _mm512_srli_epi64(mult, 32)), half);
    __m512i h = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 31), _mm512_slli_epi64(odd, 1));
    h = _mm512_mask_mov_epi32(h, _mm512_cmpeq_epi32_mask(h, int_min), int_max);

    const __m512i mag = _mm512_abs_epi32(h);
    const __m512i one = _mm512_set1_epi32(1);
    __m512i r = _mm512_add_epi32(_mm512_srlv_epi32(mag, rshift),
                                 _mm512_and_si512(_mm512_srlv_epi32(mag, _mm512_sub_epi32(rshift, one)), one));
    const __m512i sign = _mm512_srai_epi32(h, 31);
    r = _mm512_sub_epi32(_mm512_xor_si512(r, sign), sign);

    r = _mm512_min_epi32(_mm512_max_epi32(r, lo), hi);
    r = _mm512_add_epi32(r, zp);
    return _mm512_min_epi32(_mm512_max_epi32(r, qmin), qmax);
  }
};

template <size_t MR, size_t NV, class Epilogue>
inline void store_tile(const __m512i (&acc)[MR][NV], size_t mr, size_t nc, uint8_t* c, size_t c_stride, size_t n0,
                       const QuantEpilogue& q) {
  Epilogue epi(q);
  #pragma GCC unroll 16
  for (size_t j = 0; j < NV; ++j) {
    epi.channels(q, n0 + 16 * j);
    const size_t left = nc > 16 * j ? nc - 16 * j : 0;
    const __mmask16 mask = left >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << left) - 1u);
    #pragma GCC unroll 16
    for (size_t i = 0; i < MR; ++i) {
      if (i < mr) _mm_mask_storeu_epi8(c + i * c_stride + 16 * j, mask, _mm512_cvtepi32_epi8(epi.apply(acc[i][j])));
    }
  }
}

template <size_t MR, size_t NV, bool kFlip>
void igemm(size_t mr, size_t nc, size_t kc, size_t ks, const void* const* a, const void* w, void* c, size_t c_stride,
           size_t n0, const QuantEpilogue* q) {
  __m512i acc[MR][NV];
  accumulate_c4<Zmm, MR, NV, kFlip>(kc, ks, a, w, acc);
  uint8_t* out = static_cast<uint8_t*>(c);
  if (q->scheme == ref::Scheme::kFp32) {
    store_tile<MR, NV, Fp32>(acc, mr, nc, out, c_stride, n0, *q);
  } else {
    store_tile<MR, NV, Fixed>(acc, mr, nc, out, c_stride, n0, *q);
  }
}

}  // namespace

void qu8_igemm_minmax_ukernel_8x32c4__avx512vnni(size_t mr, size_t nc, size_t kc, size_t ks, const void* const* a,
                                                 const void* w, void* c, size_t c_stride, size_t n0,
                                                 const QuantEpilogue* q) {
  igemm<8, 2, false>(mr, nc, kc, ks, a, w, c, c_stride, n0, q);
}

void qs8_igemm_minmax_ukernel_8x32c4__avx512vnni(size_t mr, size_t nc, size_t kc, size_t ks, const void* const* a,
                                                 const void* w, void* c, size_t c_stride, size_t n0,
                                                 const QuantEpilogue* q) {
  igemm<8, 2, true>(mr, nc, kc, ks, a, w, c, c_stride, n0, q);
}

}  // namespace x86
}  // namespace kern
}  // namespace edgeq
