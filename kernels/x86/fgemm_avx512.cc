// The float GEMM microkernel on 512-bit vectors (kernels/fgemm.h): an 8x32 tile, sixteen
// accumulators of 16 floats (of AVX-512's 32 registers; two more hold the panel's row,
// one the broadcast A). Per k, the panel's 32 floats are loaded and each of the eight
// rows' A[i][k] is broadcast and fused-multiply-added into its two accumulators, so
// every output sums its terms in k order. Partial tiles store through lane masks.
#include <immintrin.h>

#include "kernels/x86/fgemm_x86.h"

namespace edgeq {
namespace kern {
namespace {

constexpr size_t kMr = 8, kNr = 32;

void fgemm_8x32(size_t mr, size_t nc, size_t kc, const float* a, size_t a_stride, const float* w, float* c,
                size_t c_stride) {
  const float* rows[kMr];
#pragma GCC unroll 8
  for (size_t i = 0; i < kMr; ++i) rows[i] = a + (i < mr ? i : mr - 1) * a_stride;
  __m512 acc[kMr][2];
#pragma GCC unroll 8
  for (size_t i = 0; i < kMr; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  for (size_t k = 0; k < kc; ++k, w += kNr) {
    const __m512 b0 = _mm512_load_ps(w), b1 = _mm512_load_ps(w + 16);
#pragma GCC unroll 8
    for (size_t i = 0; i < kMr; ++i) {
      const __m512 va = _mm512_set1_ps(rows[i][k]);
      acc[i][0] = _mm512_fmadd_ps(va, b0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(va, b1, acc[i][1]);
    }
  }
  const __mmask16 lo = nc >= 16 ? __mmask16{0xFFFF} : static_cast<__mmask16>((1u << nc) - 1);
  const __mmask16 hi = nc >= 32 ? __mmask16{0xFFFF} : static_cast<__mmask16>(nc > 16 ? (1u << (nc - 16)) - 1 : 0);
#pragma GCC unroll 8
  for (size_t i = 0; i < kMr; ++i) {
    if (i >= mr) break;
    _mm512_mask_storeu_ps(c + i * c_stride, lo, acc[i][0]);
    _mm512_mask_storeu_ps(c + i * c_stride + 16, hi, acc[i][1]);
  }
}

}  // namespace

FGemmKernel fgemm_kernel_avx512() {
  FGemmKernel k;
  k.name = "f32_gemm_ukernel_8x32__avx512f";
  k.mr = kMr;
  k.nr = kNr;
  k.fn = &fgemm_8x32;
  return k;
}

}  // namespace kern
}  // namespace edgeq
