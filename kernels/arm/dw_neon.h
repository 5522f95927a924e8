// Depthwise traits (kernels/dw_rows.h) shared by the ARM levels: a tile of 4 * NV
// channels in NV int32x4 accumulators, in channel order (the accumulator order is the
// identity), the bias load, the requantization of neon_epilogue.h and the store.
// Anonymous namespace: one copy per ISA translation unit (see neon_epilogue.h).
#pragma once

#include <arm_neon.h>

#include <cstdint>

#include "kernels/arm/neon_epilogue.h"
#include "kernels/ref/ref.h"

namespace edgeq {
namespace kern {
namespace {

template <int NV>
struct DwNeonBase {
  static_assert(NV % 2 == 0, "tiles are whole 8-channel halves");
  static constexpr int kTile = 4 * NV;
  static constexpr bool kMaskedTail = false;
  struct Acc {
    int32x4_t v[NV];
  };
  using Epilogue = NeonOutputClamp;

  static const uint8_t* order() {
    struct Identity {
      uint8_t v[kTile];
      constexpr Identity() : v() {
        for (int i = 0; i < kTile; ++i) v[i] = static_cast<uint8_t>(i);
      }
    };
    static constexpr Identity kOrder;
    return kOrder.v;
  }

  static void zero(Acc& acc) {
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc.v[v] = vdupq_n_s32(0);
  }

  static void add(Acc& acc, const Acc& b) {
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc.v[v] = vaddq_s32(acc.v[v], b.v[v]);
  }

  static void load_bias(Acc& acc, const int32_t* bias) {
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc.v[v] = vld1q_s32(bias + 4 * v);
  }

  // rq: the tile's three requantization arrays (misc.h): fp32 scale, or fixed-point
  // multiplier, left shift and right shift.
  static void requant(Acc& acc, const uint8_t* rq, ref::Scheme scheme, const Epilogue& e) {
    const int32_t* p = reinterpret_cast<const int32_t*>(rq);
    if (scheme == ref::Scheme::kFp32) {
      const float* scale = reinterpret_cast<const float*>(rq);
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc.v[v] = e.fp32(acc.v[v], vld1q_f32(scale + 4 * v));
    } else {
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) {
        const int32x4_t right = vld1q_s32(p + 2 * kTile + 4 * v);
        NeonFixed f;
        f.multiplier = vld1q_s32(p + 4 * v);
        f.left = vminq_s32(vld1q_s32(p + kTile + 4 * v), vdupq_n_s32(32));
        f.right = vnegq_s32(vminq_s32(right, vdupq_n_s32(63)));  // vrshl shifts right by -amount
        f.negative_fixup = vreinterpretq_s32_u32(vcgtq_s32(right, vdupq_n_s32(0)));
        acc.v[v] = e.fixed(neon_round_fixed(acc.v[v], f));
      }
    }
  }

  // The clamp put every value in T's range: the low byte is the int8 or uint8 result.
  template <typename T>
  static void store(const Acc& acc, T* dst) {
    uint8_t* out = reinterpret_cast<uint8_t*>(dst);
#pragma GCC unroll 4
    for (int v = 0; v < NV; v += 2) {
      const int16x8_t h = vcombine_s16(vmovn_s32(acc.v[v]), vmovn_s32(acc.v[v + 1]));
      vst1_u8(out + 4 * v, vreinterpret_u8_s8(vmovn_s16(h)));
    }
  }
};

}  // namespace
}  // namespace kern
}  // namespace edgeq
