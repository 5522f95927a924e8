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
//
// The packed weights (per tile: bias, requantization arrays, weights; then 64 bytes of
// zero slack the row kernels may read) depend only on the node and the kernel's
// layout (tile, group, order, activation offsets: dw_pack_layout.h), so a pre-packed
// file stores them (layout version kQDwPackLayout) and init() uses them in place.
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

// Version of the packed layout: a pre-packed file records it, and a file packed with
// another version is packed again at run time.
constexpr uint32_t kQDwPackLayout = 1;

// The kernel of `set` a layer of `channels` channels runs: the least tiles *
// tile_cost, the widest on a tie (null: the set is empty). Reads only the layouts, so
// a set without function pointers (dw_pack_layouts) picks the same.
const DwKernel* pick_dw_kernel(const DwKernels& set, int32_t channels);

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
  // `prepacked`, when not null, is the packed bytes of `kernel`'s layout made earlier
  // (a pre-packed file: 64-byte aligned, exactly packed_weight_bytes(), living as
  // long as this op and those share() makes), used in place. `pack_only`: packs for a
  // kernel without function pointers (another architecture's layout, to write a
  // pre-packed file); such an op only reports weights() and weight_bytes().
  InitResult init(const QDwConvParams& params, const DwKernel& kernel, const uint8_t* prepacked = nullptr,
                  bool pack_only = false);
  // The same with pick_dw_kernel(set, channels).
  InitResult init(const QDwConvParams& params, const DwKernels& set, const uint8_t* prepacked = nullptr);
  // Bytes of the packed weights of `shape` for `kernel`'s layout (slack included).
  static size_t packed_weight_bytes(const ref::ConvShape& shape, const DwKernel& kernel);
  // The packed weights and their size (what a pre-packed file stores).
  const uint8_t* weights() const;
  size_t weight_bytes() const;
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
  // Heap bytes of packed weights, bias, requantization arrays (not when used in place)
  // and the x_zp row (shared by the ops share() made).
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
