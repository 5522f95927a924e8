// AVX512-VNNI depthwise row kernel (dw_rows.h), 64-channel tiles, kernel rows in
// quads: the AVX-VNNI kernel (dw_avxvnni.cc) on zmm registers. The byte interleave
// works per 128-bit lane, so the accumulators hold channels {16l + 4v .. 16l + 4v + 3}
// for lanes l = 0..3, and the store's two pack steps restore the order.
// The requantization is epilogue_avx512.h's. A zmm tile costs about
// 1.25 ymm tiles (measured on Zen 4 with edgeq_misc_bench), so channel counts of at
// most 32 (mod 64 nothing else) get the ymm quads kernel (dw_quads_ymm.h), compiled
// here with the EVEX vpdpbusd.
#include <immintrin.h>

#include <cstdint>

#include "kernels/dw_rows.h"
#include "kernels/x86/dw_quads_ymm.h"
#include "kernels/x86/epilogue_avx512.h"
#include "kernels/x86/misc_x86.h"

namespace edgeq {
namespace kern {
namespace {

struct DwQuadsAvx512Vnni {
  static constexpr int kTile = 64;
  static constexpr int kGroup = 4;
  static constexpr bool kMaskedTail = true;
  struct Acc {
    __m512i v[4];
  };
  using Epilogue = OutputClamp<Lanes16>;

  template <typename T>
  static __m512i flip(__m512i x) {
    return static_cast<T>(-1) < 0 ? _mm512_xor_si512(x, _mm512_set1_epi8(-128)) : x;
  }

  static void interleave(__m512i x0, __m512i x1, __m512i x2, __m512i x3, uint8_t* dst) {
    const __m512i lo01 = _mm512_unpacklo_epi8(x0, x1), hi01 = _mm512_unpackhi_epi8(x0, x1);
    const __m512i lo23 = _mm512_unpacklo_epi8(x2, x3), hi23 = _mm512_unpackhi_epi8(x2, x3);
    _mm512_store_si512(dst, _mm512_unpacklo_epi16(lo01, lo23));
    _mm512_store_si512(dst + 64, _mm512_unpackhi_epi16(lo01, lo23));
    _mm512_store_si512(dst + 128, _mm512_unpacklo_epi16(hi01, hi23));
    _mm512_store_si512(dst + 192, _mm512_unpackhi_epi16(hi01, hi23));
  }

  template <typename T>
  static void build(const uint8_t* const* src, uint8_t* dst) {
    interleave(flip<T>(_mm512_loadu_si512(src[0])), flip<T>(_mm512_loadu_si512(src[1])),
               flip<T>(_mm512_loadu_si512(src[2])), flip<T>(_mm512_loadu_si512(src[3])), dst);
  }

  static __mmask64 first(size_t n) { return n >= 64 ? ~__mmask64{0} : (__mmask64{1} << n) - 1; }

  // The first `valid` channels of each row; the other lanes read as zero.
  template <typename T>
  static void build_masked(const uint8_t* const* src, size_t valid, uint8_t* dst) {
    const __mmask64 m = first(valid);
    interleave(flip<T>(_mm512_maskz_loadu_epi8(m, src[0])), flip<T>(_mm512_maskz_loadu_epi8(m, src[1])),
               flip<T>(_mm512_maskz_loadu_epi8(m, src[2])), flip<T>(_mm512_maskz_loadu_epi8(m, src[3])), dst);
  }

  template <typename T>
  static __m512i pack(const Acc& acc) {
    const __m512i a = _mm512_packs_epi32(acc.v[0], acc.v[1]);
    const __m512i b = _mm512_packs_epi32(acc.v[2], acc.v[3]);
    return static_cast<T>(-1) < 0 ? _mm512_packs_epi16(a, b) : _mm512_packus_epi16(a, b);
  }

  template <typename T>
  static void store(const Acc& acc, T* dst) {
    _mm512_storeu_si512(dst, pack<T>(acc));
  }

  template <typename T>
  static void store_masked(const Acc& acc, T* dst, size_t valid) {
    _mm512_mask_storeu_epi8(dst, first(valid), pack<T>(acc));
  }

  // Accumulator position i = 16v + 4l + e -> channel 16l + 4v + e.
  static const uint8_t* order() {
    struct Table {
      uint8_t v[64];
      constexpr Table() : v() {
        for (int i = 0; i < 64; ++i) v[i] = static_cast<uint8_t>(16 * ((i % 16) / 4) + 4 * (i / 16) + i % 4);
      }
    };
    static constexpr Table kOrder;
    return kOrder.v;
  }

  static void load_bias(Acc& acc, const int32_t* bias) {
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) acc.v[i] = _mm512_load_si512(bias + 16 * i);
  }

  static void mac(Acc& acc, const uint8_t* col, const uint8_t* w) {
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) {
      acc.v[i] = _mm512_dpbusd_epi32(acc.v[i], _mm512_load_si512(col + 64 * i), _mm512_load_si512(w + 64 * i));
    }
  }

  static void requant(Acc& acc, const uint8_t* rq, ref::Scheme scheme, const Epilogue& e) {
    requantize_dw_tile<Lanes16>(acc.v, rq, scheme, e);
  }
};

}  // namespace

DwKernels dw_kernels_avx512vnni() {
  DwKernels set;
  set.kernel[0] = dw_kernel_of<DwQuadsAvx512Vnni>("q8_dwconv_minmax_ukernel_64c4__avx512vnni", 128, 0, 5);
  set.kernel[1] = dw_kernel_of<DwQuadsYmm>("q8_dwconv_minmax_ukernel_32c4__avx512vnni", 128, 0, 4);
  return set;
}

}  // namespace kern
}  // namespace edgeq
