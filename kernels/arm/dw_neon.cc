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
//
// Weights in registers (dw_rows.h): a (group, column) pair's weights are 2 q registers
// per 8 channels (the two rows' int16), 1 for the last group of an odd kernel height
// (its second row is all zero weights and is not multiplied). Budget of the 8-channel
// tile on AArch64 (32 v registers): 3x3 = 2 groups x 3 columns = 3 x 2 + 3 x 1 = 9
// weight registers, 2 x 2 accumulators (split), 3 epilogue constants and the column
// loads: about 20. 5x5 = 5 x 2 + 5 x 2 + 5 x 1 = 25 weight registers would leave too
// few: GCC spills the weights' low halves in the pixel loop from about 20 on (the
// weights, the accumulators, the bias and scale loads and the epilogue's temporaries
// are live together), so kWeightRegs = 16 keeps the first group and 3 columns of the
// second, and the rest is loaded per pixel. The 16-channel tile keeps the first group
// and 2 columns of the second in 3x3 and 5x5 alike. ARMv7 has 16 q registers: 8 for
// weights (the 8-channel 3x3: 5 of its 6 pairs), one accumulator set. On both, 3x3 and
// 5x5 windows at stride 1 and 2 run the direct kernel (dw_direct_neon.h) instead; these
// row kernels take the other windows.
// The single-row group of an odd kernel height also builds only that row's columns.
#include <arm_neon.h>

#include <cstdint>

#include "kernels/arm/dw_direct_neon.h"
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

  // Weights in registers (see the top of the file).
  static constexpr bool kRegWeights = true;
#if defined(__aarch64__)
  static constexpr int kVRegs = 32, kWeightRegs = 16;
#else
  static constexpr int kVRegs = 16, kWeightRegs = 8;
#endif
  static constexpr int pair_regs(bool one_row) { return kHalves * (one_row ? 1 : 2); }
  // Two accumulator sets when they fit beside the weights, the epilogue constants and
  // the loads.
  static constexpr bool split(int weight_regs) { return weight_regs + 2 * NV + 10 <= kVRegs; }
  struct Wreg {
    int16x8_t r0[kHalves], r1[kHalves];
  };
  template <bool kOneRow>
  static void load_w(Wreg& wr, const uint8_t* w) {
    const int16_t* k = reinterpret_cast<const int16_t*>(w);
#pragma GCC unroll 4
    for (int h = 0; h < kHalves; ++h) {
      const int16x8x2_t k01 = vld2q_s16(k + 16 * h);
      wr.r0[h] = k01.val[0];
      if (!kOneRow) wr.r1[h] = k01.val[1];
    }
  }
  template <bool kOneRow>
  static void mac_w(Acc& acc, const uint8_t* col, const Wreg& wr) {
    const int16_t* x = reinterpret_cast<const int16_t*>(col);
#pragma GCC unroll 4
    for (int h = 0; h < kHalves; ++h) {
      const int16x8_t x0 = vld1q_s16(x + 16 * h);
      int32x4_t lo = vmlal_s16(acc.v[2 * h], vget_low_s16(x0), vget_low_s16(wr.r0[h]));
#if defined(__aarch64__)
      int32x4_t hi = vmlal_high_s16(acc.v[2 * h + 1], x0, wr.r0[h]);
#else
      int32x4_t hi = vmlal_s16(acc.v[2 * h + 1], vget_high_s16(x0), vget_high_s16(wr.r0[h]));
#endif
      if (!kOneRow) {
        const int16x8_t x1 = vld1q_s16(x + 16 * h + 8);
        lo = vmlal_s16(lo, vget_low_s16(x1), vget_low_s16(wr.r1[h]));
#if defined(__aarch64__)
        hi = vmlal_high_s16(hi, x1, wr.r1[h]);
#else
        hi = vmlal_s16(hi, vget_high_s16(x1), vget_high_s16(wr.r1[h]));
#endif
      }
      acc.v[2 * h] = lo;
      acc.v[2 * h + 1] = hi;
    }
  }

  // The first row's half of build(), for a group whose second row has zero weights.
  static void build_one(const uint8_t* const* src, uint8_t* dst, uint8x8_t flip) {
    int16_t* d = reinterpret_cast<int16_t*>(dst);
#pragma GCC unroll 4
    for (int h = 0; h < kHalves; ++h) vst1q_s16(d + 16 * h, widen(src[0] + 8 * h, flip));
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
  // 3x3 and 5x5 windows on the direct kernel (dw_direct_neon.h), the same packed layout.
  set.kernel[0] = dw_direct_kernel_of<DwPairsNeon<4>>("q8_dwconv_minmax_ukernel_16c2__neon", 0, -128, 2);
  set.kernel[1] = dw_direct_kernel_of<DwPairsNeon<2>>("q8_dwconv_minmax_ukernel_8c2__neon", 0, -128, 1);
  return set;
}

}  // namespace kern
}  // namespace edgeq
