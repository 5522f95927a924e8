// The x86 requantization epilogue on 16 lanes (zmm): the algorithm of epilogue_avx2.h
// (explained there) with the AVX-512 forms of its lane operations, and the GEMM tile
// store on zmm.
//
// Include only from translation units compiled with -mavx512f -mavx512bw -mavx512vl;
// internal linkage, as epilogue_avx2.h says.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels/x86/epilogue_avx2.h"

namespace edgeq {
namespace kern {
namespace {

// The epilogue's lane operations on zmm, where a compare gives a mask register and a
// select is a masked blend.
struct Lanes16 {
  EDGEQ_X86_EPILOGUE_LANE_OPS(_mm512, 512)
  static I blend_odd(I even, I odd) { return _mm512_mask_blend_epi32(0xAAAA, even, odd); }
  static I select_equal(I a, I b, I same, I other) {
    return _mm512_mask_blend_epi32(_mm512_cmpeq_epi32_mask(a, b), other, same);
  }
  static F zero_nan(F v) { return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, v, _CMP_ORD_Q), v); }
  static I splat64(int64_t v) { return _mm512_set1_epi64(v); }
};

// ------------------------------------------------------------------ GEMM tile store on zmm

// Requantizes the MR x (16 * NV) tile acc with epilogue e and stores rows i < mr, nc
// bytes each: vpmovdb keeps each lane's low byte, which is the int8 or uint8 result
// alike since the values lie in [qmin, qmax]; masked stores end the rows at nc.
template <size_t MR, size_t NV, class Epilogue>
EDGEQ_X86_ALWAYS_INLINE inline void store_tile_x16(const __m512i (&acc)[MR][NV], size_t mr, size_t nc, uint8_t* c,
                                                   size_t c_stride, size_t n0, const QuantEpilogue& q, Epilogue e) {
#pragma GCC unroll 16
  for (size_t j = 0; j < NV; ++j) {
    e.channels(q, n0 + 16 * j);
    const size_t left = nc > 16 * j ? nc - 16 * j : 0;
    const __mmask16 mask = left >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << left) - 1u);
#pragma GCC unroll 16
    for (size_t i = 0; i < MR; ++i) {
      if (i < mr) _mm_mask_storeu_epi8(c + i * c_stride + 16 * j, mask, _mm512_cvtepi32_epi8(e.apply(acc[i][j])));
    }
  }
}

template <size_t MR, size_t NV>
EDGEQ_X86_ALWAYS_INLINE inline void requantize_store_x16(const __m512i (&acc)[MR][NV], size_t mr, size_t nc, void* c,
                                                         size_t c_stride, size_t n0, const QuantEpilogue* q) {
  if (q->int32_output) return store_int32_tile<MR, NV>(acc, mr, nc, c, c_stride);
  with_epilogue<Lanes16>(*q, [&](auto e) EDGEQ_X86_ALWAYS_INLINE {
    store_tile_x16<MR, NV>(acc, mr, nc, static_cast<uint8_t*>(c), c_stride, n0, *q, e);
  });
}

}  // namespace
}  // namespace kern
}  // namespace edgeq
