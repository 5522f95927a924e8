// The float depthwise microkernel (kernels/fdw_kernel.h) on NEON: four channels a
// register; AArch64 one fused multiply-add per term, ARMv7 a multiply and an add
// (vmla does not fuse).
#include <arm_neon.h>

#include <cmath>

#include "kernels/arm/fgemm_neon.h"
#include "kernels/fdw_taps.h"

namespace edgeq {
namespace kern {
namespace {

struct F32x4Neon {
  using Reg = float32x4_t;
  static constexpr size_t kLanes = 4;
  static Reg load(const float* p) { return vld1q_f32(p); }
  static void store(float* p, Reg v) { vst1q_f32(p, v); }
  static Reg splat(float v) { return vdupq_n_f32(v); }
#if defined(__aarch64__)
  static Reg madd(Reg a, Reg b, Reg acc) { return vfmaq_f32(acc, a, b); }
  static float madd1(float a, float b, float acc) { return std::fma(a, b, acc); }
#else
  static Reg madd(Reg a, Reg b, Reg acc) { return vmlaq_f32(acc, a, b); }
  static float madd1(float a, float b, float acc) { return acc + a * b; }
#endif
  // The reference's clamp: v < lo is false for a NaN, which then stays.
  static Reg clamp(Reg v, Reg lo, Reg hi) {
    v = vbslq_f32(vcltq_f32(v, lo), lo, v);
    return vbslq_f32(vcgtq_f32(v, hi), hi, v);
  }
};

}  // namespace

FDwKernel fdw_kernel_neon() {
  FDwKernel k;
#if defined(__aarch64__)
  k.name = "f32_dwconv_ukernel__neonfma";
#else
  k.name = "f32_dwconv_ukernel__neon";
#endif
  k.fn = fdw_taps<F32x4Neon>;
  return k;
}

}  // namespace kern
}  // namespace edgeq
