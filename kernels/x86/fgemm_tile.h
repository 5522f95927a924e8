// The x86 float GEMM microkernel (kernels/fgemm.h) as one template over a vector type:
// an MR x (2 vectors) tile. Per k, the panel's two vectors are loaded and each row's
// A[i][k] is broadcast and multiply-added into its two accumulators, so every output
// sums its terms in k order. Included by each ISA's file (fgemm_avx2.cc,
// fgemm_avx512.cc), which compiles it with its flags and supplies V:
//   Reg, kLanes; zero(); load(p) (64-byte aligned); broadcast(p); madd(a, b, acc) = acc + a * b;
//   store(p, r, n): the first n lanes of r (n <= kLanes; 0 stores nothing).
#pragma once

#include <cstddef>

namespace edgeq {
namespace kern {

// kVecs vectors per row: 2 (the tile), or 1 for a last panel of at most kLanes
// columns (its upper half, all zero, is then neither multiplied nor stored).
template <typename V, size_t kMr, size_t kVecs = 2>
void fgemm_tile(size_t mr, size_t nc, size_t kc, const float* a, size_t a_stride, const float* w, float* c,
                size_t c_stride) {
  static_assert(kVecs == 1 || kVecs == 2, "one or two vectors per row");
  constexpr size_t kLanes = V::kLanes, kNr = 2 * kLanes;
  const float* rows[kMr];
#pragma GCC unroll 16
  for (size_t i = 0; i < kMr; ++i) rows[i] = a + (i < mr ? i : mr - 1) * a_stride;
  typename V::Reg acc[kMr][kVecs];
#pragma GCC unroll 16
  for (size_t i = 0; i < kMr; ++i)
    for (size_t v = 0; v < kVecs; ++v) acc[i][v] = V::zero();
  for (size_t k = 0; k < kc; ++k, w += kNr) {
    typename V::Reg b[kVecs];
    for (size_t v = 0; v < kVecs; ++v) b[v] = V::load(w + v * kLanes);
#pragma GCC unroll 16
    for (size_t i = 0; i < kMr; ++i) {
      const typename V::Reg va = V::broadcast(rows[i] + k);
      for (size_t v = 0; v < kVecs; ++v) acc[i][v] = V::madd(va, b[v], acc[i][v]);
    }
  }
  const size_t n0 = nc < kLanes ? nc : kLanes, n1 = nc - n0;
#pragma GCC unroll 16
  for (size_t i = 0; i < kMr; ++i) {
    if (i >= mr) break;
    V::store(c + i * c_stride, acc[i][0], n0);
    if (kVecs == 2) V::store(c + i * c_stride + kLanes, acc[i][kVecs - 1], n1);
  }
}

}  // namespace kern
}  // namespace edgeq
