// The NEON depthwise row kernel (AArch64 and ARMv7) for 3x3 and 5x5 windows at stride 1
// and 2 (kernels/misc.h, DwArgs): no column build, the input is widened in registers.
//
// The 16c2 / 8c2 packed layout is read as it is (kernels/dw_pack_layout.cc, unchanged):
// a tile is worked in 8-channel halves. For each half the kernel loads the window's
// weights once per output row (vld2q splits a kernel-row pair's interleaved int16 into
// the two rows' vectors, one register per kernel row and column), hoists the
// requantization parameters, and then streams the row's pixels: per tap, 8 input bytes
// are loaded straight from the input row, widened (int8: sxtl; uint8: usubl against
// 128, x - 128 as the packed bias expects, u8_act_offset = -128) and multiplied into
// two int32x4 accumulators with smlal / smlal2 against the weights in registers. The
// taps alternate between two accumulator sets (added before the requantization: int32
// sums wrap alike in any order), two multiply chains for the in-order cores.
//
// Layers whose packed weights hold no -128 (DwArgs::w127: TFLite's and ONNX Runtime's
// symmetric int8 weights are in [-127, 127]) take a narrow variant instead: the weights
// are narrowed to int8 in registers once per output row, the input bytes are taken as
// int8 as they are (uint8: x ^ 0x80, which is x - 128 as int8), and two taps' products
// are summed in int16 (smull + smlal: |x * w| <= 128 * 127, two of them fit) before one
// saddw / saddw2 pair adds them to the int32 accumulators. Per 8 channels and two taps
// that is four NEON operations instead of six (two widenings, four smlal).
//
// ARMv7 (16 q registers) runs it too, one pixel per iteration; its fp32 epilogue is
// NeonOutputClamp's one-add rounding (neon_epilogue.h), without which the rounding's
// constants pushed the weights onto the stack.
//
// A 3x3 holds 9 weight registers per half; a 5x5 25, more than fit beside the
// accumulators and the epilogue's constants: GCC keeps what it can and reloads the rest
// from the stack in the pixel loop (one ldr q each, as cheap as the packed weights'
// load and without the de-interleave).
//
// Pixels whose window is inside the row (and, in a partial half, whose reads of 8 bytes
// stay inside the row) take the fast loop; the others, at the row's ends, point the
// taps outside the image at DwArgs::zero and copy a partial half's last bytes to a
// buffer. A partial half (channels % 8) stores through a buffer; halves past the
// channel count are skipped. Bit-exact with kernels/ref: every product fits int16 x
// int16 -> int32 exactly (in the narrow variant a pair of int8 products fits int16
// exactly) and the sums wrap like the reference's.
#pragma once

#include <arm_neon.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/arm/neon_epilogue.h"
#include "kernels/dw_rows.h"
#include "kernels/misc.h"

// The per-pixel and per-tap lambdas must be inlined into the pixel loops (GCC outlines
// the 5x5 ones otherwise: a call per tap).
#define EDGEQ_DW_INLINE __attribute__((always_inline))

namespace edgeq {
namespace kern {
namespace {

// f(std::integral_constant<int, i>) for i in [I, N), inlined (dw_rows.h's static_for may
// be outlined, a call per tap).
template <int I, int N, class F>
EDGEQ_DW_INLINE inline void dw_unroll(F&& f) {
  if constexpr (I < N) {
    f(std::integral_constant<int, I>());
    dw_unroll<I + 1, N>(f);
  }
}

// The high halves' widening operations: AArch64 has them as instructions on the q
// register; ARMv7 names the upper d register of the pair (vget_high_s16 costs nothing).
EDGEQ_DW_INLINE inline int32x4_t dw_addw_high(int32x4_t acc, int16x8_t x) {
#if defined(__aarch64__)
  return vaddw_high_s16(acc, x);
#else
  return vaddw_s16(acc, vget_high_s16(x));
#endif
}
EDGEQ_DW_INLINE inline int32x4_t dw_mull_high(int16x8_t x, int16x8_t w) {
#if defined(__aarch64__)
  return vmull_high_s16(x, w);
#else
  return vmull_s16(vget_high_s16(x), vget_high_s16(w));
#endif
}
EDGEQ_DW_INLINE inline int32x4_t dw_mlal_high(int32x4_t acc, int16x8_t x, int16x8_t w) {
#if defined(__aarch64__)
  return vmlal_high_s16(acc, x, w);
#else
  return vmlal_s16(acc, vget_high_s16(x), vget_high_s16(w));
#endif
}
// acc += the low halves' products. On AArch64 smlal on the low halves of the q registers:
// with vmlal_s16(vget_low_s16(w)) GCC hoists the weights' low halves out of the pixel
// loop as separate registers (twice the weight registers, and spills).
EDGEQ_DW_INLINE inline int32x4_t dw_mlal_low(int32x4_t acc, int16x8_t x, int16x8_t w) {
#if defined(__aarch64__)
  __asm__("smlal %0.4s, %1.4h, %2.4h" : "+w"(acc) : "w"(x), "w"(w));
  return acc;
#else
  return vmlal_s16(acc, vget_low_s16(x), vget_low_s16(w));
#endif
}

// 8 activations at p as int16: int8 as they are, uint8 minus 128.
template <typename T>
inline int16x8_t dw_direct_widen(const uint8_t* p);
template <>
inline int16x8_t dw_direct_widen<int8_t>(const uint8_t* p) {
  return vmovl_s8(vld1_s8(reinterpret_cast<const int8_t*>(p)));
}
template <>
inline int16x8_t dw_direct_widen<uint8_t>(const uint8_t* p) {
  return vreinterpretq_s16_u16(vsubl_u8(vld1_u8(p), vdup_n_u8(128)));
}

// 8 activations at p as int8: int8 as they are, uint8 minus 128 (x ^ 0x80).
template <typename T>
inline int8x8_t dw_direct_s8(const uint8_t* p);
template <>
inline int8x8_t dw_direct_s8<int8_t>(const uint8_t* p) {
  return vld1_s8(reinterpret_cast<const int8_t*>(p));
}
template <>
inline int8x8_t dw_direct_s8<uint8_t>(const uint8_t* p) {
  return vreinterpret_s8_u8(veor_u8(vld1_u8(p), vdup_n_u8(0x80)));
}

// The requantization of 8 channels, its parameters loaded once per half.
template <bool kFixed>
struct DwDirectRq {
  float32x4_t scale[2];
  NeonFixed fixed[2];
  NeonOutputClamp out;

  // rq: the tile's three arrays of `tile` entries each, at the half's first channel.
  DwDirectRq(const uint8_t* rq, size_t tile, const DwArgs& a) : out(a.zero_point, a.qmin, a.qmax) {
    const int32_t* p = reinterpret_cast<const int32_t*>(rq);
    for (int v = 0; v < 2; ++v) {
      if (kFixed) {
        const int32x4_t right = vld1q_s32(p + 2 * tile + 4 * v);
        fixed[v].multiplier = vld1q_s32(p + 4 * v);
        fixed[v].left = vminq_s32(vld1q_s32(p + tile + 4 * v), vdupq_n_s32(32));
        fixed[v].right = vnegq_s32(vminq_s32(right, vdupq_n_s32(63)));  // vrshl shifts right by -amount
        fixed[v].negative_fixup = vreinterpretq_s32_u32(vcgtq_s32(right, vdupq_n_s32(0)));
      } else {
        scale[v] = vld1q_f32(reinterpret_cast<const float*>(p) + 4 * v);
      }
    }
  }

  // The 8 outputs as bytes (the clamp put them in the type's range).
  uint8x8_t apply(int32x4_t a0, int32x4_t a1) const {
    if (kFixed) {
      a0 = out.fixed(neon_round_fixed(a0, fixed[0]));
      a1 = out.fixed(neon_round_fixed(a1, fixed[1]));
    } else {
      a0 = out.fp32(a0, scale[0]);
      a1 = out.fp32(a1, scale[1]);
    }
    return vreinterpret_u8_s8(vmovn_s16(vcombine_s16(vmovn_s32(a0), vmovn_s32(a1))));
  }
};

// What a half needs, loaded once per half (and again by each edge pixel, so that no
// address of the fast loop's state escapes into an out-of-line call: a byte store may
// alias anything whose address escaped, and GCC then reloads the weights per pixel).
// K: the traits (DwPairsNeon, for the tile); KR: the kernel rows multiplied (KH when the
// window is square, else every row of the groups).
// kNarrow: the variant for weights in [-127, 127] (see the top of this file).
template <class K, int KW, int NG, int KR, bool kFixed, bool kNarrow>
struct DwDirectHalf {
  static constexpr size_t kColGroup = static_cast<size_t>(K::kTile) * 4;
  using Weights = std::conditional_t<kNarrow, int8x8_t, int16x8_t>;
  Weights wt[KR * KW];  // [row][column]
  // The bias: in registers for a 3x3 (two register moves per pixel); for a 5x5, whose
  // weights already spill, loaded per pixel (a load instead of the moves, which
  // models 2-7% faster on the in-order cores and slower for the 3x3).
  static constexpr bool kBiasRegs = KR * KW <= 16;
  const int32_t* bias;
  int32x4_t b0, b1;
  DwDirectRq<kFixed> rq;

  EDGEQ_DW_INLINE DwDirectHalf(const uint8_t* pk, size_t h, const DwArgs& a)
      : rq(pk + kColGroup + 32 * h, K::kTile, a) {
    bias = reinterpret_cast<const int32_t*>(pk) + 8 * h;
    b0 = kBiasRegs ? vld1q_s32(bias) : vdupq_n_s32(0);
    b1 = kBiasRegs ? vld1q_s32(bias + 4) : vdupq_n_s32(0);
    dw_unroll<0, NG * KW>([&](auto i) EDGEQ_DW_INLINE {
      constexpr int kG = i / KW, kKw = i % KW;
      const int16x8x2_t k01 =
          vld2q_s16(reinterpret_cast<const int16_t*>(pk + 4 * kColGroup + i * kColGroup) + 16 * h);
      if constexpr (2 * kG < KR) wt[2 * kG * KW + kKw] = narrowed(k01.val[0]);
      if constexpr (2 * kG + 1 < KR) wt[(2 * kG + 1) * KW + kKw] = narrowed(k01.val[1]);
    });
  }

  static EDGEQ_DW_INLINE Weights narrowed(int16x8_t w) {
    if constexpr (kNarrow) {
      return vmovn_s16(w);
    } else {
      return w;
    }
  }

  // The narrow variant's sum: taps in pairs, each pair's two products summed in int16.
  template <typename T>
  EDGEQ_DW_INLINE uint8x8_t sum_narrow(const uint8_t* const* p) const {
    constexpr int kTaps = KR * KW;
    int32x4_t a0 = kBiasRegs ? b0 : vld1q_s32(bias);
    int32x4_t a1 = kBiasRegs ? b1 : vld1q_s32(bias + 4);
    dw_unroll<0, (kTaps + 1) / 2>([&](auto j) EDGEQ_DW_INLINE {
      constexpr int i = 2 * j;
      int16x8_t prod = vmull_s8(dw_direct_s8<T>(p[i]), wt[i]);
      if constexpr (i + 1 < kTaps) prod = vmlal_s8(prod, dw_direct_s8<T>(p[i + 1]), wt[i + 1]);
      a0 = vaddw_s16(a0, vget_low_s16(prod));
      a1 = dw_addw_high(a1, prod);
    });
    return rq.apply(a0, a1);
  }

  // The 8 outputs of the pixel whose taps start at p[r * KW + kw].
  template <typename T>
  EDGEQ_DW_INLINE uint8x8_t sum(const uint8_t* const* p) const {
    if constexpr (kNarrow) {
      return sum_narrow<T>(p);
    } else {
      constexpr int kSets = 2;
      int32x4_t acc[kSets][2];
      dw_unroll<0, KR * KW>([&](auto i) EDGEQ_DW_INLINE {
        const int16x8_t x = dw_direct_widen<T>(p[i]);
        int32x4_t* to = acc[i % kSets];
        if constexpr (i == 0) {  // set 0 starts from the bias
          to[0] = kBiasRegs ? b0 : vld1q_s32(bias);
          to[1] = kBiasRegs ? b1 : vld1q_s32(bias + 4);
        }
        if constexpr (i > 0 && i < kSets) {  // the other sets' first product
          to[0] = vmull_s16(vget_low_s16(x), vget_low_s16(wt[i]));
          to[1] = dw_mull_high(x, wt[i]);
        } else {
          to[0] = dw_mlal_low(to[0], x, wt[i]);
          to[1] = dw_mlal_high(to[1], x, wt[i]);
        }
      });
      int32x4_t a0 = acc[0][0], a1 = acc[0][1];
      dw_unroll<1, kSets>([&](auto j) EDGEQ_DW_INLINE {
        a0 = vaddq_s32(a0, acc[j][0]);
        a1 = vaddq_s32(a1, acc[j][1]);
      });
      return rq.apply(a0, a1);
    }
  }
};

// Stores the valid (< 8) first bytes of y.
EDGEQ_DW_INLINE inline void dw_direct_store_partial(uint8_t* dst, uint8x8_t y, size_t valid) {
  uint8_t buf[8];
  vst1_u8(buf, y);
  const uint8_t* from = buf;
  copy_piece<4>(dst, from, valid);
  copy_piece<2>(dst, from, valid);
  copy_piece<1>(dst, from, valid);
}

// One pixel at the row's ends: taps outside the image read DwArgs::zero, a partial
// half's reads near the row's end a copy.
template <class K, typename T, int KW, int NG, int SW, int KR, bool kFixed, bool kNarrow>
__attribute__((noinline)) void dw_direct_edge(const DwArgs& a, const uint8_t* pk, size_t c0, size_t valid, int ow) {
  const DwDirectHalf<K, KW, NG, KR, kFixed, kNarrow> half(pk, (c0 % K::kTile) / 8, a);
  const size_t c = a.channels;
  const size_t row_bytes = static_cast<size_t>(a.in_w) * c;
  const uint8_t* const* rows = reinterpret_cast<const uint8_t* const*>(a.rows);
  alignas(8) uint8_t tail[KR * KW][8] = {};
  const uint8_t* p[KR * KW];
  for (int r = 0; r < KR; ++r) {
    for (int kw = 0; kw < KW; ++kw) {
      const int64_t iw = static_cast<int64_t>(ow) * SW - a.pad_left + static_cast<int64_t>(kw) * a.dilation_w;
      const uint8_t*& q = p[r * KW + kw];
      if (iw < 0 || iw >= a.in_w) {
        q = static_cast<const uint8_t*>(a.zero) + c0;
      } else {
        q = rows[r] + static_cast<size_t>(iw) * c + c0;
        if (static_cast<size_t>(iw) * c + c0 + 8 > row_bytes) {  // only in a partial half
          std::memcpy(tail[r * KW + kw], q, valid);
          q = tail[r * KW + kw];
        }
      }
    }
  }
  const uint8x8_t y = half.template sum<T>(p);
  uint8_t* dst = static_cast<uint8_t*>(a.out) + static_cast<size_t>(ow) * c + c0;
  if (valid == 8) {
    vst1_u8(dst, y);
  } else {
    dw_direct_store_partial(dst, y, valid);
  }
}

// The fast pixels [lo, hi) of one half: every tap inside the row and 8 bytes readable there.
template <class K, typename T, int KW, int NG, int SW, int KR, bool kFixed, bool kNarrow, bool kPartial>
EDGEQ_DW_INLINE inline void dw_direct_fast(const DwArgs& a, const uint8_t* pk, size_t c0, size_t valid, int64_t lo,
                                           int64_t hi) {
  const DwDirectHalf<K, KW, NG, KR, kFixed, kNarrow> half(pk, (c0 % K::kTile) / 8, a);
  // Locals only: the byte stores of the loop may alias DwArgs.
  const size_t c = a.channels;
  const size_t col_step = static_cast<size_t>(a.dilation_w) * c;
  const size_t in_step = static_cast<size_t>(SW) * c;
  const size_t base = static_cast<size_t>(lo * SW - a.pad_left) * c + c0;
  const uint8_t* const* rows = reinterpret_cast<const uint8_t* const*>(a.rows);
  const uint8_t* row[KR];
  dw_unroll<0, KR>([&](auto r) EDGEQ_DW_INLINE { row[r] = rows[r] + base; });
  uint8_t* out = static_cast<uint8_t*>(a.out) + static_cast<size_t>(lo) * c + c0;
  int64_t n = hi - lo;
#if defined(__aarch64__)
  constexpr bool kTwoPixels = kNarrow || KR * KW <= 9;
#else
  constexpr bool kTwoPixels = false;  // one pixel models faster on ARMv7 (Cortex-A57: 3.03 against 3.39 cycles per output)
#endif
  if constexpr (kTwoPixels) {
    // Two pixels per iteration: their chains (the pair sums' adds, then the
    // requantization, each step waiting on the last) interleave, which the in-order
    // cores cannot do across iterations. The weights stay in registers for both (the
    // exact 5x5's int16 weights spill so much more that it keeps one pixel).
    for (; n >= 2; n -= 2) {
      const uint8_t* p0[KR * KW];
      const uint8_t* p1[KR * KW];
      dw_unroll<0, KR * KW>([&](auto i) EDGEQ_DW_INLINE {
        p0[i] = row[i / KW] + (i % KW) * col_step;
        p1[i] = p0[i] + in_step;
      });
      const uint8x8_t y0 = half.template sum<T>(p0);
      const uint8x8_t y1 = half.template sum<T>(p1);
      if (kPartial) {
        dw_direct_store_partial(out, y0, valid);
        dw_direct_store_partial(out + c, y1, valid);
      } else {
        vst1_u8(out, y0);
        vst1_u8(out + c, y1);
      }
      out += 2 * c;
      dw_unroll<0, KR>([&](auto r) EDGEQ_DW_INLINE { row[r] += 2 * in_step; });
    }
  }
  for (; n > 0; --n) {
    const uint8_t* p[KR * KW];
    dw_unroll<0, KR * KW>([&](auto i) EDGEQ_DW_INLINE { p[i] = row[i / KW] + (i % KW) * col_step; });
    const uint8x8_t y = half.template sum<T>(p);
    if (kPartial) {
      dw_direct_store_partial(out, y, valid);
    } else {
      vst1_u8(out, y);
    }
    out += c;
    dw_unroll<0, KR>([&](auto r) EDGEQ_DW_INLINE { row[r] += in_step; });
  }
}

// One 8-channel half (valid of its channels exist) over the pixels of one output row.
template <class K, typename T, int KW, int NG, int SW, int KR, bool kFixed, bool kNarrow>
void dw_direct_half(const DwArgs& a, const uint8_t* pk, size_t c0, size_t valid) {
  const size_t c = a.channels;
  const bool partial = valid < 8;
  const size_t row_bytes = static_cast<size_t>(a.in_w) * c;
  const int64_t span = static_cast<int64_t>(KW - 1) * a.dilation_w;
  int64_t last_col = a.in_w - 1;  // the last input column a fast pixel's taps may read
  if (partial) {
    last_col = row_bytes >= c0 + 8 ? static_cast<int64_t>((row_bytes - c0 - 8) / c) : -1;
  }
  const int64_t lo = std::min<int64_t>(a.out_w, (a.pad_left + SW - 1) / SW);
  int64_t hi = last_col - span + a.pad_left >= 0 ? (last_col - span + a.pad_left) / SW + 1 : 0;
  hi = std::max(lo, std::min<int64_t>(hi, a.out_w));
  for (int64_t ow = 0; ow < lo; ++ow) dw_direct_edge<K, T, KW, NG, SW, KR, kFixed, kNarrow>(a, pk, c0, valid, static_cast<int>(ow));
  if (hi > lo) {
    if (partial) {
      dw_direct_fast<K, T, KW, NG, SW, KR, kFixed, kNarrow, true>(a, pk, c0, valid, lo, hi);
    } else {
      dw_direct_fast<K, T, KW, NG, SW, KR, kFixed, kNarrow, false>(a, pk, c0, valid, lo, hi);
    }
  }
  for (int64_t ow = hi; ow < a.out_w; ++ow) dw_direct_edge<K, T, KW, NG, SW, KR, kFixed, kNarrow>(a, pk, c0, valid, static_cast<int>(ow));
}

// The row kernel: every half of every tile.
template <class K, typename T, int KW, int NG, int SW, int KH>
void dw_direct(const DwArgs* args) {
  const DwArgs& a = *args;
  constexpr int kRows = KH > 0 ? KH : NG * 2;
  constexpr size_t kTile = K::kTile;
  const size_t block = kTile * 4 * (4 + static_cast<size_t>(NG) * KW);
  const uint8_t* packed = static_cast<const uint8_t*>(a.packed);
  for (size_t c0 = 0; c0 < a.channels; c0 += 8) {
    const uint8_t* pk = packed + block * (c0 / kTile);
    const size_t valid = std::min<size_t>(8, a.channels - c0);
    const bool fixed = a.scheme == ref::Scheme::kFixedPoint;
    if (a.w127) {
      if (fixed) {
        dw_direct_half<K, T, KW, NG, SW, kRows, true, true>(a, pk, c0, valid);
      } else {
        dw_direct_half<K, T, KW, NG, SW, kRows, false, true>(a, pk, c0, valid);
      }
    } else if (fixed) {
      dw_direct_half<K, T, KW, NG, SW, kRows, true, false>(a, pk, c0, valid);
    } else {
      dw_direct_half<K, T, KW, NG, SW, kRows, false, false>(a, pk, c0, valid);
    }
  }
}

template <class K, typename T, int KW, int NG, int SW>
void dw_direct_window(const DwArgs* a) {
  if (a->kernel_h == KW) return dw_direct<K, T, KW, NG, SW, KW>(a);
  return dw_direct<K, T, KW, NG, SW, 0>(a);
}

// 3x3 and 5x5 windows at stride 1 and 2 (any dilation) on the direct kernel, the rest
// on the traits' generic row kernel (kernels/dw_rows.h).
template <class K, typename T>
void dw_direct_dispatch(const DwArgs* a) {
  if (a->kernel_w == 3 && a->groups == 2 && a->stride_w == 1) return dw_direct_window<K, T, 3, 2, 1>(a);
  if (a->kernel_w == 3 && a->groups == 2 && a->stride_w == 2) return dw_direct_window<K, T, 3, 2, 2>(a);
  if (a->kernel_w == 5 && a->groups == 3 && a->stride_w == 1) return dw_direct_window<K, T, 5, 3, 1>(a);
  if (a->kernel_w == 5 && a->groups == 3 && a->stride_w == 2) return dw_direct_window<K, T, 5, 3, 2>(a);
  return dw_rows<K, T, 0, 0, 0, 0>(a);
}

// dw_kernel_of (kernels/dw_rows.h) with the direct kernel for the fixed windows.
template <class K>
DwKernel dw_direct_kernel_of(const char* name, int32_t s8_act_offset, int32_t u8_act_offset, uint32_t tile_cost) {
  DwKernel k = dw_kernel_layout_of<K>(name, s8_act_offset, u8_act_offset, tile_cost);
  k.u8 = dw_direct_dispatch<K, uint8_t>;
  k.s8 = dw_direct_dispatch<K, int8_t>;
  return k;
}

}  // namespace
}  // namespace kern
}  // namespace edgeq
