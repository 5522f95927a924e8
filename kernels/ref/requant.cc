// Reference requantization and quantize/dequantize kernels.
//
// Two ways to turn an int32 accumulator into an 8-bit value (see ref.h):
//  * fp32: multiply in float, round half to even with std::nearbyint, add the zero
//    point and saturate. Saturation happens in the float domain first so that a huge
//    or infinite product never reaches an undefined float->int conversion.
//  * fixed point (TFLite/gemmlowp): an int32 multiplier in Q0.31 and a power-of-two
//    exponent. Every intermediate is computed in int64 and saturated explicitly,
//    so no input can trigger signed overflow; in particular the left shift for a
//    positive exponent saturates to int32 where TFLite's would overflow.
#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <limits>

#include "kernels/ref/internal.h"
#include "kernels/ref/ref.h"

namespace edgeq {
namespace ref {

namespace {

constexpr int32_t kInt32Min = std::numeric_limits<int32_t>::min();
constexpr int32_t kInt32Max = std::numeric_limits<int32_t>::max();

// floor(v / 2^shift) for any int64 v and 0 <= shift < 63, without relying on the
// (pre-C++20 implementation-defined) behaviour of >> on negative numbers.
int64_t floor_shift(int64_t v, int shift) {
  if (v >= 0) return v >> shift;
  return -((-(v + 1)) >> shift) - 1;
}

}  // namespace

void quantize_multiplier(double real, int32_t* multiplier, int32_t* exponent) {
  assert(std::isfinite(real) && real >= 0.0);
  if (!(real > 0.0) || !std::isfinite(real)) {
    *multiplier = 0;
    *exponent = 0;
    return;
  }
  int e = 0;
  const double q = std::frexp(real, &e);  // real = q * 2^e, q in [0.5, 1)
  // q * 2^31 is exact in double; round half away from zero like TFLite.
  int64_t m = static_cast<int64_t>(std::round(std::ldexp(q, 31)));
  assert(m >= (int64_t{1} << 30) && m <= (int64_t{1} << 31));
  if (m == (int64_t{1} << 31)) {  // q rounded up to 1.0: renormalize
    m >>= 1;
    ++e;
  }
  if (e < -31) {  // every bit would be shifted out: flush to zero
    m = 0;
    e = 0;
  }
  *multiplier = static_cast<int32_t>(m);
  *exponent = e;
}

const char* requant_unrepresentable(float s_in, float s_w, float s_out, Scheme scheme) {
  const float s = (s_in * s_w) / s_out;
  if (!std::isfinite(s) || !(s > 0.f)) return "is not a positive finite number";
  if (scheme == Scheme::kFixedPoint) {
    int32_t m = 0, e = 0;
    quantize_multiplier(static_cast<double>(s_in) * s_w / s_out, &m, &e);
    if (e > 31) return "is too large for the fixed-point scheme";
  }
  return nullptr;
}

// The high 32 bits of 2*a*b, rounded: floor((a*b + 2^30) / 2^31), i.e. a*b / 2^31
// rounded to nearest with ties toward +infinity. This equals gemmlowp's
// "(ab + nudge) / 2^31 with truncation" formula, whose negative nudge 1 - 2^30
// makes negative ties round toward zero. The only unrepresentable result,
// INT32_MIN * INT32_MIN (= 2^31), saturates to INT32_MAX.
int32_t saturating_rounding_doubling_high_mul(int32_t a, int32_t b) {
  if (a == kInt32Min && b == kInt32Min) return kInt32Max;
  const int64_t ab = static_cast<int64_t>(a) * static_cast<int64_t>(b);
  return static_cast<int32_t>(floor_shift(ab + (int64_t{1} << 30), 31));
}

// x / 2^exponent rounded to nearest, ties away from zero (gemmlowp's
// RoundingDivideByPOT). Defined for every exponent >= 0; exponents above 32 give
// 0 for every int32 x.
int32_t rounding_divide_by_pot(int32_t x, int32_t exponent) {
  assert(exponent >= 0);
  if (exponent <= 0) return x;
  const int shift = static_cast<int>(std::min<int32_t>(exponent, 40));
  const int64_t magnitude = x < 0 ? -static_cast<int64_t>(x) : static_cast<int64_t>(x);
  const int64_t q = (magnitude + (int64_t{1} << (shift - 1))) >> shift;
  return static_cast<int32_t>(x < 0 ? -q : q);
}

namespace internal {

int32_t multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int32_t exponent) {
  const int32_t left = exponent > 0 ? exponent : 0;
  const int32_t right = exponent > 0 ? 0 : -exponent;
  // |x| <= 2^31, so shifting by at most 32 fits int64; any larger shift of a
  // non-zero x saturates just the same.
  const int64_t shifted = static_cast<int64_t>(x) * (int64_t{1} << std::min<int32_t>(left, 32));
  const int32_t high = saturating_rounding_doubling_high_mul(saturate_i32(shifted), multiplier);
  return rounding_divide_by_pot(high, right);
}

}  // namespace internal

int32_t requantize_fp32(int32_t acc, float scale, int32_t zero_point, int32_t qmin, int32_t qmax) {
  const float scaled = static_cast<float>(acc) * scale;
  return internal::round_add_saturate(scaled, zero_point, qmin, qmax);
}

int32_t requantize_fixed(int32_t acc, int32_t multiplier, int32_t exponent, int32_t zero_point,
                         int32_t qmin, int32_t qmax) {
  assert(qmin <= qmax);
  const int32_t scaled = internal::multiply_by_quantized_multiplier(acc, multiplier, exponent);
  return internal::clamp_i64(static_cast<int64_t>(scaled) + zero_point, qmin, qmax);
}

int32_t requantize(int32_t acc, const Requant& rq, size_t c) {
  const size_t i = rq.per_channel ? c : 0;
  if (rq.scheme == Scheme::kFixedPoint) {
    return requantize_fixed(acc, rq.multiplier[i], rq.exponent[i], rq.zero_point, rq.qmin, rq.qmax);
  }
  return requantize_fp32(acc, rq.scale[i], rq.zero_point, rq.qmin, rq.qmax);
}

int32_t quantize_value(float x, float scale, int32_t zero_point, int32_t qmin, int32_t qmax) {
  const float scaled = x / scale;  // a division, like ONNX QuantizeLinear
  return internal::round_add_saturate(scaled, zero_point, qmin, qmax);
}

// ---------------------------------------------------------------- tensors

template <typename T>
void quantize(size_t n, const float* in, float scale, int32_t zero_point, T* out) {
  for (size_t i = 0; i < n; ++i) {
    out[i] = static_cast<T>(
        quantize_value(in[i], scale, zero_point, internal::type_min<T>(), internal::type_max<T>()));
  }
}

// (q - zp) is formed exactly in int64 (an int32 input minus an int32 zero point
// may overflow int32), converted to float once, then multiplied by the scale.
template <typename T>
void dequantize(size_t n, const T* in, float scale, int32_t zero_point, float* out) {
  for (size_t i = 0; i < n; ++i) {
    const int64_t centered = static_cast<int64_t>(in[i]) - zero_point;
    out[i] = static_cast<float>(centered) * scale;
  }
}

template <typename T>
void dequantize_per_axis(int64_t outer, int32_t axis_size, int64_t inner, const T* in,
                         const float* scale, const int32_t* zero_point, float* out) {
  for (int64_t o = 0; o < outer; ++o) {
    for (int32_t a = 0; a < axis_size; ++a) {
      const int64_t base = (o * axis_size + a) * inner;
      dequantize(static_cast<size_t>(inner), in + base, scale[a], zero_point[a], out + base);
    }
  }
}

template <typename TI, typename TO>
void requantize_tensor(size_t n, const TI* in, float in_scale, int32_t in_zero_point,
                       float out_scale, int32_t out_zero_point, int32_t qmin, int32_t qmax,
                       TO* out) {
  internal::assert_range<TO>(qmin, qmax);
  for (size_t i = 0; i < n; ++i) {
    const int64_t centered = static_cast<int64_t>(in[i]) - in_zero_point;
    const float real = in_scale * static_cast<float>(centered);
    out[i] = static_cast<TO>(quantize_value(real, out_scale, out_zero_point, qmin, qmax));
  }
}

template void quantize<int8_t>(size_t, const float*, float, int32_t, int8_t*);
template void quantize<uint8_t>(size_t, const float*, float, int32_t, uint8_t*);
template void dequantize<int8_t>(size_t, const int8_t*, float, int32_t, float*);
template void dequantize<uint8_t>(size_t, const uint8_t*, float, int32_t, float*);
template void dequantize<int32_t>(size_t, const int32_t*, float, int32_t, float*);
template void dequantize_per_axis<int8_t>(int64_t, int32_t, int64_t, const int8_t*, const float*,
                                          const int32_t*, float*);
template void dequantize_per_axis<uint8_t>(int64_t, int32_t, int64_t, const uint8_t*, const float*,
                                           const int32_t*, float*);
template void dequantize_per_axis<int32_t>(int64_t, int32_t, int64_t, const int32_t*, const float*,
                                           const int32_t*, float*);
template void requantize_tensor<int8_t, int8_t>(size_t, const int8_t*, float, int32_t, float,
                                                int32_t, int32_t, int32_t, int8_t*);
template void requantize_tensor<int8_t, uint8_t>(size_t, const int8_t*, float, int32_t, float,
                                                 int32_t, int32_t, int32_t, uint8_t*);
template void requantize_tensor<uint8_t, int8_t>(size_t, const uint8_t*, float, int32_t, float,
                                                 int32_t, int32_t, int32_t, int8_t*);
template void requantize_tensor<uint8_t, uint8_t>(size_t, const uint8_t*, float, int32_t, float,
                                                  int32_t, int32_t, int32_t, uint8_t*);

}  // namespace ref
}  // namespace edgeq
