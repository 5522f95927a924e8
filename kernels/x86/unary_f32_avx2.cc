// The float unary kernel (kernels/unary_f32_math.h) on AVX2 vectors of 8 floats, for
// every x86 level. No FMA (edgeq's AVX2 level does not require it): the results are the
// same floats as on the other ISAs that round each operation.
#include <immintrin.h>

#include "kernels/unary_f32_math.h"
#include "kernels/x86/misc_x86.h"

namespace edgeq {
namespace kern {
namespace {

struct VAvx2 {
  using F = __m256;
  static constexpr size_t kWidth = 8;
  static F set(float v) { return _mm256_set1_ps(v); }
  static F load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, F v) { _mm256_storeu_ps(p, v); }
  static F add(F a, F b) { return _mm256_add_ps(a, b); }
  static F sub(F a, F b) { return _mm256_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm256_mul_ps(a, b); }
  static F div(F a, F b) { return _mm256_div_ps(a, b); }
  static F min(F a, F b) { return _mm256_min_ps(a, b); }
  static F max(F a, F b) { return _mm256_max_ps(a, b); }
  static F lt(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
  static F select(F mask, F a, F b) { return _mm256_blendv_ps(b, a, mask); }
  static F bit_and(F a, F b) { return _mm256_and_ps(a, b); }
  static F bit_or(F a, F b) { return _mm256_or_ps(a, b); }
  static F bit_xor(F a, F b) { return _mm256_xor_ps(a, b); }
  static F bit_andnot(F a, F b) { return _mm256_andnot_ps(a, b); }
  static F is_nan(F x) { return _mm256_cmp_ps(x, x, _CMP_UNORD_Q); }
  static F pow2(F n) {
    const __m256i e = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
    return _mm256_castsi256_ps(_mm256_slli_epi32(e, 23));
  }
};

}  // namespace

void add_unary_kernels_avx2(MiscKernels* k) {
  k->unary_f32 = unary_math::unary_f32<VAvx2>;
  k->names.unary_f32 = "f32_vunary_ukernel__avx2";
}

}  // namespace kern
}  // namespace edgeq
