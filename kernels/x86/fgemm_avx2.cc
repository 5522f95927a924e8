// The float GEMM microkernel on 256-bit vectors (kernels/fgemm.h): a 6x16 tile, twelve
// accumulators of 8 floats. Per k, two vectors of the packed panel are loaded and each
// of the six rows' A[i][k] is broadcast and multiplied into its two accumulators, so
// every output sums its terms in k order. Two instances: fused multiply-add (FMA3) and
// multiply-then-add (AVX2 alone, equal to ref::matmul_f32). The file is compiled with
// -mavx2 -mfma -ffp-contract=off: the multiply-then-add instance must not be contracted
// into FMA instructions, which a CPU without FMA3 would trap on.
#include <immintrin.h>

#include "kernels/x86/fgemm_x86.h"

namespace edgeq {
namespace kern {
namespace {

constexpr size_t kMr = 6, kNr = 16;

template <bool kFma>
inline __m256 multiply_add(__m256 a, __m256 b, __m256 acc) {
  if constexpr (kFma) {
    return _mm256_fmadd_ps(a, b, acc);
  } else {
    return _mm256_add_ps(acc, _mm256_mul_ps(a, b));
  }
}

template <bool kFma>
void fgemm_6x16(size_t mr, size_t nc, size_t kc, const float* a, size_t a_stride, const float* w, float* c,
                size_t c_stride) {
  const float* rows[kMr];
#pragma GCC unroll 6
  for (size_t i = 0; i < kMr; ++i) rows[i] = a + (i < mr ? i : mr - 1) * a_stride;
  __m256 acc[kMr][2];
#pragma GCC unroll 6
  for (size_t i = 0; i < kMr; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
  for (size_t k = 0; k < kc; ++k, w += kNr) {
    const __m256 b0 = _mm256_load_ps(w), b1 = _mm256_load_ps(w + 8);
#pragma GCC unroll 6
    for (size_t i = 0; i < kMr; ++i) {
      const __m256 va = _mm256_broadcast_ss(rows[i] + k);
      acc[i][0] = multiply_add<kFma>(va, b0, acc[i][0]);
      acc[i][1] = multiply_add<kFma>(va, b1, acc[i][1]);
    }
  }
  if (nc == kNr) {
#pragma GCC unroll 6
    for (size_t i = 0; i < kMr; ++i) {
      if (i >= mr) break;
      _mm256_storeu_ps(c + i * c_stride, acc[i][0]);
      _mm256_storeu_ps(c + i * c_stride + 8, acc[i][1]);
    }
    return;
  }
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i lo = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(nc)), lanes);
  const __m256i hi = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(nc) - 8), lanes);
#pragma GCC unroll 6
  for (size_t i = 0; i < kMr; ++i) {
    if (i >= mr) break;
    _mm256_maskstore_ps(c + i * c_stride, lo, acc[i][0]);
    _mm256_maskstore_ps(c + i * c_stride + 8, hi, acc[i][1]);
  }
}

}  // namespace

FGemmKernel fgemm_kernel_avx2(bool fma) {
  FGemmKernel k;
  k.name = fma ? "f32_gemm_ukernel_6x16__fma3" : "f32_gemm_ukernel_6x16__avx2";
  k.mr = kMr;
  k.nr = kNr;
  k.fn = fma ? &fgemm_6x16<true> : &fgemm_6x16<false>;
  return k;
}

}  // namespace kern
}  // namespace edgeq
