// QuantizeLinear (float -> int8 / uint8, ref::quantize) on AVX-512F, without a division.
//
// The reference divides, as ONNX requires: q = clamp(round_half_even(x / s) + zp). A
// vector division is the slowest float instruction there is (AVX-512's vdivps retires
// one vector in about ten cycles), and the dynamically quantized layers of a transformer
// quantize every activation they read. Here the quotient comes from the reciprocal and
// two corrections, each with one rounding, exactly equal to the division:
//   y  = RN(1 / s)                    once per call, in scalar
//   q0 = RN(x * y)                    within 2 ulps of x / s
//   r0 = RN(x - q0 * s)  (fused)      q1 = RN(q0 + r0 * y)  (fused): faithful, within 1 ulp
//   r1 = x - q1 * s      (fused)      exact, q1 being faithful (Markstein)
//   q2 = RN(q1 + r1 * y) (fused)      = RN(x / s), y being RN(1 / s) (Markstein's theorem)
// The theorem needs the residual and the reciprocal away from underflow and overflow:
// this path takes scales in [2^-60, 2^60] (the reference divides for others), and x
// is first clamped to +-2^26 s, beyond which every quotient saturates anyway (the
// bounds qmin - zp and qmax - zp stay under 2^25). NaN becomes 0 first: it quantizes to
// the zero point, as in the reference.
// test/quantize_test.cc checks it against the division on every tie and its neighbours,
// on random values and, with EDGEQ_EXHAUSTIVE=1, on every float for a set of scales.
#include <immintrin.h>

#include <cmath>
#include <cstring>
#include <type_traits>

#include "kernels/misc_loops.h"
#include "kernels/x86/misc_x86.h"

namespace edgeq {
namespace kern {
namespace {

constexpr float kMinScale = 0x1p-60f, kMaxScale = 0x1p60f;
constexpr float kSaturated = 0x1p26f;  // quotients at least this large saturate (bounds < 2^25)

template <typename T>
void quantize_avx512(size_t n, const float* in, float scale, int32_t zero_point, T* out) {
  // Scales this rare leave the reference to divide.
  if (!(scale >= kMinScale && scale <= kMaxScale) || !convert_supported(zero_point))
    return ref::quantize(n, in, scale, zero_point, out);
  const __m512i zp = _mm512_set1_epi32(zero_point);
  // x beyond c = 2^26 s (exact: a power of two times s) saturates whatever its quotient:
  // clamped to +-c, it divides exactly into +-2^26, and infinities need no case of
  // their own. Every quotient then converts to int32 and takes the zero point exactly.
  const __m512 s = _mm512_set1_ps(scale), y = _mm512_set1_ps(1.f / scale);
  const __m512 c = _mm512_set1_ps(scale * kSaturated), neg_c = _mm512_set1_ps(-scale * kSaturated);
  auto one = [&](__m512 x) {
    x = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(x, x, _CMP_ORD_Q), x);  // NaN -> 0: the zero point
    x = _mm512_min_ps(_mm512_max_ps(x, neg_c), c);
    const __m512 q0 = _mm512_mul_ps(x, y);
    const __m512 q1 = _mm512_fmadd_ps(_mm512_fnmadd_ps(q0, s, x), y, q0);
    const __m512 q = _mm512_fmadd_ps(_mm512_fnmadd_ps(q1, s, x), y, q1);
    // Round half to even and add the zero point (|q| <= 2^26, |zp| <= 2^24: no overflow).
    return _mm512_add_epi32(_mm512_cvt_roundps_epi32(q, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), zp);
  };
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
