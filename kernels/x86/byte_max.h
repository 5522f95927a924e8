// The maximum of 16 bytes as int8 or uint8 (T), shared by the softmax kernels
// (norm_avx2.cc, softmax_avx512vbmi.cc): vpmaxsb / vpmaxub folded by byte shifts.
// Internal linkage: each includer compiles these with its own ISA flags, so no copy
// built for one ISA may stand in for another's at link time.
#pragma once

#include <immintrin.h>

namespace edgeq {
namespace kern {
namespace {

template <typename T>
constexpr bool is_signed() {
  return static_cast<T>(-1) < 0;
}

template <typename T>
__m128i max_bytes(__m128i a, __m128i b) {
  return is_signed<T>() ? _mm_max_epi8(a, b) : _mm_max_epu8(a, b);
}

// The largest of the 16 bytes of v.
template <typename T>
T fold_max_bytes(__m128i v) {
  v = max_bytes<T>(v, _mm_srli_si128(v, 8));
  v = max_bytes<T>(v, _mm_srli_si128(v, 4));
  v = max_bytes<T>(v, _mm_srli_si128(v, 2));
  v = max_bytes<T>(v, _mm_srli_si128(v, 1));
  return static_cast<T>(_mm_cvtsi128_si32(v));
}

}  // namespace
}  // namespace kern
}  // namespace edgeq
