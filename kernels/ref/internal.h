// Helpers shared by the reference kernels (not part of the kernel contract).
//
// Everything here is about doing integer and float arithmetic without undefined
// behaviour: saturating conversions from float and int64 to a [qmin, qmax] range,
// clamps that let NaN through, and the TFLite-style fixed-point multiply used by
// both the requantizer and the fixed-point binary ops.
//
// Floating-point determinism: the kernels are an oracle for bit-exact comparison, so
// a float expression must not be contracted into a fused multiply-add. Clang would
// do that inside one expression by default, hence the pragma below; GCC contracts
// only with -ffp-contract=fast, which is not the default in ISO C++ mode
// (CMAKE_CXX_EXTENSIONS OFF). The kernels also assume the default rounding mode
// (round to nearest, ties to even) and FLT_EVAL_METHOD == 0.
#pragma once

#include <cassert>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "kernels/ref/ref.h"

#if defined(__clang__)
#pragma clang fp contract(off)
#endif

namespace edgeq {
namespace ref {
namespace internal {

template <typename T>
constexpr int32_t type_min() {
  return static_cast<int32_t>(std::numeric_limits<T>::lowest());
}
template <typename T>
constexpr int32_t type_max() {
  return static_cast<int32_t>(std::numeric_limits<T>::max());
}

// Clamps an exact integer to [lo, hi] (lo <= hi).
inline int32_t clamp_i64(int64_t v, int32_t lo, int32_t hi) {
  if (v < lo) return lo;
  if (v > hi) return hi;
  return static_cast<int32_t>(v);
}

inline int32_t saturate_i32(int64_t v) {
  return clamp_i64(v, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max());
}

// Reduces an exact sum modulo 2^32 to int32 (two's complement wrap-around), the
// behaviour of an int32 SIMD accumulator. Written with unsigned arithmetic so that
// it is defined behaviour in every C++ version.
inline int32_t wrap_i32(int64_t v) {
  const uint32_t u = static_cast<uint32_t>(static_cast<uint64_t>(v));
  if (u <= static_cast<uint32_t>(std::numeric_limits<int32_t>::max())) {
    return static_cast<int32_t>(u);
  }
  return static_cast<int32_t>(static_cast<int64_t>(u) - (int64_t{1} << 32));
}

// Clamp to [lo, hi] that propagates NaN (a NaN compares false with both bounds).
inline float clamp_f32(float v, float lo, float hi) {
  if (v < lo) v = lo;
  if (v > hi) v = hi;
  return v;
}

// round_half_even(v) + zero_point, saturated to [qmin, qmax]; NaN gives zero_point
// (clamped). v is first clamped to +-2^40 in the float domain: both bounds are
// exact floats and integers, far outside any int32 sum, so the clamp changes no
// result and the conversion to int64 below is always defined.
inline int32_t round_add_saturate(float v, int32_t zero_point, int32_t qmin, int32_t qmax) {
  assert(qmin <= qmax);
  if (std::isnan(v)) return clamp_i64(zero_point, qmin, qmax);
  constexpr float kLimit = 1099511627776.0f;  // 2^40
  v = clamp_f32(v, -kLimit, kLimit);
  const float r = std::nearbyint(v);  // default rounding mode: ties to even
  return clamp_i64(static_cast<int64_t>(r) + zero_point, qmin, qmax);
}

// RDBP(SRDHM(x * 2^max(e, 0), m), max(-e, 0)) with the left shift saturating to
// int32: TFLite's MultiplyByQuantizedMultiplier, without its overflow.
int32_t multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int32_t exponent);

// [min(0, min x), max(0, max x)] over the n values x[0], x[stride], ...: the range
// ONNX DynamicQuantizeLinear quantizes; false when a value is NaN or infinite.
inline bool finite_range(size_t n, const float* x, size_t stride, float* lo, float* hi) {
  float l = 0.f, h = 0.f;
  bool finite = true;
  for (size_t i = 0; i < n; ++i) {
    const float v = x[i * stride];
    l = v < l ? v : l;
    h = v > h ? v : h;
    finite = finite && std::isfinite(v);
  }
  *lo = l;
  *hi = h;
  return finite;
}

// Parameters of a quantized tensor op on T asserted to fit T's range.
template <typename T>
inline void assert_range(int32_t qmin, int32_t qmax) {
  assert(qmin <= qmax);
  assert(qmin >= type_min<T>() && qmax <= type_max<T>());
  (void)qmin;
  (void)qmax;
}

// Row-major element strides of `shape`.
inline void row_major_strides(int rank, const int32_t* shape, int64_t* strides) {
  int64_t running = 1;
  for (int d = rank - 1; d >= 0; --d) {
    strides[d] = running;
    running *= shape[d];
  }
}

// GatherElements' and ScatterElements' walk: for every element e of the indices (shape
// idx_shape, row-major), fn(e, offset) with the offset of the element of a tensor of
// `shape` at e's position but idx[e] along `axis` (negative: from the end). Indices are
// trusted (checked beforehand).
template <typename I, typename Fn>
void for_each_axis_indexed(int rank, const int32_t* shape, const int32_t* idx_shape, int axis, const I* idx,
                           const Fn& fn) {
  int64_t stride[kMaxDims], count = 1;
  row_major_strides(rank, shape, stride);
  for (int d = 0; d < rank; ++d) count *= idx_shape[d];
  int64_t pos[kMaxDims] = {};
  for (int64_t e = 0; e < count; ++e) {
    int64_t offset = 0;
    for (int d = 0; d < rank; ++d) {
      int64_t at = pos[d];
      if (d == axis) {
        at = static_cast<int64_t>(idx[e]);
        if (at < 0) at += shape[d];
      }
      offset += at * stride[d];
    }
    fn(e, offset);
    for (int d = rank - 1; d >= 0 && ++pos[d] == idx_shape[d]; --d) pos[d] = 0;
  }
}

}  // namespace internal
}  // namespace ref
}  // namespace edgeq
