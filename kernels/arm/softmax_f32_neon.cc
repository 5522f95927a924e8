// The float softmax (kernels/softmax_f32_rows.h) on AArch64 NEON vectors of 4 floats,
// the kernel of every AArch64 level (misc_register.cc). ARMv7 keeps the reference: its
// NEON has no fused multiply-add, no round-to-nearest and no NaN-skipping maximum.
// Row tails (fewer than 4 floats) go through a 4-float buffer.
#include <arm_neon.h>

#include <algorithm>

#include "kernels/arm/misc_neon.h"
#include "kernels/softmax_f32_rows.h"

namespace edgeq {
namespace kern {
namespace {

struct VNeon {
  using F = float32x4_t;
  static constexpr size_t kWidth = 4;
  static F set(float v) { return vdupq_n_f32(v); }
  static F load(const float* p) { return vld1q_f32(p); }
  static void store(float* p, F v) { vst1q_f32(p, v); }
  static F load_tail(const float* p, int32_t count, float fill) {
    float b[4] = {fill, fill, fill, fill};
    std::copy(p, p + count, b);
    return vld1q_f32(b);
  }
  static void store_tail(float* p, int32_t count, F v) {
    float b[4];
    vst1q_f32(b, v);
    std::copy(b, b + count, p);
  }
  static F add(F a, F b) { return vaddq_f32(a, b); }
  static F sub(F a, F b) { return vsubq_f32(a, b); }
  static F mul(F a, F b) { return vmulq_f32(a, b); }
  static F fma(F a, F b, F c) { return vfmaq_f32(c, a, b); }
  static F max(F a, F b) { return vmaxq_f32(a, b); }                 // NaN when either is NaN
  static F max_skip_nan(F acc, F x) { return vmaxnmq_f32(acc, x); }  // the number when one is NaN
  static uint32x4_t lt(F a, F b) { return vcltq_f32(a, b); }
  static F select(uint32x4_t mask, F a, F b) { return vbslq_f32(mask, a, b); }
  static F round(F v) { return vrndnq_f32(v); }
  static F times_pow2(F p, F n) {  // 2^n built in the exponent bits
    const int32x4_t e = vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127));
    return vmulq_f32(p, vreinterpretq_f32_s32(vshlq_n_s32(e, 23)));
  }
  static float reduce_add(F v) { return vaddvq_f32(v); }
  static float reduce_max(F v) { return vmaxvq_f32(v); }
};

}  // namespace

void add_softmax_kernels_neon(MiscKernels* k) {
  k->softmax_f32 = softmax_f32::softmax_f32_rows<VNeon>;
  k->softmax_f32_columns = softmax_f32::softmax_f32_columns<VNeon>;
  k->names.softmax_f32 = "f32_softmax_ukernel__neon";
}

}  // namespace kern
}  // namespace edgeq
