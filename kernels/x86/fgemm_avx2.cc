// The float GEMM microkernel on 256-bit vectors (kernels/fgemm.h): a 6x16 tile of
// kernels/x86/fgemm_tile.h, twelve accumulators of 8 floats. Two instances: fused
// multiply-add (FMA3) and multiply-then-add (AVX2 alone, equal to ref::matmul_f32). The
// file is compiled with -mavx2 -mfma -ffp-contract=off: the multiply-then-add instance
// must not be contracted into FMA instructions, which a CPU without FMA3 would trap on.
// Partial tiles store through vmaskmovps (masked-off lanes are never touched).
#include <immintrin.h>

#include "kernels/x86/fgemm_tile.h"
#include "kernels/x86/fgemm_x86.h"

namespace edgeq {
namespace kern {
namespace {

template <bool kFma>
struct F32x8 {
  using Reg = __m256;
  static constexpr size_t kLanes = 8;
  static Reg zero() { return _mm256_setzero_ps(); }
  static Reg load(const float* p) { return _mm256_load_ps(p); }
  static Reg broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static Reg madd(Reg a, Reg b, Reg acc) {
    if constexpr (kFma) {
      return _mm256_fmadd_ps(a, b, acc);
    } else {
      return _mm256_add_ps(acc, _mm256_mul_ps(a, b));
    }
  }
  static void store(float* p, Reg r, size_t n) {
    if (n == kLanes) return _mm256_storeu_ps(p, r);
    const __m256i mask =
        _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    _mm256_maskstore_ps(p, mask, r);
  }
};

constexpr size_t kMr = 6;

}  // namespace

FGemmKernel fgemm_kernel_avx2(bool fma) {
  FGemmKernel k;
  k.name = fma ? "f32_gemm_ukernel_6x16__fma3" : "f32_gemm_ukernel_6x16__avx2";
  k.mr = kMr;
  k.nr = 2 * F32x8<true>::kLanes;
  k.fn = fma ? &fgemm_tile<F32x8<true>, kMr> : &fgemm_tile<F32x8<false>, kMr>;
  return k;
}

}  // namespace kern
}  // namespace edgeq
