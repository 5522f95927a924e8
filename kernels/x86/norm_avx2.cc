// AVX2 row normalizations (kernels/misc.h): quantized softmax over contiguous rows and
// layer normalization (int8, uint8, float), each equal to its kernels/ref/norm.cc
// function bit for bit (the numerics are in kernels/ref/ref.h).
//
//  * softmax: the row maximum 32 bytes at a time (the maxima of 8 rows before their
//    sums, so that short rows' reductions overlap); the sum of table entries with one
//    8-lane gather per 8 elements into uint32 lanes (at most 256 additions of 2^23 per
//    lane before they are added to the uint64 sum: integer sums, so any order is
//    exact), the entries kept for the outputs (a gather again past 2048 elements);
//    the outputs with one float multiply and a rounding conversion. (Gathers beat
//    scalar table reads here: 53 vs 76 us on 4 x 128 x 128 scores, AMD EPYC.)
//  * quantized layer norm: sum and sum of squares of 16 bytes at a time as int16 pairs
//    (vpmaddwd; int32 lanes cannot overflow for channels <= 65536), then t = C*q - S1 in
//    int32 and the reference's float steps 8 elements at a time.
//  * float layer norm: the reference's 16 summation lanes are two vectors.
// Tails of fewer than 8 outputs go through an 8-element buffer with the same vector code.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "kernels/norm_blocks.h"
#include "kernels/x86/byte_max.h"
#include "kernels/ref/ref.h"
#include "kernels/x86/misc_x86.h"

namespace edgeq {
namespace kern {
namespace {

// 8 values of T widened to int32.
template <typename T>
__m256i load8_epi32(const T* p) {
  const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
  return is_signed<T>() ? _mm256_cvtepi8_epi32(b) : _mm256_cvtepu8_epi32(b);
}

// Stores the low byte of each of 8 int32 lanes (values already in T's range).
template <typename T>
void store8(T* p, __m256i v) {
  const __m256i pick = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 4, 8, 12, -1,
                                        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
  const __m256i b = _mm256_shuffle_epi8(v, pick);
  const __m128i both = _mm_unpacklo_epi32(_mm256_castsi256_si128(b), _mm256_extracti128_si256(b, 1));
  _mm_storel_epi64(reinterpret_cast<__m128i*>(p), both);
}

template <typename T>
__m256i max_bytes(__m256i a, __m256i b) {
  return is_signed<T>() ? _mm256_max_epi8(a, b) : _mm256_max_epu8(a, b);
}

// The row maximum: 32 bytes at a time, the last partial 32 through a buffer of the
// type's lowest value, the 32 lanes folded by shifts.
template <typename T>
int32_t row_max(const T* x, int32_t n) {
  const T lowest = std::numeric_limits<T>::lowest();
  __m256i v = _mm256_set1_epi8(static_cast<char>(lowest));
  int32_t j = 0;
  for (; j + 32 <= n; j += 32) v = max_bytes<T>(v, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + j)));
  if (j < n) {
    alignas(32) T rest[32];
    std::fill(rest, rest + 32, lowest);
    std::memcpy(rest, x + j, static_cast<size_t>(n - j) * sizeof(T));
    v = max_bytes<T>(v, _mm256_load_si256(reinterpret_cast<const __m256i*>(rest)));
  }
  return fold_max_bytes<T>(max_bytes<T>(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1)));
}

// The sum of 8 int32 lanes read as L (uint32_t or int32_t), in 64 bits.
template <typename L>
int64_t horizontal_sum(__m256i v) {
  alignas(32) L lanes[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), v);
  int64_t s = 0;
  for (L l : lanes) s += l;
  return s;
}

__m256i gather_table(const uint32_t* table, __m256i index) {
  return _mm256_i32gather_epi32(reinterpret_cast<const int*>(table), index, 4);
}

template <typename T>
void qsoftmax_rows_avx2(int64_t rows, int32_t n, const T* in, const uint32_t table[256], float out_scale,
                        int32_t out_zero_point, T* out) {
  const __m256i zp = _mm256_set1_epi32(out_zero_point);
  const __m256i lo = _mm256_set1_epi32(std::numeric_limits<T>::lowest());
  const __m256i hi = _mm256_set1_epi32(std::numeric_limits<T>::max());
  const __m256 cap = _mm256_set1_ps(65536.f);
  // The first pass keeps the table entries it gathers for the second: the first
  // kBuffered elements of the row (one gather per element instead of two).
  constexpr int32_t kBuffered = 2048;  // also <= 256 entries of 2^23 a uint32 lane
  alignas(32) uint32_t e_buf[kBuffered + 8];
  // The maxima of a batch of rows first: independent chains that overlap.
  constexpr int64_t kBatch = 8;
  int32_t batch_max[kBatch];
  for (int64_t r = 0; r < rows; ++r) {
    const T* x = in + r * n;
    if (r % kBatch == 0) {
      for (int64_t i = r; i < std::min(rows, r + kBatch); ++i) batch_max[i - r] = row_max(in + i * n, n);
    }
    const int32_t max_q = batch_max[r % kBatch];
    const __m256i vmax = _mm256_set1_epi32(max_q);
    uint64_t sum = 0;
    int32_t j = 0;
    while (j + 8 <= n) {
      __m256i acc = _mm256_setzero_si256();
      const int32_t block_end = std::min(n, j + kBuffered);
      for (; j + 8 <= block_end; j += 8) {
        const __m256i e = gather_table(table, _mm256_sub_epi32(vmax, load8_epi32(x + j)));
        if (j + 8 <= kBuffered) _mm256_store_si256(reinterpret_cast<__m256i*>(e_buf + j), e);
        acc = _mm256_add_epi32(acc, e);
      }
      sum += static_cast<uint64_t>(horizontal_sum<uint32_t>(acc));
    }
    for (; j < n; ++j) {
      const uint32_t e = table[max_q - x[j]];
      if (j < kBuffered) e_buf[j] = e;
      sum += e;
    }
    std::fill(e_buf + std::min(n, kBuffered), e_buf + std::min(n, kBuffered) + 8, 0u);  // the last block's padding
    const __m256 scale = _mm256_set1_ps(ref::qsoftmax_row_multiplier(sum, out_scale));
    blocks_of_8<T>(n, x, out + r * n, static_cast<T>(max_q), [&](const T* xb, T* yb, int32_t at) {
      const __m256i e = at + 8 <= kBuffered ? _mm256_load_si256(reinterpret_cast<const __m256i*>(e_buf + at))
                                            : gather_table(table, _mm256_sub_epi32(vmax, load8_epi32(xb)));
      const __m256 v = _mm256_min_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(e), scale), cap);
      __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(v), zp);
      q = _mm256_min_epi32(_mm256_max_epi32(q, lo), hi);
      store8(yb, q);
    });
  }
}

// 16 values of T widened to int16.
template <typename T>
__m256i load16_epi16(const T* p) {
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return is_signed<T>() ? _mm256_cvtepi8_epi16(b) : _mm256_cvtepu8_epi16(b);
}

// The int8 / uint8 layer norm's vector steps (kernels/norm_blocks.h).
template <typename T>
struct QLnAvx2 {
  struct Row {
    __m256i count, sum, zp;
    __m256 multiplier, lo, hi;
  };
  static void sums(const T* x, int32_t body, int64_t* sum, int64_t* sum_squares) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i s1 = _mm256_setzero_si256(), s2 = _mm256_setzero_si256();
    for (int32_t c = 0; c < body; c += 16) {
      const __m256i v = load16_epi16(x + c);
      s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(v, ones));
      s2 = _mm256_add_epi32(s2, _mm256_madd_epi16(v, v));
    }
    *sum = horizontal_sum<int32_t>(s1);
    *sum_squares = horizontal_sum<int32_t>(s2);
  }
  static Row row(int32_t channels, const ref::QLayerNormParams& p, float multiplier, int32_t sum) {
    return {_mm256_set1_epi32(channels),
            _mm256_set1_epi32(sum),
            _mm256_set1_epi32(p.out_zero_point),
            _mm256_set1_ps(multiplier),
            _mm256_set1_ps(static_cast<float>(p.qmin - p.out_zero_point)),
            _mm256_set1_ps(static_cast<float>(p.qmax - p.out_zero_point))};
  }
  static void out8(const Row& r, const T* x, const float* g, const float* b, T* y) {
    const __m256i t = _mm256_sub_epi32(_mm256_mullo_epi32(load8_epi32(x), r.count), r.sum);
    __m256 w = _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(t), r.multiplier), _mm256_loadu_ps(g));
    w = _mm256_add_ps(w, _mm256_loadu_ps(b));
    w = _mm256_min_ps(_mm256_max_ps(w, r.lo), r.hi);  // max(w, lo) = w > lo ? w : lo, as the reference
    store8(y, _mm256_add_epi32(_mm256_cvtps_epi32(w), r.zp));
  }
};

// The reference's 16 summation lanes as two vectors (kernels/norm_blocks.h).
struct F32Avx2 {
  struct Acc {
    __m256 a, b;  // lanes 0-7, 8-15
  };
  static Acc zero() { return {_mm256_setzero_ps(), _mm256_setzero_ps()}; }
  static void add(Acc& acc, const float* x) {
    acc.a = _mm256_add_ps(acc.a, _mm256_loadu_ps(x));
    acc.b = _mm256_add_ps(acc.b, _mm256_loadu_ps(x + 8));
  }
  static void add_squares(Acc& acc, const float* x, float mean) {
    const __m256 m = _mm256_set1_ps(mean);
    const __m256 da = _mm256_sub_ps(_mm256_loadu_ps(x), m), db = _mm256_sub_ps(_mm256_loadu_ps(x + 8), m);
    acc.a = _mm256_add_ps(acc.a, _mm256_mul_ps(da, da));
    acc.b = _mm256_add_ps(acc.b, _mm256_mul_ps(db, db));
  }
  static void store(const Acc& acc, float* lane) {
    _mm256_storeu_ps(lane, acc.a);
    _mm256_storeu_ps(lane + 8, acc.b);
  }
  static int32_t normalize(const float* x, int32_t channels, float mean, float rstd, const float* gamma,
                           const float* beta, float* y) {
    const __m256 m = _mm256_set1_ps(mean), s = _mm256_set1_ps(rstd);
    int32_t c = 0;
    for (; c + 8 <= channels; c += 8) {
      const __m256 n = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + c), m), s);
      const __m256 b = beta != nullptr ? _mm256_loadu_ps(beta + c) : _mm256_setzero_ps();
      _mm256_storeu_ps(y + c, _mm256_add_ps(_mm256_mul_ps(n, _mm256_loadu_ps(gamma + c)), b));
    }
    return c;
  }
};

}  // namespace

void add_norm_kernels_avx2(MiscKernels* k) {
  k->qsoftmax_s8 = qsoftmax_rows_avx2<int8_t>;
  k->qsoftmax_u8 = qsoftmax_rows_avx2<uint8_t>;
  k->qlayer_norm_s8 = qlayer_norm_rows<int8_t, QLnAvx2<int8_t>>;
  k->qlayer_norm_u8 = qlayer_norm_rows<uint8_t, QLnAvx2<uint8_t>>;
  k->layer_norm_f32 = layer_norm_f32_rows<F32Avx2>;
}

}  // namespace kern
}  // namespace edgeq
