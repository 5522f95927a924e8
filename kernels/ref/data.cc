// Reference data-movement kernels: transpose, concat, split, pad, slice and
// nearest-neighbour resize.
//
// They never look at element values: an element is elem_size opaque bytes moved
// with memcpy, so one implementation serves every dtype. Multi-dimensional ones
// walk the output (or, for pad, the input) in row-major order with an index
// odometer and compute the other side's offset from per-dimension strides.
// Ranks are limited to kMaxDims.
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/ref/internal.h"
#include "kernels/ref/ref.h"

namespace edgeq {
namespace ref {

namespace {

int64_t num_elements(int rank, const int32_t* shape) {
  int64_t total = 1;
  for (int d = 0; d < rank; ++d) total *= shape[d];
  return total;
}

using internal::row_major_strides;

// Calls fn(flat_index, idx) for every index of `shape` in row-major order.
template <typename Fn>
void for_each_index(int rank, const int32_t* shape, const Fn& fn) {
  assert(rank >= 0 && rank <= kMaxDims);
  const int64_t total = num_elements(rank, shape);
  int64_t idx[kMaxDims] = {};
  for (int64_t i = 0; i < total; ++i) {
    fn(i, static_cast<const int64_t*>(idx));
    for (int d = rank - 1; d >= 0; --d) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}

void copy_element(void* dst, int64_t dst_index, const void* src, int64_t src_index,
                  size_t elem_size) {
  std::memcpy(static_cast<char*>(dst) + static_cast<size_t>(dst_index) * elem_size,
              static_cast<const char*>(src) + static_cast<size_t>(src_index) * elem_size,
              elem_size);
}

// Transpose rows: for every index of the output's leading dims, the innermost output
// dim is gathered with one stride. E is an integer type of the element's size.
template <typename E>
void transpose_rows(int rank, const int32_t* out_shape, const int64_t* in_stride_of_out_dim, const E* in, E* out) {
  const int32_t n = out_shape[rank - 1];
  const int64_t stride = in_stride_of_out_dim[rank - 1];
  for_each_index(rank - 1, out_shape, [&](int64_t o, const int64_t* idx) {
    int64_t src = 0;
    for (int d = 0; d < rank - 1; ++d) src += idx[d] * in_stride_of_out_dim[d];
    E* dst = out + o * n;
    const E* from = in + src;
    for (int32_t j = 0; j < n; ++j) dst[j] = from[j * stride];
  });
}

}  // namespace

void transpose(int rank, const int32_t* in_shape, const int32_t* perm, size_t elem_size,
               const void* in, void* out) {
  assert(rank >= 0 && rank <= kMaxDims);
  int64_t in_strides[kMaxDims];
  row_major_strides(rank, in_shape, in_strides);
  int32_t out_shape[kMaxDims];
  int64_t in_stride_of_out_dim[kMaxDims];
  for (int d = 0; d < rank; ++d) {
    assert(perm[d] >= 0 && perm[d] < rank);
    out_shape[d] = in_shape[perm[d]];
    in_stride_of_out_dim[d] = in_strides[perm[d]];
  }
  // An empty tensor has nothing to move, and its buffers may be null: the row loop
  // below would still step through the leading dims and offset them.
  if (num_elements(rank, out_shape) == 0) return;
  if (rank == 0) {
    std::memcpy(out, in, elem_size);
    return;
  }
  switch (elem_size) {
    case 1:
      return transpose_rows(rank, out_shape, in_stride_of_out_dim, static_cast<const uint8_t*>(in),
                            static_cast<uint8_t*>(out));
    case 2:
      return transpose_rows(rank, out_shape, in_stride_of_out_dim, static_cast<const uint16_t*>(in),
                            static_cast<uint16_t*>(out));
    case 4:
      return transpose_rows(rank, out_shape, in_stride_of_out_dim, static_cast<const uint32_t*>(in),
                            static_cast<uint32_t*>(out));
    default:
      for_each_index(rank, out_shape, [&](int64_t o, const int64_t* idx) {
        int64_t src = 0;
        for (int d = 0; d < rank; ++d) src += idx[d] * in_stride_of_out_dim[d];
        copy_element(out, o, in, src, elem_size);
      });
  }
}

void concat(int64_t outer, int64_t inner, int count, const int32_t* in_axis_sizes,
            const void* const* inputs, size_t elem_size, void* out) {
  int64_t out_axis = 0;
  for (int i = 0; i < count; ++i) out_axis += in_axis_sizes[i];
  char* dst = static_cast<char*>(out);
  for (int64_t o = 0; o < outer; ++o) {
    for (int i = 0; i < count; ++i) {
      const size_t bytes = static_cast<size_t>(in_axis_sizes[i] * inner) * elem_size;
      const char* src = static_cast<const char*>(inputs[i]) + static_cast<size_t>(o) * bytes;
      if (bytes != 0) std::memcpy(dst, src, bytes);
      dst += bytes;
    }
  }
  assert(dst ==
         static_cast<char*>(out) + static_cast<size_t>(outer * out_axis * inner) * elem_size);
  (void)out_axis;
}

void split(int64_t outer, int64_t inner, int32_t in_axis, int count, const int32_t* out_axis_sizes,
           const void* in, size_t elem_size, void* const* outputs) {
  int64_t total_axis = 0;
  for (int i = 0; i < count; ++i) total_axis += out_axis_sizes[i];
  assert(total_axis == in_axis);
  (void)total_axis;
  const char* src = static_cast<const char*>(in);
  for (int64_t o = 0; o < outer; ++o) {
    for (int i = 0; i < count; ++i) {
      const size_t bytes = static_cast<size_t>(out_axis_sizes[i] * inner) * elem_size;
      char* dst = static_cast<char*>(outputs[i]) + static_cast<size_t>(o) * bytes;
      if (bytes != 0) std::memcpy(dst, src, bytes);
      src += bytes;
    }
  }
}

void pad(int rank, const int32_t* in_shape, const int32_t* pads, size_t elem_size, const void* fill,
         const void* in, void* out) {
  assert(rank >= 0 && rank <= kMaxDims);
  int32_t out_shape[kMaxDims];
  for (int d = 0; d < rank; ++d) {
    assert(pads[d] >= 0 && pads[rank + d] >= 0);
    out_shape[d] = in_shape[d] + pads[d] + pads[rank + d];
  }
  int64_t out_strides[kMaxDims];
  row_major_strides(rank, out_shape, out_strides);
  const int64_t out_total = num_elements(rank, out_shape);
  for (int64_t o = 0; o < out_total; ++o) copy_element(out, o, fill, 0, elem_size);
  for_each_index(rank, in_shape, [&](int64_t i, const int64_t* idx) {
    int64_t dst = 0;
    for (int d = 0; d < rank; ++d) dst += (idx[d] + pads[d]) * out_strides[d];
    copy_element(out, dst, in, i, elem_size);
  });
}

void slice(int rank, const int32_t* in_shape, const int32_t* out_shape, const int32_t* starts,
           const int32_t* steps, size_t elem_size, const void* in, void* out) {
  assert(rank >= 0 && rank <= kMaxDims);
  int64_t in_strides[kMaxDims];
  row_major_strides(rank, in_shape, in_strides);
  for_each_index(rank, out_shape, [&](int64_t o, const int64_t* idx) {
    int64_t src = 0;
    for (int d = 0; d < rank; ++d) {
      const int64_t coord = starts[d] + idx[d] * steps[d];
      assert(coord >= 0 && coord < in_shape[d]);
      src += coord * in_strides[d];
    }
    copy_element(out, o, in, src, elem_size);
  });
}

void pad_mode(bool reflect, int rank, const int32_t* in_shape, const int32_t* pads, size_t elem_size, const void* in,
              void* out) {
  int64_t out_shape[6], count = 1;
  for (int d = 0; d < rank; ++d) {
    out_shape[d] = int64_t{in_shape[d]} + pads[d] + pads[d + rank];
    count *= out_shape[d];
  }
  const uint8_t* x = static_cast<const uint8_t*>(in);
  uint8_t* y = static_cast<uint8_t*>(out);
  for (int64_t o = 0; o < count; ++o) {
    int64_t rest = o, src = 0, stride = 1;
    for (int d = rank - 1; d >= 0; --d) {
      const int64_t n = in_shape[d];
      int64_t i = rest % out_shape[d] - pads[d];
      rest /= out_shape[d];
      if (reflect) {
        if (i < 0) i = -i;
        if (i >= n) i = 2 * (n - 1) - i;
      } else {
        i = std::min<int64_t>(std::max<int64_t>(i, 0), n - 1);
      }
      src += i * stride;
      stride *= n;
    }
    std::memcpy(y + o * elem_size, x + src * elem_size, elem_size);
  }
}

void resize_nearest(int32_t batch, int32_t in_h, int32_t in_w, int32_t channels, int32_t scale_h,
                    int32_t scale_w, size_t elem_size, const void* in, void* out) {
  assert(scale_h >= 1 && scale_w >= 1);
  const int64_t out_h = static_cast<int64_t>(in_h) * scale_h;
  const int64_t out_w = static_cast<int64_t>(in_w) * scale_w;
  const size_t pixel_bytes = static_cast<size_t>(channels) * elem_size;
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t y = 0; y < out_h; ++y) {
      for (int64_t x = 0; x < out_w; ++x) {
        const int64_t src_pixel = (n * in_h + y / scale_h) * in_w + x / scale_w;
        const int64_t dst_pixel = (n * out_h + y) * out_w + x;
        if (pixel_bytes == 0) continue;
        std::memcpy(static_cast<char*>(out) + static_cast<size_t>(dst_pixel) * pixel_bytes,
                    static_cast<const char*>(in) + static_cast<size_t>(src_pixel) * pixel_bytes,
                    pixel_bytes);
      }
    }
  }
}

}  // namespace ref
}  // namespace edgeq
