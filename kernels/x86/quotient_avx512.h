// round_half_even(x / s) on AVX-512F without a division, bit for bit the quotient the
// reference divides for (ref::quantize_value's x / scale), for QuantizeLinear
// (quantize_avx512.cc) and the quantized binary ops' requantization (binary_avx512.cc).
//
// A vector division is the slowest float instruction there is (AVX-512's vdivps retires
// one vector in about ten cycles). The quotient comes instead from the reciprocal and
// two corrections, each with one rounding, exactly equal to the division:
//   y  = RN(1 / s)                    once, in scalar
//   q0 = RN(x * y)                    within 2 ulps of x / s
//   r0 = RN(x - q0 * s)  (fused)      q1 = RN(q0 + r0 * y)  (fused): faithful, within 1 ulp
//   r1 = x - q1 * s      (fused)      exact, q1 being faithful (Markstein)
//   q2 = RN(q1 + r1 * y) (fused)      = RN(x / s), y being RN(1 / s) (Markstein's theorem)
// The theorem needs the residual and the reciprocal away from underflow and overflow:
// supported() takes scales in [2^-60, 2^60] (callers divide for others), and x is first
// clamped to +-2^26 s, beyond which every quotient saturates anyway for bounds under
// 2^25 (qmin - zp and qmax - zp of every caller). NaN becomes 0 first: it quantizes to
// the zero point, as in the reference.
// test/quantize_test.cc checks it against the division on every tie and its neighbours,
// on random values and, with EDGEQ_EXHAUSTIVE=1, on every float for a set of scales;
// test/misc_test.cc checks the binary ops on every operand pair.
// The including file is compiled with at least -mavx512f and -ffp-contract=off (the
// fused operations are the explicit ones).
#pragma once

#include <immintrin.h>

namespace edgeq {
namespace kern {

class ExactQuotient {
 public:
  static bool supported(float scale) { return scale >= 0x1p-60f && scale <= 0x1p60f; }

  // `scale` must be supported().
  explicit ExactQuotient(float scale)
      : s_(_mm512_set1_ps(scale)),
        y_(_mm512_set1_ps(1.f / scale)),
        c_(_mm512_set1_ps(scale * kSaturated)),
        neg_c_(_mm512_set1_ps(-scale * kSaturated)) {}

  // round_half_even(x / scale) as int32 (|result| <= 2^26; NaN: 0). x beyond c = 2^26 s
  // (exact: a power of two times s) saturates whatever its quotient: clamped to +-c it
  // divides exactly into +-2^26, and infinities need no case of their own.
  __m512i round(__m512 x) const {
    x = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(x, x, _CMP_ORD_Q), x);
    x = _mm512_min_ps(_mm512_max_ps(x, neg_c_), c_);
    const __m512 q0 = _mm512_mul_ps(x, y_);
    const __m512 q1 = _mm512_fmadd_ps(_mm512_fnmadd_ps(q0, s_, x), y_, q0);
    const __m512 q = _mm512_fmadd_ps(_mm512_fnmadd_ps(q1, s_, x), y_, q1);
    return _mm512_cvt_roundps_epi32(q, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  }

 private:
  static constexpr float kSaturated = 0x1p26f;
  __m512 s_, y_, c_, neg_c_;
};

}  // namespace kern
}  // namespace edgeq
