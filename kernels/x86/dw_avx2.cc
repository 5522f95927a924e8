// AVX2 depthwise row kernel (dw_rows.h), 32-channel tiles, kernel rows in pairs.
//
// A column of two kernel rows is widened to int16 and interleaved, so that one
// vpmaddwd multiplies both rows' taps by their weights and adds the two products
// into an int32 lane (exact: |x * w| <= 255 * 128, two of them fit easily).
// Interleaving within 128-bit lanes puts channels {0-3, 8-11}, {4-7, 12-15},
// {16-19, 24-27}, {20-23, 28-31} in the four accumulators; vpackssdw undoes that
// within each 16-channel half and one vpermq restores the order of the halves.
#include <immintrin.h>

#include <cstdint>

#include "kernels/dw_rows.h"
#include "kernels/x86/dw_ymm.h"
#include "kernels/x86/misc_x86.h"

namespace edgeq {
namespace kern {
namespace {

struct DwPairsAvx2 : DwYmm4 {
  static constexpr int kGroup = 2;

  template <typename T>
  static __m256i widen(const uint8_t* p) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    return static_cast<T>(-1) < 0 ? _mm256_cvtepi8_epi16(x) : _mm256_cvtepu8_epi16(x);
  }

  template <typename T>
  static void build(const uint8_t* const* src, uint8_t* dst) {
    __m256i* d = reinterpret_cast<__m256i*>(dst);
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      const __m256i x0 = widen<T>(src[0] + 16 * h);
      const __m256i x1 = widen<T>(src[1] + 16 * h);
      _mm256_store_si256(d + 2 * h, _mm256_unpacklo_epi16(x0, x1));
      _mm256_store_si256(d + 2 * h + 1, _mm256_unpackhi_epi16(x0, x1));
    }
  }

  static void mac(Acc& acc, const uint8_t* col, const uint8_t* w) {
    const __m256i* x = reinterpret_cast<const __m256i*>(col);
    const __m256i* k = reinterpret_cast<const __m256i*>(w);
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) {
      acc.v[i] = _mm256_add_epi32(acc.v[i], _mm256_madd_epi16(_mm256_load_si256(x + i), _mm256_load_si256(k + i)));
    }
  }

  // Accumulator position i = 8v + 4l + e -> channel 16(v / 2) + 8l + 4(v % 2) + e.
  static const uint8_t* order() {
    static constexpr uint8_t kOrder[32] = {0,  1,  2,  3,  8,  9,  10, 11, 4,  5,  6,  7,  12, 13, 14, 15,
                                           16, 17, 18, 19, 24, 25, 26, 27, 20, 21, 22, 23, 28, 29, 30, 31};
    return kOrder;
  }

  template <typename T>
  static void store(const Acc& acc, T* dst) {
    const __m256i lo = _mm256_packs_epi32(acc.v[0], acc.v[1]);  // channels 0-7 | 8-15
    const __m256i hi = _mm256_packs_epi32(acc.v[2], acc.v[3]);  // channels 16-23 | 24-31
    const __m256i b = _mm256_permute4x64_epi64(pack_bytes<T>(lo, hi), 0xD8);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), b);
  }
};

}  // namespace

DwKernels dw_kernels_avx2() {
  DwKernels set;
  set.kernel[0] = dw_kernel_of<DwPairsAvx2>("q8_dwconv_minmax_ukernel_32c2__avx2", 0, 0, 1);
  return set;
}

}  // namespace kern
}  // namespace edgeq
