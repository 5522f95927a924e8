// Reference kernels of the ops on integer index tensors: Gather (an embedding lookup)
// and Cast (value conversion between f32, s32 and s64).
//
// Gather moves whole rows with memcpy and never looks at their values, so one
// implementation serves every table dtype. It trusts its indices: the session checks
// them (first_index_out_of_range) before the op runs and reports the first bad one.
//
// Cast follows C++ conversions where they are defined and pins down the rest:
// float -> integer truncates toward zero, saturates at the type's bounds (infinities
// too) and gives 0 for NaN; s64 -> s32 saturates; integer -> float rounds to nearest,
// ties to even (the default rounding mode).
#include <cstring>
#include <limits>
#include <type_traits>

#include "kernels/ref/internal.h"
#include "kernels/ref/ref.h"

namespace edgeq {
namespace ref {

namespace {

// float -> integer: truncation toward zero, saturated, NaN -> 0.
template <typename To>
To float_to_int(float x) {
  // 2^31 and 2^63 are exact in float; every float below the upper bound truncates
  // into the type's range (the largest float under 2^63 is 2^63 - 2^39).
  constexpr float kUpper = static_cast<float>(std::numeric_limits<To>::max()) + 1.0f;
  if (std::isnan(x)) return 0;
  if (x >= kUpper) return std::numeric_limits<To>::max();
  if (x <= static_cast<float>(std::numeric_limits<To>::min())) return std::numeric_limits<To>::min();
  return static_cast<To>(x);
}

template <typename From, typename To>
To convert(From x) {
  if constexpr (std::is_same<From, float>::value && !std::is_same<To, float>::value) {
    return float_to_int<To>(x);
  } else if constexpr (std::is_integral<To>::value && sizeof(To) < sizeof(From)) {
    if (x > std::numeric_limits<To>::max()) return std::numeric_limits<To>::max();
    if (x < std::numeric_limits<To>::min()) return std::numeric_limits<To>::min();
    return static_cast<To>(x);
  } else {
    return static_cast<To>(x);
  }
}

}  // namespace

template <typename I>
size_t first_index_out_of_range(size_t count, const I* idx, int64_t rows) {
  for (size_t i = 0; i < count; ++i)
    if (static_cast<int64_t>(idx[i]) < -rows || static_cast<int64_t>(idx[i]) >= rows) return i;
  return count;
}

template <typename I>
void gather_rows(size_t count, const I* idx, const void* table, size_t rows, size_t row_bytes, void* out) {
  const uint8_t* t = static_cast<const uint8_t*>(table);
  uint8_t* o = static_cast<uint8_t*>(out);
  for (size_t i = 0; i < count; ++i) {
    const int64_t k = idx[i] < 0 ? static_cast<int64_t>(idx[i]) + static_cast<int64_t>(rows) : idx[i];
    assert(k >= 0 && static_cast<size_t>(k) < rows);
    std::memcpy(o + i * row_bytes, t + static_cast<size_t>(k) * row_bytes, row_bytes);
  }
}

template <typename I>
void gather_elements(int rank, const int32_t* in_shape, const int32_t* idx_shape, int axis, size_t elem_size,
                     const void* in, const I* idx, void* out) {
  const uint8_t* x = static_cast<const uint8_t*>(in);
  uint8_t* y = static_cast<uint8_t*>(out);
  internal::for_each_axis_indexed(rank, in_shape, idx_shape, axis, idx, [&](int64_t e, int64_t src) {
    std::memcpy(y + static_cast<size_t>(e) * elem_size, x + static_cast<size_t>(src) * elem_size, elem_size);
  });
}

template <typename From, typename To>
void cast(size_t n, const From* in, To* out) {
  for (size_t i = 0; i < n; ++i) out[i] = convert<From, To>(in[i]);
}

template size_t first_index_out_of_range<int32_t>(size_t, const int32_t*, int64_t);
template size_t first_index_out_of_range<int64_t>(size_t, const int64_t*, int64_t);
template void gather_elements<int32_t>(int, const int32_t*, const int32_t*, int, size_t, const void*, const int32_t*,
                                       void*);
template void gather_elements<int64_t>(int, const int32_t*, const int32_t*, int, size_t, const void*, const int64_t*,
                                       void*);
template void gather_rows<int32_t>(size_t, const int32_t*, const void*, size_t, size_t, void*);
template void gather_rows<int64_t>(size_t, const int64_t*, const void*, size_t, size_t, void*);
template void cast<float, int32_t>(size_t, const float*, int32_t*);
template void cast<float, int64_t>(size_t, const float*, int64_t*);
template void cast<int32_t, float>(size_t, const int32_t*, float*);
template void cast<int64_t, float>(size_t, const int64_t*, float*);
template void cast<int32_t, int64_t>(size_t, const int32_t*, int64_t*);
template void cast<int64_t, int32_t>(size_t, const int64_t*, int32_t*);
template void cast<uint8_t, int32_t>(size_t, const uint8_t*, int32_t*);
template void cast<uint8_t, int64_t>(size_t, const uint8_t*, int64_t*);
template void cast<int8_t, int32_t>(size_t, const int8_t*, int32_t*);
template void cast<int8_t, int64_t>(size_t, const int8_t*, int64_t*);

}  // namespace ref
}  // namespace edgeq
