// The parts of the AVX2 and AVX-VNNI depthwise traits (dw_rows.h) that are the same:
// four ymm accumulators (a 32-channel tile), the bias load and the requantization.
// Anonymous namespace: one copy per ISA translation unit (see epilogue_avx2.h).
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "kernels/ref/ref.h"
#include "kernels/x86/epilogue_avx2.h"

namespace edgeq {
namespace kern {
namespace {

struct DwYmm4 {
  static constexpr int kTile = 32;
  static constexpr bool kMaskedTail = false;
  struct Acc {
    __m256i v[4];
  };
  using Epilogue = OutputClamp<Lanes8>;

  static void load_bias(Acc& acc, const int32_t* bias) {
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) acc.v[i] = _mm256_load_si256(reinterpret_cast<const __m256i*>(bias) + i);
  }

  // rq: the tile's three requantization arrays (misc.h).
  static void requant(Acc& acc, const uint8_t* rq, ref::Scheme scheme, const Epilogue& e) {
    requantize_dw_tile<Lanes8>(acc.v, rq, scheme, e);
  }

  // Packs int32 in [-128, 255] to bytes: signed saturation for int8, unsigned for uint8.
  template <typename T>
  static __m256i pack_bytes(__m256i a, __m256i b) {
    if (static_cast<T>(-1) < 0) return _mm256_packs_epi16(a, b);
    return _mm256_packus_epi16(a, b);
  }
};

}  // namespace
}  // namespace kern
}  // namespace edgeq
