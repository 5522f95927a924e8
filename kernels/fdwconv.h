// A float depthwise convolution (groups == in_c == out_c, NHWC) with constant weights,
// its weights packed once per model and shared by the model's sessions.
//
// FDwPacked holds the weights [c][kh][kw] transposed to one row of c floats per tap,
// [kh * kw][c], and the bias (zeros without one), 64-byte aligned: the layout does not
// depend on the kernel level (kFDwPackLayout names it in a pre-packed file). FDwConvOp
// runs output rows on it: per output pixel it gathers the taps inside the image, in tap
// order (row by row), and the level's microkernel (kernels/fdw_kernel.h: FMA3 and
// AVX-512F on x86, else the portable one in the compiler's generic vectors, SSE2 or
// NEON) sums the bias and their products in float, then clamps to [act_min, act_max]
// as the reference does (a NaN stays NaN). ref::conv2d_f32 sums in double: the two
// agree within float rounding, and NaN and infinities propagate alike.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "kernels/fdw_kernel.h"
#include "kernels/kernels.h"
#include "kernels/memory.h"
#include "kernels/ref/ref.h"

namespace edgeq {
namespace kern {

// Version of the layout a pre-packed file stores, and its name there.
constexpr uint32_t kFDwPackLayout = 1;
constexpr char kFDwLayoutName[] = "f32_dw_taps";

class FDwPacked {
 public:
  // weight[c][taps], bias[c] or null. kDeclined for an empty layer, kOutOfMemory when
  // the allocation fails.
  static InitResult pack(const float* weight, const float* bias, int32_t c, int32_t taps,
                         std::shared_ptr<const FDwPacked>* out);
  // Bytes of a layer's packed weights and bias.
  static size_t packed_bytes(int32_t c, int32_t taps);
  // Packed ahead of time (a pre-packed file's segment, alive as long as *out), used in
  // place: kDeclined when `nbytes` is not packed_bytes() or the data is misaligned.
  static InitResult wrap(const uint8_t* data, size_t nbytes, int32_t c, int32_t taps,
                         std::shared_ptr<const FDwPacked>* out);

  const float* taps() const { return data_ptr_; }                                    // [taps][c]
  const float* bias() const { return data_ptr_ + static_cast<size_t>(taps_) * c_; }  // [c]
  const uint8_t* bytes() const { return reinterpret_cast<const uint8_t*>(data_ptr_); }
  size_t nbytes() const { return packed_bytes(c_, taps_); }
  size_t heap_bytes() const { return data_ ? nbytes() : 0; }  // 0 for wrapped data
  int32_t channels() const { return c_; }
  int32_t tap_count() const { return taps_; }

 private:
  AlignedBuffer data_;  // null for wrapped data
  const float* data_ptr_ = nullptr;
  int32_t c_ = 0, taps_ = 0;
};

// The portable microkernel, which every level without one of its own runs.
FDwKernel fdw_kernel_portable();

class FDwConvOp {
 public:
  // kDeclined unless s is a depthwise shape (groups == in_c == out_c) that `packed` fits
  // and the kernel has a function.
  InitResult init(const ref::ConvShape& s, std::shared_ptr<const FDwPacked> packed, const FDwKernel& kernel,
                  float act_min, float act_max);
  const char* kernel_name() const { return kernel_.name; }
  // Output rows (batch * out_h), and the elements of a run.
  size_t rows() const { return static_cast<size_t>(s_.batch) * static_cast<size_t>(s_.out_h); }
  size_t elements() const { return rows() * static_cast<size_t>(s_.out_w) * static_cast<size_t>(s_.out_c); }
  // Output rows [r0, r1) of y from x (both NHWC).
  void run_rows(const float* x, float* y, size_t r0, size_t r1) const;

 private:
  ref::ConvShape s_{};
  std::shared_ptr<const FDwPacked> packed_;
  FDwKernel kernel_;
  float act_min_ = 0.f, act_max_ = 0.f;
};

}  // namespace kern
}  // namespace edgeq
