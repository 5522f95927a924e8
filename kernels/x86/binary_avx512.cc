// Quantized Add / Sub / Mul / Div (ref::qbinary) on AVX-512, 16 elements per vector,
// bit for bit the reference: each operand dequantized (scale * (q - zp), exact int32 to
// float), the op in float (a division for Div), then quantize_value's r / out_scale as
// ExactQuotient's rounded quotient without a division (quotient_avx512.h), plus the
// zero point, clamped to [qmin, qmax]. The AVX2 kernel divides twice per 16 outputs,
// which is most of its time.
// The broadcast is walked as rows (misc_loops.h for_each_binary_row), an operand either
// contiguous or one repeated element; a row's tail is loaded and stored under a mask.
// The fixed-point scheme of Add / Sub / Mul, and parameters outside what this path
// reproduces (zero points beyond binary_supported(), output scales outside
// ExactQuotient::supported()), go to the AVX2 kernel (misc_avx2.cc).
// Compiled with -mavx512f -mavx512bw -mavx512vl -ffp-contract=off (misc.cmake).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels/misc_loops.h"
#include "kernels/x86/byte_max.h"
#include "kernels/x86/misc_x86.h"
#include "kernels/x86/quotient_avx512.h"

namespace edgeq {
namespace kern {
namespace {

// Elements [0, count) at p (count <= 16, the others 0) widened to int32.
template <typename T>
__m512i widen16(const T* p, __mmask16 count_mask) {
  const __m128i x = _mm_maskz_loadu_epi8(count_mask, p);
  return is_signed<T>() ? _mm512_cvtepi8_epi32(x) : _mm512_cvtepu8_epi32(x);
}

// The reference's formulas for 16 element pairs (fp32 scheme, or Div).
struct Fp32Binary {
  ref::BinaryOp op;
  __m512i za, zb, zy, lo, hi;
  __m512 sa, sb;
  ExactQuotient quotient;

  explicit Fp32Binary(ref::BinaryOp o, const ref::BinaryQParams& p)
      : op(o),
        za(_mm512_set1_epi32(p.a_zero_point)),
        zb(_mm512_set1_epi32(p.b_zero_point)),
        zy(_mm512_set1_epi32(p.out_zero_point)),
        lo(_mm512_set1_epi32(p.qmin)),
        hi(_mm512_set1_epi32(p.qmax)),
        sa(_mm512_set1_ps(p.a_scale)),
        sb(_mm512_set1_ps(p.b_scale)),
        quotient(p.out_scale) {}

  __m512i operator()(__m512i a, __m512i b) const {
    const __m512 ra = _mm512_mul_ps(sa, _mm512_cvtepi32_ps(_mm512_sub_epi32(a, za)));
    const __m512 rb = _mm512_mul_ps(sb, _mm512_cvtepi32_ps(_mm512_sub_epi32(b, zb)));
    __m512 r;
    if (op == ref::BinaryOp::kAdd) {
      r = _mm512_add_ps(ra, rb);
    } else if (op == ref::BinaryOp::kSub) {
      r = _mm512_sub_ps(ra, rb);
    } else if (op == ref::BinaryOp::kMul) {
      r = _mm512_mul_ps(ra, rb);
    } else {
      r = _mm512_div_ps(ra, rb);  // IEEE: x / 0 is an infinity (saturates), 0 / 0 NaN (the zero point)
    }
    // |quotient| <= 2^26 and |zp| within binary_supported()'s limit: no overflow; the
    // bounds lie inside T, so the narrowing below keeps every value.
    const __m512i q = _mm512_add_epi32(quotient.round(r), zy);
    return _mm512_min_epi32(_mm512_max_epi32(q, lo), hi);
  }
};

// n output elements; an operand with step false repeats its one element.
template <typename T>
void binary_row(const Fp32Binary& f, size_t n, const T* a, bool a_step, const T* b, bool b_step, T* out) {
  const __m512i a_rep = _mm512_set1_epi32(a[0]), b_rep = _mm512_set1_epi32(b[0]);
  const __mmask16 all = 0xFFFF;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512i va = a_step ? widen16(a + i, all) : a_rep, vb = b_step ? widen16(b + i, all) : b_rep;
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm512_cvtepi32_epi8(f(va, vb)));
  }
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1u);
    const __m512i va = a_step ? widen16(a + i, m) : a_rep, vb = b_step ? widen16(b + i, m) : b_rep;
    _mm_mask_storeu_epi8(out + i, m, _mm512_cvtepi32_epi8(f(va, vb)));
  }
}

template <typename T>
void qbinary_avx512(ref::BinaryOp op, const ref::Broadcast& bc, const T* a, const T* b, const ref::BinaryQParams& p,
                    T* out) {
  if ((p.scheme == ref::Scheme::kFixedPoint && op != ref::BinaryOp::kDiv) || !binary_supported(op, p, true) ||
      !ExactQuotient::supported(p.out_scale))
    return qbinary_avx2(op, bc, a, b, p, out);
  const Fp32Binary f(op, p);
  for_each_binary_row(bc, a, b, out, [&](size_t n, const T* ra, bool a_step, const T* rb, bool b_step, T* o) {
    binary_row(f, n, ra, a_step, rb, b_step, o);
  });
}

}  // namespace

void add_binary_kernels_avx512(MiscKernels* k) {
  k->qbinary_s8 = qbinary_avx512<int8_t>;
  k->qbinary_u8 = qbinary_avx512<uint8_t>;
  k->names.qbinary = "q8_vbinary_minmax_ukernel__avx512vnni";
}

}  // namespace kern
}  // namespace edgeq
