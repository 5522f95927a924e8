// AVX512-VNNI depthwise row kernel (dw_rows.h), 64-channel tiles, kernel rows in
// quads: the AVX-VNNI kernel (dw_avxvnni.cc) on zmm registers. The byte interleave
// works per 128-bit lane, so the accumulators hold channels {16l + 4v .. 16l + 4v + 3}
// for lanes l = 0..3, and the store's two pack steps restore the order.
// The requantization is requant_misc_avx2.h's, written for zmm. A zmm tile costs about
// 1.25 ymm tiles (measured on Zen 4 with edgeq_misc_bench), so channel counts of at
// most 32 (mod 64 nothing else) get the ymm quads kernel (dw_quads_ymm.h), compiled
// here with the EVEX vpdpbusd.
#include <immintrin.h>

#include <cstdint>

#include "kernels/x86/dw_quads_ymm.h"
#include "kernels/dw_rows.h"
#include "kernels/x86/misc_x86.h"

namespace edgeq {
namespace kern {
namespace {

__m512i srdhm_avx512(__m512i a, __m512i b) {
  const __m512i nudge = _mm512_set1_epi64(int64_t{1} << 30);
  __m512i even = _mm512_add_epi64(_mm512_mul_epi32(a, b), nudge);
  __m512i odd = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(a, 32), _mm512_srli_epi64(b, 32)), nudge);
  even = _mm512_srli_epi64(even, 31);
  odd = _mm512_slli_epi64(odd, 1);
  return _mm512_mask_blend_epi32(0xAAAA, even, odd);
}

__m512i rdbp_avx512(__m512i x, __m512i shift) {
  const __m512i one = _mm512_set1_epi32(1);
  const __m512i mask = _mm512_sub_epi32(_mm512_sllv_epi32(one, shift), one);
  const __m512i rem = _mm512_and_si512(x, mask);
  const __m512i threshold = _mm512_sub_epi32(_mm512_srli_epi32(mask, 1), _mm512_srai_epi32(x, 31));
  const __m512i q = _mm512_srav_epi32(x, shift);
  return _mm512_mask_add_epi32(q, _mm512_cmpgt_epi32_mask(rem, threshold), q, one);
}

__m512i shl_sat_avx512(__m512i x, __m512i shift) {
  const __m512i shifted = _mm512_sllv_epi32(x, shift);
  const __mmask16 exact = _mm512_cmpeq_epi32_mask(_mm512_srav_epi32(shifted, shift), x);
  const __m512i saturated = _mm512_xor_si512(_mm512_srai_epi32(x, 31), _mm512_set1_epi32(INT32_MAX));
  return _mm512_mask_blend_epi32(exact, saturated, shifted);
}

struct DwQuadsAvx512Vnni {
  static constexpr int kTile = 64;
  static constexpr int kGroup = 4;
  static constexpr bool kMaskedTail = true;
  struct Acc {
    __m512i v[4];
  };
  struct Epilogue {
    __m512 lo_f, hi_f;
    __m512i lo_i, hi_i, zp;
    Epilogue(int32_t zero_point, int32_t qmin, int32_t qmax)
        : lo_f(_mm512_set1_ps(static_cast<float>(qmin - zero_point))),
          hi_f(_mm512_set1_ps(static_cast<float>(qmax - zero_point))),
          lo_i(_mm512_set1_epi32(qmin - zero_point)),
          hi_i(_mm512_set1_epi32(qmax - zero_point)),
          zp(_mm512_set1_epi32(zero_point)) {}
  };

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
    if (scheme == ref::Scheme::kFp32) {
#pragma GCC unroll 4
      for (int i = 0; i < 4; ++i) {
        __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(acc.v[i]), _mm512_load_ps(rq + 64 * i));
        f = _mm512_min_ps(_mm512_max_ps(f, e.lo_f), e.hi_f);
        acc.v[i] = _mm512_add_epi32(_mm512_cvtps_epi32(f), e.zp);
      }
    } else {
#pragma GCC unroll 4
      for (int i = 0; i < 4; ++i) {
        __m512i x = shl_sat_avx512(acc.v[i], _mm512_load_si512(rq + 256 + 64 * i));
        x = srdhm_avx512(x, _mm512_load_si512(rq + 64 * i));
        x = rdbp_avx512(x, _mm512_load_si512(rq + 512 + 64 * i));
        acc.v[i] = _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(x, e.lo_i), e.hi_i), e.zp);
      }
    }
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
