// The float softmax (kernels/softmax_f32_rows.h) on AVX2 vectors of 8 floats with FMA3:
// the kernel of every x86 level below AVX-512 whose CPU has FMA3 (misc_register.cc).
#include <immintrin.h>

#include "kernels/softmax_f32_rows.h"
#include "kernels/x86/misc_x86.h"

namespace edgeq {
namespace kern {
namespace {

struct VAvx2Fma {
  using F = __m256;
  static constexpr size_t kWidth = 8;
  static F set(float v) { return _mm256_set1_ps(v); }
  static F load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, F v) { _mm256_storeu_ps(p, v); }
  // Lanes below `count` (< 8) under a mask (the others read as `fill`, no memory touched).
  static __m256i first(int32_t count) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static F load_tail(const float* p, int32_t count, float fill) {
    const __m256i m = first(count);
    return _mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, m), _mm256_castsi256_ps(m));
  }
  static void store_tail(float* p, int32_t count, F v) { _mm256_maskstore_ps(p, first(count), v); }
  static F add(F a, F b) { return _mm256_add_ps(a, b); }
  static F sub(F a, F b) { return _mm256_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm256_mul_ps(a, b); }
  static F fma(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
  static F max(F a, F b) { return _mm256_max_ps(a, b); }  // b when either is NaN
  static F max_skip_nan(F acc, F x) { return _mm256_max_ps(x, acc); }
  static F lt(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
  static F select(F mask, F a, F b) { return _mm256_blendv_ps(b, a, mask); }
  static F round(F v) { return _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static F times_pow2(F p, F n) {  // 2^n built in the exponent bits
    const __m256i e = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
    return _mm256_mul_ps(p, _mm256_castsi256_ps(_mm256_slli_epi32(e, 23)));
  }
  static __m128 fold(F v) { return _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1)); }
  static float reduce_add(F v) {
    __m128 s = fold(v);
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
  }
  static float reduce_max(F v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_max_ss(s, _mm_movehdup_ps(s)));
  }
};

}  // namespace

void add_softmax_kernels_avx2_fma(MiscKernels* k) {
  k->softmax_f32 = softmax_f32::softmax_f32_rows<VAvx2Fma>;
  k->softmax_f32_columns = softmax_f32::softmax_f32_columns<VAvx2Fma>;
  k->names.softmax_f32 = "f32_softmax_ukernel__avx2_fma";
}

}  // namespace kern
}  // namespace edgeq
