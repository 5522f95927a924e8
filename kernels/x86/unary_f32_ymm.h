// The 256-bit vector type of the float unary kernels (kernels/unary_f32_math.h) without
// its fma: kernels/x86/unary_f32_avx2.cc adds a multiply and an add (CPUs with AVX2 but
// no FMA3), kernels/x86/unary_f32_fma3.cc the fused instruction. Masks are vectors of
// all-ones / all-zeros lanes; the tail goes through a padded buffer.
#pragma once

#include <immintrin.h>

#include <cstddef>

namespace edgeq {
namespace kern {

struct VYmmBase {
  using F = __m256;
  using M = __m256;
  static constexpr size_t kWidth = 8;
  static constexpr bool kMaskedTail = false;
  static F set(float v) { return _mm256_set1_ps(v); }
  static F load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, F v) { _mm256_storeu_ps(p, v); }
  static F add(F a, F b) { return _mm256_add_ps(a, b); }
  static F sub(F a, F b) { return _mm256_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm256_mul_ps(a, b); }
  static F div(F a, F b) { return _mm256_div_ps(a, b); }
  static F min(F a, F b) { return _mm256_min_ps(a, b); }
  static F max(F a, F b) { return _mm256_max_ps(a, b); }
  static M lt(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
  static F select(M mask, F a, F b) { return _mm256_blendv_ps(b, a, mask); }
  static F bit_and(F a, F b) { return _mm256_and_ps(a, b); }
  static F bit_xor(F a, F b) { return _mm256_xor_ps(a, b); }
  static F bit_andnot(F a, F b) { return _mm256_andnot_ps(a, b); }
  static M is_nan(F x) { return _mm256_cmp_ps(x, x, _CMP_UNORD_Q); }
  static F pow2(F n) {
    const __m256i e = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
    return _mm256_castsi256_ps(_mm256_slli_epi32(e, 23));
  }
};

}  // namespace kern
}  // namespace edgeq
