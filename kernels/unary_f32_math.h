// Vectorized float unary functions (Tanh, Erf, both Gelu forms, Sigmoid, Softplus, Mish,
// Elu) written once over an ISA's vector type; kernels/x86/unary_f32_avx2.cc and
// kernels/arm/unary_f32_neon.cc instantiate them. Plain C++, compiled with each
// includer's flags (no FMA: a multiply and an add round separately, so every ISA
// computes the same floats, except ARMv7 whose NEON flushes denormals and divides by a
// refined reciprocal estimate).
//
// V gives: type F (a vector of V::kWidth floats), set, load, store, add, sub, mul, div,
// min, max, lt (a < b: a mask in an F), select(mask, a, b) (mask ? a : b), bit_and,
// bit_or, bit_xor, bit_andnot(a, b) (~a & b), is_nan, and pow2(n): 2^n for an
// integer-valued n in [-126, 127].
//
// The approximations (coefficients are Chebyshev interpolants, converted to the monomial
// basis and rounded to float; test/unary_f32_test.cc measures the errors against the
// double-precision functions):
//  * exp(x), x clamped to [-110, 80]: n = round(x / ln 2), r = x - n ln 2 (ln 2 in two
//    parts), e^r = 1 + r + r^2 q(r) with q of degree 4 (|r| <= ln 2 / 2), times 2^n in
//    two factors so that results down to the denormals keep their bits.
//  * tanh |x| < 0.625: x + x^3 p(x^2), p of degree 4; above, 1 - 2 / (exp(2|x|) + 1)
//    (|x| clamped to 40; the 2 / (...) term is 0 beyond); odd.
//  * erf |x| < 1: x p(x^2), p of degree 6; 1 <= |x| <= 4: 1 - exp(-x^2) c(|x| - 1),
//    c of degree 10 (the scaled complement erfc(x) e^(x^2)); 1 beyond 4; odd.
//  * gelu: x/2 * (1 + erf(x / sqrt 2)) and x/2 * (1 + tanh(u)), where 1 + erf and 1 + tanh
//    of a negative argument come straight from the complement terms above (no
//    cancellation); -inf gives 0.
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
  for (int k = count - 2; k >= 0; --k) acc = V::add(V::mul(acc, x), V::set(c[k]));
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

// e^x = (1 + pm1) * scale where pm1 = e^r - 1; *n_zero: the lanes where n = 0 (pm1 is
// then e^x - 1 itself).
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
  const F n = V::sub(V::add(V::mul(x, V::set(1.44269502162933349609f)), magic), magic);
  // ln 2 = 0.693145751953125 (exact in 15 bits, so n * it is exact) + 1.4286068203e-06.
  const F r = V::sub(V::sub(x, V::mul(n, V::set(0.693145751953125f))), V::mul(n, V::set(1.4286068203e-06f)));
  ExpParts<V> e;
  e.pm1 = V::add(r, V::mul(V::mul(r, r), horner<V>(r, q, 5)));
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

// For a = |u|: small = tanh(a) where a < 0.625, q = 1 - tanh(a) = 2 / (e^(2a) + 1)
// elsewhere (0 beyond 40).
template <typename V>
struct TanhParts {
  typename V::F small, q, is_small;
};

template <typename V>
inline TanhParts<V> tanh_parts(const typename V::F& a) {
  using F = typename V::F;
  static const float p[5] = {-0.333333283662796f, 0.1333276927471161f, -0.05385090783238411f, 0.020997179672122f,
                             -0.006096714176237583f};
  TanhParts<V> t;
  const F w = V::mul(a, a);
  t.small = V::add(a, V::mul(V::mul(a, w), horner<V>(w, p, 5)));
  const F e = exp<V>(V::add(a, a));
  const F q = V::div(V::set(2.f), V::add(e, V::set(1.f)));
  t.q = V::select(V::lt(a, V::set(40.f)), q, V::set(0.f));
  t.is_small = V::lt(a, V::set(0.625f));
  return t;
}

// For a = |z|: small = erf(a) where a < 1, tail = 1 - erf(a) for 1 <= a <= 4 (its value
// at 4 beyond, where erf rounds to 1), is_small, beyond (a > 4).
template <typename V>
struct ErfParts {
  typename V::F small, tail, is_small, beyond;
};

template <typename V>
inline ErfParts<V> erf_parts(const typename V::F& a) {
  using F = typename V::F;
  static const float ps[7] = {1.1283791065216064f,    -0.3761262595653534f,   0.11283594369888306f,
                              -0.02685421146452427f,  0.005189087241888046f,  -0.000801686430349946f,
                              7.875875598983839e-05f};
  static const float pc[11] = {0.4275835156440735f,     -0.27320775389671326f,   0.15431345999240875f,
                               -0.07891160249710083f,   0.036672499030828476f,   -0.01511279959231615f,
                               0.005222607403993607f,   -0.001399324624799192f,  0.00026399464695714414f,
                               -3.0556224373867735e-05f, 1.6118907524287351e-06f};
  ErfParts<V> r;
  const F w = V::mul(a, a);
  r.small = V::mul(a, horner<V>(w, ps, 7));
  const F ac = V::min(a, V::set(4.f));
  const F e = exp<V>(V::sub(V::set(0.f), V::mul(ac, ac)));
  r.tail = V::mul(e, horner<V>(V::sub(ac, V::set(1.f)), pc, 11));
  r.is_small = V::lt(a, V::set(1.f));
  r.beyond = V::lt(V::set(4.f), a);
  return r;
}

template <typename V>
inline typename V::F tanh(const typename V::F& x) {
  const TanhParts<V> t = tanh_parts<V>(abs_of<V>(x));
  const typename V::F y = V::select(t.is_small, t.small, V::sub(V::set(1.f), t.q));
  return V::bit_xor(y, sign_of<V>(x));
}

template <typename V>
inline typename V::F erf(const typename V::F& x) {
  const ErfParts<V> r = erf_parts<V>(abs_of<V>(x));
  const typename V::F y = V::select(r.is_small, r.small, V::sub(V::set(1.f), r.tail));
  return V::bit_xor(y, sign_of<V>(x));
}

// x/2 * (1 + s f(|z|)) where s is z's sign; f small near 0 (`small`), else 1 - tail.
template <typename V>
inline typename V::F gelu_finish(const typename V::F& x, const typename V::F& z, const typename V::F& is_small,
                                 const typename V::F& small, const typename V::F& tail) {
  using F = typename V::F;
  const F one = V::set(1.f);
  const F near = V::add(one, V::bit_xor(small, sign_of<V>(z)));
  const F far = V::select(V::lt(z, V::set(0.f)), tail, V::sub(V::set(2.f), tail));
  const F one_plus = V::select(is_small, near, far);
  // -inf * 0 would be NaN: the limit is 0.
  const F xc = V::max(x, V::set(-3.0e38f));
  return V::mul(V::mul(xc, V::set(0.5f)), one_plus);
}

template <typename V>
inline typename V::F gelu_erf(const typename V::F& x) {
  const typename V::F z = V::mul(x, V::set(0.70710678118654752f));
  const ErfParts<V> r = erf_parts<V>(abs_of<V>(z));
  const typename V::F tail = V::select(r.beyond, V::set(0.f), r.tail);
  return gelu_finish<V>(x, z, r.is_small, r.small, tail);
}

template <typename V>
inline typename V::F gelu_tanh(const typename V::F& x) {
  using F = typename V::F;
  // u = sqrt(2/pi) * (x + 0.044715 x^3) = sqrt(2/pi) x (1 + 0.044715 x^2).
  const F u = V::mul(V::mul(x, V::set(0.7978845608028654f)),
                     V::add(V::set(1.f), V::mul(V::set(0.044715f), V::mul(x, x))));
  const TanhParts<V> t = tanh_parts<V>(abs_of<V>(u));
  return gelu_finish<V>(x, u, t.is_small, t.small, t.q);
}

template <typename V>
inline typename V::F sigmoid(const typename V::F& x) {
  const typename V::F e = exp<V>(V::sub(V::set(0.f), abs_of<V>(x)));
  const typename V::F num = V::select(V::lt(x, V::set(0.f)), e, V::set(1.f));
  return V::div(num, V::add(V::set(1.f), e));
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
  const F n_zero = V::bit_and(V::lt(V::set(-0.5f), e.n), V::lt(e.n, V::set(0.5f)));
  const F em1 = V::select(n_zero, e.pm1, V::sub(ex, V::set(1.f)));
  return V::select(V::lt(x, V::set(0.f)), V::mul(V::set(alpha), em1), x);
}

// fn on every element, NaN inputs passed through; the last partial vector through a
// padded buffer so that it runs the same code.
template <typename V, typename Fn>
inline void map(size_t n, const float* in, float* out, const Fn& fn) {
  using F = typename V::F;
  constexpr size_t w = V::kWidth;
  auto one = [&](const F& x) { return V::select(V::is_nan(x), x, fn(x)); };
  size_t i = 0;
  for (; i + w <= n; i += w) V::store(out + i, one(V::load(in + i)));
  if (i < n) {
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
