// The float unary kernel (kernels/unary_f32_math.h) on AVX-512F vectors of 16 floats with
// fused multiply-add, for the AVX512-VNNI level. Masks are __mmask16 bit masks; the last
// partial vector is loaded and stored under a mask (no scalar tail, no buffer). Only
// AVX-512F instructions: the float bit operations go through the integer ones (the float
// forms need AVX512DQ).
#include <immintrin.h>

#include "kernels/unary_f32_math.h"
#include "kernels/x86/misc_x86.h"

namespace edgeq {
namespace kern {
namespace {

struct VAvx512 {
  using F = __m512;
  using M = __mmask16;
  static constexpr size_t kWidth = 16;
  static constexpr bool kMaskedTail = true;
  static F set(float v) { return _mm512_set1_ps(v); }
  static F load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, F v) { _mm512_storeu_ps(p, v); }
  static F load_partial(const float* p, size_t count) { return _mm512_maskz_loadu_ps(tail(count), p); }
  static void store_partial(float* p, F v, size_t count) { _mm512_mask_storeu_ps(p, tail(count), v); }
  static F add(F a, F b) { return _mm512_add_ps(a, b); }
  static F sub(F a, F b) { return _mm512_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm512_mul_ps(a, b); }
  static F div(F a, F b) { return _mm512_div_ps(a, b); }
  static F fma(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
  static F min(F a, F b) { return _mm512_min_ps(a, b); }
  static F max(F a, F b) { return _mm512_max_ps(a, b); }
  static M lt(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  static F select(M mask, F a, F b) { return _mm512_mask_blend_ps(mask, b, a); }
  static F bit_and(F a, F b) { return f(_mm512_and_si512(i(a), i(b))); }
  static F bit_xor(F a, F b) { return f(_mm512_xor_si512(i(a), i(b))); }
  static F bit_andnot(F a, F b) { return f(_mm512_andnot_si512(i(a), i(b))); }
  static M is_nan(F x) { return _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q); }
  static F pow2(F n) {
    const __m512i e = _mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127));
    return _mm512_castsi512_ps(_mm512_slli_epi32(e, 23));
  }

 private:
  static __mmask16 tail(size_t count) { return static_cast<__mmask16>((1u << count) - 1u); }
  static __m512i i(F v) { return _mm512_castps_si512(v); }
  static F f(__m512i v) { return _mm512_castsi512_ps(v); }
};

}  // namespace

void add_unary_kernels_avx512(MiscKernels* k) {
  k->unary_f32 = unary_math::unary_f32<VAvx512>;
  k->names.unary_f32 = "f32_vunary_ukernel__avx512f";
}

}  // namespace kern
}  // namespace edgeq
