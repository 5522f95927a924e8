// The float layer norm (kernels/norm_blocks.h, layer_norm_f32_rows) on AVX-512F: the
// reference's 16 summation lanes are one vector (the AVX2 kernel's two), so the sums,
// and with them every output, are the reference's bit for bit. Normalizing takes 16
// elements per step; the last partial vector is left to the scalar tail, as for AVX2.
#include <immintrin.h>

#include <cstdint>

#include "kernels/norm_blocks.h"
#include "kernels/x86/misc_x86.h"

namespace edgeq {
namespace kern {
namespace {

struct F32Avx512 {
  struct Acc {
    __m512 v;
  };
  static Acc zero() { return {_mm512_setzero_ps()}; }
  static void add(Acc& acc, const float* x) { acc.v = _mm512_add_ps(acc.v, _mm512_loadu_ps(x)); }
  static void add_squares(Acc& acc, const float* x, float mean) {
    const __m512 d = _mm512_sub_ps(_mm512_loadu_ps(x), _mm512_set1_ps(mean));
    acc.v = _mm512_add_ps(acc.v, _mm512_mul_ps(d, d));
  }
  static void store(const Acc& acc, float* lane) { _mm512_storeu_ps(lane, acc.v); }
  static int32_t normalize(const float* x, int32_t channels, float mean, float rstd, const float* gamma,
                           const float* beta, float* y) {
    const __m512 m = _mm512_set1_ps(mean), s = _mm512_set1_ps(rstd);
    int32_t c = 0;
    for (; c + 16 <= channels; c += 16) {
      const __m512 n = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(x + c), m), s);
      const __m512 b = beta != nullptr ? _mm512_loadu_ps(beta + c) : _mm512_setzero_ps();
      _mm512_storeu_ps(y + c, _mm512_add_ps(_mm512_mul_ps(n, _mm512_loadu_ps(gamma + c)), b));
    }
    return c;
  }
};

}  // namespace

void add_norm_kernels_avx512(MiscKernels* k) {
  k->layer_norm_f32 = layer_norm_f32_rows<F32Avx512>;
  k->names.layer_norm_f32 = "f32_layernorm_ukernel__avx512f";
}

}  // namespace kern
}  // namespace edgeq
