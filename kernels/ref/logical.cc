// Reference kernels for masks and reductions: comparisons, logical ops and Where with
// numpy broadcasting, sums and means over a block of axes, and casts to and from bool.
// These run on the small tensors attention masks are made of (and on a score tensor
// when a mask is applied with Where), so the walk goes a row of the innermost output
// dimension at a time: one offset update per row, a strided loop inside.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <type_traits>

#include "kernels/ref/ref.h"

namespace edgeq {
namespace ref {
namespace {

// Calls fn(out_offset, in_offsets, count, inner_strides) for every row of the output's
// innermost dimension, in row-major order.
template <int K, typename Fn>
void for_each_row(const BroadcastN<K>& bc, const Fn& fn) {
  const int64_t inner = bc.out_shape[kMaxDims - 1];
  int64_t rows = 1;
  for (int d = 0; d < kMaxDims - 1; ++d) rows *= bc.out_shape[d];
  if (rows == 0 || inner == 0) return;
  int64_t inner_stride[K], off[K] = {};
  for (int k = 0; k < K; ++k) inner_stride[k] = bc.stride[k][kMaxDims - 1];
  int32_t coord[kMaxDims] = {};
  for (int64_t r = 0; r < rows; ++r) {
    fn(r * inner, off, inner, inner_stride);
    for (int d = kMaxDims - 2; d >= 0; --d) {  // odometer over the outer dimensions
      if (++coord[d] < bc.out_shape[d]) {
        for (int k = 0; k < K; ++k) off[k] += bc.stride[k][d];
        break;
      }
      coord[d] = 0;
      for (int k = 0; k < K; ++k) off[k] -= bc.stride[k][d] * (bc.out_shape[d] - 1);
    }
  }
}

template <typename T>
bool compare_one(LogicalOp op, T a, T b) {
  switch (op) {
    case LogicalOp::kLess: return a < b;
    case LogicalOp::kGreater: return a > b;
    default: return a == b;
  }
}

}  // namespace

template <int K>
bool make_broadcast_n(const std::vector<int32_t>* const in_shapes[K], const std::vector<int32_t>& out_shape,
                      BroadcastN<K>* bc) {
  const int out_rank = static_cast<int>(out_shape.size());
  if (out_rank > kMaxDims) return false;
  for (int d = 0; d < kMaxDims; ++d) {
    const int from_end = kMaxDims - 1 - d;
    bc->out_shape[d] = from_end < out_rank ? out_shape[out_rank - 1 - from_end] : 1;
  }
  for (int k = 0; k < K; ++k) {
    const std::vector<int32_t>& s = *in_shapes[k];
    const int rank = static_cast<int>(s.size());
    if (rank > out_rank) return false;
    int64_t running = 1;
    for (int d = kMaxDims - 1; d >= 0; --d) {
      const int from_end = kMaxDims - 1 - d;
      const int32_t dim = from_end < rank ? s[rank - 1 - from_end] : 1;
      if (dim != bc->out_shape[d] && dim != 1) return false;
      bc->stride[k][d] = dim == 1 ? 0 : running;
      running *= dim;
    }
  }
  return true;
}

template <typename T>
void compare(LogicalOp op, const BroadcastN<2>& bc, const T* a, const T* b, uint8_t* out) {
  for_each_row(bc, [&](int64_t o, const int64_t* off, int64_t n, const int64_t* st) {
    const T* pa = a + off[0];
    const T* pb = b + off[1];
    for (int64_t i = 0; i < n; ++i) {
      T va = pa[i * st[0]], vb = pb[i * st[1]];
      if constexpr (std::is_same<T, uint8_t>::value) {  // bools: any non-zero byte is true
        va = va != 0;
        vb = vb != 0;
      }
      out[o + i] = compare_one(op, va, vb) ? 1 : 0;
    }
  });
}

void logical(LogicalOp op, const BroadcastN<2>& bc, const uint8_t* a, const uint8_t* b, uint8_t* out) {
  for_each_row(bc, [&](int64_t o, const int64_t* off, int64_t n, const int64_t* st) {
    for (int64_t i = 0; i < n; ++i) {
      const bool va = a[off[0] + i * st[0]] != 0;
      const bool vb = op == LogicalOp::kNot ? false : b[off[1] + i * st[1]] != 0;
      bool r;
      switch (op) {
        case LogicalOp::kAnd: r = va && vb; break;
        case LogicalOp::kOr: r = va || vb; break;
        case LogicalOp::kXor: r = va != vb; break;
        default: r = !va; break;  // kNot
      }
      out[o + i] = r ? 1 : 0;
    }
  });
}

namespace {

// One row with unit condition stride and compile-time value strides of 0 or 1 (a
// constant fill or a contiguous row): a loop the compiler turns into vector blends.
template <typename T, int kSx, int kSy>
void where_row(const uint8_t* c, const T* x, const T* y, T* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = c[i] != 0 ? x[i * kSx] : y[i * kSy];
}

// Where on elements of type T (a copy of the chosen element: any bit pattern, NaN
// included, passes unchanged).
template <typename T>
void where_typed(const BroadcastN<3>& bc, const uint8_t* cond, const T* x, const T* y, T* out) {
  for_each_row(bc, [&](int64_t o, const int64_t* off, int64_t n, const int64_t* st) {
    const uint8_t* c = cond + off[0];
    const T* px = x + off[1];
    const T* py = y + off[2];
    T* po = out + o;
    if (st[0] == 0) {  // one condition for the row (a mask broadcast over the scores' rows)
      const T* src = *c != 0 ? px : py;
      const int64_t s = *c != 0 ? st[1] : st[2];
      if (s == 0) {
        std::fill(po, po + n, *src);
      } else {
        for (int64_t i = 0; i < n; ++i) po[i] = src[i * s];
      }
      return;
    }
    if (st[0] == 1 && st[1] <= 1 && st[2] <= 1) {
      if (st[1] == 1 && st[2] == 1) where_row<T, 1, 1>(c, px, py, po, n);
      else if (st[1] == 1) where_row<T, 1, 0>(c, px, py, po, n);
      else if (st[2] == 1) where_row<T, 0, 1>(c, px, py, po, n);
      else where_row<T, 0, 0>(c, px, py, po, n);
      return;
    }
    for (int64_t i = 0; i < n; ++i) po[i] = c[i * st[0]] != 0 ? px[i * st[1]] : py[i * st[2]];
  });
}

}  // namespace

void where(const BroadcastN<3>& bc, size_t elem_size, const uint8_t* cond, const void* x, const void* y,
           void* out) {
  switch (elem_size) {
    case 1:
      where_typed(bc, cond, static_cast<const uint8_t*>(x), static_cast<const uint8_t*>(y), static_cast<uint8_t*>(out));
      break;
    case 4:
      where_typed(bc, cond, static_cast<const uint32_t*>(x), static_cast<const uint32_t*>(y),
                  static_cast<uint32_t*>(out));
      break;
    default:
      where_typed(bc, cond, static_cast<const uint64_t*>(x), static_cast<const uint64_t*>(y),
                  static_cast<uint64_t*>(out));
      break;
  }
}

namespace {

// The largest (kMax) or smallest element of a slice, NaN when any is NaN.
template <typename Get>
float extreme(bool max, int64_t count, const Get& get) {
  float m = get(0);
  for (int64_t k = 1; k < count && !std::isnan(m); ++k) {
    const float v = get(k);
    if (std::isnan(v) || (max ? v > m : v < m)) m = v;
  }
  return m;
}

}  // namespace

void reduce_f32(ReduceOp op, int64_t outer, int64_t count, int64_t inner, const float* in, float* out) {
  if (op == ReduceOp::kMax || op == ReduceOp::kMin) {
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        const float* x = in + o * count * inner + i;
        out[o * inner + i] = extreme(op == ReduceOp::kMax, count, [&](int64_t k) { return x[k * inner]; });
      }
    return;
  }
  const bool mean = op == ReduceOp::kMean;
  if (inner == 1) {  // rows: 16 lanes, folded by halves (as layer_norm_f32 sums)
    for (int64_t o = 0; o < outer; ++o) {
      const float* x = in + o * count;
      float lane[16] = {};
      int64_t k = 0;
      for (; k + 16 <= count; k += 16)
        for (int l = 0; l < 16; ++l) lane[l] += x[k + l];
      for (int l = 0; k + l < count; ++l) lane[l] += x[k + l];
      for (int half = 8; half >= 1; half /= 2)
        for (int l = 0; l < half; ++l) lane[l] += lane[l + half];
      out[o] = mean ? lane[0] / static_cast<float>(count) : lane[0];
    }
    return;
  }
  for (int64_t o = 0; o < outer; ++o) {
    const float* x = in + o * count * inner;
    for (int64_t i = 0; i < inner; ++i) {
      float sum = 0.f;
      for (int64_t k = 0; k < count; ++k) sum += x[k * inner + i];
      out[o * inner + i] = mean ? sum / static_cast<float>(count) : sum;
    }
  }
}

template <typename T>
void reduce_int(ReduceOp op, int64_t outer, int64_t count, int64_t inner, const T* in, T* out) {
  using U = typename std::make_unsigned<T>::type;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const T* x = in + o * count * inner + i;
      T acc = count == 0 ? T(0) : x[0];
      for (int64_t k = 1; k < count; ++k) {
        const T v = x[k * inner];
        if (op == ReduceOp::kMax) acc = v > acc ? v : acc;
        else if (op == ReduceOp::kMin) acc = v < acc ? v : acc;
        else acc = static_cast<T>(static_cast<U>(acc) + static_cast<U>(v));
      }
      out[o * inner + i] = acc;
    }
}

template <typename T>
void binary_int(BinaryOp op, const BroadcastN<2>& bc, const T* a, const T* b, T* out) {
  using U = typename std::make_unsigned<T>::type;  // wrapping arithmetic without overflow
  for_each_row(bc, [&](int64_t o, const int64_t* off, int64_t n, const int64_t* st) {
    for (int64_t i = 0; i < n; ++i) {
      const T sx = a[off[0] + i * st[0]], sy = b[off[1] + i * st[1]];
      if (op == BinaryOp::kDiv) {  // truncating; x / 0 -> 0; MIN / -1 -> MIN (wraps)
        out[o + i] = sy == 0 ? T{0} : sy == -1 ? static_cast<T>(U{0} - static_cast<U>(sx)) : static_cast<T>(sx / sy);
        continue;
      }
      const U x = static_cast<U>(sx), y = static_cast<U>(sy);
      const U r = op == BinaryOp::kAdd ? x + y : op == BinaryOp::kSub ? x - y : static_cast<U>(x * y);
      out[o + i] = static_cast<T>(r);
    }
  });
}

template <typename T>
void mod(bool fmod, const BroadcastN<2>& bc, const T* a, const T* b, T* out) {
  for_each_row(bc, [&](int64_t o, const int64_t* off, int64_t n, const int64_t* st) {
    for (int64_t i = 0; i < n; ++i) {
      const T x = a[off[0] + i * st[0]], y = b[off[1] + i * st[1]];
      if constexpr (std::is_floating_point<T>::value) {
        out[o + i] = std::fmod(x, y);
      } else {
        // y == -1 first: MIN % -1 overflows in C++; every x mod -1 is 0.
        T r = y == 0 || y == -1 ? T{0} : static_cast<T>(x % y);
        if (!fmod && r != 0 && ((r < 0) != (y < 0))) r = static_cast<T>(r + y);  // the divisor's sign
        out[o + i] = r;
      }
    }
  });
}

template <typename T>
void min_max(bool is_max, const BroadcastN<2>& bc, const T* a, const T* b, T* out) {
  for_each_row(bc, [&](int64_t o, const int64_t* off, int64_t n, const int64_t* st) {
    for (int64_t i = 0; i < n; ++i) {
      const T x = a[off[0] + i * st[0]], y = b[off[1] + i * st[1]];
      T r = is_max ? (x < y ? y : x) : (y < x ? y : x);
      if constexpr (std::is_floating_point<T>::value) {
        if (std::isnan(x) || std::isnan(y)) r = std::numeric_limits<T>::quiet_NaN();
      }
      out[o + i] = r;
    }
  });
}

template <typename T>
void argmax(int64_t outer, int64_t count, int64_t inner, const T* in, int64_t* out) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const T* x = in + o * count * inner + i;
      int64_t best = 0;
      for (int64_t k = 1; k < count; ++k) {
        if constexpr (std::is_floating_point<T>::value) {
          if (std::isnan(x[best * inner])) break;
          if (std::isnan(x[k * inner]) || x[k * inner] > x[best * inner]) best = k;
        } else {
          if (x[k * inner] > x[best * inner]) best = k;
        }
      }
      out[o * inner + i] = best;
    }
}

namespace {

// The type a running sum of T accumulates in: T itself for floats, the unsigned type of
// the same width for integers (wrapping without overflow).
template <typename T, bool kIntegral = std::is_integral<T>::value>
struct SumType {
  using type = T;
};
template <typename T>
struct SumType<T, true> {
  using type = typename std::make_unsigned<T>::type;
};

}  // namespace

template <typename T>
void cumsum(int64_t outer, int64_t count, int64_t inner, const T* in, T* out) {
  using Acc = typename SumType<T>::type;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      Acc sum = 0;
      for (int64_t k = 0; k < count; ++k) {
        const int64_t at = (o * count + k) * inner + i;
        sum = static_cast<Acc>(sum + static_cast<Acc>(in[at]));
        out[at] = static_cast<T>(sum);
      }
    }
}

namespace {

// The source coordinate of output index o along an axis (ref.h: ResizeCoord, and
// kTfHalfPixelForNn), in float as ONNX Runtime computes it, before clamping; `given`: the
// model's scale, or 0 for out / in.
float source_coordinate(uint8_t coord, int32_t o, int32_t in_len, int32_t out_len, float given) {
  const float scale = given > 0.f ? given : static_cast<float>(out_len) / static_cast<float>(in_len);
  const float of = static_cast<float>(o);
  switch (coord) {
    case static_cast<uint8_t>(ResizeCoord::kAlignCorners):
      return out_len == 1 ? 0.f : of * static_cast<float>(in_len - 1) / static_cast<float>(out_len - 1);
    case static_cast<uint8_t>(ResizeCoord::kAsymmetric):
      return of / scale;
    case static_cast<uint8_t>(ResizeCoord::kPytorchHalfPixel):
      return out_len == 1 ? 0.f : (of + 0.5f) / scale - 0.5f;
    case kTfHalfPixelForNn:
      return (of + 0.5f) / scale;
    default:
      return (of + 0.5f) / scale - 0.5f;
  }
}

}  // namespace

LinearTap linear_tap(ResizeCoord mode, int32_t o, int32_t in_len, int32_t out_len, float scale) {
  const float r = std::min(std::max(source_coordinate(static_cast<uint8_t>(mode), o, in_len, out_len, scale), 0.f),
                           static_cast<float>(in_len - 1));
  LinearTap t;
  t.i0 = static_cast<int32_t>(r);  // r >= 0: truncation is floor
  t.i1 = std::min(t.i0 + 1, in_len - 1);
  t.w = r - static_cast<float>(t.i0);
  return t;
}

int32_t nearest_source(uint8_t coord, NearestRound round, int32_t o, int32_t in_len, int32_t out_len, float scale) {
  const float r = source_coordinate(coord, o, in_len, out_len, scale);
  float i;
  switch (round) {
    case NearestRound::kFloor: i = std::floor(r); break;
    case NearestRound::kCeil: i = std::ceil(r); break;
    case NearestRound::kRoundPreferCeil: i = std::floor(r + 0.5f); break;
    default: i = r == std::floor(r) + 0.5f ? std::floor(r) : std::round(r); break;
  }
  return static_cast<int32_t>(std::min(std::max(i, 0.f), static_cast<float>(in_len - 1)));
}

void resize_nearest_indexed(int32_t batch, int32_t in_h, int32_t in_w, int32_t out_h, int32_t out_w,
                            size_t pixel_bytes, const int32_t* rows, const int32_t* cols, const void* in, void* out) {
  const uint8_t* x = static_cast<const uint8_t*>(in);
  uint8_t* y = static_cast<uint8_t*>(out);
  const size_t out_row = static_cast<size_t>(out_w) * pixel_bytes;
  for (int32_t n = 0; n < batch; ++n)
    for (int32_t r = 0; r < out_h; ++r) {
      uint8_t* dst = y + (static_cast<size_t>(n) * out_h + r) * out_row;
      if (r > 0 && rows[r] == rows[r - 1]) {  // the row above again
        std::memcpy(dst, dst - out_row, out_row);
        continue;
      }
      const uint8_t* src = x + (static_cast<size_t>(n) * in_h + rows[r]) * in_w * pixel_bytes;
      for (int32_t c = 0; c < out_w; ++c) std::memcpy(dst + c * pixel_bytes, src + cols[c] * pixel_bytes, pixel_bytes);
    }
}

void resize_linear_f32(ResizeCoord mode, int32_t batch, int32_t in_h, int32_t in_w, int32_t channels, int32_t out_h,
                       int32_t out_w, int64_t row0, int64_t row1, const float* in, float* out, float scale_h,
                       float scale_w) {
  (void)batch;
  std::vector<LinearTap> cols(static_cast<size_t>(out_w));
  for (int32_t x = 0; x < out_w; ++x) cols[x] = linear_tap(mode, x, in_w, out_w, scale_w);
  const int64_t c = channels;
  for (int64_t row = row0; row < row1; ++row) {
    const int64_t n = row / out_h;
    const LinearTap ty = linear_tap(mode, static_cast<int32_t>(row % out_h), in_h, out_h, scale_h);
    const float* r0 = in + (n * in_h + ty.i0) * in_w * c;
    const float* r1 = in + (n * in_h + ty.i1) * in_w * c;
    float* o = out + row * out_w * c;
    for (int32_t x = 0; x < out_w; ++x) {
      const LinearTap tx = cols[x];
      const float *a00 = r0 + tx.i0 * c, *a01 = r0 + tx.i1 * c, *a10 = r1 + tx.i0 * c, *a11 = r1 + tx.i1 * c;
      const float wx = tx.w, wy = ty.w, ux = 1.f - wx, uy = 1.f - wy;
      for (int64_t k = 0; k < c; ++k) {
        const float top = ux * a00[k] + wx * a01[k];
        const float bottom = ux * a10[k] + wx * a11[k];
        o[x * c + k] = uy * top + wy * bottom;
      }
    }
  }
}

template <typename T>
void topk(int64_t outer, int64_t count, int64_t inner, int64_t k, bool largest, const T* in, T* values,
          int64_t* indices) {
  std::vector<int64_t> order(static_cast<size_t>(count));
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const T* x = in + o * count * inner + i;
      const auto at = [&](int64_t j) { return x[j * inner]; };
      // a before b: larger (smaller) first, NaN as the largest, then the lower index.
      const auto before = [&](int64_t a, int64_t b) {
        const T va = at(a), vb = at(b);
        if constexpr (std::is_floating_point<T>::value) {
          const bool na = std::isnan(va), nb = std::isnan(vb);
          if (na || nb) {
            if (na && nb) return a < b;
            return largest ? na : nb;
          }
        }
        if (va != vb) return largest ? va > vb : va < vb;
        return a < b;
      };
      std::iota(order.begin(), order.end(), int64_t{0});
      std::partial_sort(order.begin(), order.begin() + k, order.end(), before);
      for (int64_t r = 0; r < k; ++r) {
        values[(o * k + r) * inner + i] = at(order[static_cast<size_t>(r)]);
        indices[(o * k + r) * inner + i] = order[static_cast<size_t>(r)];
      }
    }
}

template void topk<float>(int64_t, int64_t, int64_t, int64_t, bool, const float*, float*, int64_t*);
template void topk<int32_t>(int64_t, int64_t, int64_t, int64_t, bool, const int32_t*, int32_t*, int64_t*);
template void topk<int64_t>(int64_t, int64_t, int64_t, int64_t, bool, const int64_t*, int64_t*, int64_t*);
template void topk<int8_t>(int64_t, int64_t, int64_t, int64_t, bool, const int8_t*, int8_t*, int64_t*);
template void topk<uint8_t>(int64_t, int64_t, int64_t, int64_t, bool, const uint8_t*, uint8_t*, int64_t*);

void cubic_weights(float s, float a, float w[4]) {
  const float t = std::fabs(s);
  w[0] = ((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a;
  w[1] = ((a + 2) * t - (a + 3)) * t * t + 1;
  w[2] = ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1;
  w[3] = ((a * (2 - t) - 5 * a) * (2 - t) + 8 * a) * (2 - t) - 4 * a;
}

namespace {

// An axis's 4 taps for output index o: clamped indices and their weights.
struct CubicTaps {
  int32_t idx[4];
  float w[4];
};

CubicTaps cubic_taps(ResizeCoord mode, int32_t o, int32_t in_len, int32_t out_len, float scale, float a,
                     bool exclude_outside) {
  const float r = source_coordinate(static_cast<uint8_t>(mode), o, in_len, out_len, scale);
  const float fl = std::floor(r);
  CubicTaps t;
  cubic_weights(r - fl, a, t.w);
  const int64_t i = static_cast<int64_t>(std::max(std::min(fl, 1e9f), -1e9f));
  float sum = 0.f;
  for (int k = 0; k < 4; ++k) {
    const int64_t at = i - 1 + k;
    if (exclude_outside && (at < 0 || at >= in_len)) t.w[k] = 0.f;
    sum += t.w[k];
    t.idx[k] = static_cast<int32_t>(std::min<int64_t>(std::max<int64_t>(at, 0), in_len - 1));
  }
  if (exclude_outside)
    for (float& w : t.w) w = sum != 0.f ? w / sum : 0.f;
  return t;
}

}  // namespace

void resize_cubic_f32(ResizeCoord mode, int32_t batch, int32_t in_h, int32_t in_w, int32_t channels, int32_t out_h,
                      int32_t out_w, int64_t row0, int64_t row1, const float* in, float* out, float scale_h, float scale_w,
                      float a, bool exclude_outside) {
  (void)batch;
  std::vector<CubicTaps> cols(static_cast<size_t>(out_w));
  for (int32_t x = 0; x < out_w; ++x) cols[x] = cubic_taps(mode, x, in_w, out_w, scale_w, a, exclude_outside);
  const int64_t c = channels;
  for (int64_t row = row0; row < row1; ++row) {
    const int64_t n = row / out_h;
    const CubicTaps ty = cubic_taps(mode, static_cast<int32_t>(row % out_h), in_h, out_h, scale_h, a, exclude_outside);
    float* o = out + row * out_w * c;
    for (int32_t x = 0; x < out_w; ++x) {
      const CubicTaps& tx = cols[x];
      for (int64_t k = 0; k < c; ++k) {
        float result = 0.f;
        for (int i = 0; i < 4; ++i) {
          const float* line = in + (n * in_h + ty.idx[i]) * in_w * c;
          float v = 0.f;
          for (int j = 0; j < 4; ++j) v += tx.w[j] * line[tx.idx[j] * c + k];
          result += ty.w[i] * v;
        }
        o[x * c + k] = result;
      }
    }
  }
}

template <typename From>
void cast_to_bool(size_t n, const From* in, uint8_t* out) {
  for (size_t i = 0; i < n; ++i) out[i] = in[i] != From(0) ? 1 : 0;  // NaN != 0: true
}

template <typename To>
void cast_from_bool(size_t n, const uint8_t* in, To* out) {
  for (size_t i = 0; i < n; ++i) out[i] = in[i] != 0 ? To(1) : To(0);
}

template bool make_broadcast_n<2>(const std::vector<int32_t>* const[2], const std::vector<int32_t>&, BroadcastN<2>*);
template bool make_broadcast_n<3>(const std::vector<int32_t>* const[3], const std::vector<int32_t>&, BroadcastN<3>*);
template void compare<float>(LogicalOp, const BroadcastN<2>&, const float*, const float*, uint8_t*);
template void compare<int32_t>(LogicalOp, const BroadcastN<2>&, const int32_t*, const int32_t*, uint8_t*);
template void compare<int64_t>(LogicalOp, const BroadcastN<2>&, const int64_t*, const int64_t*, uint8_t*);
template void compare<uint8_t>(LogicalOp, const BroadcastN<2>&, const uint8_t*, const uint8_t*, uint8_t*);
template void reduce_int<int32_t>(ReduceOp, int64_t, int64_t, int64_t, const int32_t*, int32_t*);
template void reduce_int<int64_t>(ReduceOp, int64_t, int64_t, int64_t, const int64_t*, int64_t*);
template void binary_int<int32_t>(BinaryOp, const BroadcastN<2>&, const int32_t*, const int32_t*, int32_t*);
template void binary_int<int64_t>(BinaryOp, const BroadcastN<2>&, const int64_t*, const int64_t*, int64_t*);
template void mod<float>(bool, const BroadcastN<2>&, const float*, const float*, float*);
template void mod<int32_t>(bool, const BroadcastN<2>&, const int32_t*, const int32_t*, int32_t*);
template void mod<int64_t>(bool, const BroadcastN<2>&, const int64_t*, const int64_t*, int64_t*);
template void min_max<float>(bool, const BroadcastN<2>&, const float*, const float*, float*);
template void min_max<int32_t>(bool, const BroadcastN<2>&, const int32_t*, const int32_t*, int32_t*);
template void min_max<int64_t>(bool, const BroadcastN<2>&, const int64_t*, const int64_t*, int64_t*);
template void argmax<float>(int64_t, int64_t, int64_t, const float*, int64_t*);
template void argmax<int8_t>(int64_t, int64_t, int64_t, const int8_t*, int64_t*);
template void argmax<uint8_t>(int64_t, int64_t, int64_t, const uint8_t*, int64_t*);
template void argmax<int32_t>(int64_t, int64_t, int64_t, const int32_t*, int64_t*);
template void argmax<int64_t>(int64_t, int64_t, int64_t, const int64_t*, int64_t*);
template void cumsum<float>(int64_t, int64_t, int64_t, const float*, float*);
template void cumsum<int32_t>(int64_t, int64_t, int64_t, const int32_t*, int32_t*);
template void cumsum<int64_t>(int64_t, int64_t, int64_t, const int64_t*, int64_t*);
template void cast_to_bool<float>(size_t, const float*, uint8_t*);
template void cast_to_bool<int32_t>(size_t, const int32_t*, uint8_t*);
template void cast_to_bool<int64_t>(size_t, const int64_t*, uint8_t*);
template void cast_from_bool<float>(size_t, const uint8_t*, float*);
template void cast_from_bool<int32_t>(size_t, const uint8_t*, int32_t*);
template void cast_from_bool<int64_t>(size_t, const uint8_t*, int64_t*);

}  // namespace ref
}  // namespace edgeq
