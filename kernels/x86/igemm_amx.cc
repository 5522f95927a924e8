// AMX indirect-GEMM microkernels: 32 x 32 output tiles on Intel AMX-INT8 tiles.
//
// The weights are packed exactly as for the AVX512-VNNI level's 8x32c4 kernel (NR 32,
// KR 4, int8 activations flipped to uint8 with the extra 128 * sum(w) in the bias), so
// this kernel can hand any call to that one (below) and a layer's packed blocks read
// the same for both.
//
// Tiles (one configuration, every tile 16 rows x 64 bytes):
//   C00 C01   int32 accumulators: rows 0-15 / 16-31 by channels 0-15 / 16-31
//   C10 C11
//   A0 A1     activations: 16 rows x 64 bytes of K each
//   B0 B1     weights: 16 groups of 4 k x 16 channels x 4 bytes (the c4 packing's rows)
// One tdpbusd multiplies 16 x 64 uint8 activations by 64 x 16 int8 weights into 16 x 16
// int32 sums without saturation, so the accumulators wrap modulo 2^32 like the
// reference. A call's K is the ks taps' round_up(kc, 4) bytes laid end to end: the
// packing stores tap t's k groups right after tap t - 1's, so the weight rows of the
// whole call are one matrix of ks * kc4 / 4 rows of 128 bytes (32 channels x 4 bytes),
// read with a 128-byte stride (B0 its first 64 bytes, B1 its last 64).
//
// The activation rows come through pointers (an indirect GEMM): a tile load needs its
// 16 rows at one stride. Two ways, by the per-tap K kc4 = round_up(kc, 4):
//  * kc4 a multiple of 64 (most layers past a network's first): tap by tap, each group
//    of 16 rows whose pointers lie at one stride (pixels on one output row with their
//    windows inside the input, at any convolution stride) is loaded in place; a group
//    that is not (it crosses an output row, or a tap falls into the padding), and every
//    group of int8 activations (flipped on the way), is copied 64 bytes of K at a time
//    into a 16 x 64 buffer first.
//  * otherwise (kc4 over 64, not a multiple of it) K steps straddle taps: one tap with
//    rows at one stride (a 1x1 stride-1 convolution, a fully connected layer, a matrix
//    product's A) is loaded in place (uint8); every other call gathers, K chunk by K
//    chunk, its rows into a 32 x 512-byte buffer (masked zmm copies, int8 flipped). K's last partial step reads zeros in the
//    buffer (or, in place, bytes past kc4 within the contract's 64-byte read slack)
//    against weight rows copied into a zeroed buffer, so nothing is read past the
//    packed weights.
//
// Initial accumulators: the packed bias, loaded with a zero row stride (every row the
// same), or QuantEpilogue::acc_in. The sums are stored to an int32 tile on the stack and
// requantized by the AVX-512 epilogue (epilogue_avx512.h), 16 rows at a time.
//
// Calls whose per-tap K is under one tile step (round_up(kc, 4) < 64: a network's first
// convolution on 3 channels, grouped convolutions of few channels per group, the 1x1
// expansions of narrow inverted residuals) run on the AVX512-VNNI loop, 8 rows at a time
// over this kernel's pointer layout: on tiles they would fill a fraction of each tile row
// (and gather taps in slivers), and the tile stores and reloads before the epilogue
// cost more than they save (measured on MobileNetV2's and RegNetX's layers). Except
// calls that fill a whole 32-channel block and whose whole K spans two tile steps or
// more (ResNet's 7x7 stem with its window rows folded: 7 taps of 24 bytes): those
// gather the taps into the K-contiguous buffer above, which costs less than the VNNI
// loop's per-tap broadcasts (edgeq_kernels_bench resnet18/conv1 at amx: 538 -> 422 us on
// an Intel Xeon with AMX). Single-row calls use the AVX512-VNNI single-row loop likewise
// (igemm_avx512vnni.cc).
//
// Linux enables tile state per process (dispatch.cc requests it before the level is
// reported supported). Each call checks the thread's tile configuration (sttilecfg)
// and loads its own when it differs, so other code using tiles on the thread between
// calls (or a tilerelease) cannot leave a wrong shape behind.
// Compiled with the AVX512-VNNI flags plus -mamx-tile -mamx-int8 (kernels/x86/gemm.cmake).
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/x86/epilogue_avx512.h"
#include "kernels/x86/gemm_ukernels.h"

namespace edgeq {
namespace kern {
namespace x86 {
namespace {

constexpr size_t kMr = 32, kNr = 32;
constexpr size_t kStep = 64;            // K bytes per tile multiply: one tile row
constexpr size_t kChunk = 512;          // K bytes gathered per pass: a 32 x 512 buffer (16 KiB)
constexpr size_t kWeightRow = kNr * 4;  // bytes of one packed group of 4 k (32 channels)
constexpr size_t kVnniMr = 8;           // the AVX512-VNNI kernel's rows

// Tile numbers: macros, since GCC's tile intrinsics paste their literal text into asm.
#define EDGEQ_TMM_C00 0
#define EDGEQ_TMM_C01 1
#define EDGEQ_TMM_C10 2
#define EDGEQ_TMM_C11 3
#define EDGEQ_TMM_A0 4
#define EDGEQ_TMM_A1 5
#define EDGEQ_TMM_B0 6
#define EDGEQ_TMM_B1 7

struct alignas(64) TileConfig {
  uint8_t palette;
  uint8_t start_row;
  uint8_t reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};

// Loads the configuration unless the thread's tiles already have it: ldtilecfg costs
// about ten times sttilecfg plus a 64-byte compare (46 against 4.5 ns, Xeon).
inline void configure_tiles() {
  TileConfig want;
  std::memset(&want, 0, sizeof(want));
  want.palette = 1;
  for (int t = 0; t < 8; ++t) {
    want.colsb[t] = 64;
    want.rows[t] = 16;
  }
  TileConfig have;
  _tile_storeconfig(&have);
  if (_mm512_cmpneq_epi32_mask(_mm512_load_si512(&have), _mm512_load_si512(&want)) != 0) _tile_loadconfig(&want);
}

inline __mmask64 low_bytes(size_t n) { return n >= 64 ? ~__mmask64{0} : (__mmask64{1} << n) - 1; }

// Bytes [p0, end) of each row's K (tap t's kc4 bytes at t * kc4) into buf (row stride
// kChunk), int8 rows flipped, then zeros up to the next multiple of kStep.
template <size_t kRows, bool kFlip>
inline void gather(const void* const* a, size_t kc4, size_t p0, size_t end, uint8_t* buf) {
  const __m512i flip = _mm512_set1_epi32(static_cast<int32_t>(0x80808080u));
  size_t t = p0 / kc4, off = p0 - t * kc4;
  for (size_t p = p0; p < end;) {
    const size_t n = std::min(kc4 - off, end - p);
    for (size_t q = 0; q < n; q += 64) {
      const __mmask64 mask = low_bytes(n - q);
      uint8_t* dst = buf + (p - p0) + q;
#pragma GCC unroll 4
      for (size_t i = 0; i < kRows; ++i) {
        __m512i v = _mm512_maskz_loadu_epi8(mask, static_cast<const uint8_t*>(a[t * kMr + i]) + off + q);
        if (kFlip) v = _mm512_xor_si512(v, flip);
        _mm512_mask_storeu_epi8(dst + i * kChunk, mask, v);
      }
    }
    p += n;
    off += n;
    if (off == kc4) {
      off = 0;
      ++t;
    }
  }
  const size_t used = end - p0, last = (used - 1) / kStep * kStep;
  if (used - last < kStep) {
    const __mmask64 pad = ~low_bytes(used - last);
    for (size_t i = 0; i < kRows; ++i) _mm512_mask_storeu_epi8(buf + i * kChunk + last, pad, _mm512_setzero_si512());
  }
}

// B0/B1 for the K step at byte p of ktot: in place, or the remaining rows copied into a
// zeroed buffer when fewer than 16 groups of 4 remain.
inline void load_weights(const int8_t* wp, size_t p, size_t ktot, int8_t (*tail)[kWeightRow]) {
  const int8_t* rows = wp + p / 4 * kWeightRow;
  const size_t left = (ktot - p) / 4;
  if (left >= 16) {
    _tile_loadd(EDGEQ_TMM_B0, rows, kWeightRow);
    _tile_loadd(EDGEQ_TMM_B1, rows + 64, kWeightRow);
    return;
  }
  std::memcpy(tail[0], rows, left * kWeightRow);
  std::memset(tail[left], 0, (16 - left) * kWeightRow);
  _tile_loadd(EDGEQ_TMM_B0, tail[0], kWeightRow);
  _tile_loadd(EDGEQ_TMM_B1, tail[0] + 64, kWeightRow);
}

template <size_t kMt>
inline void multiply() {
  _tile_dpbusd(EDGEQ_TMM_C00, EDGEQ_TMM_A0, EDGEQ_TMM_B0);
  _tile_dpbusd(EDGEQ_TMM_C01, EDGEQ_TMM_A0, EDGEQ_TMM_B1);
  if (kMt == 2) {
    _tile_dpbusd(EDGEQ_TMM_C10, EDGEQ_TMM_A1, EDGEQ_TMM_B0);
    _tile_dpbusd(EDGEQ_TMM_C11, EDGEQ_TMM_A1, EDGEQ_TMM_B1);
  }
}

// Whether rows 0 .. rows-1 of a single tap lie at one stride; *stride gets it.
inline bool equally_spaced(const void* const* a, size_t rows, ptrdiff_t* stride) {
  const uint8_t* r0 = static_cast<const uint8_t*>(a[0]);
  const ptrdiff_t s = static_cast<const uint8_t*>(a[1]) - r0;
  for (size_t i = 2; i < rows; ++i)
    if (static_cast<const uint8_t*>(a[i]) != r0 + static_cast<ptrdiff_t>(i) * s) return false;
  *stride = s;
  return true;
}

// 16 rows x 64 bytes at byte `off` of each row into buf (row stride 64), int8 flipped.
template <bool kFlip>
inline void gather_step(const void* const* rows, size_t off, uint8_t* buf) {
  const __m512i flip = _mm512_set1_epi32(static_cast<int32_t>(0x80808080u));
#pragma GCC unroll 16
  for (size_t i = 0; i < 16; ++i) {
    __m512i v = _mm512_loadu_si512(static_cast<const uint8_t*>(rows[i]) + off);
    if (kFlip) v = _mm512_xor_si512(v, flip);
    _mm512_store_si512(buf + i * kStep, v);
  }
}

// kMt row tiles of 16 (mr <= 16 * kMt).
template <size_t kMt, bool kFlip>
void igemm_tiles(size_t mr, size_t nc, size_t kc, size_t ks, const void* const* a, const void* w, void* c,
                 size_t c_stride, size_t n0, const QuantEpilogue* q) {
  configure_tiles();
  const int32_t* bias = static_cast<const int32_t*>(w);
  const int8_t* wp = reinterpret_cast<const int8_t*>(bias + kNr);
  if (q->acc_in != nullptr) {
    const int32_t* in = q->acc_in;
    _tile_loadd(EDGEQ_TMM_C00, in, kNr * 4);
    _tile_loadd(EDGEQ_TMM_C01, in + 16, kNr * 4);
    if (kMt == 2) {
      _tile_loadd(EDGEQ_TMM_C10, in + 16 * kNr, kNr * 4);
      _tile_loadd(EDGEQ_TMM_C11, in + 16 * kNr + 16, kNr * 4);
    }
  } else {
    _tile_loadd(EDGEQ_TMM_C00, bias, 0);
    _tile_loadd(EDGEQ_TMM_C01, bias + 16, 0);
    if (kMt == 2) {
      _tile_loadd(EDGEQ_TMM_C10, bias, 0);
      _tile_loadd(EDGEQ_TMM_C11, bias + 16, 0);
    }
  }
  const size_t kc4 = (kc + 3) & ~size_t{3}, ktot = ks * kc4;
  alignas(64) int8_t tail[16][kWeightRow];
  ptrdiff_t stride = 0;
  if (kc4 % kStep == 0) {
    // Whole steps per tap: each 16-row group of each tap is loaded in place when its
    // rows lie at one stride (uint8), else gathered step by step.
    alignas(64) uint8_t step0[16][kStep], step1[16][kStep];
    for (size_t t = 0; t < ks; ++t) {
      const void* const* at = a + t * kMr;
      ptrdiff_t s0 = 0, s1 = 0;
      const bool in_place0 = !kFlip && equally_spaced(at, 16, &s0);
      const bool in_place1 = kMt == 2 && !kFlip && equally_spaced(at + 16, 16, &s1);
      for (size_t p = 0; p < kc4; p += kStep) {
        if (in_place0) {
          _tile_loadd(EDGEQ_TMM_A0, static_cast<const uint8_t*>(at[0]) + p, s0);
        } else {
          gather_step<kFlip>(at, p, step0[0]);
          _tile_loadd(EDGEQ_TMM_A0, step0[0], kStep);
        }
        if (kMt == 2) {
          if (in_place1) {
            _tile_loadd(EDGEQ_TMM_A1, static_cast<const uint8_t*>(at[16]) + p, s1);
          } else {
            gather_step<kFlip>(at + 16, p, step1[0]);
            _tile_loadd(EDGEQ_TMM_A1, step1[0], kStep);
          }
        }
        load_weights(wp, t * kc4 + p, ktot, tail);
        multiply<kMt>();
      }
    }
  } else if (!kFlip && ks == 1 && equally_spaced(a, 16 * kMt, &stride)) {
    const uint8_t* r0 = static_cast<const uint8_t*>(a[0]);
    for (size_t p = 0; p < ktot; p += kStep) {
      _tile_loadd(EDGEQ_TMM_A0, r0 + p, stride);
      if (kMt == 2) _tile_loadd(EDGEQ_TMM_A1, r0 + 16 * stride + p, stride);
      load_weights(wp, p, ktot, tail);
      multiply<kMt>();
    }
  } else {
    alignas(64) uint8_t buf[16 * kMt][kChunk];
    for (size_t p0 = 0; p0 < ktot; p0 += kChunk) {
      const size_t end = std::min(p0 + kChunk, ktot);
      gather<16 * kMt, kFlip>(a, kc4, p0, end, buf[0]);
      for (size_t p = p0; p < end; p += kStep) {
        _tile_loadd(EDGEQ_TMM_A0, buf[0] + (p - p0), kChunk);
        if (kMt == 2) _tile_loadd(EDGEQ_TMM_A1, buf[16] + (p - p0), kChunk);
        load_weights(wp, p, ktot, tail);
        multiply<kMt>();
      }
    }
  }
  alignas(64) int32_t sums[16 * kMt][kNr];
  _tile_stored(EDGEQ_TMM_C00, sums[0], kNr * 4);
  _tile_stored(EDGEQ_TMM_C01, sums[0] + 16, kNr * 4);
  if (kMt == 2) {
    _tile_stored(EDGEQ_TMM_C10, sums[16], kNr * 4);
    _tile_stored(EDGEQ_TMM_C11, sums[16] + 16, kNr * 4);
  }
  for (size_t h = 0; h < kMt && 16 * h < mr; ++h) {
    __m512i acc[16][2];
#pragma GCC unroll 16
    for (size_t i = 0; i < 16; ++i) {
      acc[i][0] = _mm512_load_si512(sums[16 * h + i]);
      acc[i][1] = _mm512_load_si512(sums[16 * h + i] + 16);
    }
    requantize_store_x16<16, 2>(acc, std::min<size_t>(16, mr - 16 * h), nc,
                                static_cast<uint8_t*>(c) + 16 * h * c_stride, c_stride, n0, q);
  }
}

// The whole call on the AVX512-VNNI 8x32c4 loop (same packing), 8 rows at a time, over
// this kernel's pointer layout.
template <bool kFlip>
void igemm_vnni(size_t mr, size_t nc, size_t kc, size_t ks, const void* const* a, const void* w, void* c,
                size_t c_stride, size_t n0, const QuantEpilogue* q) {
  QuantEpilogue part = *q;
  for (size_t g = 0; g * kVnniMr < mr; ++g) {
    if (q->acc_in != nullptr) part.acc_in = q->acc_in + g * kVnniMr * kNr;
    (kFlip ? qs8_igemm_minmax_ukernel_8x32c4__avx512vnni_mr32 : qu8_igemm_minmax_ukernel_8x32c4__avx512vnni_mr32)(
        std::min(kVnniMr, mr - g * kVnniMr), nc, kc, ks, a + g * kVnniMr, w,
        static_cast<uint8_t*>(c) + g * kVnniMr * c_stride, c_stride, n0, &part);
  }
}

template <bool kFlip>
void igemm(size_t mr, size_t nc, size_t kc, size_t ks, const void* const* a, const void* w, void* c, size_t c_stride,
           size_t n0, const QuantEpilogue* q) {
  const size_t kc4 = (kc + 3) & ~size_t{3};
  if (kc4 < kStep && (nc < kNr || ks * kc4 < 2 * kStep))
    return igemm_vnni<kFlip>(mr, nc, kc, ks, a, w, c, c_stride, n0, q);
  if (mr > 16) return igemm_tiles<2, kFlip>(mr, nc, kc, ks, a, w, c, c_stride, n0, q);
  igemm_tiles<1, kFlip>(mr, nc, kc, ks, a, w, c, c_stride, n0, q);
}

#undef EDGEQ_TMM_C00
#undef EDGEQ_TMM_C01
#undef EDGEQ_TMM_C10
#undef EDGEQ_TMM_C11
#undef EDGEQ_TMM_A0
#undef EDGEQ_TMM_A1
#undef EDGEQ_TMM_B0
#undef EDGEQ_TMM_B1

}  // namespace

void qu8_igemm_minmax_ukernel_32x32c4__amx(size_t mr, size_t nc, size_t kc, size_t ks, const void* const* a,
                                           const void* w, void* c, size_t c_stride, size_t n0, const QuantEpilogue* q) {
  igemm<false>(mr, nc, kc, ks, a, w, c, c_stride, n0, q);
}

void qs8_igemm_minmax_ukernel_32x32c4__amx(size_t mr, size_t nc, size_t kc, size_t ks, const void* const* a,
                                           const void* w, void* c, size_t c_stride, size_t n0, const QuantEpilogue* q) {
  igemm<true>(mr, nc, kc, ks, a, w, c, c_stride, n0, q);
}

}  // namespace x86
}  // namespace kern
}  // namespace edgeq
