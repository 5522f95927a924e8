// Vectorized float unary functions (Tanh, Erf, both Gelu forms, Sigmoid, Softplus, Mish,
// Elu) written once over an ISA's vector type; kernels/x86/unary_f32_{avx2,fma3,avx512}.cc
// and kernels/arm/unary_f32_neon.cc instantiate them. Plain C++, compiled with each
// includer's flags and -ffp-contract=off: the only fused operations are V::fma's. The
// results differ between ISAs by rounding only, within the bounds test/unary_f32_test.cc
// states and checks at every variant the host runs: V::fma is fused on x86 FMA3 and
// AVX-512F and on AArch64, a multiply and an add on plain AVX2 and ARMv7 (whose NEON also
// flushes denormals and divides by a refined reciprocal estimate).
//
// V gives: type F (a vector of V::kWidth floats) and M (a lane mask: an F on AVX2 / NEON,
// a bit mask on AVX-512), set, load, store, add, sub, mul, div, fma(a, b, c) (a * b + c),
// min, max, lt (a < b, an M), select(mask, a, b) (mask ? a : b), bit_and, bit_xor,
// bit_andnot(a, b) (~a & b), is_nan (an M), and pow2(n): 2^n for an integer-valued n in
// [-126, 127]. kMaskedTail: V has load_partial(p, count) and store_partial(p, v, count)
// for the last partial vector (AVX-512 masks); else the tail runs through a padded buffer.
//
// The approximations (the rational erf is a weighted minimax fit, the polynomials are
// Chebyshev interpolants, converted to the monomial basis and rounded to float;
// test/unary_f32_test.cc measures the errors against the double-precision functions):
//  * exp(x), x clamped to [-110, 80]: n = round(x / ln 2), r = x - n ln 2 (ln 2 in two
//    parts), e^r = 1 + r + r^2 q(r) with q of degree 4 (|r| <= ln 2 / 2), times 2^n in
//    two factors so that results down to the denormals keep their bits.
//  * tanh(x) = -m / (2 + m), m = e^(-2|x|) - 1 (from the exp's parts: no cancellation,
//    m = e^r - 1 itself when n = 0), |x| clamped to 10 (tanh rounds to 1 beyond); odd.
//  * erf(x) = x P(x^2) / Q(x^2), P and Q of degree 5, |x| clamped to 4 and the result to
//    1 (erf rounds to 1 from 3.92): one rational over the whole range, no exp, no branch.
//    Its float evaluation (12 roundings) costs accuracy near 1: at most 3.5e-7 with FMA,
//    3.8e-7 without, 4.4e-7 on ARMv7, measured over every float (the two-branch exp form
//    it replaced, a degree-6 polynomial and exp times a degree-10 one for every lane,
//    was 1.1e-7).
//  * gelu (erf form): h + h erf(x / sqrt 2), h = x / 2 (fused where V::fma is); so the
//    error is about |x| / 2 times erf's, below 3e-7 |x|: absolute, not relative to the
//    tiny values of x < -3. -inf gives 0.
//  * gelu (tanh form): x/2 (1 + tanh(u)) = x sigmoid(2u), u = sqrt(2/pi) (x + 0.044715
//    x^3): relative accuracy everywhere (no cancellation for negative x); -inf gives 0.
//  * sigmoid: e = exp(-|x|), 1 / (1 + e) or e / (1 + e).
//  * softplus: max(x, 0) + log1p(exp(-|x|)), log1p(u) = 2 s h(s^2), s = u / (2 + u),
//    h(w) = atanh(sqrt w) / sqrt w of degree 4 on [0, 1/9].
//  * mish: x tanh(softplus(x)) = x n / (n + 2), n = e (e + 2), e = exp(min(x, 20)).
//  * elu: x < 0: alpha (exp(x) - 1), from e^r - 1 = r + r^2 q(r) directly when n = 0.
// NaN inputs give NaN (the input itself); infinities give the functions' limits.
#pragma once

#include <cstddef>
#include <cstring>

#include "kernels/ref/ref.h"

namespace edgeq {
namespace kern {
namespace unary_math {

template <typename V>
inline typename V::F horner(const typename V::F& x, const float* c, int count) {
  typename V::F acc = V::set(c[count - 1]);
  for (int k = count - 2; k >= 0; --k) acc = V::fma(acc, x, V::set(c[k]));
  return acc;
}

template <typename V>
inline typename V::F sign_of(const typename V::F& x) {
  return V::bit_and(x, V::set(-0.f));
}
template <typename V>
inline typename V::F abs_of(const typename V::F& x) {
  return V::bit_andnot(V::set(-0.f), x);
}

// e^x = (1 + pm1) * scale_hi * scale_lo where pm1 = e^r - 1 (e^x - 1 itself where n = 0).
template <typename V>
struct ExpParts {
  typename V::F pm1, scale_hi, scale_lo, n;
};

template <typename V>
inline ExpParts<V> exp_parts(typename V::F x) {
  using F = typename V::F;
  static const float q[5] = {0.5f, 0.16666577756404877f, 0.041666556149721146f, 0.008363173343241215f,
                             0.0013926175888627768f};
  x = V::max(V::min(x, V::set(80.f)), V::set(-110.f));
  const F magic = V::set(12582912.f);  // 1.5 * 2^23: adding it rounds to an integer
  const F n = V::sub(V::fma(x, V::set(1.44269502162933349609f), magic), magic);
  // ln 2 = 0.693145751953125 (exact in 15 bits, so n * it is exact) + 1.4286068203e-06.
  const F r = V::fma(n, V::set(-1.4286068203e-06f), V::fma(n, V::set(-0.693145751953125f), x));
  ExpParts<V> e;
  e.pm1 = V::fma(V::mul(r, r), horner<V>(r, q, 5), r);
  // n in [-159, 116]. (1 + pm1) * 2^n_hi stays normal (ARMv7 would flush it), the
  // second factor rounds once.
  const F n_hi = V::max(n, V::set(-125.f));
  e.scale_hi = V::pow2(n_hi);
  e.scale_lo = V::pow2(V::sub(n, n_hi));  // 2^[-34, 0]
  e.n = n;
  return e;
}

template <typename V>
inline typename V::F exp(const typename V::F& x) {
  const ExpParts<V> e = exp_parts<V>(x);
  return V::mul(V::mul(V::add(V::set(1.f), e.pm1), e.scale_hi), e.scale_lo);
}

// tanh(x) = -m / (2 + m), m = e^(-2|x|) - 1 = pm1 2^n + (2^n - 1) (n in [-29, 0]: 2^n - 1
// is exact and does not cancel pm1 2^n).
template <typename V>
inline typename V::F tanh(const typename V::F& x) {
  using F = typename V::F;
  const F t = V::max(V::mul(abs_of<V>(x), V::set(-2.f)), V::set(-20.f));
  const ExpParts<V> e = exp_parts<V>(t);
  const F m = V::fma(e.pm1, e.scale_hi, V::sub(e.scale_hi, V::set(1.f)));
  const F y = V::div(m, V::sub(V::set(-2.f), m));  // -0 for x = 0: the sign is x's
  return V::bit_xor(abs_of<V>(y), sign_of<V>(x));
}

// erf(|z|) = a P(a^2) / Q(a^2), a = min(|z|, 4), at most 1 (the top of this file).
template <typename V>
inline typename V::F erf_abs(const typename V::F& z) {
  using F = typename V::F;
  static const float p[6] = {1.128379107e+00f, 1.948251873e-01f, 5.327456817e-02f,
                             3.940043505e-03f, 2.861583489e-04f, 1.980606612e-06f};
  static const float q[6] = {1.000000000e+00f, 5.059912801e-01f, 1.158828884e-01f,
                             1.531930175e-02f, 1.199983410e-03f, 3.744054993e-05f};
  const F a = V::min(abs_of<V>(z), V::set(4.f));
  const F w = V::mul(a, a);
  return V::min(V::div(V::mul(a, horner<V>(w, p, 6)), horner<V>(w, q, 6)), V::set(1.f));
}

template <typename V>
inline typename V::F erf(const typename V::F& x) {
  return V::bit_xor(erf_abs<V>(x), sign_of<V>(x));
}

template <typename V>
inline typename V::F gelu_erf(const typename V::F& x) {
  using F = typename V::F;
  const F z = V::mul(x, V::set(0.70710678118654752f));
  // -inf * 0 would be NaN: the limit is 0 (erf is -1 exactly there, h - h = 0).
  const F h = V::mul(V::max(x, V::set(-3.0e38f)), V::set(0.5f));
  return V::fma(h, V::bit_xor(erf_abs<V>(z), sign_of<V>(z)), h);
}

// 1 / (1 + e^-x) without cancellation on either side; 0 for -inf, 1 for +inf.
template <typename V>
inline typename V::F sigmoid(const typename V::F& x) {
  const typename V::F e = exp<V>(V::sub(V::set(0.f), abs_of<V>(x)));
  const typename V::F num = V::select(V::lt(x, V::set(0.f)), e, V::set(1.f));
  return V::div(num, V::add(V::set(1.f), e));
}

template <typename V>
inline typename V::F gelu_tanh(const typename V::F& x) {
  using F = typename V::F;
  // 2u = 2 sqrt(2/pi) x (1 + 0.044715 x^2).
  const F v = V::mul(V::mul(x, V::set(1.5957691216057308f)), V::fma(V::set(0.044715f), V::mul(x, x), V::set(1.f)));
  const F xc = V::max(x, V::set(-3.0e38f));  // -inf * 0 would be NaN: the limit is 0
  return V::mul(xc, sigmoid<V>(v));
}

// log(1 + u) for u in [0, 1].
template <typename V>
inline typename V::F log1p_unit(const typename V::F& u) {
  using F = typename V::F;
  static const float h[5] = {1.0f, 0.3333316147327423f, 0.20012298226356506f, 0.13982579112052917f,
                             0.14078889787197113f};
  const F s = V::div(u, V::add(V::set(2.f), u));
  return V::mul(V::add(s, s), horner<V>(V::mul(s, s), h, 5));
}

template <typename V>
inline typename V::F softplus(const typename V::F& x) {
  const typename V::F e = exp<V>(V::sub(V::set(0.f), abs_of<V>(x)));
  return V::add(V::max(x, V::set(0.f)), log1p_unit<V>(e));
}

template <typename V>
inline typename V::F mish(const typename V::F& x) {
  using F = typename V::F;
  const F e = exp<V>(V::min(x, V::set(20.f)));
  const F n = V::mul(e, V::add(e, V::set(2.f)));
  const F xc = V::max(x, V::set(-3.0e38f));  // -inf * 0 would be NaN: the limit is 0
  return V::mul(xc, V::div(n, V::add(n, V::set(2.f))));
}

template <typename V>
inline typename V::F elu(const typename V::F& x, float alpha) {
  using F = typename V::F;
  const ExpParts<V> e = exp_parts<V>(x);
  const F ex = V::mul(V::mul(V::add(V::set(1.f), e.pm1), e.scale_hi), e.scale_lo);
  const typename V::M n_zero = V::lt(abs_of<V>(e.n), V::set(0.5f));
  const F em1 = V::select(n_zero, e.pm1, V::sub(ex, V::set(1.f)));
  return V::select(V::lt(x, V::set(0.f)), V::mul(V::set(alpha), em1), x);
}

// fn on every element, NaN inputs passed through; the last partial vector through masked
// loads and stores or a padded buffer, so that it runs the same code.
template <typename V, typename Fn>
inline void map(size_t n, const float* in, float* out, const Fn& fn) {
  using F = typename V::F;
  constexpr size_t w = V::kWidth;
  auto one = [&](const F& x) { return V::select(V::is_nan(x), x, fn(x)); };
  size_t i = 0;
  for (; i + w <= n; i += w) V::store(out + i, one(V::load(in + i)));
  if (i == n) return;
  if constexpr (V::kMaskedTail) {
    V::store_partial(out + i, one(V::load_partial(in + i, n - i)), n - i);
  } else {
    float buf[w] = {};
    std::memcpy(buf, in + i, (n - i) * sizeof(float));
    V::store(buf, one(V::load(buf)));
    std::memcpy(out + i, buf, (n - i) * sizeof(float));
  }
}

// The kernel (the signature of ref::unary_f32): the ops unary_f32_kernel_covers()
// names here, the rest by the reference.
template <typename V>
void unary_f32(ref::UnaryOp op, float alpha, float beta, size_t n, const float* in, float* out) {
  using F = typename V::F;
  switch (op) {
    case ref::UnaryOp::kTanh:
      return map<V>(n, in, out, [](const F& x) { return tanh<V>(x); });
    case ref::UnaryOp::kErf:
      return map<V>(n, in, out, [](const F& x) { return erf<V>(x); });
    case ref::UnaryOp::kGelu:
      if (alpha == 0.f) return map<V>(n, in, out, [](const F& x) { return gelu_erf<V>(x); });
      return map<V>(n, in, out, [](const F& x) { return gelu_tanh<V>(x); });
    case ref::UnaryOp::kSigmoid:
      return map<V>(n, in, out, [](const F& x) { return sigmoid<V>(x); });
    case ref::UnaryOp::kSoftplus:
      return map<V>(n, in, out, [](const F& x) { return softplus<V>(x); });
    case ref::UnaryOp::kMish:
      return map<V>(n, in, out, [](const F& x) { return mish<V>(x); });
    case ref::UnaryOp::kElu:
      return map<V>(n, in, out, [alpha](const F& x) { return elu<V>(x, alpha); });
    default:
      return ref::unary_f32(op, alpha, beta, n, in, out);
  }
}

}  // namespace unary_math
}  // namespace kern
}  // namespace edgeq
