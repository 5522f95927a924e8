// The float GEMM microkernel on 512-bit vectors (kernels/fgemm.h): an 8x32 tile of
// kernels/x86/fgemm_tile.h, sixteen accumulators of 16 floats (of AVX-512's 32
// registers; two more hold the panel's row, one the broadcast A), fused multiply-add.
// Partial tiles store through lane masks (masked-off lanes are never touched).
#include <immintrin.h>

#include "kernels/x86/fgemm_tile.h"
#include "kernels/x86/fgemm_x86.h"

namespace edgeq {
namespace kern {
namespace {

struct F32x16 {
  using Reg = __m512;
  static constexpr size_t kLanes = 16;
  static Reg zero() { return _mm512_setzero_ps(); }
  static Reg load(const float* p) { return _mm512_load_ps(p); }
  static Reg broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static Reg madd(Reg a, Reg b, Reg acc) { return _mm512_fmadd_ps(a, b, acc); }
  static void store(float* p, Reg r, size_t n) {
    _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << n) - 1), r);
  }
};

constexpr size_t kMr = 8;

}  // namespace

FGemmKernel fgemm_kernel_avx512() {
  FGemmKernel k;
  k.name = "f32_gemm_ukernel_8x32__avx512f";
  k.mr = kMr;
  k.nr = 2 * F32x16::kLanes;
  k.fn = &fgemm_tile<F32x16, kMr>;
  k.fn_half = &fgemm_tile<F32x16, kMr, 1>;
  return k;
}

}  // namespace kern
}  // namespace edgeq
