// The float unary kernel (kernels/unary_f32_math.h) on AVX2 vectors of 8 floats with
// fused multiply-add (FMA3), for the AVX2 and AVX-VNNI levels on CPUs that have FMA3.
#include "kernels/unary_f32_math.h"
#include "kernels/x86/misc_x86.h"
#include "kernels/x86/unary_f32_ymm.h"

namespace edgeq {
namespace kern {
namespace {

struct VFma3 : VYmmBase {
  static F fma(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
};

}  // namespace

void add_unary_kernels_fma3(MiscKernels* k) {
  k->unary_f32 = unary_math::unary_f32<VFma3>;
  k->names.unary_f32 = "f32_vunary_ukernel__fma3";
}

}  // namespace kern
}  // namespace edgeq
