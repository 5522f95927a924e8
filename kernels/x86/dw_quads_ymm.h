// Depthwise traits (dw_rows.h) for 32-channel tiles with kernel rows in quads, on ymm
// registers: the AVX-VNNI kernel, and the narrow kernel of the AVX512-VNNI level
// (same code, the EVEX form of vpdpbusd, for CPUs with AVX512-VNNI but no AVX-VNNI).
//
// A column of four kernel rows is interleaved byte-wise (vpunpck{l,h}bw then
// {l,h}wd), so that one vpdpbusd multiplies the four rows' taps (unsigned bytes) by
// their weights (signed bytes) and adds the four products into an int32 lane: exact,
// no saturation. int8 activations are made unsigned with x ^ 0x80 (= x + 128); the
// packer folds the extra 128 * sum(w) into the bias. The accumulators hold channels
// {0-3, 16-19}, {4-7, 20-23}, {8-11, 24-27}, {12-15, 28-31}; the two pack steps of
// the store put them back in order with no permute.
// Anonymous namespace: one copy per ISA translation unit (see epilogue_avx2.h).
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "kernels/x86/dw_ymm.h"

namespace edgeq {
namespace kern {
namespace {

struct DwQuadsYmm : DwYmm4 {
  static constexpr int kGroup = 4;

  template <typename T>
  static __m256i load(const uint8_t* p) {
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    return static_cast<T>(-1) < 0 ? _mm256_xor_si256(x, _mm256_set1_epi8(-128)) : x;
  }

  template <typename T>
  static void build(const uint8_t* const* src, uint8_t* dst) {
    const __m256i x0 = load<T>(src[0]), x1 = load<T>(src[1]), x2 = load<T>(src[2]), x3 = load<T>(src[3]);
    const __m256i lo01 = _mm256_unpacklo_epi8(x0, x1), hi01 = _mm256_unpackhi_epi8(x0, x1);
    const __m256i lo23 = _mm256_unpacklo_epi8(x2, x3), hi23 = _mm256_unpackhi_epi8(x2, x3);
    __m256i* d = reinterpret_cast<__m256i*>(dst);
    _mm256_store_si256(d + 0, _mm256_unpacklo_epi16(lo01, lo23));
    _mm256_store_si256(d + 1, _mm256_unpackhi_epi16(lo01, lo23));
    _mm256_store_si256(d + 2, _mm256_unpacklo_epi16(hi01, hi23));
    _mm256_store_si256(d + 3, _mm256_unpackhi_epi16(hi01, hi23));
  }

  static __m256i dot(__m256i acc, __m256i x, __m256i w) {
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
    return _mm256_dpbusd_epi32(acc, x, w);
#else
    return _mm256_dpbusd_avx_epi32(acc, x, w);
#endif
  }

  static void mac(Acc& acc, const uint8_t* col, const uint8_t* w) {
    const __m256i* x = reinterpret_cast<const __m256i*>(col);
    const __m256i* k = reinterpret_cast<const __m256i*>(w);
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) acc.v[i] = dot(acc.v[i], _mm256_load_si256(x + i), _mm256_load_si256(k + i));
  }

  template <typename T>
  static void store(const Acc& acc, T* dst) {
    const __m256i a = _mm256_packs_epi32(acc.v[0], acc.v[1]);  // channels 0-7 | 16-23
    const __m256i b = _mm256_packs_epi32(acc.v[2], acc.v[3]);  // channels 8-15 | 24-31
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), pack_bytes<T>(a, b));
  }

  // Accumulator position i = 8v + 4l + e -> channel 16l + 4v + e.
  static const uint8_t* order() {
    static constexpr uint8_t kOrder[32] = {0, 1, 2,  3,  16, 17, 18, 19, 4,  5,  6,  7,  20, 21, 22, 23,
                                           8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31};
    return kOrder;
  }
};

}  // namespace
}  // namespace kern
}  // namespace edgeq
