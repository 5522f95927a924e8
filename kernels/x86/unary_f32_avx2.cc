// The float unary kernel (kernels/unary_f32_math.h) on AVX2 vectors of 8 floats without
// FMA, for CPUs that have AVX2 but not FMA3 (edgeq's AVX2 level does not require it): a
// multiply and an add round separately (the file is compiled with -ffp-contract=off).
#include "kernels/unary_f32_math.h"
#include "kernels/x86/misc_x86.h"
#include "kernels/x86/unary_f32_ymm.h"

namespace edgeq {
namespace kern {
namespace {

struct VAvx2 : VYmmBase {
  static F fma(F a, F b, F c) { return _mm256_add_ps(_mm256_mul_ps(a, b), c); }
};

}  // namespace

void add_unary_kernels_avx2(MiscKernels* k) {
  k->unary_f32 = unary_math::unary_f32<VAvx2>;
  k->names.unary_f32 = "f32_vunary_ukernel__avx2";
}

}  // namespace kern
}  // namespace edgeq
