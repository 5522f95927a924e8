// ARMv8.2 dotprod depthwise row kernels (kernels/dw_rows.h): kernel rows in quads.
//
// A scratch column holds, per channel, the 4 rows' bytes of one input column (vst4q
// interleaves four rows' 16 bytes at once), the layout of the packed weights
// (misc.h), so one sdot multiplies 4 channels' 4 taps and adds them into 4 int32
// lanes: 16 MACs an instruction. sdot multiplies int8 by int8, so uint8 activations
// are flipped to int8 (x ^ 0x80 = x - 128; the packed bias folds the -128 in); int8
// ones are XORed with 0, so that one function serves both types.
// 32-channel tiles (8 accumulators) and 16-channel ones.
//
// Weights in registers (dw_rows.h): a (group, column) pair's weights are NV q
// registers (4 rows x 4 channels each). kWeightRegs = 20 of the 32: the 16-channel
// tile keeps a 3x3 window whole (3 pairs, 12 registers) with two accumulator sets
// (8), and the first group (rows 0-3) of a 5x5 (5 pairs, 20 registers; the second
// group's 4-row quads hold only row 4 and are loaded per pixel) with one; the
// 32-channel tile keeps 2 pairs. That second group of a 5x5 builds its columns from
// row 4 alone (build_one).
#include <arm_neon.h>

#include <cstdint>

#include "kernels/arm/dw_kernels.h"
#include "kernels/arm/dw_neon.h"
#include "kernels/dw_rows.h"

namespace edgeq {
namespace kern {
namespace {

template <int NV>
struct DwQuadsNeonDot : DwNeonBase<NV> {
  using Base = DwNeonBase<NV>;
  using typename Base::Acc;
  static constexpr int kGroup = 4;
  static_assert(Base::kTile % 16 == 0, "whole 16-byte rows");

  static constexpr bool kRuntimeActType = true;

  static uint8x16_t flip_of(bool act_s8) { return vdupq_n_u8(act_s8 ? 0 : 0x80); }

  static void build(const uint8_t* const* src, uint8_t* dst, uint8x16_t flip) {
#pragma GCC unroll 2
    for (int h = 0; h < Base::kTile / 16; ++h) {
      uint8x16x4_t q;
#pragma GCC unroll 4
      for (int r = 0; r < 4; ++r) q.val[r] = veorq_u8(vld1q_u8(src[r] + 16 * h), flip);
      vst4q_u8(dst + 64 * h, q);
    }
  }

  // Weights in registers (see the top of the file).
  static constexpr bool kRegWeights = true;
  static constexpr int kVRegs = 32, kWeightRegs = 20;
  static constexpr int pair_regs(bool) { return NV; }
  static constexpr bool split(int weight_regs) { return weight_regs + 2 * NV + 8 <= kVRegs; }
  struct Wreg {
    int8x16_t v[NV];
  };
  template <bool>
  static void load_w(Wreg& wr, const uint8_t* w) {
    const int8_t* k = reinterpret_cast<const int8_t*>(w);
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) wr.v[v] = vld1q_s8(k + 16 * v);
  }
  template <bool>
  static void mac_w(Acc& acc, const uint8_t* col, const Wreg& wr) {
    const int8_t* x = reinterpret_cast<const int8_t*>(col);
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc.v[v] = vdotq_s32(acc.v[v], vld1q_s8(x + 16 * v), wr.v[v]);
  }

  // build() for a group whose rows after the first have zero weights: the first row's
  // bytes in all four places of each channel's quad (the other three are multiplied
  // by zero).
  static void build_one(const uint8_t* const* src, uint8_t* dst, uint8x16_t flip) {
#pragma GCC unroll 2
    for (int h = 0; h < Base::kTile / 16; ++h) {
      const uint8x16_t r = veorq_u8(vld1q_u8(src[0] + 16 * h), flip);
      uint8x16x4_t q;
      q.val[0] = q.val[1] = q.val[2] = q.val[3] = r;
      vst4q_u8(dst + 64 * h, q);
    }
  }

  static void mac(Acc& acc, const uint8_t* col, const uint8_t* w) {
    const int8_t* x = reinterpret_cast<const int8_t*>(col);
    const int8_t* k = reinterpret_cast<const int8_t*>(w);
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc.v[v] = vdotq_s32(acc.v[v], vld1q_s8(x + 16 * v), vld1q_s8(k + 16 * v));
  }
};

}  // namespace

DwKernels dw_kernels_neondot() {
  DwKernels set;
  // Tile costs 9 : 5: with the weights in registers a 32-channel tile models at 1.6-1.9x
  // the cycles of a 16-channel one (tools/arm_cycle_model.py), so 32-channel tiles
  // serve multiples of 32 (and 144 channels), 16-channel ones 16, 48, 80...
  set.kernel[0] = dw_kernel_of<DwQuadsNeonDot<8>>("q8_dwconv_minmax_ukernel_32c4__neondot", 0, -128, 9);
  set.kernel[1] = dw_kernel_of<DwQuadsNeonDot<4>>("q8_dwconv_minmax_ukernel_16c4__neondot", 0, -128, 5);
  return set;
}

}  // namespace kern
}  // namespace edgeq
