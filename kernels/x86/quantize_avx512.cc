// QuantizeLinear (float -> int8 / uint8, ref::quantize) on AVX-512F, without a division:
// the quotient x / s of ExactQuotient (quotient_avx512.h), rounded, plus the zero point,
// saturated while narrowing. Scales outside ExactQuotient::supported() and zero points
// beyond convert_supported() go to the reference.
#include <immintrin.h>

#include <cmath>
#include <cstring>
#include <type_traits>

#include "kernels/misc_loops.h"
#include "kernels/x86/misc_x86.h"
#include "kernels/x86/quotient_avx512.h"

namespace edgeq {
namespace kern {
namespace {

template <typename T>
void quantize_avx512(size_t n, const float* in, float scale, int32_t zero_point, T* out) {
  if (!ExactQuotient::supported(scale) || !convert_supported(zero_point))
    return ref::quantize(n, in, scale, zero_point, out);
  const __m512i zp = _mm512_set1_epi32(zero_point);
  const ExactQuotient quotient(scale);
  // The rounded quotient plus the zero point (|q| <= 2^26, |zp| <= 2^24: no overflow).
  auto one = [&](__m512 x) { return _mm512_add_epi32(quotient.round(x), zp); };
  // Saturate to T while narrowing: int8 with signed saturation; uint8 with unsigned
  // saturation after the negative values are raised to 0.
  auto narrow = [](__m512i v) {
    if constexpr (std::is_signed<T>::value) {
      return _mm512_cvtsepi32_epi8(v);
    } else {
      return _mm512_cvtusepi32_epi8(_mm512_max_epi32(v, _mm512_setzero_si512()));
    }
  };
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m512i a = one(_mm512_loadu_ps(in + i)), b = one(_mm512_loadu_ps(in + i + 16));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), narrow(a));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i + 16), narrow(b));
  }
  for (; i < n; i += 16) {
    const size_t left = n - i < 16 ? n - i : 16;
    const __mmask16 m = static_cast<__mmask16>((1u << left) - 1u);
    uint8_t bytes[16];
    _mm_storeu_si128(reinterpret_cast<__m128i*>(bytes), narrow(one(_mm512_maskz_loadu_ps(m, in + i))));
    std::memcpy(out + i, bytes, left);
  }
}

}  // namespace

void add_quantize_kernels_avx512(MiscKernels* k) {
  k->quantize_s8 = quantize_avx512<int8_t>;
  k->quantize_u8 = quantize_avx512<uint8_t>;
  k->names.quantize = "f32_q8_vcvt_ukernel__avx512vnni";
}

}  // namespace kern
}  // namespace edgeq
