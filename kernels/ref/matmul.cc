// Reference matrix product of two activations (the MatMul op): float, quantized and
// dynamically quantized, over numpy-broadcast batches.
//
// A batch of Y is a matrix index; matmul_operands() maps it to A's and B's matrix
// through per-dimension strides that are 0 where an operand broadcasts, so a B shared by
// every head is read in place, never copied. Every product is the plain triple loop,
// k innermost in order (float: no fused multiply-add, see internal.h; int32: wrapping).
// The dynamic modes quantize the operands into the caller's scratch first, then run the
// integer product; their exact formulas are in ref.h.
#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/ref/internal.h"
#include "kernels/ref/ref.h"

namespace edgeq {
namespace ref {

bool make_matmul_shape(const int32_t* a_shape, int a_rank, const int32_t* b_shape, int b_rank, MatMulShape* s) {
  if (a_rank < 2 || b_rank < 2 || a_rank > kMaxDims || b_rank > kMaxDims) return false;
  if (a_shape[a_rank - 1] != b_shape[b_rank - 2]) return false;
  MatMulShape r;
  r.m = a_shape[a_rank - 2];
  r.k = a_shape[a_rank - 1];
  r.n = b_shape[b_rank - 1];
  const int ra = a_rank - 2, rb = b_rank - 2;
  r.rank = std::max(ra, rb);
  // Right-aligned batch dimensions; strides in matrices, from the innermost out.
  int64_t a_step = 1, b_step = 1;
  for (int d = r.rank - 1; d >= 0; --d) {
    const int ia = d - (r.rank - ra), ib = d - (r.rank - rb);
    const int32_t da = ia >= 0 ? a_shape[ia] : 1, db = ib >= 0 ? b_shape[ib] : 1;
    if (da != db && da != 1 && db != 1) return false;
    r.batch[d] = std::max(da, db);
    r.a_stride[d] = da == 1 ? 0 : a_step;
    r.b_stride[d] = db == 1 ? 0 : b_step;
    a_step *= da;
    b_step *= db;
  }
  r.a_batches = a_step;
  r.b_batches = b_step;
  r.batches = 1;
  for (int d = 0; d < r.rank; ++d) r.batches *= r.batch[d];
  *s = r;
  return true;
}

void matmul_operands(const MatMulShape& s, int64_t y_batch, int64_t* a_index, int64_t* b_index) {
  int64_t ai = 0, bi = 0;
  for (int d = s.rank - 1; d >= 0; --d) {
    const int64_t i = y_batch % s.batch[d];
    y_batch /= s.batch[d];
    ai += i * s.a_stride[d];
    bi += i * s.b_stride[d];
  }
  *a_index = ai;
  *b_index = bi;
}

namespace {

// The operands' matrix sizes in elements.
int64_t a_size(const MatMulShape& s) { return int64_t{s.m} * s.k; }
int64_t b_size(const MatMulShape& s) { return int64_t{s.k} * s.n; }
int64_t y_size(const MatMulShape& s) { return int64_t{s.m} * s.n; }

// y = float(sum_k double(a) * double(b)) for one output: where no quantization holds
// a NaN or an infinity.
float double_dot(const MatMulShape& s, const float* a_row, const float* b_col) {
  double sum = 0.0;
  for (int32_t k = 0; k < s.k; ++k) sum += static_cast<double>(a_row[k]) * static_cast<double>(b_col[int64_t{k} * s.n]);
  return static_cast<float>(sum);
}

// Scratch of the dynamic modes, carved from the caller's buffer: the quantized operands
// (all matrices), and mode 2's per-row and per-column parameters.
struct DynamicScratch {
  uint8_t* qa;      // a_batches * m * k, uint8
  int8_t* qb;       // b_batches * k * n: uint8 (mode 1) or int8 (mode 2) bytes
  float* row_scale;  // mode 2: a_batches * m
  int32_t* row_zp;
  uint8_t* row_ok;  // 1: the row is finite
  float* col_scale;  // mode 2: b_batches * n
  uint8_t* col_ok;

  static size_t layout(const MatMulShape& s, int mode, uint8_t* base, DynamicScratch* out) {
    size_t at = 0;
    auto take = [&](size_t bytes) {
      uint8_t* p = base != nullptr ? base + at : nullptr;
      at += (bytes + 3) / 4 * 4;
      return p;
    };
    const size_t rows = static_cast<size_t>(s.a_batches) * s.m, cols = static_cast<size_t>(s.b_batches) * s.n;
    DynamicScratch d{};
    d.row_scale = reinterpret_cast<float*>(take(mode == 2 ? rows * sizeof(float) : 0));
    d.row_zp = reinterpret_cast<int32_t*>(take(mode == 2 ? rows * sizeof(int32_t) : 0));
    d.col_scale = reinterpret_cast<float*>(take(mode == 2 ? cols * sizeof(float) : 0));
    d.row_ok = take(mode == 2 ? rows : 0);
    d.col_ok = take(mode == 2 ? cols : 0);
    d.qa = take(static_cast<size_t>(s.a_batches * a_size(s)));
    d.qb = reinterpret_cast<int8_t*>(take(static_cast<size_t>(s.b_batches * b_size(s))));
    if (out != nullptr) *out = d;
    return at;
  }
};

void dynamic_per_tensor(const MatMulShape& s, const float* a, const float* b, const DynamicScratch& d, float* y) {
  const size_t na = static_cast<size_t>(s.a_batches * a_size(s)), nb = static_cast<size_t>(s.b_batches * b_size(s));
  float a_lo, a_hi, b_lo, b_hi;
  const bool a_ok = internal::finite_range(na, a, 1, &a_lo, &a_hi);
  const bool b_ok = internal::finite_range(nb, b, 1, &b_lo, &b_hi);
  float sa, sb;
  int32_t za, zb;
  dynamic_uint8_params(a_lo, a_hi, &sa, &za);
  dynamic_uint8_params(b_lo, b_hi, &sb, &zb);
  const bool finite = a_ok && b_ok;
  if (finite) {
    for (size_t i = 0; i < na; ++i) d.qa[i] = static_cast<uint8_t>(quantize_value(a[i], sa, za, 0, 255));
    for (size_t i = 0; i < nb; ++i) d.qb[i] = static_cast<int8_t>(quantize_value(b[i], sb, zb, 0, 255));
  }
  const float scale = sa * sb;
  const uint8_t* qb = reinterpret_cast<const uint8_t*>(d.qb);
  for (int64_t t = 0; t < s.batches; ++t) {
    int64_t ai, bi;
    matmul_operands(s, t, &ai, &bi);
    for (int32_t i = 0; i < s.m; ++i) {
      const int64_t row = ai * a_size(s) + int64_t{i} * s.k;
      float* out = y + t * y_size(s) + int64_t{i} * s.n;
      for (int32_t j = 0; j < s.n; ++j) {
        const int64_t col = bi * b_size(s) + j;
        if (!finite) {
          out[j] = double_dot(s, a + row, b + col);
          continue;
        }
        uint32_t acc = 0;
        for (int32_t k = 0; k < s.k; ++k)
          acc += static_cast<uint32_t>((int32_t{d.qa[row + k]} - za) * (int32_t{qb[col + int64_t{k} * s.n]} - zb));
        out[j] = static_cast<float>(static_cast<int32_t>(acc)) * scale;
      }
    }
  }
}

void dynamic_per_row(const MatMulShape& s, const float* a, const float* b, const DynamicScratch& d, float* y) {
  for (int64_t r = 0; r < s.a_batches * s.m; ++r) {  // rows of A: uint8, asymmetric
    const float* x = a + r * s.k;
    float lo, hi;
    d.row_ok[r] = internal::finite_range(static_cast<size_t>(s.k), x, 1, &lo, &hi);
    dynamic_uint8_params(lo, hi, &d.row_scale[r], &d.row_zp[r]);
    for (int32_t k = 0; k < s.k; ++k)
      d.qa[r * s.k + k] = static_cast<uint8_t>(quantize_value(x[k], d.row_scale[r], d.row_zp[r], 0, 255));
  }
  for (int64_t c = 0; c < s.b_batches * s.n; ++c) {  // columns of B: int8, symmetric
    const int64_t base = c / s.n * b_size(s) + c % s.n;
    float lo, hi;
    d.col_ok[c] = internal::finite_range(static_cast<size_t>(s.k), b + base, static_cast<size_t>(s.n), &lo, &hi);
    float scale = std::max(-lo, hi) / 127.f;
    if (!(scale > 0.f) || !std::isfinite(scale)) scale = 1.f;
    d.col_scale[c] = scale;
    for (int32_t k = 0; k < s.k; ++k) {
      const int64_t at = base + int64_t{k} * s.n;
      d.qb[at] = static_cast<int8_t>(quantize_value(b[at], scale, 0, -127, 127));
    }
  }
  for (int64_t t = 0; t < s.batches; ++t) {
    int64_t ai, bi;
    matmul_operands(s, t, &ai, &bi);
    for (int32_t i = 0; i < s.m; ++i) {
      const int64_t r = ai * s.m + i, row = r * s.k;
      float* out = y + t * y_size(s) + int64_t{i} * s.n;
      for (int32_t j = 0; j < s.n; ++j) {
        const int64_t c = bi * s.n + j, col = bi * b_size(s) + j;
        if (!d.row_ok[r] || !d.col_ok[c]) {
          out[j] = double_dot(s, a + row, b + col);
          continue;
        }
        uint32_t acc = 0;
        for (int32_t k = 0; k < s.k; ++k)
          acc += static_cast<uint32_t>((int32_t{d.qa[row + k]} - d.row_zp[r]) * int32_t{d.qb[col + int64_t{k} * s.n]});
        out[j] = static_cast<float>(static_cast<int32_t>(acc)) * (d.row_scale[r] * d.col_scale[c]);
      }
    }
  }
}

}  // namespace

MatMulViews dense_matmul_views(const MatMulShape& s) {
  MatMulViews v;
  v.a.row = s.k;
  v.b.row = s.n;
  v.y.row = s.n;
  int64_t y_step = 1;
  for (int d = s.rank - 1; d >= 0; --d) {
    v.a.batch[d] = s.a_stride[d] * a_size(s);
    v.b.batch[d] = s.b_stride[d] * b_size(s);
    v.y.batch[d] = y_step * y_size(s);
    y_step *= s.batch[d];
  }
  return v;
}

int64_t view_matrix_offset(const MatMulShape& s, const MatMulView& v, int64_t t) {
  int64_t offset = v.offset;
  for (int d = s.rank - 1; d >= 0; --d) {
    offset += t % s.batch[d] * v.batch[d];
    t /= s.batch[d];
  }
  return offset;
}

int64_t view_b_matrix_offset(const MatMulShape& s, const MatMulView& v, int64_t bi) {
  // bi = sum_d index_d * b_stride[d] over B's own dimensions (mixed radix).
  int64_t offset = v.offset;
  for (int d = s.rank - 1; d >= 0; --d)
    if (s.b_stride[d] != 0) offset += bi / s.b_stride[d] % s.batch[d] * v.batch[d];
  return offset;
}

void matmul_f32(const MatMulShape& s, const MatMulViews& v, const float* a, const float* b, float* y) {
  // i-k-j order: row i of Y accumulates a[i][k] * B's row k, which the compiler
  // vectorizes over j (dense rows); each y[i][j] still sums its k terms in order.
  for (int64_t t = 0; t < s.batches; ++t) {
    const float* am = a + view_matrix_offset(s, v.a, t);
    const float* bm = b + view_matrix_offset(s, v.b, t);
    float* ym = y + view_matrix_offset(s, v.y, t);
    for (int32_t i = 0; i < s.m; ++i) {
      float* out = ym + int64_t{i} * v.y.row;
      for (int32_t j = 0; j < s.n; ++j) out[j * v.y.col] = 0.f;
      for (int32_t k = 0; k < s.k; ++k) {
        const float av = am[int64_t{i} * v.a.row + int64_t{k} * v.a.col];
        const float* brow = bm + int64_t{k} * v.b.row;
        if (v.y.col == 1 && v.b.col == 1) {
          for (int32_t j = 0; j < s.n; ++j) out[j] += av * brow[j];
        } else {
          for (int32_t j = 0; j < s.n; ++j) out[j * v.y.col] += av * brow[j * v.b.col];
        }
      }
    }
  }
}

void matmul_f32(const MatMulShape& s, const float* a, const float* b, float* y) {
  matmul_f32(s, dense_matmul_views(s), a, b, y);
}

template <typename TA, typename TB, typename TY>
void qmatmul(const MatMulShape& s, const TA* a, int32_t a_zero_point, const TB* b, int32_t b_zero_point,
             const Requant& rq, TY* y) {
  internal::assert_range<TY>(rq.qmin, rq.qmax);
  for (int64_t t = 0; t < s.batches; ++t) {
    int64_t ai, bi;
    matmul_operands(s, t, &ai, &bi);
    const TA* am = a + ai * a_size(s);
    const TB* bm = b + bi * b_size(s);
    for (int32_t i = 0; i < s.m; ++i) {
      for (int32_t j = 0; j < s.n; ++j) {
        uint32_t acc = 0;  // wraps modulo 2^32
        for (int32_t k = 0; k < s.k; ++k) {
          const int32_t av = static_cast<int32_t>(am[int64_t{i} * s.k + k]) - a_zero_point;
          const int32_t bv = static_cast<int32_t>(bm[int64_t{k} * s.n + j]) - b_zero_point;
          acc += static_cast<uint32_t>(av) * static_cast<uint32_t>(bv);
        }
        y[t * y_size(s) + int64_t{i} * s.n + j] = static_cast<TY>(requantize(static_cast<int32_t>(acc), rq, 0));
      }
    }
  }
}

size_t dynamic_matmul_scratch_bytes(const MatMulShape& s, int mode) {
  return DynamicScratch::layout(s, mode, nullptr, nullptr);
}

void dynamic_matmul(const MatMulShape& s, int mode, const float* a, const float* b, void* scratch, float* y) {
  assert(mode == 1 || mode == 2);
  DynamicScratch d;
  DynamicScratch::layout(s, mode, static_cast<uint8_t*>(scratch), &d);
  if (mode == 1) {
    dynamic_per_tensor(s, a, b, d, y);
  } else {
    dynamic_per_row(s, a, b, d, y);
  }
}

#define EDGEQ_QMATMUL(TA, TB, TY) \
  template void qmatmul<TA, TB, TY>(const MatMulShape&, const TA*, int32_t, const TB*, int32_t, const Requant&, TY*);
#define EDGEQ_QMATMUL_Y(TA, TB) EDGEQ_QMATMUL(TA, TB, int8_t) EDGEQ_QMATMUL(TA, TB, uint8_t)
EDGEQ_QMATMUL_Y(int8_t, int8_t)
EDGEQ_QMATMUL_Y(int8_t, uint8_t)
EDGEQ_QMATMUL_Y(uint8_t, int8_t)
EDGEQ_QMATMUL_Y(uint8_t, uint8_t)
#undef EDGEQ_QMATMUL_Y
#undef EDGEQ_QMATMUL

}  // namespace ref
}  // namespace edgeq
