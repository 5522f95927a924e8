// The float depthwise microkernel (kernels/fdw_kernel.h) on 256-bit vectors with FMA3:
// eight channels a register, one fused multiply-add per term.
#include <immintrin.h>

#include <cmath>

#include "kernels/fdw_taps.h"
#include "kernels/x86/fdw_x86.h"

namespace edgeq {
namespace kern {
namespace {

struct F32x8Fma {
  using Reg = __m256;
  static constexpr size_t kLanes = 8;
  static Reg load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, Reg v) { _mm256_storeu_ps(p, v); }
  static Reg splat(float v) { return _mm256_set1_ps(v); }
  static Reg madd(Reg a, Reg b, Reg acc) { return _mm256_fmadd_ps(a, b, acc); }
  static float madd1(float a, float b, float acc) { return std::fma(a, b, acc); }
  // max / min return their second operand when either is NaN: v, so a NaN stays.
  static Reg clamp(Reg v, Reg lo, Reg hi) { return _mm256_min_ps(hi, _mm256_max_ps(lo, v)); }
};

}  // namespace

FDwKernel fdw_kernel_fma3() {
  FDwKernel k;
  k.name = "f32_dwconv_ukernel__fma3";
  k.fn = fdw_taps<F32x8Fma>;
  return k;
}

}  // namespace kern
}  // namespace edgeq
