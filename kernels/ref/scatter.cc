// Reference kernels of ONNX ScatterElements and ScatterND (torch's scatter / scatter_add /
// scatter_reduce, in-place slice assignment and index_put_): the output is a copy of the
// data, then every update is written (or combined, with a reduction) at its index, in the
// order the updates are stored, so that with repeated indices the last write wins, as in
// ONNX Runtime. Indices are trusted: the session checks them beforehand.
#include <cstring>
#include <type_traits>

#include "kernels/ref/internal.h"
#include "kernels/ref/ref.h"

namespace edgeq {
namespace ref {
namespace {

// dst = dst (op) src on one element; integers wrap (computed unsigned).
template <typename T>
void combine(ScatterReduction r, T* dst, const T* src) {
  T a, b;
  std::memcpy(&a, dst, sizeof(T));
  std::memcpy(&b, src, sizeof(T));
  using U = std::make_unsigned_t<std::conditional_t<std::is_integral<T>::value, T, int>>;
  switch (r) {
    case ScatterReduction::kNone: a = b; break;
    case ScatterReduction::kAdd:
      if constexpr (std::is_integral<T>::value) a = static_cast<T>(static_cast<U>(a) + static_cast<U>(b));
      else a = a + b;
      break;
    case ScatterReduction::kMul:
      if constexpr (std::is_integral<T>::value) a = static_cast<T>(static_cast<U>(a) * static_cast<U>(b));
      else a = a * b;
      break;
    case ScatterReduction::kMax: a = a < b ? b : a; break;  // std::max(a, b)
    case ScatterReduction::kMin: a = b < a ? b : a; break;  // std::min(a, b)
  }
  std::memcpy(dst, &a, sizeof(T));
}

// count elements of `bytes`-byte items from src into dst, combined by r.
void combine_run(ScatterType type, ScatterReduction r, size_t count, uint8_t* dst, const uint8_t* src, size_t elem) {
  if (r == ScatterReduction::kNone) {
    std::memcpy(dst, src, count * elem);
    return;
  }
  for (size_t i = 0; i < count; ++i, dst += elem, src += elem) {
    switch (type) {
      case ScatterType::kF32: combine(r, reinterpret_cast<float*>(dst), reinterpret_cast<const float*>(src)); break;
      case ScatterType::kS32: combine(r, reinterpret_cast<int32_t*>(dst), reinterpret_cast<const int32_t*>(src)); break;
      case ScatterType::kS64: combine(r, reinterpret_cast<int64_t*>(dst), reinterpret_cast<const int64_t*>(src)); break;
      case ScatterType::kBytes: std::memcpy(dst, src, elem); break;
    }
  }
}

}  // namespace

template <typename I>
void scatter_elements(int rank, const int32_t* shape, const int32_t* idx_shape, int axis, ScatterType type,
                      ScatterReduction r, size_t elem_size, const void* data, const I* idx, const void* updates,
                      void* out) {
  int64_t total = 1;
  for (int d = 0; d < rank; ++d) total *= shape[d];
  uint8_t* y = static_cast<uint8_t*>(out);
  if (out != data) std::memcpy(y, data, static_cast<size_t>(total) * elem_size);
  const uint8_t* u = static_cast<const uint8_t*>(updates);
  internal::for_each_axis_indexed(rank, shape, idx_shape, axis, idx, [&](int64_t e, int64_t dst) {
    combine_run(type, r, 1, y + static_cast<size_t>(dst) * elem_size, u + static_cast<size_t>(e) * elem_size,
                elem_size);
  });
}

template <typename I>
void scatter_nd(int rank, const int32_t* shape, size_t tuples, int depth, ScatterType type, ScatterReduction r,
                size_t elem_size, const void* data, const I* idx, const void* updates, void* out) {
  int64_t stride[kMaxDims], total = 1;
  internal::row_major_strides(rank, shape, stride);
  for (int d = 0; d < rank; ++d) total *= shape[d];
  const size_t slice = static_cast<size_t>(depth == 0 ? total : stride[depth - 1]);
  uint8_t* y = static_cast<uint8_t*>(out);
  if (out != data) std::memcpy(y, data, static_cast<size_t>(total) * elem_size);
  const uint8_t* u = static_cast<const uint8_t*>(updates);
  for (size_t t = 0; t < tuples; ++t) {
    int64_t dst = 0;
    for (int d = 0; d < depth; ++d) {
      int64_t at = static_cast<int64_t>(idx[t * static_cast<size_t>(depth) + static_cast<size_t>(d)]);
      if (at < 0) at += shape[d];
      dst += at * stride[d];
    }
    combine_run(type, r, slice, y + static_cast<size_t>(dst) * elem_size, u + t * slice * elem_size, elem_size);
  }
}

template <typename I>
size_t first_tuple_out_of_range(size_t tuples, int depth, const int32_t* shape, const I* idx) {
  for (size_t t = 0; t < tuples; ++t)
    for (int d = 0; d < depth; ++d) {
      const int64_t v = static_cast<int64_t>(idx[t * static_cast<size_t>(depth) + static_cast<size_t>(d)]);
      if (v < -int64_t{shape[d]} || v >= shape[d]) return t * static_cast<size_t>(depth) + static_cast<size_t>(d);
    }
  return tuples * static_cast<size_t>(depth);
}

#define EDGEQ_SCATTER_INSTANTIATE(I)                                                                                 \
  template void scatter_elements<I>(int, const int32_t*, const int32_t*, int, ScatterType, ScatterReduction, size_t, \
                                    const void*, const I*, const void*, void*);                                      \
  template void scatter_nd<I>(int, const int32_t*, size_t, int, ScatterType, ScatterReduction, size_t, const void*,  \
                              const I*, const void*, void*);                                                         \
  template size_t first_tuple_out_of_range<I>(size_t, int, const int32_t*, const I*);
EDGEQ_SCATTER_INSTANTIATE(int32_t)
EDGEQ_SCATTER_INSTANTIATE(int64_t)
#undef EDGEQ_SCATTER_INSTANTIATE

}  // namespace ref
}  // namespace edgeq
