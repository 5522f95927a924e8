// AVX512-VNNI indirect-GEMM microkernels: MR x 32 output tiles, weights packed c4.
//
// Accumulation: for every tap and every group of 4 input channels, each row's 4
// activation bytes are broadcast to a zmm and vpdpbusd multiplies them (unsigned)
// with 16 channels x 4 packed weight bytes (signed), adding the 4 products into the
// int32 accumulator. vpdpbusd does not saturate: accumulators wrap modulo 2^32 like
// the reference. Int8 activations are flipped to uint8 with xor 0x80; the packer
// folded the extra 128 * sum(w) into the bias. MR rows x 2 zmm = 16 accumulators.
//
// Epilogue (per tile, fused): epilogue_avx512.h, fp32 or fixed-point requantization
// equal to kernels/ref/requant.cc bit for bit, then vpmovdb.
// Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512vnni (kernels/x86/gemm.cmake).
#include <immintrin.h>

#include <cstdint>

#include "kernels/x86/epilogue_avx512.h"
#include "kernels/x86/gemm_ukernels.h"
#include "kernels/x86/igemm_c4.h"

namespace edgeq {
namespace kern {
namespace x86 {
namespace {

struct Zmm {
  using Vec = __m512i;
  static constexpr size_t kLanes = 16;
  static Vec load(const void* p) { return _mm512_loadu_si512(p); }
  static Vec broadcast32(int32_t v) { return _mm512_set1_epi32(v); }
  static Vec flip(Vec x) { return _mm512_xor_si512(x, _mm512_set1_epi32(static_cast<int32_t>(0x80808080u))); }
  static Vec dot(Vec acc, Vec a, Vec w) { return _mm512_dpbusd_epi32(acc, a, w); }
  static Vec zero() { return _mm512_setzero_si512(); }
  static Vec add(Vec x, Vec y) { return _mm512_add_epi32(x, y); }
};

template <size_t MR, size_t NV, bool kFlip, size_t kTapStride = MR>
void igemm(size_t mr, size_t nc, size_t kc, size_t ks, const void* const* a, const void* w, void* c, size_t c_stride,
           size_t n0, const QuantEpilogue* q) {
  __m512i acc[MR][NV];
  accumulate_c4<Zmm, MR, NV, kFlip, kTapStride>(kc, ks, a, w, q->acc_in, acc);
  requantize_store_x16<MR, NV>(acc, mr, nc, c, c_stride, n0, q);
}

// One row, pointer layout of the MR-row kernel, 4 accumulator sets.
template <size_t MR, size_t NV, bool kFlip>
void igemm_row(size_t mr, size_t nc, size_t kc, size_t ks, const void* const* a, const void* w, void* c,
               size_t c_stride, size_t n0, const QuantEpilogue* q) {
  __m512i acc[1][NV];
  accumulate_c4_row<Zmm, MR, NV, kFlip, 4>(kc, ks, a, w, q->acc_in, acc);
  requantize_store_x16<1, NV>(acc, 1, nc, c, c_stride, n0, q);
}

}  // namespace

void qu8_igemm_minmax_ukernel_8x32c4__avx512vnni(size_t mr, size_t nc, size_t kc, size_t ks, const void* const* a,
                                                 const void* w, void* c, size_t c_stride, size_t n0,
                                                 const QuantEpilogue* q) {
  igemm<8, 2, false>(mr, nc, kc, ks, a, w, c, c_stride, n0, q);
}

void qs8_igemm_minmax_ukernel_8x32c4__avx512vnni(size_t mr, size_t nc, size_t kc, size_t ks, const void* const* a,
                                                 const void* w, void* c, size_t c_stride, size_t n0,
                                                 const QuantEpilogue* q) {
  igemm<8, 2, true>(mr, nc, kc, ks, a, w, c, c_stride, n0, q);
}

void qu8_igemm_minmax_ukernel_1x32c4__avx512vnni(size_t mr, size_t nc, size_t kc, size_t ks, const void* const* a,
                                                 const void* w, void* c, size_t c_stride, size_t n0,
                                                 const QuantEpilogue* q) {
  igemm_row<8, 2, false>(mr, nc, kc, ks, a, w, c, c_stride, n0, q);
}

void qs8_igemm_minmax_ukernel_1x32c4__avx512vnni(size_t mr, size_t nc, size_t kc, size_t ks, const void* const* a,
                                                 const void* w, void* c, size_t c_stride, size_t n0,
                                                 const QuantEpilogue* q) {
  igemm_row<8, 2, true>(mr, nc, kc, ks, a, w, c, c_stride, n0, q);
}

// The AMX level's short-K calls, 8 rows at a time over its 32-row pointer layout, and
// its single-row variants (igemm_amx.cc).
void qu8_igemm_minmax_ukernel_8x32c4__avx512vnni_mr32(size_t mr, size_t nc, size_t kc, size_t ks, const void* const* a,
                                                      const void* w, void* c, size_t c_stride, size_t n0,
                                                      const QuantEpilogue* q) {
  igemm<8, 2, false, 32>(mr, nc, kc, ks, a, w, c, c_stride, n0, q);
}

void qs8_igemm_minmax_ukernel_8x32c4__avx512vnni_mr32(size_t mr, size_t nc, size_t kc, size_t ks, const void* const* a,
                                                      const void* w, void* c, size_t c_stride, size_t n0,
                                                      const QuantEpilogue* q) {
  igemm<8, 2, true, 32>(mr, nc, kc, ks, a, w, c, c_stride, n0, q);
}

void qu8_igemm_minmax_ukernel_1x32c4__avx512vnni_mr32(size_t mr, size_t nc, size_t kc, size_t ks, const void* const* a,
                                                      const void* w, void* c, size_t c_stride, size_t n0,
                                                      const QuantEpilogue* q) {
  igemm_row<32, 2, false>(mr, nc, kc, ks, a, w, c, c_stride, n0, q);
}

void qs8_igemm_minmax_ukernel_1x32c4__avx512vnni_mr32(size_t mr, size_t nc, size_t kc, size_t ks, const void* const* a,
                                                      const void* w, void* c, size_t c_stride, size_t n0,
                                                      const QuantEpilogue* q) {
  igemm_row<32, 2, true>(mr, nc, kc, ks, a, w, c, c_stride, n0, q);
}

}  // namespace x86
}  // namespace kern
}  // namespace edgeq
