// The float fully connected driver (see ffc.h): packing W into panels, the row blocks
// and their bias / clamp epilogue.
#include "kernels/ffc.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/f32x4.h"
#include "kernels/kernels.h"

namespace edgeq {
namespace kern {

namespace {
constexpr char kFFcLayoutPrefix[] = "f32_fc_panels_";
}  // namespace

std::string ffc_layout_name(uint32_t nr) { return kFFcLayoutPrefix + std::to_string(nr); }

bool is_ffc_layout(const std::string& name) { return name.rfind(kFFcLayoutPrefix, 0) == 0; }

uint32_t ffc_pack_nr(Isa isa) {
  // The registered kernels' NR (kernels/x86/fgemm_*.cc, kernels/arm/fgemm_neon.cc),
  // known on any host; test/float_fc_test.cc checks the table against them.
  switch (isa) {
    case Isa::kAvx2:
    case Isa::kAvxVnni:
      return 16;  // f32_gemm_ukernel_6x16__fma3 / __avx2
    case Isa::kAvx512Vnni:
    case Isa::kAmx:
      return 32;  // f32_gemm_ukernel_8x32__avx512f
    case Isa::kNeon:
    case Isa::kNeonDot:
    case Isa::kNeonI8mm:
      return 8;  // f32_gemm_ukernel_8x8__neonfma (AArch64), 4x8__neon (ARMv7)
    default:
      return 0;
  }
}

size_t FFcPacked::packed_bytes(int32_t n, int32_t k, uint32_t nr) {
  const size_t panels = (static_cast<size_t>(n) + nr - 1) / nr;
  return panels * static_cast<size_t>(k) * nr * sizeof(float);
}

void FFcPacked::write_panels(const float* weight, int32_t n, int32_t k, uint32_t panel_nr, float* dst) {
  const size_t nr = panel_nr, kk = static_cast<size_t>(k), nn = static_cast<size_t>(n);
  // Panel j, row kk, lane c holds W[j * NR + c][kk] (zero past n): a transpose by panels.
  for (size_t col0 = 0; col0 < nn; col0 += nr) {
    const size_t cols = std::min(nr, nn - col0);
    for (size_t i = 0; i < kk; ++i, dst += nr) {
      for (size_t c = 0; c < cols; ++c) dst[c] = weight[(col0 + c) * kk + i];
      std::fill(dst + cols, dst + nr, 0.f);
    }
  }
}

InitResult FFcPacked::pack(const float* weight, int32_t n, int32_t k, uint32_t panel_nr,
                           std::shared_ptr<const FFcPacked>* out) {
  out->reset();
  if (panel_nr == 0 || n <= 0 || k <= 0) return InitResult::kDeclined;
  auto p = std::make_shared<FFcPacked>();
  p->bytes_ = packed_bytes(n, k, panel_nr);
  p->data_ = aligned_buffer(p->bytes_, 64);
  if (!p->data_) return InitResult::kOutOfMemory;
  p->n_ = n;
  p->k_ = k;
  p->nr_ = panel_nr;
  float* dst = reinterpret_cast<float*>(p->data_.get());
  p->panels_ = dst;
  write_panels(weight, n, k, panel_nr, dst);
  *out = std::move(p);
  return InitResult::kReady;
}

InitResult FFcPacked::wrap(const uint8_t* data, size_t nbytes, int32_t n, int32_t k, uint32_t nr,
                           std::shared_ptr<const FFcPacked>* out) {
  out->reset();
  if (nr == 0 || n <= 0 || k <= 0) return InitResult::kDeclined;
  if (data == nullptr || nbytes != packed_bytes(n, k, nr) || reinterpret_cast<uintptr_t>(data) % 64 != 0)
    return InitResult::kDeclined;
  auto p = std::make_shared<FFcPacked>();
  p->panels_ = reinterpret_cast<const float*>(data);
  p->bytes_ = nbytes;
  p->n_ = n;
  p->k_ = k;
  p->nr_ = nr;
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

// y[j] = y[j] + b[j] (b null: nothing added), then the clamp when `clamp`.
template <bool kBias, bool kClamp>
void epilogue_row(float* y, const float* b, size_t n, float lo, float hi) {
  const F32x4 lo4 = splat_f32x4(lo), hi4 = splat_f32x4(hi);
  size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    F32x4 v = load_f32x4(y + j);
    if (kBias) v += load_f32x4(b + j);
    if (kClamp) v = clamp_f32x4(v, lo4, hi4);
    store_f32x4(y + j, v);
  }
  for (; j < n; ++j) {
    float v = y[j];
    if (kBias) v += b[j];
    if (kClamp) v = clamp_f32(v, lo, hi);
    y[j] = v;
  }
}

}  // namespace

void FFcOp::run_rows(const float* x, float* y, size_t begin, size_t end) const {
  const size_t m = static_cast<size_t>(m_), mr = kernel_.mr;
  const size_t row0 = begin * mr, rows = std::min(end * mr, m) - row0;
  const size_t n = static_cast<size_t>(packed_->n()), k = static_cast<size_t>(packed_->k());
  run_tile(x + row0 * k, k, y + row0 * n, n, rows, 0, panels_);
}

void FFcOp::run_tile(const float* a, size_t a_stride, float* y, size_t y_stride, size_t rows, size_t p0,
                     size_t p1) const {
  const size_t n = static_cast<size_t>(packed_->n()), k = static_cast<size_t>(packed_->k());
  const size_t mr = kernel_.mr, nr = kernel_.nr, panel_floats = k * nr;
  const float* w = packed_->panels();
  // Panel by panel over the rows' blocks, as FMatMulOp::run_rows: a panel of W stays in
  // L1 while the rows stream past it.
  for (size_t p = p0; p < p1; ++p) {
    const size_t cols = std::min(nr, n - p * nr);
    const FGemmUkernel fn = kernel_.for_columns(cols);
    for (size_t i = 0; i < rows; i += mr)
      fn(std::min(mr, rows - i), cols, k, a + i * a_stride, a_stride, w + p * panel_floats, y + i * y_stride + p * nr,
         y_stride);
  }
  if (bias_ == nullptr && !clamp_) return;
  const size_t c0 = p0 * nr, c1 = std::min(p1 * nr, n);
  const float* bias = bias_ != nullptr ? bias_ + c0 : nullptr;
  for (size_t i = 0; i < rows; ++i) {
    float* row = y + i * y_stride + c0;
    if (bias != nullptr && clamp_) {
      epilogue_row<true, true>(row, bias, c1 - c0, act_min_, act_max_);
    } else if (bias != nullptr) {
      epilogue_row<true, false>(row, bias, c1 - c0, act_min_, act_max_);
    } else {
      epilogue_row<false, true>(row, nullptr, c1 - c0, act_min_, act_max_);
    }
  }
}

}  // namespace kern
}  // namespace edgeq
