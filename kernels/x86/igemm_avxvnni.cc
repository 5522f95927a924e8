// AVX-VNNI indirect-GEMM microkernels: 6 x 16 output tiles, weights packed c4.
//
// The 256-bit (VEX) form of the AVX512-VNNI kernels: for every tap and every group of
// 4 input channels, each row's 4 activation bytes are broadcast to a ymm and
// vpdpbusd (u8 x s8, no saturation, wraps modulo 2^32 like the reference) adds them
// into 8 channels per ymm. 6 rows x 2 ymm = 12 accumulators, 2 weight vectors and one
// broadcast fit the 16 ymm registers. Int8 activations are flipped to uint8 with
// xor 0x80 (the packer folded 128 * sum(w) into the bias). Epilogue: epilogue_avx2.h.
// Compiled with -mavx2 -mavxvnni (kernels/x86/gemm.cmake).
#include <immintrin.h>

#include <cstdint>

#include "kernels/x86/epilogue_avx2.h"
#include "kernels/x86/gemm_ukernels.h"
#include "kernels/x86/igemm_c4.h"

namespace edgeq {
namespace kern {
namespace x86 {
namespace {

struct Ymm {
  using Vec = __m256i;
  static constexpr size_t kLanes = 8;
  static Vec load(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
  static Vec broadcast32(int32_t v) { return _mm256_set1_epi32(v); }
  static Vec flip(Vec x) { return _mm256_xor_si256(x, _mm256_set1_epi32(static_cast<int32_t>(0x80808080u))); }
  static Vec dot(Vec acc, Vec a, Vec w) { return _mm256_dpbusd_avx_epi32(acc, a, w); }
  static Vec zero() { return _mm256_setzero_si256(); }
  static Vec add(Vec x, Vec y) { return _mm256_add_epi32(x, y); }
};

template <size_t MR, size_t NV, bool kS8>
void igemm(size_t mr, size_t nc, size_t kc, size_t ks, const void* const* a, const void* w, void* c, size_t c_stride,
           size_t n0, const QuantEpilogue* q) {
  __m256i acc[MR][NV];
  accumulate_c4<Ymm, MR, NV, kS8>(kc, ks, a, w, q->acc_in, acc);
  requantize_store_x8<MR, NV, kS8>(acc, mr, nc, c, c_stride, n0, q);
}

// One row, pointer layout of the MR-row kernel, 4 accumulator sets.
template <size_t MR, size_t NV, bool kS8>
void igemm_row(size_t mr, size_t nc, size_t kc, size_t ks, const void* const* a, const void* w, void* c,
               size_t c_stride, size_t n0, const QuantEpilogue* q) {
  __m256i acc[1][NV];
  accumulate_c4_row<Ymm, MR, NV, kS8, 4>(kc, ks, a, w, q->acc_in, acc);
  requantize_store_x8<1, NV, kS8>(acc, 1, nc, c, c_stride, n0, q);
}

}  // namespace

void qu8_igemm_minmax_ukernel_6x16c4__avxvnni(size_t mr, size_t nc, size_t kc, size_t ks, const void* const* a,
                                              const void* w, void* c, size_t c_stride, size_t n0,
                                              const QuantEpilogue* q) {
  igemm<6, 2, false>(mr, nc, kc, ks, a, w, c, c_stride, n0, q);
}

void qs8_igemm_minmax_ukernel_6x16c4__avxvnni(size_t mr, size_t nc, size_t kc, size_t ks, const void* const* a,
                                              const void* w, void* c, size_t c_stride, size_t n0,
                                              const QuantEpilogue* q) {
  igemm<6, 2, true>(mr, nc, kc, ks, a, w, c, c_stride, n0, q);
}

void qu8_igemm_minmax_ukernel_1x16c4__avxvnni(size_t mr, size_t nc, size_t kc, size_t ks, const void* const* a,
                                              const void* w, void* c, size_t c_stride, size_t n0,
                                              const QuantEpilogue* q) {
  igemm_row<6, 2, false>(mr, nc, kc, ks, a, w, c, c_stride, n0, q);
}

void qs8_igemm_minmax_ukernel_1x16c4__avxvnni(size_t mr, size_t nc, size_t kc, size_t ks, const void* const* a,
                                              const void* w, void* c, size_t c_stride, size_t n0,
                                              const QuantEpilogue* q) {
  igemm_row<6, 2, true>(mr, nc, kc, ks, a, w, c, c_stride, n0, q);
}

}  // namespace x86
}  // namespace kern
}  // namespace edgeq
