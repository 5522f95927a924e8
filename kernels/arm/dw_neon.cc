// NEON depthwise row kernels (kernels/dw_rows.h), AArch64 and ARMv7: kernel rows in
// pairs, widened to int16.
//
// A scratch column holds, per 8 channels, the first row's 8 int16 then the second's.
// The packed weights hold each channel's pair interleaved (misc.h); vld2q splits them
// back into the two rows' vectors, and four widening multiply-accumulates (smlal,
// 4 MACs each) add both rows' products for the 8 channels. uint8 activations are
// flipped to int8 as they are widened (x ^ 0x80 = x - 128; the packed bias folds the
// -128 in), so one function serves both types. |x * w| <= 128 * 128: every product is
// exact and the int32 sums wrap like the reference's.
// Tiles of 16 and 8 channels: 32-channel tiles (8 accumulators) spill on AArch64 in
// the 5x5 loops (tools/arm_mac_report.sh).
#include <arm_neon.h>

#include <cstdint>

#include "kernels/arm/dw_kernels.h"
#include "kernels/arm/dw_neon.h"
#include "kernels/dw_rows.h"

namespace edgeq {
namespace kern {
namespace {

template <int NV>
struct DwPairsNeon : DwNeonBase<NV> {
  using Base = DwNeonBase<NV>;
  using typename Base::Acc;
  static constexpr int kGroup = 2;
  static constexpr int kHalves = Base::kTile / 8;

  static constexpr bool kRuntimeActType = true;

  static uint8x8_t flip_of(bool act_s8) { return vdup_n_u8(act_s8 ? 0 : 0x80); }

  // 8 activations as int8 (uint8 ones flipped: x ^ 0x80 = x - 128), widened.
  static int16x8_t widen(const uint8_t* p, uint8x8_t flip) {
    return vmovl_s8(vreinterpret_s8_u8(veor_u8(vld1_u8(p), flip)));
  }

  static void build(const uint8_t* const* src, uint8_t* dst, uint8x8_t flip) {
    int16_t* d = reinterpret_cast<int16_t*>(dst);
#pragma GCC unroll 4
    for (int h = 0; h < kHalves; ++h) {
      vst1q_s16(d + 16 * h, widen(src[0] + 8 * h, flip));
      vst1q_s16(d + 16 * h + 8, widen(src[1] + 8 * h, flip));
    }
  }

  static void mac(Acc& acc, const uint8_t* col, const uint8_t* w) {
    const int16_t* x = reinterpret_cast<const int16_t*>(col);
    const int16_t* k = reinterpret_cast<const int16_t*>(w);
#pragma GCC unroll 4
    for (int h = 0; h < kHalves; ++h) {
      const int16x8_t x0 = vld1q_s16(x + 16 * h);
      const int16x8_t x1 = vld1q_s16(x + 16 * h + 8);
      const int16x8x2_t k01 = vld2q_s16(k + 16 * h);
      int32x4_t lo = vmlal_s16(acc.v[2 * h], vget_low_s16(x0), vget_low_s16(k01.val[0]));
      int32x4_t hi;
#if defined(__aarch64__)
      hi = vmlal_high_s16(acc.v[2 * h + 1], x0, k01.val[0]);
      hi = vmlal_high_s16(hi, x1, k01.val[1]);
#else
      hi = vmlal_s16(acc.v[2 * h + 1], vget_high_s16(x0), vget_high_s16(k01.val[0]));
      hi = vmlal_s16(hi, vget_high_s16(x1), vget_high_s16(k01.val[1]));
#endif
      acc.v[2 * h] = vmlal_s16(lo, vget_low_s16(x1), vget_low_s16(k01.val[1]));
      acc.v[2 * h + 1] = hi;
    }
  }
};

}  // namespace

DwKernels dw_kernels_neon() {
  DwKernels set;
  set.kernel[0] = dw_kernel_of<DwPairsNeon<4>>("q8_dwconv_minmax_ukernel_16c2__neon", 0, -128, 2);
  set.kernel[1] = dw_kernel_of<DwPairsNeon<2>>("q8_dwconv_minmax_ukernel_8c2__neon", 0, -128, 1);
  return set;
}

}  // namespace kern
}  // namespace edgeq
