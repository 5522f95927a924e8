// The float unary kernel (kernels/unary_f32_math.h) on NEON vectors of 4 floats, for
// every ARM level. AArch64 fuses V::fma (vfmaq, as x86 FMA3 / AVX-512 do); ARMv7's NEON
// has no fused float multiply-add (a multiply and an add, as x86 AVX2), no division (a
// reciprocal estimate refined by three Newton steps, within an ulp or two) and flushes
// denormals to zero.
#include <arm_neon.h>

#include "kernels/arm/misc_neon.h"
#include "kernels/unary_f32_math.h"

namespace edgeq {
namespace kern {
namespace {

struct VNeon {
  using F = float32x4_t;
  using M = float32x4_t;
  static constexpr size_t kWidth = 4;
  static constexpr bool kMaskedTail = false;
  static F set(float v) { return vdupq_n_f32(v); }
  static F load(const float* p) { return vld1q_f32(p); }
  static void store(float* p, F v) { vst1q_f32(p, v); }
  static F add(F a, F b) { return vaddq_f32(a, b); }
  static F sub(F a, F b) { return vsubq_f32(a, b); }
  static F mul(F a, F b) { return vmulq_f32(a, b); }
  static F div(F a, F b) {
#if defined(__aarch64__)
    return vdivq_f32(a, b);
#else
    F r = vrecpeq_f32(b);
    r = vmulq_f32(r, vrecpsq_f32(b, r));
    r = vmulq_f32(r, vrecpsq_f32(b, r));
    r = vmulq_f32(r, vrecpsq_f32(b, r));
    return vmulq_f32(a, r);
#endif
  }
  // AArch64: fused; ARMv7 NEON has no fused float multiply-add (vmla rounds twice).
  static F fma(F a, F b, F c) {
#if defined(__aarch64__)
    return vfmaq_f32(c, a, b);
#else
    return vaddq_f32(vmulq_f32(a, b), c);
#endif
  }
  static F min(F a, F b) { return vminq_f32(a, b); }
  static F max(F a, F b) { return vmaxq_f32(a, b); }
  static F lt(F a, F b) { return vreinterpretq_f32_u32(vcltq_f32(a, b)); }
  static F select(F mask, F a, F b) { return vbslq_f32(vreinterpretq_u32_f32(mask), a, b); }
  static F bit_and(F a, F b) { return bits(vandq_u32(u(a), u(b))); }
  static F bit_or(F a, F b) { return bits(vorrq_u32(u(a), u(b))); }
  static F bit_xor(F a, F b) { return bits(veorq_u32(u(a), u(b))); }
  static F bit_andnot(F a, F b) { return bits(vbicq_u32(u(b), u(a))); }
  static F is_nan(F x) { return bits(vmvnq_u32(vceqq_f32(x, x))); }
  static F pow2(F n) {
    const int32x4_t e = vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127));
    return vreinterpretq_f32_s32(vshlq_n_s32(e, 23));
  }

 private:
  static uint32x4_t u(F v) { return vreinterpretq_u32_f32(v); }
  static F bits(uint32x4_t v) { return vreinterpretq_f32_u32(v); }
};

}  // namespace

void add_unary_kernels_neon(MiscKernels* k) {
  k->unary_f32 = unary_math::unary_f32<VNeon>;
  k->names.unary_f32 = "f32_vunary_ukernel__neon";
}

}  // namespace kern
}  // namespace edgeq
