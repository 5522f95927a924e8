// The int32-tile products' vector loops on x86 (kernels.h RangeF32Fn, TileFinishF32Fn,
// SumU8Fn): an AVX2 set for the AVX2 and AVX-VNNI levels (tile_loops_avx2.cc) and an
// AVX-512 set (tile_loops_avx512.cc), each compiled with its ISA's flags and no
// contraction into FMA, so each equals qmatmul.cc's portable loop bit for bit.
#pragma once

#include <cstring>

#include "kernels/kernels.h"

namespace edgeq {
namespace kern {
namespace x86 {

// Whether the mc rows of a tile have the same z, r and rs (rs compared bit for bit):
// the finish loops then form the column terms once per vector of columns.
inline bool rows_share_terms(size_t mc, const uint32_t* z, const uint32_t* r, const float* rs) {
  for (size_t i = 1; i < mc; ++i)
    if (z[i] != z[0] || r[i] != r[0] || std::memcmp(&rs[i], &rs[0], sizeof(float)) != 0) return false;
  return true;
}

bool range_f32_avx2(size_t n, const float* x, float* lo, float* hi);
void finish_f32_avx2(size_t mc, size_t nc, const int32_t* acc, size_t acc_stride, const uint32_t* colsum,
                      const uint32_t* z, const uint32_t* r, const float* rs, const float* cs, const float* bias,
                      float lo, float hi, float* out, size_t out_stride);
uint32_t sum_u8_avx2(size_t n, const uint8_t* x);

bool range_f32_avx512(size_t n, const float* x, float* lo, float* hi);
void finish_f32_avx512(size_t mc, size_t nc, const int32_t* acc, size_t acc_stride, const uint32_t* colsum,
                        const uint32_t* z, const uint32_t* r, const float* rs, const float* cs, const float* bias,
                        float lo, float hi, float* out, size_t out_stride);
uint32_t sum_u8_avx512(size_t n, const uint8_t* x);

}  // namespace x86
}  // namespace kern
}  // namespace edgeq
