// The float MatMul driver (see fmatmul.h): packing B into panels, and the row blocks.
#include "kernels/fmatmul.h"

#include <algorithm>
#include <cstring>

#if defined(__SSE2__)
#include <xmmintrin.h>
#elif defined(__ARM_NEON)
#include <arm_neon.h>
#endif

namespace edgeq {
namespace kern {

namespace {

// dst[kk][j] = src[j * step + kk] for kk < k, j < cols, zero for cols <= j < nr: a
// transpose of `cols` contiguous rows into a panel, 4 x 4 blocks at a time in registers
// where the baseline ISA has them (SSE2, NEON), the rest element by element.
void transpose_into_panel(const float* src, int64_t step, size_t k, size_t cols, float* dst, size_t nr) {
  size_t kk = 0;
#if defined(__SSE2__) || defined(__ARM_NEON)
  for (; kk + 4 <= k; kk += 4) {
    size_t j = 0;
    for (; j + 4 <= cols; j += 4) {
      const float* s = src + static_cast<int64_t>(j) * step + static_cast<int64_t>(kk);
#if defined(__SSE2__)
      __m128 r0 = _mm_loadu_ps(s), r1 = _mm_loadu_ps(s + step), r2 = _mm_loadu_ps(s + 2 * step),
             r3 = _mm_loadu_ps(s + 3 * step);
      _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
      _mm_storeu_ps(dst + kk * nr + j, r0);
      _mm_storeu_ps(dst + (kk + 1) * nr + j, r1);
      _mm_storeu_ps(dst + (kk + 2) * nr + j, r2);
      _mm_storeu_ps(dst + (kk + 3) * nr + j, r3);
#else
      const float32x4x2_t a = vtrnq_f32(vld1q_f32(s), vld1q_f32(s + step));
      const float32x4x2_t b = vtrnq_f32(vld1q_f32(s + 2 * step), vld1q_f32(s + 3 * step));
      vst1q_f32(dst + kk * nr + j, vcombine_f32(vget_low_f32(a.val[0]), vget_low_f32(b.val[0])));
      vst1q_f32(dst + (kk + 1) * nr + j, vcombine_f32(vget_low_f32(a.val[1]), vget_low_f32(b.val[1])));
      vst1q_f32(dst + (kk + 2) * nr + j, vcombine_f32(vget_high_f32(a.val[0]), vget_high_f32(b.val[0])));
      vst1q_f32(dst + (kk + 3) * nr + j, vcombine_f32(vget_high_f32(a.val[1]), vget_high_f32(b.val[1])));
#endif
    }
    for (size_t t = kk; t < kk + 4; ++t) {
      for (size_t jj = j; jj < cols; ++jj) dst[t * nr + jj] = src[static_cast<int64_t>(jj) * step + static_cast<int64_t>(t)];
      std::fill(dst + t * nr + cols, dst + (t + 1) * nr, 0.f);
    }
  }
#endif
  for (; kk < k; ++kk) {
    for (size_t j = 0; j < cols; ++j) dst[kk * nr + j] = src[static_cast<int64_t>(j) * step + static_cast<int64_t>(kk)];
    std::fill(dst + kk * nr + cols, dst + (kk + 1) * nr, 0.f);
  }
}

}  // namespace

InitResult FMatMulOp::init(const ref::MatMulShape& s, const FGemmKernel& kernel) {
  return init(s, ref::dense_matmul_views(s), kernel);
}

InitResult FMatMulOp::init(const ref::MatMulShape& s, const ref::MatMulViews& views, const FGemmKernel& kernel) {
  if (kernel.fn == nullptr || kernel.mr == 0 || kernel.nr == 0) return InitResult::kDeclined;
  if (s.m <= 0 || s.n <= 0 || s.k < 0 || s.batches <= 0) return InitResult::kDeclined;
  if (views.a.col != 1 || views.y.col != 1) return InitResult::kDeclined;
  s_ = s;
  v_ = views;
  kernel_ = kernel;
  panels_ = (static_cast<size_t>(s.n) + kernel.nr - 1) / kernel.nr;
  m_blocks_ = (static_cast<size_t>(s.m) + kernel.mr - 1) / kernel.mr;
  panel_floats_ = static_cast<size_t>(s.k) * kernel.nr;
  workspace_bytes_ = b_parts() * panel_floats_ * sizeof(float);
  return InitResult::kReady;
}

void FMatMulOp::begin(const float* a, const float* b, float* y) {
  a_ = a;
  b_ = b;
  y_ = y;
}

void FMatMulOp::pack_b(size_t begin, size_t end) {
  const size_t n = static_cast<size_t>(s_.n), k = static_cast<size_t>(s_.k), nr = kernel_.nr;
  const int64_t row = v_.b.row, col = v_.b.col;
  float* packed = packed_;
  for (size_t part = begin; part < end; ++part) {
    const size_t matrix = part / panels_, col0 = part % panels_ * nr;
    const size_t cols = std::min(nr, n - col0);
    const float* src =
        b_ + ref::view_b_matrix_offset(s_, v_.b, static_cast<int64_t>(matrix)) + static_cast<int64_t>(col0) * col;
    float* dst = packed + part * panel_floats_;
    if (col == 1) {
      for (size_t kk = 0; kk < k; ++kk, src += row, dst += nr) {
        std::memcpy(dst, src, cols * sizeof(float));
        std::fill(dst + cols, dst + nr, 0.f);
      }
    } else if (row == 1) {  // B's columns are contiguous rows of the tensor (K^T read from K)
      transpose_into_panel(src, col, k, cols, dst, nr);
    } else {
      for (size_t kk = 0; kk < k; ++kk, src += row, dst += nr) {
        for (size_t j = 0; j < cols; ++j) dst[j] = src[static_cast<int64_t>(j) * col];
        std::fill(dst + cols, dst + nr, 0.f);
      }
    }
  }
}

void FMatMulOp::run_rows(size_t begin, size_t end) const {
  const size_t m = static_cast<size_t>(s_.m), n = static_cast<size_t>(s_.n), k = static_cast<size_t>(s_.k);
  const size_t mr = kernel_.mr, nr = kernel_.nr;
  const size_t a_row = static_cast<size_t>(v_.a.row), y_row = static_cast<size_t>(v_.y.row);
  // Panel by panel within each matrix's blocks of the range: a panel (k x NR floats)
  // stays in L1 while the blocks' rows stream past it. Block by block, every panel of
  // B would stream from L2 again for each block: attention's B (K^T or V, about 50 KB
  // a head) does not fit L1, and the kernel would wait on L2.
  for (size_t first = begin; first < end;) {
    const size_t t = first / m_blocks_, last = std::min(end, (t + 1) * m_blocks_);
    int64_t ai, bi;
    ref::matmul_operands(s_, static_cast<int64_t>(t), &ai, &bi);
    const float* a = a_ + ref::view_matrix_offset(s_, v_.a, static_cast<int64_t>(t));
    const float* w = packed_ + static_cast<size_t>(bi) * panels_ * panel_floats_;
    float* y = y_ + ref::view_matrix_offset(s_, v_.y, static_cast<int64_t>(t));
    for (size_t p = 0; p < panels_; ++p) {
      const size_t cols = std::min(nr, n - p * nr);
      const FGemmUkernel fn = kernel_.for_columns(cols);
      for (size_t block = first; block < last; ++block) {
        const size_t row0 = block % m_blocks_ * mr, rows = std::min(mr, m - row0);
        fn(rows, cols, k, a + row0 * a_row, a_row, w + p * panel_floats_, y + row0 * y_row + p * nr, y_row);
      }
    }
    first = last;
  }
}

void FMatMulOp::run(const float* a, const float* b, float* y) {
  begin(a, b, y);
  pack_b(0, b_parts());
  run_rows(0, row_blocks());
}

}  // namespace kern
}  // namespace edgeq
