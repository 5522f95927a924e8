// Quantized convolution and fully connected on an optimized indirect-GEMM kernel.
//
// Life cycle: init() once when a session is created (packs the weights into the
// kernel's layout with the zero-point correction folded into the bias, expands the
// requantization parameters to padded per-channel arrays, sizes the indirection
// buffer); per inference, bind() (rebuilds the indirection buffer only when the input
// pointer changed), then run_tile() for every tile of grid(). The driver has no
// threads: runtime/schedule.h spreads the tiles over a pool; run() is the serial
// equivalent.
//
// A fully connected layer is a 1x1 convolution over m "pixels": batch 1, in_h 1,
// in_w m, in_c k, out_c n.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/memory.h"

namespace edgeq {
namespace kern {

struct QConvParams {
  ref::ConvShape shape;       // any group count (in_c and out_c multiples of it)
  bool act_s8 = false;        // int8 (true) or uint8 (false) activations, input and output
  int32_t x_zero_point = 0;   // input zero point
  const int8_t* weight = nullptr;  // [out_c][kernel_h][kernel_w][in_c], weight zero point 0
  const int32_t* bias = nullptr;   // out_c entries, or null
  ref::Requant rq;            // per-tensor or per-channel, qmin/qmax = the fused activation
};

class QConvOp {
 public:
  QConvOp();
  ~QConvOp();
  QConvOp(const QConvOp&) = delete;
  QConvOp& operator=(const QConvOp&) = delete;

  // kDeclined when `kernel` cannot run these parameters (then the caller keeps the
  // reference kernel): a kernel without the activation type, input zero points outside
  // the type with padding, grouped kernels of more than 1024 / mr taps;
  // kOutOfMemory when the packed buffers cannot be allocated.
  InitResult init(const QConvParams& params, const QGemmKernel& kernel);
  // The output as a grid of tiles: m rows (pixels) by n columns (channels) in tiles of
  // mr x nr. n_outer: the channel blocks should be the outer loop (the weights are the
  // larger operand), else the pixel tiles.
  struct Grid {
    size_t m, n, mr, nr;
    bool n_outer;
  };
  Grid grid() const;
  // x: NHWC input of shape.batch x in_h x in_w x in_c; y: NHWC output.
  void bind(const void* x, void* y);
  // Output rows [m0, m0 + mc), channels [n0, n0 + nc) of the bound tensors; m0 and n0
  // multiples of mr and nr, mc <= mr, nc <= nr. Tiles may run concurrently.
  void run_tile(size_t m0, size_t n0, size_t mc, size_t nc) const;
  // bind(), then every tile on the calling thread.
  void run(const void* x, void* y);
  // Bytes of packed weights, bias and requantization arrays (for edgeq bench).
  size_t packed_bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kern
}  // namespace edgeq
