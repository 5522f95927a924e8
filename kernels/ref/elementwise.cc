// Reference elementwise kernels: broadcasting binary ops, unary functions and their
// 256-entry lookup tables, and softmax.
//
// Broadcasting: make_broadcast() right-aligns both input shapes to kMaxDims and
// gives every size-1 input dimension stride 0; a kernel then walks the output in
// row-major order and decomposes each flat index into the two input offsets.
//
// Quantized binary ops, exactly (z: zero point, s: scale, [qmin, qmax]: output range):
//  * fp32 scheme, and kDiv in both schemes: in float,
//      a' = s_a * float(a - z_a), b' = s_b * float(b - z_b), r = a' op b',
//      y = quantize_value(r, s_y, z_y, qmin, qmax)  (i.e. round_half_even(r / s_y) + z_y).
//    Division by zero follows IEEE (inf saturates, NaN gives z_y).
//  * fixed-point kAdd / kSub (TFLite's int8 add): with L = 20 and t = 2 * max(s_a, s_b),
//    multipliers come from quantize_multiplier() of the doubles s_a / t, s_b / t and
//    t / (2^L * s_y) (all computed in double; the scales widened from float). Then
//      a1 = MBQM((a - z_a) * 2^L, M_a, e_a), b1 = MBQM((b - z_b) * 2^L, M_b, e_b),
//      y = clamp(MBQM(a1 +- b1, M_y, e_y) + z_y, qmin, qmax)
//    where MBQM(x, M, e) = RDBP(SRDHM(x * 2^max(e, 0), M), max(-e, 0)). Every int32
//    intermediate saturates instead of overflowing (unreachable for 8-bit operands).
//  * fixed-point kMul: M, e = quantize_multiplier(double(s_a) * double(s_b) / double(s_y)),
//      y = clamp(MBQM((a - z_a) * (b - z_b), M, e) + z_y, qmin, qmax).
//
// Unary functions are evaluated in float for the cheap ones and in double, rounded
// once to float, for sigmoid, tanh and hard-swish, so that a table built from them
// does not depend on the platform's float libm.
//
// Softmax: per slice, m = the float maximum; p_j = exp(x_j - m) / sum_k exp(x_k - m)
// with the differences, exponentials, sum and quotient in double, and p_j rounded
// once to float. NaN inputs give NaN outputs. (Quantized softmax: kernels/ref/norm.cc.)
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

int64_t num_elements(const Broadcast& bc) {
  int64_t total = 1;
  for (int d = 0; d < kMaxDims; ++d) total *= bc.out_shape[d];
  return total;
}

// Calls fn(out_index, a_offset, b_offset) for every output element in order.
template <typename Fn>
void for_each_broadcast(const Broadcast& bc, const Fn& fn) {
  const int64_t total = num_elements(bc);
  for (int64_t i = 0; i < total; ++i) {
    int64_t rest = i;
    int64_t a_offset = 0;
    int64_t b_offset = 0;
    for (int d = kMaxDims - 1; d >= 0; --d) {
      const int64_t coord = rest % bc.out_shape[d];
      rest /= bc.out_shape[d];
      a_offset += coord * bc.a_stride[d];
      b_offset += coord * bc.b_stride[d];
    }
    fn(i, a_offset, b_offset);
  }
}

float apply_f32(BinaryOp op, float a, float b) {
  switch (op) {
    case BinaryOp::kAdd:
      return a + b;
    case BinaryOp::kSub:
      return a - b;
    case BinaryOp::kMul:
      return a * b;
    case BinaryOp::kDiv:
      return a / b;
  }
  assert(false && "unknown BinaryOp");
  return 0.f;
}

template <typename T>
float dequantize_value(T q, float scale, int32_t zero_point) {
  return scale * static_cast<float>(static_cast<int64_t>(q) - zero_point);
}

// The value of the T element whose byte representation is `byte`.
template <typename T>
int32_t value_of_byte(int32_t byte) {
  return internal::type_min<T>() < 0 && byte >= 128 ? byte - 256 : byte;
}

// Softmax over one slice: get(j) reads element j, put(j, p) stores probability p.
template <typename Get, typename Put>
void softmax_slice(int32_t axis_size, const Get& get, const Put& put) {
  float max_value = -std::numeric_limits<float>::infinity();
  for (int32_t j = 0; j < axis_size; ++j) {
    const float v = get(j);
    if (v > max_value) max_value = v;
  }
  double sum = 0.0;
  for (int32_t j = 0; j < axis_size; ++j) {
    sum += std::exp(static_cast<double>(get(j)) - static_cast<double>(max_value));
  }
  for (int32_t j = 0; j < axis_size; ++j) {
    const double e = std::exp(static_cast<double>(get(j)) - static_cast<double>(max_value));
    put(j, static_cast<float>(e / sum));
  }
}

}  // namespace

// ---------------------------------------------------------------- broadcasting

// Each input must broadcast to out_shape in numpy's sense: its rank is at most
// out_rank and, right-aligned, each of its dimensions equals the output's or is 1.
bool make_broadcast(const int32_t* a_shape, int a_rank, const int32_t* b_shape, int b_rank,
                    const int32_t* out_shape, int out_rank, Broadcast* bc) {
  if (out_rank < 0 || out_rank > kMaxDims) return false;
  if (a_rank < 0 || a_rank > out_rank || b_rank < 0 || b_rank > out_rank) return false;
  int64_t a_running = 1;
  int64_t b_running = 1;
  for (int d = kMaxDims - 1; d >= 0; --d) {
    const int from_end = kMaxDims - 1 - d;  // 0 for the innermost dimension
    const int32_t o = from_end < out_rank ? out_shape[out_rank - 1 - from_end] : 1;
    const int32_t a = from_end < a_rank ? a_shape[a_rank - 1 - from_end] : 1;
    const int32_t b = from_end < b_rank ? b_shape[b_rank - 1 - from_end] : 1;
    if (o < 0 || a < 0 || b < 0) return false;
    if ((a != o && a != 1) || (b != o && b != 1)) return false;
    bc->out_shape[d] = o;
    bc->a_stride[d] = a == 1 ? 0 : a_running;
    bc->b_stride[d] = b == 1 ? 0 : b_running;
    a_running *= a;
    b_running *= b;
  }
  return true;
}

void binary_f32(BinaryOp op, const Broadcast& bc, const float* a, const float* b, float act_min,
                float act_max, float* out) {
  for_each_broadcast(bc, [&](int64_t i, int64_t ia, int64_t ib) {
    out[i] = internal::clamp_f32(apply_f32(op, a[ia], b[ib]), act_min, act_max);
  });
}

template <typename T>
void qbinary(BinaryOp op, const Broadcast& bc, const T* a, const T* b, const BinaryQParams& p,
             T* out) {
  internal::assert_range<T>(p.qmin, p.qmax);
  if (p.scheme == Scheme::kFixedPoint && (op == BinaryOp::kAdd || op == BinaryOp::kSub)) {
    constexpr int32_t kLeftShift = 20;
    const double twice_max_scale =
        2.0 * std::max(static_cast<double>(p.a_scale), static_cast<double>(p.b_scale));
    int32_t a_mult, a_exp, b_mult, b_exp, out_mult, out_exp;
    quantize_multiplier(static_cast<double>(p.a_scale) / twice_max_scale, &a_mult, &a_exp);
    quantize_multiplier(static_cast<double>(p.b_scale) / twice_max_scale, &b_mult, &b_exp);
    quantize_multiplier(
        twice_max_scale / (static_cast<double>(int64_t{1} << kLeftShift) * p.out_scale), &out_mult,
        &out_exp);
    const bool subtract = op == BinaryOp::kSub;
    for_each_broadcast(bc, [&](int64_t i, int64_t ia, int64_t ib) {
      const int32_t a_shifted = internal::saturate_i32(
          (static_cast<int64_t>(a[ia]) - p.a_zero_point) * (int64_t{1} << kLeftShift));
      const int32_t b_shifted = internal::saturate_i32(
          (static_cast<int64_t>(b[ib]) - p.b_zero_point) * (int64_t{1} << kLeftShift));
      const int64_t a_scaled = internal::multiply_by_quantized_multiplier(a_shifted, a_mult, a_exp);
      const int64_t b_scaled = internal::multiply_by_quantized_multiplier(b_shifted, b_mult, b_exp);
      const int32_t raw =
          internal::saturate_i32(subtract ? a_scaled - b_scaled : a_scaled + b_scaled);
      out[i] = static_cast<T>(
          requantize_fixed(raw, out_mult, out_exp, p.out_zero_point, p.qmin, p.qmax));
    });
    return;
  }
  if (p.scheme == Scheme::kFixedPoint && op == BinaryOp::kMul) {
    int32_t mult, exp;
    quantize_multiplier(static_cast<double>(p.a_scale) * static_cast<double>(p.b_scale) /
                            static_cast<double>(p.out_scale),
                        &mult, &exp);
    for_each_broadcast(bc, [&](int64_t i, int64_t ia, int64_t ib) {
      const int64_t product = (static_cast<int64_t>(a[ia]) - p.a_zero_point) *
                              (static_cast<int64_t>(b[ib]) - p.b_zero_point);
      out[i] = static_cast<T>(requantize_fixed(internal::saturate_i32(product), mult, exp,
                                               p.out_zero_point, p.qmin, p.qmax));
    });
    return;
  }
  // fp32 scheme, and kDiv under either scheme.
  for_each_broadcast(bc, [&](int64_t i, int64_t ia, int64_t ib) {
    const float ra = dequantize_value(a[ia], p.a_scale, p.a_zero_point);
    const float rb = dequantize_value(b[ib], p.b_scale, p.b_zero_point);
    const float r = apply_f32(op, ra, rb);
    out[i] = static_cast<T>(quantize_value(r, p.out_scale, p.out_zero_point, p.qmin, p.qmax));
  });
}

// ---------------------------------------------------------------- unary

namespace {

// log(1 + exp(x)) without overflow: x + log1p(exp(-x)) for positive x.
double softplus(double x) { return x > 0.0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }

}  // namespace

float unary_value(UnaryOp op, float x, float alpha, float beta) {
  switch (op) {
    case UnaryOp::kRelu:
      return x < 0.f ? 0.f : x;
    case UnaryOp::kClip:
      return internal::clamp_f32(x, alpha, beta);
    case UnaryOp::kLeakyRelu:
      return x < 0.f ? alpha * x : x;
    case UnaryOp::kSigmoid:
      return static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(x))));
    case UnaryOp::kHardSigmoid: {
      const float scaled = alpha * x;
      const float shifted = scaled + beta;
      return internal::clamp_f32(shifted, 0.f, 1.f);
    }
    case UnaryOp::kHardSwish: {
      // x * relu6(x + 3) / 6, with the flat parts explicit so that -inf gives 0.
      if (x <= -3.f) return 0.f;
      if (x >= 3.f) return x;
      const double xd = static_cast<double>(x);
      return static_cast<float>(xd * (xd + 3.0) / 6.0);
    }
    case UnaryOp::kTanh:
      return static_cast<float>(std::tanh(static_cast<double>(x)));
    case UnaryOp::kErf:
      return static_cast<float>(std::erf(static_cast<double>(x)));
    case UnaryOp::kSoftplus:
      return static_cast<float>(softplus(static_cast<double>(x)));
    case UnaryOp::kElu: {
      const double xd = static_cast<double>(x);
      return xd < 0.0 ? static_cast<float>(static_cast<double>(alpha) * std::expm1(xd)) : x;
    }
    case UnaryOp::kGelu: {
      const double xd = static_cast<double>(x);
      if (std::isinf(xd)) return xd < 0.0 ? 0.f : x;  // -inf * 0 would be NaN: the limit is 0
      if (alpha == 0.f) return static_cast<float>(0.5 * xd * (1.0 + std::erf(xd / std::sqrt(2.0))));
      const double k = std::sqrt(2.0 / 3.14159265358979323846);
      return static_cast<float>(0.5 * xd * (1.0 + std::tanh(k * (xd + 0.044715 * xd * xd * xd))));
    }
    case UnaryOp::kMish: {
      const double xd = static_cast<double>(x);
      if (std::isinf(xd)) return xd < 0.0 ? 0.f : x;  // -inf * tanh(0) would be NaN
      return static_cast<float>(xd * std::tanh(softplus(xd)));
    }
    case UnaryOp::kSqrt:
      return std::sqrt(x);
    case UnaryOp::kReciprocal:
      return 1.f / x;
    case UnaryOp::kPow:
      if (alpha == 1.f) return x;
      if (alpha == 2.f) return x * x;
      if (alpha == 3.f) return x * x * x;
      if (alpha == 0.5f) return std::sqrt(x);
      return std::pow(x, alpha);
    case UnaryOp::kExp:
      return static_cast<float>(std::exp(static_cast<double>(x)));
    case UnaryOp::kLog:
      return static_cast<float>(std::log(static_cast<double>(x)));
    case UnaryOp::kNeg:
      return -x;
    case UnaryOp::kAbs:
      return std::fabs(x);
    case UnaryOp::kFloor:
      return std::floor(x);
    case UnaryOp::kCeil:
      return std::ceil(x);
    case UnaryOp::kRound:
      return std::nearbyint(x);  // the default rounding mode: half to even
    case UnaryOp::kSin:
      return static_cast<float>(std::sin(static_cast<double>(x)));
    case UnaryOp::kCos:
      return static_cast<float>(std::cos(static_cast<double>(x)));
    case UnaryOp::kSoftsign:
      return x / (1.f + std::fabs(x));
    case UnaryOp::kThresholdedRelu:
      return x > alpha ? x : 0.f;
    case UnaryOp::kShrink:
      return x < -alpha ? x + beta : (x > alpha ? x - beta : 0.f);
    case UnaryOp::kTan:
      return static_cast<float>(std::tan(static_cast<double>(x)));
    case UnaryOp::kAsin:
      return static_cast<float>(std::asin(static_cast<double>(x)));
    case UnaryOp::kAcos:
      return static_cast<float>(std::acos(static_cast<double>(x)));
    case UnaryOp::kAtan:
      return static_cast<float>(std::atan(static_cast<double>(x)));
    case UnaryOp::kSinh:
      return static_cast<float>(std::sinh(static_cast<double>(x)));
    case UnaryOp::kCosh:
      return static_cast<float>(std::cosh(static_cast<double>(x)));
    case UnaryOp::kAsinh:
      return static_cast<float>(std::asinh(static_cast<double>(x)));
    case UnaryOp::kAcosh:
      return static_cast<float>(std::acosh(static_cast<double>(x)));
    case UnaryOp::kAtanh:
      return static_cast<float>(std::atanh(static_cast<double>(x)));
  }
  assert(false && "unknown UnaryOp");
  return 0.f;
}

void unary_f32(UnaryOp op, float alpha, float beta, size_t n, const float* in, float* out) {
  // The one-instruction functions as plain loops (the expressions of unary_value, so the
  // same values), the others through unary_value.
  switch (op) {
    case UnaryOp::kNeg:
      for (size_t i = 0; i < n; ++i) out[i] = -in[i];
      return;
    case UnaryOp::kAbs:
      for (size_t i = 0; i < n; ++i) out[i] = std::fabs(in[i]);
      return;
    case UnaryOp::kSqrt:
      for (size_t i = 0; i < n; ++i) out[i] = std::sqrt(in[i]);
      return;
    case UnaryOp::kReciprocal:
      for (size_t i = 0; i < n; ++i) out[i] = 1.f / in[i];
      return;
    case UnaryOp::kPow:
      if (alpha == 2.f) {
        for (size_t i = 0; i < n; ++i) out[i] = in[i] * in[i];
        return;
      }
      break;
    default:
      break;
  }
  for (size_t i = 0; i < n; ++i) out[i] = unary_value(op, in[i], alpha, beta);
}

template <typename T>
void build_unary_table(UnaryOp op, float alpha, float beta, float in_scale, int32_t in_zero_point,
                       float out_scale, int32_t out_zero_point, T table[256]) {
  for (int32_t byte = 0; byte < 256; ++byte) {
    const float x = in_scale * static_cast<float>(value_of_byte<T>(byte) - in_zero_point);
    const float y = unary_value(op, x, alpha, beta);
    table[byte] = static_cast<T>(quantize_value(y, out_scale, out_zero_point,
                                                internal::type_min<T>(), internal::type_max<T>()));
  }
}

template <typename T>
void lookup(size_t n, const T* in, const T table[256], T* out) {
  for (size_t i = 0; i < n; ++i) out[i] = table[static_cast<uint8_t>(in[i])];
}

// ---------------------------------------------------------------- softmax

void softmax_f32(int64_t outer, int32_t axis_size, int64_t inner, const float* in, float* out) {
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t k = 0; k < inner; ++k) {
      const int64_t base = o * axis_size * inner + k;
      softmax_slice(
          axis_size, [&](int32_t j) { return in[base + j * inner]; },
          [&](int32_t j, float prob) { out[base + j * inner] = prob; });
    }
  }
}

template void qbinary<int8_t>(BinaryOp, const Broadcast&, const int8_t*, const int8_t*,
                              const BinaryQParams&, int8_t*);
template void qbinary<uint8_t>(BinaryOp, const Broadcast&, const uint8_t*, const uint8_t*,
                               const BinaryQParams&, uint8_t*);
template void build_unary_table<int8_t>(UnaryOp, float, float, float, int32_t, float, int32_t,
                                        int8_t[256]);
template void build_unary_table<uint8_t>(UnaryOp, float, float, float, int32_t, float, int32_t,
                                         uint8_t[256]);
template void lookup<int8_t>(size_t, const int8_t*, const int8_t[256], int8_t*);
template void lookup<uint8_t>(size_t, const uint8_t*, const uint8_t[256], uint8_t*);

}  // namespace ref
}  // namespace edgeq
