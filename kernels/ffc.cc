// The float fully connected driver (see ffc.h): packing W into panels, the row blocks
// and their bias / clamp epilogue.
#include "kernels/ffc.h"

#include <algorithm>
#include <cmath>

namespace edgeq {
namespace kern {

size_t FFcPacked::packed_bytes(int32_t n, int32_t k, uint32_t nr) {
  const size_t panels = (static_cast<size_t>(n) + nr - 1) / nr;
  return panels * static_cast<size_t>(k) * nr * sizeof(float);
}

InitResult FFcPacked::pack(const float* weight, int32_t n, int32_t k, const FGemmKernel& kernel,
                           std::shared_ptr<const FFcPacked>* out) {
  out->reset();
  if (kernel.fn == nullptr || kernel.nr == 0 || n <= 0 || k <= 0) return InitResult::kDeclined;
  auto p = std::make_shared<FFcPacked>();
  const size_t nr = kernel.nr, kk = static_cast<size_t>(k), nn = static_cast<size_t>(n);
  p->bytes_ = packed_bytes(n, k, kernel.nr);
  p->data_ = aligned_buffer(p->bytes_, 64);
  if (!p->data_) return InitResult::kOutOfMemory;
  p->n_ = n;
  p->k_ = k;
  p->nr_ = kernel.nr;
  float* dst = reinterpret_cast<float*>(p->data_.get());
  // Panel j, row kk, lane c holds W[j * NR + c][kk] (zero past n): a transpose by panels.
  for (size_t col0 = 0; col0 < nn; col0 += nr) {
    const size_t cols = std::min(nr, nn - col0);
    for (size_t i = 0; i < kk; ++i, dst += nr) {
      for (size_t c = 0; c < cols; ++c) dst[c] = weight[(col0 + c) * kk + i];
      std::fill(dst + cols, dst + nr, 0.f);
    }
  }
  *out = std::move(p);
  return InitResult::kReady;
}

InitResult FFcOp::init(int32_t m, std::shared_ptr<const FFcPacked> packed, const FGemmKernel& kernel,
                       const float* bias, float act_min, float act_max) {
  if (kernel.fn == nullptr || kernel.mr == 0 || m <= 0 || !packed || packed->nr() != kernel.nr)
    return InitResult::kDeclined;
  packed_ = std::move(packed);
  kernel_ = kernel;
  bias_ = bias;
  act_min_ = act_min;
  act_max_ = act_max;
  clamp_ = !(std::isinf(act_min) && act_min < 0 && std::isinf(act_max) && act_max > 0);
  m_ = m;
  m_blocks_ = (static_cast<size_t>(m) + kernel.mr - 1) / kernel.mr;
  panels_ = (static_cast<size_t>(packed_->n()) + kernel.nr - 1) / kernel.nr;
  return InitResult::kReady;
}

namespace {

// y[j] = clamp(y[j] + b[j]) as ref::internal::clamp_f32 does (a NaN stays NaN); written
// without branches on the data so the compiler vectorizes it.
void bias_clamp_row(float* y, const float* b, size_t n, float lo, float hi) {
  for (size_t j = 0; j < n; ++j) {
    float v = y[j] + b[j];
    v = v < lo ? lo : v;
    y[j] = v > hi ? hi : v;
  }
}

void bias_row(float* y, const float* b, size_t n) {
  for (size_t j = 0; j < n; ++j) y[j] += b[j];
}

void clamp_row(float* y, size_t n, float lo, float hi) {
  for (size_t j = 0; j < n; ++j) {
    float v = y[j] < lo ? lo : y[j];
    y[j] = v > hi ? hi : v;
  }
}

}  // namespace

void FFcOp::run_rows(const float* x, float* y, size_t begin, size_t end) const {
  const size_t m = static_cast<size_t>(m_), n = static_cast<size_t>(packed_->n()), k = static_cast<size_t>(packed_->k());
  const size_t mr = kernel_.mr, nr = kernel_.nr, panel_floats = k * nr;
  const float* w = packed_->panels();
  for (size_t block = begin; block < end; ++block) {
    const size_t row0 = block * mr, rows = std::min(mr, m - row0);
    const float* a = x + row0 * k;
    float* c = y + row0 * n;
    for (size_t p = 0; p < panels_; ++p)
      kernel_.fn(rows, std::min(nr, n - p * nr), k, a, k, w + p * panel_floats, c + p * nr, n);
    for (size_t i = 0; i < rows; ++i) {
      float* row = c + i * n;
      if (bias_ != nullptr && clamp_) {
        bias_clamp_row(row, bias_, n, act_min_, act_max_);
      } else if (bias_ != nullptr) {
        bias_row(row, bias_, n);
      } else if (clamp_) {
        clamp_row(row, n, act_min_, act_max_);
      }
    }
  }
}

}  // namespace kern
}  // namespace edgeq
