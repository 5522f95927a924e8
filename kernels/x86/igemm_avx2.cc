// Exact AVX2 indirect-GEMM microkernels: 3 x 8 output tiles, weights packed c8.
//
// vpmaddubsw would saturate its int16 pair sums (255 * 127 * 2 > 32767), so these
// kernels widen instead: 8 activation bytes of a row are broadcast to both 128-bit
// lanes and widened to int16 (zero-extended for uint8, sign-extended for int8, so
// int8 activations need no offset), the packer stored the weights as int16 (two
// channels x 8 k per vector, no widening in the loop), and vpmaddwd forms exact int32
// sums of product pairs
// (|pair sum| <= 2 * 255 * 128) that vpaddd accumulates modulo 2^32. Each of the 4
// accumulators per row holds 2 channels x 4 partial sums; after the last tap three
// vphaddd and a vpermd turn them into the row's 8 channel sums, plus the packed bias
// (or the row of QuantEpilogue::acc_in, a later K chunk of a blocked layer).
// 3 rows x 4 = 12 accumulators, 3 activation vectors and one weight vector: the
// 16 ymm registers.
// Epilogue: epilogue_avx2.h. Compiled with -mavx2 (kernels/x86/gemm.cmake).
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/x86/epilogue_avx2.h"
#include "kernels/x86/gemm_ukernels.h"

namespace edgeq {
namespace kern {
namespace x86 {
namespace {

inline int64_t load_i64(const uint8_t* p) {
  int64_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

template <size_t MR, bool kS8>
void igemm(size_t mr, size_t nc, size_t kc, size_t ks, const void* const* a, const void* w, void* c, size_t c_stride,
           size_t n0, const QuantEpilogue* q) {
  constexpr size_t kNr = 8;
  __m256i acc[MR][4];
#pragma GCC unroll 16
  for (size_t i = 0; i < MR; ++i)
#pragma GCC unroll 16
    for (size_t p = 0; p < 4; ++p) acc[i][p] = _mm256_setzero_si256();

  const int32_t* bias = static_cast<const int32_t*>(w);
  const int16_t* wp = reinterpret_cast<const int16_t*>(bias + kNr);
  const size_t kc8 = (kc + 7) & ~size_t{7};
  do {
    const uint8_t* ap[MR];
#pragma GCC unroll 16
    for (size_t i = 0; i < MR; ++i) ap[i] = static_cast<const uint8_t*>(a[i]);
    a += MR;
    for (size_t k = 0; k < kc8; k += 8) {
      __m256i av[MR];
#pragma GCC unroll 16
      for (size_t i = 0; i < MR; ++i) {
        const __m128i raw = _mm_set1_epi64x(load_i64(ap[i] + k));
        av[i] = kS8 ? _mm256_cvtepi8_epi16(raw) : _mm256_cvtepu8_epi16(raw);
      }
#pragma GCC unroll 16
      for (size_t p = 0; p < 4; ++p) {
        const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wp + 16 * p));
#pragma GCC unroll 16
        for (size_t i = 0; i < MR; ++i) acc[i][p] = _mm256_add_epi32(acc[i][p], _mm256_madd_epi16(av[i], wv));
      }
      wp += 8 * kNr;
    }
  } while (--ks != 0);

  // acc[i][p] = [channel 2p: 4 partial sums | channel 2p+1: 4 partial sums].
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  // The packed bias, or row i of acc_in (QuantEpilogue::acc_in: a later K chunk).
  const int32_t* acc_in = q->acc_in;
  const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bias));
  __m256i sums[MR][1];
#pragma GCC unroll 16
  for (size_t i = 0; i < MR; ++i) {
    const __m256i start =
        acc_in != nullptr ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc_in + i * kNr)) : b;
    const __m256i h =
        _mm256_hadd_epi32(_mm256_hadd_epi32(acc[i][0], acc[i][1]), _mm256_hadd_epi32(acc[i][2], acc[i][3]));
    // h = [c0 c2 c4 c6 | c1 c3 c5 c7]
    sums[i][0] = _mm256_add_epi32(_mm256_permutevar8x32_epi32(h, order), start);
  }
  requantize_store_x8<MR, 1, kS8>(sums, mr, nc, c, c_stride, n0, q);
}

}  // namespace

void qu8_igemm_minmax_ukernel_3x8c8__avx2(size_t mr, size_t nc, size_t kc, size_t ks, const void* const* a,
                                          const void* w, void* c, size_t c_stride, size_t n0, const QuantEpilogue* q) {
  igemm<3, false>(mr, nc, kc, ks, a, w, c, c_stride, n0, q);
}

void qs8_igemm_minmax_ukernel_3x8c8__avx2(size_t mr, size_t nc, size_t kc, size_t ks, const void* const* a,
                                          const void* w, void* c, size_t c_stride, size_t n0, const QuantEpilogue* q) {
  igemm<3, true>(mr, nc, kc, ks, a, w, c, c_stride, n0, q);
}

}  // namespace x86
}  // namespace kern
}  // namespace edgeq
