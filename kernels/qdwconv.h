// Quantized depthwise convolution (groups == in_c == out_c, depth multiplier 1) on an
// optimized row kernel (kernels/misc.h, DwKernels).
//
// Life cycle: init() once per model and kernel (share() gives each session its own op
// over the same packed data): packs the weights per channel
// tile into the kernel's accumulator order, folds the input zero point into the bias
// (padding taps read a row of x_zp bytes, so they cancel exactly as the reference's
// skipped taps), and expands the requantization to per-channel arrays. Per inference,
// bind(), then run_rows() over the rows() output rows (batch * out_h), which the
// scheduler (runtime/schedule.h) spreads over a pool; run() is the serial equivalent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "kernels/kernels.h"
#include "kernels/memory.h"

namespace edgeq {
namespace kern {

struct QDwConvParams {
  ref::ConvShape shape;            // groups == in_c == out_c
  bool act_s8 = false;             // int8 (true) or uint8 (false) activations, input and output
  int32_t x_zero_point = 0;        // input zero point
  const int8_t* weight = nullptr;  // [channels][kernel_h][kernel_w][1], weight zero point 0
  const int32_t* bias = nullptr;   // channels entries, or null
  ref::Requant rq;                 // per-tensor or per-channel, qmin/qmax = the fused activation
};

class QDwConvOp {
 public:
  QDwConvOp();
  ~QDwConvOp();
  QDwConvOp(const QDwConvOp&) = delete;
  QDwConvOp& operator=(const QDwConvOp&) = delete;

  // kDeclined when `kernel` cannot run these parameters (the caller keeps the
  // reference): not depthwise with multiplier 1, a kernel without the activation type,
  // a window wider than the kernel's scratch, or requantization parameters outside
  // what the vector epilogue reproduces (a zero point beyond +-2^24, a fixed-point
  // multiplier of INT32_MIN or a right shift above 31, a scale that is not finite);
  // kOutOfMemory when the packed buffers cannot be allocated.
  InitResult init(const QDwConvParams& params, const DwKernel& kernel);
  // The same with the kernel of `set` that is fastest for the channel count (misc.h).
  InitResult init(const QDwConvParams& params, const DwKernels& set);
  // x: NHWC input of shape.batch x in_h x in_w x in_c; y: NHWC output.
  void bind(const void* x, void* y);
  // Output rows (batch * out_h; 0 when there is nothing to compute).
  size_t rows() const;
  // Output rows [r0, r1) of the bound tensors. Ranges may run concurrently.
  void run_rows(size_t r0, size_t r1) const;
  // bind(), then every row on the calling thread.
  void run(const void* x, void* y);
  // A new op over the same packed data (immutable, shared: a model's sessions share
  // it, runtime/pack_cache.h), with its own bound pointers; null when out of memory.
  // Must be initialized.
  std::unique_ptr<QDwConvOp> share() const;
  // Bytes of packed weights, bias, requantization arrays and the x_zp row (shared by
  // the ops share() made).
  size_t packed_bytes() const;
  const char* kernel_name() const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
  const uint8_t* x_ = nullptr;
  uint8_t* y_ = nullptr;
};

}  // namespace kern
}  // namespace edgeq
