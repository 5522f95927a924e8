// The float softmax (kernels/softmax_f32_rows.h) on AVX-512F vectors of 16 floats: the
// kernel of the AVX-512 level (misc_register.cc). Row tails under a lane mask.
#include <immintrin.h>

#include "kernels/softmax_f32_rows.h"
#include "kernels/x86/misc_x86.h"

namespace edgeq {
namespace kern {
namespace {

struct VAvx512 {
  using F = __m512;
  static constexpr size_t kWidth = 16;
  static F set(float v) { return _mm512_set1_ps(v); }
  static F load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, F v) { _mm512_storeu_ps(p, v); }
  static __mmask16 first(int32_t count) { return static_cast<__mmask16>((1u << count) - 1); }  // count < 16
  static F load_tail(const float* p, int32_t count, float fill) {
    return _mm512_mask_loadu_ps(_mm512_set1_ps(fill), first(count), p);
  }
  static void store_tail(float* p, int32_t count, F v) { _mm512_mask_storeu_ps(p, first(count), v); }
  static F add(F a, F b) { return _mm512_add_ps(a, b); }
  static F sub(F a, F b) { return _mm512_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm512_mul_ps(a, b); }
  static F fma(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
  static F max(F a, F b) { return _mm512_max_ps(a, b); }  // b when either is NaN
  static F max_skip_nan(F acc, F x) { return _mm512_max_ps(x, acc); }
  static __mmask16 lt(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  static F select(__mmask16 mask, F a, F b) { return _mm512_mask_blend_ps(mask, b, a); }
  static F round(F v) { return _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static F times_pow2(F p, F n) { return _mm512_scalef_ps(p, n); }  // vscalefps: p 2^floor(n)
  static float reduce_add(F v) { return _mm512_reduce_add_ps(v); }
  static float reduce_max(F v) { return _mm512_reduce_max_ps(v); }
};

}  // namespace

void add_softmax_kernels_avx512(MiscKernels* k) {
  k->softmax_f32 = softmax_f32::softmax_f32_rows<VAvx512>;
  k->softmax_f32_columns = softmax_f32::softmax_f32_columns<VAvx512>;
  k->names.softmax_f32 = "f32_softmax_ukernel__avx512f";
}

}  // namespace kern
}  // namespace edgeq
