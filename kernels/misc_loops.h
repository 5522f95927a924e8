// The ISA-independent loops of the optimized misc kernels (kernels/misc.h): which
// cases they vectorize, how a broadcast collapses into rows, and how a pool visits its
// windows and channel blocks. Each ISA's misc file (kernels/x86/misc_avx2.cc,
// kernels/arm/misc_neon.cc) supplies the vector code that runs inside them.
//
// Everything sits in an anonymous namespace on purpose: each ISA's translation unit
// (compiled with its own flags) gets its own copy, so the linker can never pick a copy
// built for a wider ISA than the caller's.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <vector>

#include "kernels/misc.h"
#include "kernels/ref/ref.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__SSSE3__)
#include <tmmintrin.h>
#endif
#if defined(__ARM_NEON) && !defined(__SSE2__)
#include <arm_neon.h>
#endif

namespace edgeq {
namespace kern {
namespace {

constexpr int32_t kMiscZpLimit = 1 << 24;    // output zero points: qmin - zp stays an exact float
constexpr int32_t kMiscInZpLimit = 1024;     // binary input zero points: (q - z) << 20 fits int32
constexpr int kMiscMaxPoolTaps = 256;        // pool windows the vector kernels take

// |zp| <= limit, written so that no zero point overflows.
inline bool zero_point_within(int32_t zp, int32_t limit) { return zp >= -limit && zp <= limit; }

// The zero points the quantize and dequantize kernels take: quantize's bounds
// qmin - zp stay exact floats; dequantize's q - zp is an exact int32 whose float
// conversion rounds like the reference's int64 one.
inline bool convert_supported(int32_t zero_point) { return zero_point_within(zero_point, kMiscZpLimit); }

inline bool misc_finite_positive(float s) { return std::isfinite(s) && s > 0.f; }

// The binary ops and parameters the vector kernels reproduce: kDiv only where `div` (a
// kernel that divides in float as the reference does, whatever the scheme).
inline bool binary_supported(ref::BinaryOp op, const ref::BinaryQParams& p, bool div) {
  return (op != ref::BinaryOp::kDiv || div) && std::abs(p.a_zero_point) <= kMiscInZpLimit &&
         std::abs(p.b_zero_point) <= kMiscInZpLimit && std::abs(p.out_zero_point) <= kMiscZpLimit &&
         misc_finite_positive(p.a_scale) && misc_finite_positive(p.b_scale) && misc_finite_positive(p.out_scale);
}

inline bool pool_supported(const ref::PoolShape& s, const ref::PoolQParams& p) {
  return static_cast<int64_t>(s.kernel_h) * s.kernel_w <= kMiscMaxPoolTaps &&
         std::abs(p.in_zero_point) <= kMiscZpLimit && std::abs(p.out_zero_point) <= kMiscZpLimit;
}

// Global average pool: the centred sum must be an exact int32 for every channel.
inline bool global_pool_supported(int32_t hw, const ref::PoolQParams& p) {
  return hw > 0 &&
         static_cast<int64_t>(hw) * (std::abs(static_cast<int64_t>(p.in_zero_point)) + 256) < (int64_t{1} << 31) &&
         std::abs(p.out_zero_point) <= kMiscZpLimit;
}

// Walks a broadcast as rows: dimensions (innermost first) where both operands continue
// contiguously are merged, and row(n, a, a_step, b, b_step, out) is called for each
// innermost row of n outputs, an operand with a_step / b_step false repeating its one
// element. A broadcast of one element is one row of 1; an empty one calls nothing.
template <typename T, typename RowFn>
void for_each_binary_row(const ref::Broadcast& bc, const T* a, const T* b, T* out, const RowFn& row) {
  int64_t size[ref::kMaxDims], sa[ref::kMaxDims], sb[ref::kMaxDims];
  int dims = 0;
  for (int d = ref::kMaxDims - 1; d >= 0; --d) {
    const int64_t n = bc.out_shape[d];
    if (n == 0) return;
    if (n == 1) continue;
    if (dims > 0 && bc.a_stride[d] == sa[dims - 1] * size[dims - 1] &&
        bc.b_stride[d] == sb[dims - 1] * size[dims - 1]) {
      size[dims - 1] *= n;
      continue;
    }
    size[dims] = n;
    sa[dims] = bc.a_stride[d];
    sb[dims] = bc.b_stride[d];
    ++dims;
  }
  if (dims == 0) return row(size_t{1}, a, false, b, false, out);
  // The innermost row: an operand's stride there is 1 (its own dimension) or 0.
  const size_t n = static_cast<size_t>(size[0]);
  int64_t idx[ref::kMaxDims] = {};
  int64_t a_off = 0, b_off = 0;
  for (T* o = out;; o += n) {
    row(n, a + a_off, sa[0] != 0, b + b_off, sb[0] != 0, o);
    int d = 1;
    for (; d < dims; ++d) {
      a_off += sa[d];
      b_off += sb[d];
      if (++idx[d] < size[d]) break;
      a_off -= sa[d] * size[d];
      b_off -= sb[d] * size[d];
      idx[d] = 0;
    }
    if (d == dims) return;
  }
}

// Calls fn(out_offset, taps, count) for every output pixel, taps being the element
// offsets of its in-image window pixels (channel 0) in window order. Windows of more
// than kMiscMaxPoolTaps taps are not visited (pool_supported excludes them).
template <typename Fn>
void for_each_pool_pixel(const ref::PoolShape& s, const Fn& fn) {
  int64_t taps[kMiscMaxPoolTaps];
  if (static_cast<int64_t>(s.kernel_h) * s.kernel_w > kMiscMaxPoolTaps) return;
  for (int32_t n = 0; n < s.batch; ++n) {
    for (int32_t oh = 0; oh < s.out_h; ++oh) {
      for (int32_t ow = 0; ow < s.out_w; ++ow) {
        int count = 0;
        for (int32_t kh = 0; kh < s.kernel_h; ++kh) {
          const int64_t ih =
              static_cast<int64_t>(oh) * s.stride_h - s.pad_top + static_cast<int64_t>(kh) * s.dilation_h;
          if (ih < 0 || ih >= s.in_h) continue;
          for (int32_t kw = 0; kw < s.kernel_w; ++kw) {
            const int64_t iw =
                static_cast<int64_t>(ow) * s.stride_w - s.pad_left + static_cast<int64_t>(kw) * s.dilation_w;
            if (iw < 0 || iw >= s.in_w) continue;
            taps[count++] = ((static_cast<int64_t>(n) * s.in_h + ih) * s.in_w + iw) * s.channels;
          }
        }
        fn(((static_cast<int64_t>(n) * s.out_h + oh) * s.out_w + ow) * s.channels, taps, count);
      }
    }
  }
}

// Applies fn(src, dst) to blocks of kBlock channels: src(tap) points at a block's
// elements of one tap, dst at its kBlock outputs; a last partial block goes through
// zero-padded copies.
template <int kBlock, typename T, typename Fn>
void for_each_channel_block(int32_t channels, const T* in, const int64_t* taps, int count, T* out, const Fn& fn) {
  int32_t c0 = 0;
  for (; c0 + kBlock <= channels; c0 += kBlock) {
    fn([&](int t) { return in + taps[t] + c0; }, out + c0);
  }
  if (c0 < channels) {
    const size_t rest = static_cast<size_t>(channels - c0);
    T tail[kMiscMaxPoolTaps][kBlock];
    T dst[kBlock];
    for (int t = 0; t < count; ++t) {
      std::memset(tail[t], 0, sizeof(tail[t]));
      std::memcpy(tail[t], in + taps[t] + c0, rest * sizeof(T));
    }
    fn([&](int t) { return static_cast<const T*>(tail[t]); }, dst);
    std::memcpy(out + c0, dst, rest * sizeof(T));
  }
}

// Calls block(src, dst) on every whole block of kBlock elements of in / out, and once on
// zero-padded copies for a last partial block (kernels read and write whole blocks).
template <int kBlock, typename TI, typename TO, typename Fn>
void for_each_block(size_t n, const TI* in, TO* out, const Fn& block) {
  size_t i = 0;
  for (; i + kBlock <= n; i += kBlock) block(in + i, out + i);
  if (i < n) {
    TI src[kBlock] = {};
    TO dst[kBlock];
    std::memcpy(src, in + i, (n - i) * sizeof(TI));
    block(static_cast<const TI*>(src), static_cast<TO*>(dst));
    std::memcpy(out + i, dst, (n - i) * sizeof(TO));
  }
}

// ------------------------------------------------------------------ channels-last transpose

// One image of hw pixels and c channels: in[k * in_k + i * in_i] -> out[k * out_k +
// i * out_i] for channel k and pixel i, one side planar (stride hw per channel), the
// other interleaved (stride c per pixel). A fixed small channel count (images have 1
// to 4) lets the compiler unroll and vectorize the (de)interleave; wider ones are a
// matrix transpose in register blocks (transpose_matrix below).
template <typename E, int kC>
void move_channels(int64_t hw, const E* in, int64_t in_k, int64_t in_i, E* out, int64_t out_k, int64_t out_i) {
  for (int64_t i = 0; i < hw; ++i) {
    for (int k = 0; k < kC; ++k) out[k * out_k + i * out_i] = in[k * in_k + i * in_i];
  }
}

// dst[j * ds + i] = src[i * ss + j] for i < rows, j < cols, one element at a time.
template <typename E>
void transpose_scalar(int64_t rows, int64_t cols, const E* src, int64_t ss, E* dst, int64_t ds) {
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) dst[j * ds + i] = src[i * ss + j];
}

// One kB x kB block of a matrix transpose in registers (the baseline ISA's: SSE2 on x86,
// NEON on ARM), for bytes and for 4-byte elements; only moves, so any bits (NaN payloads
// of floats included) arrive unchanged. kB 0: none (scalar loops only).
template <typename E>
struct TransposeBlock {
  static constexpr int64_t kB = 0;
  static void run(const E*, int64_t, E*, int64_t) {}
};

#if defined(__SSE2__)
template <>
struct TransposeBlock<uint8_t> {
  static constexpr int64_t kB = 16;
  // Four rounds of unpacks: rows paired into 16-bit, 32-bit, 64-bit and 128-bit units.
  static void run(const uint8_t* src, int64_t ss, uint8_t* dst, int64_t ds) {
    __m128i r[16], s1[8][2], s2[4][2][2], s3[2][2][2][2];
    for (int i = 0; i < 16; ++i) r[i] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i * ss));
    for (int p = 0; p < 8; ++p) {  // rows 2p, 2p + 1; columns 8h .. 8h + 7
      s1[p][0] = _mm_unpacklo_epi8(r[2 * p], r[2 * p + 1]);
      s1[p][1] = _mm_unpackhi_epi8(r[2 * p], r[2 * p + 1]);
    }
    for (int q = 0; q < 4; ++q)  // rows 4q .. 4q + 3; columns 8h + 4g ..
      for (int h = 0; h < 2; ++h) {
        s2[q][h][0] = _mm_unpacklo_epi16(s1[2 * q][h], s1[2 * q + 1][h]);
        s2[q][h][1] = _mm_unpackhi_epi16(s1[2 * q][h], s1[2 * q + 1][h]);
      }
    for (int o = 0; o < 2; ++o)  // rows 8o .. 8o + 7; columns 8h + 4g + 2f ..
      for (int h = 0; h < 2; ++h)
        for (int g = 0; g < 2; ++g) {
          s3[o][h][g][0] = _mm_unpacklo_epi32(s2[2 * o][h][g], s2[2 * o + 1][h][g]);
          s3[o][h][g][1] = _mm_unpackhi_epi32(s2[2 * o][h][g], s2[2 * o + 1][h][g]);
        }
    for (int h = 0; h < 2; ++h)  // column 8h + 4g + 2f + e: all 16 rows
      for (int g = 0; g < 2; ++g)
        for (int f = 0; f < 2; ++f) {
          const int c = 8 * h + 4 * g + 2 * f;
          _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + c * ds), _mm_unpacklo_epi64(s3[0][h][g][f], s3[1][h][g][f]));
          _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + (c + 1) * ds),
                           _mm_unpackhi_epi64(s3[0][h][g][f], s3[1][h][g][f]));
        }
  }
};

template <>
struct TransposeBlock<uint32_t> {
  static constexpr int64_t kB = 4;
  static void run(const uint32_t* src, int64_t ss, uint32_t* dst, int64_t ds) {
    __m128i r0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src));
    __m128i r1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + ss));
    __m128i r2 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 2 * ss));
    __m128i r3 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 3 * ss));
    const __m128i t0 = _mm_unpacklo_epi32(r0, r1), t1 = _mm_unpackhi_epi32(r0, r1);
    const __m128i t2 = _mm_unpacklo_epi32(r2, r3), t3 = _mm_unpackhi_epi32(r2, r3);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), _mm_unpacklo_epi64(t0, t2));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + ds), _mm_unpackhi_epi64(t0, t2));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 2 * ds), _mm_unpacklo_epi64(t1, t3));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 3 * ds), _mm_unpackhi_epi64(t1, t3));
  }
};
#elif defined(__ARM_NEON)
template <>
struct TransposeBlock<uint8_t> {
  static constexpr int64_t kB = 8;
  // vtrn of rows in pairs at 8, 16 and 32 bits.
  static void run(const uint8_t* src, int64_t ss, uint8_t* dst, int64_t ds) {
    uint8x8_t r[8];
    for (int i = 0; i < 8; ++i) r[i] = vld1_u8(src + i * ss);
    const uint8x8x2_t a0 = vtrn_u8(r[0], r[1]), a1 = vtrn_u8(r[2], r[3]);
    const uint8x8x2_t a2 = vtrn_u8(r[4], r[5]), a3 = vtrn_u8(r[6], r[7]);
    // columns 0, 4 (val[0]) and 2, 6 (val[1]) of rows 0-3 / 4-7; then 1, 5 and 3, 7
    const uint16x4x2_t b0 = vtrn_u16(vreinterpret_u16_u8(a0.val[0]), vreinterpret_u16_u8(a1.val[0]));
    const uint16x4x2_t b1 = vtrn_u16(vreinterpret_u16_u8(a0.val[1]), vreinterpret_u16_u8(a1.val[1]));
    const uint16x4x2_t b2 = vtrn_u16(vreinterpret_u16_u8(a2.val[0]), vreinterpret_u16_u8(a3.val[0]));
    const uint16x4x2_t b3 = vtrn_u16(vreinterpret_u16_u8(a2.val[1]), vreinterpret_u16_u8(a3.val[1]));
    const uint32x2x2_t c0 = vtrn_u32(vreinterpret_u32_u16(b0.val[0]), vreinterpret_u32_u16(b2.val[0]));  // 0, 4
    const uint32x2x2_t c1 = vtrn_u32(vreinterpret_u32_u16(b1.val[0]), vreinterpret_u32_u16(b3.val[0]));  // 1, 5
    const uint32x2x2_t c2 = vtrn_u32(vreinterpret_u32_u16(b0.val[1]), vreinterpret_u32_u16(b2.val[1]));  // 2, 6
    const uint32x2x2_t c3 = vtrn_u32(vreinterpret_u32_u16(b1.val[1]), vreinterpret_u32_u16(b3.val[1]));  // 3, 7
    vst1_u8(dst, vreinterpret_u8_u32(c0.val[0]));
    vst1_u8(dst + ds, vreinterpret_u8_u32(c1.val[0]));
    vst1_u8(dst + 2 * ds, vreinterpret_u8_u32(c2.val[0]));
    vst1_u8(dst + 3 * ds, vreinterpret_u8_u32(c3.val[0]));
    vst1_u8(dst + 4 * ds, vreinterpret_u8_u32(c0.val[1]));
    vst1_u8(dst + 5 * ds, vreinterpret_u8_u32(c1.val[1]));
    vst1_u8(dst + 6 * ds, vreinterpret_u8_u32(c2.val[1]));
    vst1_u8(dst + 7 * ds, vreinterpret_u8_u32(c3.val[1]));
  }
};

template <>
struct TransposeBlock<uint32_t> {
  static constexpr int64_t kB = 4;
  static void run(const uint32_t* src, int64_t ss, uint32_t* dst, int64_t ds) {
    const uint32x4x2_t a = vtrnq_u32(vld1q_u32(src), vld1q_u32(src + ss));
    const uint32x4x2_t b = vtrnq_u32(vld1q_u32(src + 2 * ss), vld1q_u32(src + 3 * ss));
    vst1q_u32(dst, vcombine_u32(vget_low_u32(a.val[0]), vget_low_u32(b.val[0])));
    vst1q_u32(dst + ds, vcombine_u32(vget_low_u32(a.val[1]), vget_low_u32(b.val[1])));
    vst1q_u32(dst + 2 * ds, vcombine_u32(vget_high_u32(a.val[0]), vget_high_u32(b.val[0])));
    vst1q_u32(dst + 3 * ds, vcombine_u32(vget_high_u32(a.val[1]), vget_high_u32(b.val[1])));
  }
};
#endif

// dst[j * ds + i] = src[i * ss + j] for i < rows, j < cols: register blocks of
// TransposeBlock<E>, column blocks inner (a block row of the source is kB lines read
// in order), the edges by scalar loops.
template <typename E>
void transpose_matrix(int64_t rows, int64_t cols, const E* src, int64_t ss, E* dst, int64_t ds) {
  constexpr int64_t kB = TransposeBlock<E>::kB;
  if constexpr (kB == 0) {
    transpose_scalar(rows, cols, src, ss, dst, ds);
  } else {
    const int64_t rb = rows - rows % kB, cb = cols - cols % kB;
    for (int64_t i = 0; i < rb; i += kB) {
      for (int64_t j = 0; j < cb; j += kB) TransposeBlock<E>::run(src + i * ss + j, ss, dst + j * ds + i, ds);
      transpose_scalar(kB, cols - cb, src + i * ss + cb, ss, dst + cb * ds + i, ds);
    }
    transpose_scalar(rows - rb, cols, src + rb * ss, ss, dst + rb, ds);
  }
}

// Three byte planes (an RGB image's channels, the layout change at a model's input)
// interleaved: out[3 * i + k] = in[k * plane + i]. The generic loop has run-time
// strides the compiler cannot vectorize; here 16 pixels are a register of each plane,
// moved into three output registers with byte shuffles (SSSE3) or one vst3 (NEON).
inline void interleave_bytes3(int64_t hw, const uint8_t* in, int64_t plane, uint8_t* out) {
  int64_t i = 0;
#if defined(__SSSE3__)
  // Output register r holds bytes 16r..16r+15 of the 48: byte j comes from plane
  // (16r + j) % 3, pixel (16r + j) / 3; -1 (0x80) zeroes the others before the ors.
  alignas(16) static const int8_t kMask[3][3][16] = {
      {{0, -1, -1, 1, -1, -1, 2, -1, -1, 3, -1, -1, 4, -1, -1, 5},
       {-1, 0, -1, -1, 1, -1, -1, 2, -1, -1, 3, -1, -1, 4, -1, -1},
       {-1, -1, 0, -1, -1, 1, -1, -1, 2, -1, -1, 3, -1, -1, 4, -1}},
      {{-1, -1, 6, -1, -1, 7, -1, -1, 8, -1, -1, 9, -1, -1, 10, -1},
       {5, -1, -1, 6, -1, -1, 7, -1, -1, 8, -1, -1, 9, -1, -1, 10},
       {-1, 5, -1, -1, 6, -1, -1, 7, -1, -1, 8, -1, -1, 9, -1, -1}},
      {{-1, 11, -1, -1, 12, -1, -1, 13, -1, -1, 14, -1, -1, 15, -1, -1},
       {-1, -1, 11, -1, -1, 12, -1, -1, 13, -1, -1, 14, -1, -1, 15, -1},
       {10, -1, -1, 11, -1, -1, 12, -1, -1, 13, -1, -1, 14, -1, -1, 15}}};
  for (; i + 16 <= hw; i += 16) {
    __m128i p[3];
    for (int k = 0; k < 3; ++k) p[k] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + k * plane + i));
    for (int r = 0; r < 3; ++r) {
      __m128i v = _mm_setzero_si128();
      for (int k = 0; k < 3; ++k)
        v = _mm_or_si128(v, _mm_shuffle_epi8(p[k], _mm_load_si128(reinterpret_cast<const __m128i*>(kMask[r][k]))));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 3 * i + 16 * r), v);
    }
  }
#elif defined(__ARM_NEON)
  for (; i + 16 <= hw; i += 16) {
    uint8x16x3_t v;
    v.val[0] = vld1q_u8(in + i);
    v.val[1] = vld1q_u8(in + plane + i);
    v.val[2] = vld1q_u8(in + 2 * plane + i);
    vst3q_u8(out + 3 * i, v);
  }
#endif
  for (; i < hw; ++i)
    for (int k = 0; k < 3; ++k) out[3 * i + k] = in[k * plane + i];
}

// Channel counts above 4: one side is contiguous in channels (in_k or out_k 1), the
// other in pixels, so this is a matrix transpose of c x hw (planar input) or hw x c
// (interleaved input).
template <typename E>
void move_channels_tiled(int64_t hw, int32_t c, const E* in, int64_t in_k, int64_t in_i, E* out, int64_t out_k,
                         int64_t out_i) {
  if (in_i == 1) return transpose_matrix<E>(c, hw, in, in_k, out, out_i);
  transpose_matrix<E>(hw, c, in, in_i, out, out_k);
}

// Planar -> interleaved (to_last) or back, image by image.
template <typename E>
void change_layout(bool to_last, int64_t batch, int32_t c, int64_t hw, const E* in, E* out) {
  const int64_t planar_k = hw, planar_i = 1, inter_k = 1, inter_i = c;
  const int64_t in_k = to_last ? planar_k : inter_k, in_i = to_last ? planar_i : inter_i;
  const int64_t out_k = to_last ? inter_k : planar_k, out_i = to_last ? inter_i : planar_i;
  for (int64_t b = 0; b < batch; ++b, in += c * hw, out += c * hw) {
    switch (c) {
      case 1: std::memcpy(out, in, static_cast<size_t>(hw) * sizeof(E)); break;
      case 2: move_channels<E, 2>(hw, in, in_k, in_i, out, out_k, out_i); break;
      case 3:
        if constexpr (sizeof(E) == 1) {
          if (to_last) {
            interleave_bytes3(hw, reinterpret_cast<const uint8_t*>(in), hw, reinterpret_cast<uint8_t*>(out));
            break;
          }
        }
        move_channels<E, 3>(hw, in, in_k, in_i, out, out_k, out_i);
        break;
      case 4: move_channels<E, 4>(hw, in, in_k, in_i, out, out_k, out_i); break;
      default: move_channels_tiled(hw, c, in, in_k, in_i, out, out_k, out_i); break;
    }
  }
}

// A transpose whose collapsed innermost dimension stays innermost (collapse_transpose,
// misc.h): the output in order, one memcpy of the innermost input rows at a time.
inline void transpose_runs(int rank, const int32_t* shape, const int32_t* perm, size_t elem_size, const void* in,
                           void* out) {
  int64_t stride[ref::kMaxDims] = {};  // bytes of one step of each input dimension
  int64_t bytes = static_cast<int64_t>(elem_size);
  for (int d = rank - 1; d >= 0; --d) {
    stride[d] = bytes;
    bytes *= shape[d];
  }
  if (rank <= 1) {
    std::memcpy(out, in, static_cast<size_t>(bytes));
    return;
  }
  const int64_t run = stride[rank - 2];  // one innermost row
  const uint8_t* src = static_cast<const uint8_t*>(in);
  uint8_t* dst = static_cast<uint8_t*>(out);
  int64_t idx[ref::kMaxDims] = {};
  for (int64_t done = 0; done < bytes; done += run) {
    int64_t at = 0;
    for (int d = 0; d < rank - 1; ++d) at += idx[d] * stride[perm[d]];
    std::memcpy(dst + done, src + at, static_cast<size_t>(run));
    for (int d = rank - 2; d >= 0 && ++idx[d] == shape[perm[d]]; --d) idx[d] = 0;
  }
}

// Any other collapsed transpose (rank r >= 2, the innermost input dimension moved), on
// elements of E: the output in order, the two innermost output dimensions as one block
// of strided reads per position of the outer ones (a pixel shuffle's
// [N,H,W,C,r,r] -> [N,H,r,W,r,C] reads 3 x 3 blocks), so the outer index arithmetic is
// paid once a block instead of once a row.
template <typename E>
void transpose_blocks(int rank, const int32_t* shape, const int32_t* perm, const E* in, E* out) {
  int64_t stride[ref::kMaxDims] = {};  // elements of one step of each input dimension
  int64_t elements = 1;
  for (int d = rank - 1; d >= 0; --d) {
    stride[d] = elements;
    elements *= shape[d];
  }
  const int32_t n1 = shape[perm[rank - 1]], n2 = shape[perm[rank - 2]];
  const int64_t s1 = stride[perm[rank - 1]], s2 = stride[perm[rank - 2]];
  // The third innermost output dimension as a plain loop (none: one pass), the rest an
  // odometer stepped once per pass.
  const int32_t n3 = rank >= 3 ? shape[perm[rank - 3]] : 1;
  const int64_t s3 = rank >= 3 ? stride[perm[rank - 3]] : 0;
  const int outer = rank >= 3 ? rank - 3 : 0;
  int64_t ostride[ref::kMaxDims], oshape[ref::kMaxDims], idx[ref::kMaxDims] = {};
  for (int d = 0; d < outer; ++d) {
    ostride[d] = stride[perm[d]];
    oshape[d] = shape[perm[d]];
  }
  // Short innermost rows (a pixel shuffle's channels) with their count known. Offsets
  // step as int64 (a pointer may not be formed past the input, even unused).
  auto rows = [&](auto count, int64_t at0, E* o) {
    int32_t m;
    if constexpr (std::is_integral<decltype(count)>::value) {
      m = count;  // any other count, at run time
    } else {
      m = decltype(count)::value;
    }
    for (int32_t c = 0; c < n3; ++c)
      for (int32_t a = 0; a < n2; ++a) {
        const int64_t row = at0 + c * s3 + a * s2;
        for (int32_t b = 0; b < m; ++b) *o++ = in[row + b * s1];
      }
  };
  const int64_t pass = int64_t{n1} * n2 * n3;
  int64_t at = 0;  // the input offset of idx, kept as it steps
  for (int64_t done = 0; done < elements; done += pass) {
    E* o = out + done;
    switch (n1) {
      case 1: rows(std::integral_constant<int32_t, 1>(), at, o); break;
      case 2: rows(std::integral_constant<int32_t, 2>(), at, o); break;
      case 3: rows(std::integral_constant<int32_t, 3>(), at, o); break;
      case 4: rows(std::integral_constant<int32_t, 4>(), at, o); break;
      default: rows(n1, at, o); break;
    }
    for (int d = outer - 1; d >= 0; --d) {
      at += ostride[d];
      if (++idx[d] < oshape[d]) break;
      at -= ostride[d] * oshape[d];
      idx[d] = 0;
    }
  }
}

// ref::transpose: the channels-last permutation and its inverse on 1- and 4-byte
// elements, transposes that keep the innermost rows (transpose_runs) and, on 1- and
// 4-byte elements, those that collapse to a (batched) matrix transpose, here, and every
// other one on 1-, 2-, 4- and 8-byte elements by transpose_blocks; other element sizes
// by the reference (transpose_kernel_covers in misc.h says which).
inline void transpose_channels_last(int rank, const int32_t* in_shape, const int32_t* perm, size_t elem_size,
                                    const void* in, void* out) {
  const bool to_last = is_channels_last_perm(rank, perm);
  if ((!to_last && !is_channels_first_perm(rank, perm)) || (elem_size != 1 && elem_size != 4)) {
    int64_t elements = 1;
    for (int d = 0; d < rank; ++d) elements *= in_shape[d];
    if (elements == 0) return;  // nothing to move; the buffers may be null
    int32_t shape[ref::kMaxDims], p[ref::kMaxDims];
    const int r = collapse_transpose(rank, in_shape, perm, shape, p);
    if (r <= 1 || p[r - 1] == r - 1) return transpose_runs(r, shape, p, elem_size, in, out);
    if ((elem_size == 1 || elem_size == 4) && is_batched_matrix_transpose(r, p)) {
      // [batch][rows][cols] -> [batch][cols][rows]: rows "channels" of cols "pixels" each.
      const int64_t batch = r == 3 ? shape[0] : 1;
      if (elem_size == 1) {
        return change_layout(true, batch, shape[r - 2], shape[r - 1], static_cast<const uint8_t*>(in),
                             static_cast<uint8_t*>(out));
      }
      return change_layout(true, batch, shape[r - 2], shape[r - 1], static_cast<const uint32_t*>(in),
                           static_cast<uint32_t*>(out));
    }
    switch (elem_size) {
      case 1:
        return transpose_blocks(r, shape, p, static_cast<const uint8_t*>(in), static_cast<uint8_t*>(out));
      case 2:
        return transpose_blocks(r, shape, p, static_cast<const uint16_t*>(in), static_cast<uint16_t*>(out));
      case 4:
        return transpose_blocks(r, shape, p, static_cast<const uint32_t*>(in), static_cast<uint32_t*>(out));
      case 8:
        return transpose_blocks(r, shape, p, static_cast<const uint64_t*>(in), static_cast<uint64_t*>(out));
      default: return ref::transpose(rank, in_shape, perm, elem_size, in, out);
    }
  }
  const int32_t c = to_last ? in_shape[1] : in_shape[rank - 1];
  int64_t hw = 1;
  for (int d = to_last ? 2 : 1; d < (to_last ? rank : rank - 1); ++d) hw *= in_shape[d];
  if (elem_size == 1) {
    change_layout(to_last, in_shape[0], c, hw, static_cast<const uint8_t*>(in), static_cast<uint8_t*>(out));
  } else {
    change_layout(to_last, in_shape[0], c, hw, static_cast<const uint32_t*>(in), static_cast<uint32_t*>(out));
  }
}

// ref::concat's copies in its order, each by copy(dst, src, bytes) (the ISA's memcpy for
// short runs).
template <typename CopyFn>
void concat_copies(int64_t outer, int64_t inner, int count, const int32_t* in_axis_sizes, const void* const* inputs,
                   size_t elem_size, void* out, const CopyFn& copy) {
  char* dst = static_cast<char*>(out);
  for (int64_t o = 0; o < outer; ++o) {
    for (int i = 0; i < count; ++i) {
      const size_t bytes = static_cast<size_t>(in_axis_sizes[i] * inner) * elem_size;
      copy(dst, static_cast<const char*>(inputs[i]) + static_cast<size_t>(o) * bytes, bytes);
      dst += bytes;
    }
  }
}

// ------------------------------------------------------------------ slice

// ref::slice, copying runs of bytes: the innermost dimensions taken whole, and the one
// outside them when its step is 1, form one contiguous run of the input; the dimensions
// outside the run are walked with an odometer, one memcpy a run. A channel split of an
// NHWC tensor (ShuffleNet's) is one memcpy of the kept channels a pixel.
inline void slice_runs(int rank, const int32_t* in_shape, const int32_t* out_shape, const int32_t* starts,
                       const int32_t* steps, size_t elem_size, const void* in, void* out) {
  int64_t total = 1;
  for (int d = 0; d < rank; ++d) total *= out_shape[d];
  if (total == 0) return;  // nothing to move; the buffers may be null
  int64_t stride[ref::kMaxDims] = {};  // bytes of one step of each input dimension
  int64_t bytes = static_cast<int64_t>(elem_size);
  for (int d = rank - 1; d >= 0; --d) {
    stride[d] = bytes;
    bytes *= in_shape[d];
  }
  int outer = rank;  // dimensions [outer, rank) lie inside one run
  while (outer > 0 && starts[outer - 1] == 0 && steps[outer - 1] == 1 && out_shape[outer - 1] == in_shape[outer - 1])
    --outer;
  int64_t run = outer == 0 ? bytes : stride[outer - 1], base = 0;
  if (outer > 0 && steps[outer - 1] == 1) {
    --outer;
    base = static_cast<int64_t>(starts[outer]) * stride[outer];
    run *= out_shape[outer];
  }
  const uint8_t* src = static_cast<const uint8_t*>(in);
  uint8_t* dst = static_cast<uint8_t*>(out);
  int64_t idx[ref::kMaxDims] = {};
  for (int64_t done = 0; done < total * static_cast<int64_t>(elem_size); done += run) {
    int64_t at = base;
    for (int d = 0; d < outer; ++d) at += (starts[d] + idx[d] * steps[d]) * stride[d];
    std::memcpy(dst + done, src + at, static_cast<size_t>(run));
    for (int d = outer - 1; d >= 0 && ++idx[d] == out_shape[d]; --d) idx[d] = 0;
  }
}

// ref::pad (constant) in runs of bytes: the output is first filled with the fill
// element (memset when its bytes are all equal, else the element doubled by memcpy),
// then the input is copied in: the innermost dimensions without padding, and the
// padded one outside them, form one contiguous run of the input, placed at its
// padded offset in the output; the dimensions outside the run are walked with an
// odometer, one memcpy a run. An NHWC image padded on H and W is one memcpy a row.
inline void pad_runs(int rank, const int32_t* in_shape, const int32_t* pads, size_t elem_size, const void* fill,
                     const void* in, void* out) {
  int64_t out_stride[ref::kMaxDims] = {}, in_stride[ref::kMaxDims] = {};
  int64_t out_bytes = static_cast<int64_t>(elem_size), in_bytes = static_cast<int64_t>(elem_size);
  for (int d = rank - 1; d >= 0; --d) {
    out_stride[d] = out_bytes;
    in_stride[d] = in_bytes;
    out_bytes *= in_shape[d] + pads[d] + pads[rank + d];
    in_bytes *= in_shape[d];
  }
  if (out_bytes == 0) return;  // nothing to write; the buffers may be null
  uint8_t* dst = static_cast<uint8_t*>(out);
  const uint8_t* f = static_cast<const uint8_t*>(fill);
  bool uniform = true;
  for (size_t b = 1; b < elem_size; ++b) uniform = uniform && f[b] == f[0];
  if (uniform) {
    std::memset(dst, f[0], static_cast<size_t>(out_bytes));
  } else {
    std::memcpy(dst, f, elem_size);
    for (int64_t done = static_cast<int64_t>(elem_size); done < out_bytes; done *= 2)
      std::memcpy(dst + done, dst, static_cast<size_t>(std::min(done, out_bytes - done)));
  }
  if (in_bytes == 0) return;
  int outer = rank;  // dimensions [outer, rank) have no padding
  while (outer > 0 && pads[outer - 1] == 0 && pads[rank + outer - 1] == 0) --outer;
  int64_t run = in_bytes, base = 0;  // no padding at all: one run
  if (outer > 0) {
    --outer;  // the padded dimension: its whole input extent is part of the run
    run = in_stride[outer] * in_shape[outer];
    base = pads[outer] * out_stride[outer];
  }
  const uint8_t* src = static_cast<const uint8_t*>(in);
  int64_t idx[ref::kMaxDims] = {};
  for (int64_t done = 0; done < in_bytes; done += run) {
    int64_t at = base;
    for (int d = 0; d < outer; ++d) at += (idx[d] + pads[d]) * out_stride[d];
    std::memcpy(dst + at, src + done, static_cast<size_t>(run));
    for (int d = outer - 1; d >= 0 && ++idx[d] == in_shape[d]; --d) idx[d] = 0;
  }
}

// ------------------------------------------------------------------ split, mode pads, nearest resizes

// The copies of the three kernels below: the ISA's memcpy for short runs.
using CopyBytesFn = void (*)(char* dst, const char* src, size_t n);

// ref::split's copies in its order, each by copy(dst, src, bytes) (a channel split of an
// NHWC tensor copies a few bytes a pixel).
template <CopyBytesFn copy>
void split_copies(int64_t outer, int64_t inner, int32_t in_axis, int count, const int32_t* out_axis_sizes,
                  const void* in, size_t elem_size, void* const* outputs) {
  (void)in_axis;
  const char* src = static_cast<const char*>(in);
  for (int64_t o = 0; o < outer; ++o) {
    for (int i = 0; i < count; ++i) {
      const size_t bytes = static_cast<size_t>(out_axis_sizes[i] * inner) * elem_size;
      copy(static_cast<char*>(outputs[i]) + static_cast<size_t>(o) * bytes, src, bytes);
      src += bytes;
    }
  }
}

// ref::pad_mode (reflect or edge) by runs: the innermost dimensions without padding form
// a block of bytes; along the innermost padded dimension the input's blocks are one run
// copied to its padded offset, and each padded position copies the block it mirrors
// (reflect: -i before, 2(n-1) - i after) or repeats (edge: the first or last); the
// dimensions outside are walked recursively, a padded index reading the input slice it
// maps to. An NHWC image padded on H and W is one copy a row and two pixels a side.
template <CopyBytesFn copy>
void pad_mode_runs(bool reflect, int rank, const int32_t* in_shape, const int32_t* pads, size_t elem_size,
                   const void* in, void* out) {
  int64_t total = 1;
  for (int d = 0; d < rank; ++d) total *= int64_t{in_shape[d]} + pads[d] + pads[rank + d];
  if (total == 0) return;  // nothing to write; the buffers may be null
  int inner = rank;        // dimensions [inner, rank) have no padding
  size_t block = elem_size;
  while (inner > 0 && pads[inner - 1] == 0 && pads[rank + inner - 1] == 0) block *= static_cast<size_t>(in_shape[--inner]);
  if (inner == 0) {
    copy(static_cast<char*>(out), static_cast<const char*>(in), block);
    return;
  }
  size_t in_stride[ref::kMaxDims], out_stride[ref::kMaxDims];
  size_t is = block, os = block;
  for (int d = inner - 1; d >= 0; --d) {
    in_stride[d] = is;
    out_stride[d] = os;
    is *= static_cast<size_t>(in_shape[d]);
    os *= static_cast<size_t>(int64_t{in_shape[d]} + pads[d] + pads[rank + d]);
  }
  const auto source = [&](int d, int64_t i) {  // the input index output index i - pad maps to
    const int64_t n = in_shape[d];
    if (reflect) {
      if (i < 0) i = -i;
      if (i >= n) i = 2 * (n - 1) - i;
      return i;
    }
    return std::min<int64_t>(std::max<int64_t>(i, 0), n - 1);
  };
  const int last = inner - 1;
  const auto walk = [&](const auto& self, int d, const char* src, char* dst) -> void {
    const int64_t n = in_shape[d], before = pads[d], after = pads[rank + d];
    if (d == last) {
      copy(dst + static_cast<size_t>(before) * block, src, static_cast<size_t>(n) * block);
      for (int64_t o = 0; o < before; ++o)
        copy(dst + static_cast<size_t>(o) * block, src + static_cast<size_t>(source(d, o - before)) * block, block);
      for (int64_t o = before + n; o < before + n + after; ++o)
        copy(dst + static_cast<size_t>(o) * block, src + static_cast<size_t>(source(d, o - before)) * block, block);
      return;
    }
    for (int64_t o = 0; o < before + n + after; ++o)
      self(self, d + 1, src + static_cast<size_t>(source(d, o - before)) * in_stride[d],
           dst + static_cast<size_t>(o) * out_stride[d]);
  };
  walk(walk, 0, static_cast<const char*>(in), static_cast<char*>(out));
}

// ref::resize_linear_f32 with the blend of a pixel's channels by blend(channels, the four
// source pixels, wx, wy, out), which computes the reference's
//   (1 - wy) * ((1 - wx) * a00 + wx * a01) + wy * ((1 - wx) * a10 + wx * a11)
// in the same order, each a float operation (no fused multiply-add), a vector of
// channels at a time: the same bits.
using BlendFn = void (*)(int64_t channels, const float* a00, const float* a01, const float* a10, const float* a11,
                         float wx, float wy, float* out);
template <BlendFn blend>
void resize_linear_rows(ref::ResizeCoord mode, int32_t batch, int32_t in_h, int32_t in_w, int32_t channels,
                        int32_t out_h, int32_t out_w, int64_t row0, int64_t row1, const float* in, float* out,
                        float scale_h, float scale_w) {
  (void)batch;
  std::vector<ref::LinearTap> cols(static_cast<size_t>(out_w));
  for (int32_t x = 0; x < out_w; ++x) cols[x] = ref::linear_tap(mode, x, in_w, out_w, scale_w);
  const int64_t c = channels;
  for (int64_t row = row0; row < row1; ++row) {
    const int64_t n = row / out_h;
    const ref::LinearTap ty = ref::linear_tap(mode, static_cast<int32_t>(row % out_h), in_h, out_h, scale_h);
    const float* r0 = in + (n * in_h + ty.i0) * in_w * c;
    const float* r1 = in + (n * in_h + ty.i1) * in_w * c;
    float* o = out + row * out_w * c;
    for (int32_t x = 0; x < out_w; ++x) {
      const ref::LinearTap tx = cols[x];
      blend(c, r0 + tx.i0 * c, r0 + tx.i1 * c, r1 + tx.i0 * c, r1 + tx.i1 * c, tx.w, ty.w, o + x * c);
    }
  }
}

// ref::resize_nearest_indexed with its copies by copy(dst, src, bytes): a row the row
// above also read is that output row again, the others a copy a pixel.
template <CopyBytesFn copy>
void resize_indexed_copies(int32_t batch, int32_t in_h, int32_t in_w, int32_t out_h, int32_t out_w, size_t pixel_bytes,
                           const int32_t* rows, const int32_t* cols, const void* in, void* out) {
  const char* x = static_cast<const char*>(in);
  char* y = static_cast<char*>(out);
  const size_t out_row = static_cast<size_t>(out_w) * pixel_bytes;
  for (int32_t n = 0; n < batch; ++n)
    for (int32_t r = 0; r < out_h; ++r) {
      char* dst = y + (static_cast<size_t>(n) * out_h + r) * out_row;
      if (r > 0 && rows[r] == rows[r - 1]) {
        copy(dst, dst - out_row, out_row);
        continue;
      }
      const char* src = x + (static_cast<size_t>(n) * in_h + rows[r]) * in_w * pixel_bytes;
      for (int32_t c = 0; c < out_w; ++c) copy(dst + c * pixel_bytes, src + cols[c] * pixel_bytes, pixel_bytes);
    }
}

}  // namespace
}  // namespace kern
}  // namespace edgeq
