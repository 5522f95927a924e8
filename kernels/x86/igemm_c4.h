// The accumulation loop shared by the VNNI indirect-GEMM microkernels (weights packed
// c4), written once over a vector-traits class V:
//   V::Vec                 the int32 accumulator vector (V::kLanes channels)
//   V::load(p)             unaligned vector load
//   V::broadcast32(p)      4 activation bytes broadcast to every lane
//   V::flip(x)             x ^ 0x80 in every byte (int8 -> uint8 activations)
//   V::dot(acc, a, w)      acc + vpdpbusd(a unsigned, w signed)
//   V::zero(), V::add(x, y)
//
// For every tap, each row's pointer is read once; for every group of 4 input channels,
// the NV weight vectors are loaded once and each row's broadcast activations meet
// them in NV vpdpbusd. The accumulators start at the packed bias, or at acc_in (MR x
// NR int32, QuantEpilogue::acc_in: a later K chunk of a blocked layer, qconv.cc).
// The single-row loop (mr == 1, e.g. a fully connected layer on one row) has only NV
// dependency chains, too few to hide vpdpbusd's latency, so it keeps U accumulator
// sets for U consecutive k groups and adds them at the end (integer addition wraps,
// so the order does not matter).
//
// Include only from a VNNI translation unit; internal linkage, as epilogue_avx2.h says.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace edgeq {
namespace kern {
namespace x86 {
namespace {

inline int32_t load_i32(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// kTapStride: pointers per tap in `a` (MR, or a taller kernel's MR when this loop runs
// its first MR rows: the AMX kernel's short-K calls).
template <class V, size_t MR, size_t NV, bool kFlip, size_t kTapStride = MR>
inline void accumulate_c4(size_t kc, size_t ks, const void* const* a, const void* w, const int32_t* acc_in,
                          typename V::Vec (&acc)[MR][NV]) {
  constexpr size_t kNr = V::kLanes * NV;
  const int32_t* bias = static_cast<const int32_t*>(w);
  if (acc_in != nullptr) {
#pragma GCC unroll 16
    for (size_t i = 0; i < MR; ++i)
#pragma GCC unroll 16
      for (size_t j = 0; j < NV; ++j) acc[i][j] = V::load(acc_in + i * kNr + V::kLanes * j);
  } else {
#pragma GCC unroll 16
    for (size_t j = 0; j < NV; ++j) acc[0][j] = V::load(bias + V::kLanes * j);
#pragma GCC unroll 16
    for (size_t i = 1; i < MR; ++i)
#pragma GCC unroll 16
      for (size_t j = 0; j < NV; ++j) acc[i][j] = acc[0][j];
  }

  const int8_t* wp = reinterpret_cast<const int8_t*>(bias + kNr);
  const size_t kc4 = (kc + 3) & ~size_t{3};
  do {
    const uint8_t* ap[MR];
#pragma GCC unroll 16
    for (size_t i = 0; i < MR; ++i) ap[i] = static_cast<const uint8_t*>(a[i]);
    a += kTapStride;
    for (size_t k = 0; k < kc4; k += 4) {
      typename V::Vec wv[NV];
#pragma GCC unroll 16
      for (size_t j = 0; j < NV; ++j) wv[j] = V::load(wp + 4 * V::kLanes * j);
      wp += 4 * kNr;
#pragma GCC unroll 16
      for (size_t i = 0; i < MR; ++i) {
        typename V::Vec av = V::broadcast32(load_i32(ap[i] + k));
        if (kFlip) av = V::flip(av);
#pragma GCC unroll 16
        for (size_t j = 0; j < NV; ++j) acc[i][j] = V::dot(acc[i][j], av, wv[j]);
      }
    }
  } while (--ks != 0);
}

template <class V, size_t MR, size_t NV, bool kFlip, size_t U>
inline void accumulate_c4_row(size_t kc, size_t ks, const void* const* a, const void* w, const int32_t* acc_in,
                              typename V::Vec (&out)[1][NV]) {
  constexpr size_t kNr = V::kLanes * NV;
  const int32_t* bias = static_cast<const int32_t*>(w);
  const int32_t* start = acc_in != nullptr ? acc_in : bias;  // row 0 of acc_in
  typename V::Vec acc[U][NV];
#pragma GCC unroll 16
  for (size_t u = 0; u < U; ++u)
#pragma GCC unroll 16
    for (size_t j = 0; j < NV; ++j) acc[u][j] = u == 0 ? V::load(start + V::kLanes * j) : V::zero();

  const int8_t* wp = reinterpret_cast<const int8_t*>(bias + kNr);
  const size_t kc4 = (kc + 3) & ~size_t{3};
  do {
    const uint8_t* ap = static_cast<const uint8_t*>(a[0]);
    a += MR;
    size_t k = 0;
    for (; k + 4 * U <= kc4; k += 4 * U) {
#pragma GCC unroll 16
      for (size_t u = 0; u < U; ++u) {
        typename V::Vec av = V::broadcast32(load_i32(ap + k + 4 * u));
        if (kFlip) av = V::flip(av);
#pragma GCC unroll 16
        for (size_t j = 0; j < NV; ++j) acc[u][j] = V::dot(acc[u][j], av, V::load(wp + 4 * (u * kNr + V::kLanes * j)));
      }
      wp += 4 * U * kNr;
    }
    for (; k < kc4; k += 4) {
      typename V::Vec av = V::broadcast32(load_i32(ap + k));
      if (kFlip) av = V::flip(av);
#pragma GCC unroll 16
      for (size_t j = 0; j < NV; ++j) acc[0][j] = V::dot(acc[0][j], av, V::load(wp + 4 * V::kLanes * j));
      wp += 4 * kNr;
    }
  } while (--ks != 0);
#pragma GCC unroll 16
  for (size_t j = 0; j < NV; ++j) {
    out[0][j] = acc[0][j];
#pragma GCC unroll 16
    for (size_t u = 1; u < U; ++u) out[0][j] = V::add(out[0][j], acc[u][j]);
  }
}

}  // namespace
}  // namespace x86
}  // namespace kern
}  // namespace edgeq
