// Quantized convolution and fully connected on an optimized indirect-GEMM kernel.
//
// Two objects: QConvPacked, the immutable data of one node for one kernel layout (the
// weights packed with the zero-point correction folded into the bias, the
// requantization parameters expanded to padded per-channel arrays, the zero buffer),
// built once and shared by every session of a model on any thread (the model owns it,
// runtime/pack_cache.h), or read in place from a pre-packed file; and QConvOp, one
// session's state over it (the bound pointers and a table of taps x mr offsets; no
// indirection buffer: each tile's pointers are built on the stack of the task that
// runs it). Per inference, bind(), then run_tile()
// over grid(). The driver has no threads: runtime/schedule.h spreads the tiles over a
// pool; run() is the serial equivalent.
//
// A fully connected layer is a 1x1 convolution over m "pixels": batch 1, in_h 1,
// in_w m, in_c k, out_c n.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/gemm_blocking.h"
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

// Version of the packed weight layout below (qconv.cc): a pre-packed file records it,
// and a file packed with another version is packed again at run time. Version 2:
// convolutions whose stride equals their width are packed with the window's columns
// folded into the channels (fold_window_columns). Version 3: convolutions over at most
// kr channels are packed with their window rows folded (fold_window_rows).
constexpr uint32_t kQConvPackLayout = 3;

// A tile's pointers (taps x the kernel's MR) live on the stack of the task that runs
// it: layers of more taps than kQConvMaxTilePointers / MR are declined.
constexpr size_t kQConvMaxTilePointers = 8192;

// The same convolution with the window's kernel_w columns folded into the channels when
// that is exact: stride_w == kernel_w, dilation_w 1, no left or right padding, in_w a
// multiple of kernel_w and one group (ViT's patch embedding, 16x16 stride 16 on 3
// channels, becomes 16x1 on 48 channels: 16 taps instead of 256). A window's kernel_w
// columns are then kernel_w * in_c consecutive input bytes, and the weights
// [out_c][kernel_h][kernel_w][in_c] are the same bytes as [out_c][kernel_h][1][kernel_w
// * in_c]. Any other shape is returned unchanged.
ref::ConvShape fold_window_columns(const ref::ConvShape& s);

// The window-row fold, for convolutions over few channels (in_c <= the kernel's kr: a
// tap is then a single k step of the kernel, whose MR pointer loads cost as much as its
// multiply-adds; image stems, such as ResNet's 7x7 stride 2 on 3 channels) with one
// group, kernel_w >= kRowFoldMinWidth and dilation_w 1, which fold_window_columns leaves
// as they are. A
// window's row inside the input is kernel_w * in_c consecutive input bytes, so the
// convolution runs as kernel_h taps of kernel_w * in_c channels: the "pixels" of the
// folded shape are the windows, pixel x at x * stride_w - pad_left input columns. The
// windows that cross the left or right edge (a few per row) are assembled with the zero
// point into an edge buffer by QConvOp::bind. The weights [out_c][kernel_h][kernel_w]
// [in_c] are the same bytes as [out_c][kernel_h][1][kernel_w * in_c], and the sums the
// same integers: the outputs do not change.
// Narrower windows are not folded: on 3x3 stems (MobileNetV2, EfficientNet-B0) the
// fold's kernel gain (126 -> 106 us at avx512vnni) was lost at two threads, the serial
// edge assembly reading lines of the input the other core had just written.
constexpr int32_t kRowFoldMinWidth = 5;
struct WindowRowFold {
  bool active = false;
  ref::ConvShape source{};  // the convolution as given
  // The folded convolution: kernel_w 1, in_c kernel_w * in_c, stride_w 1, no left
  // padding, in_w = out_w (one pixel per window).
  ref::ConvShape shape{};
  // Windows [inside_begin, inside_end) of a row lie inside the input; the others
  // (edge_windows per input row) come from the edge buffer.
  size_t inside_begin = 0, inside_end = 0, edge_windows = 0;
};
WindowRowFold fold_window_rows(const ref::ConvShape& s, size_t kr);

// The packed, immutable data of one convolution for one kernel layout: what depends
// only on the node and on the kernel's nr, kr, wide_weights and activation offset.
// Thread-safe to share once init() returned.
class QConvPacked {
 public:
  QConvPacked();
  ~QConvPacked();
  QConvPacked(const QConvPacked&) = delete;
  QConvPacked& operator=(const QConvPacked&) = delete;

  // Packs `params` for `kernel`'s layout (its function pointers are not needed, so a
  // layout of another architecture packs too: pack_layout.h). `prepacked`, when not
  // null, is the weight blocks packed earlier (pre-packed file, 64-byte aligned, living
  // as long as this object): used in place when it holds exactly weight_bytes(), else
  // kBadSize. kDeclined when the kernel cannot run these parameters (then the caller
  // keeps the reference kernel): input zero points outside the type with padding,
  // kernels of more than 4096 / mr taps, unsupported requantization;
  // kOutOfMemory when a buffer cannot be allocated.
  enum Result { kReady, kDeclined, kOutOfMemory, kBadSize };
  Result init(const QConvParams& params, const QGemmKernel& kernel, const uint8_t* prepacked = nullptr,
              size_t prepacked_bytes = 0);
  // The packed weight blocks (the part a pre-packed file stores) and their size.
  const uint8_t* weights() const;
  size_t weight_bytes() const;
  // Heap bytes this object holds (weights packed here, requantization arrays, zero
  // buffer; not weights used in place).
  size_t heap_bytes() const;

 private:
  friend class QConvOp;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class QConvOp {
 public:
  QConvOp();
  ~QConvOp();
  QConvOp(const QConvOp&) = delete;
  QConvOp& operator=(const QConvOp&) = delete;

  // Packs its own weights, then as below. kDeclined when `kernel` cannot run these
  // parameters (then the caller keeps the reference kernel): a kernel without the
  // activation type, or as QConvPacked::init; kOutOfMemory when the packed buffers
  // cannot be allocated.
  // `caches`: the cache sizes the blocking derives from (kernels/gemm_blocking.h);
  // null: the host's when blocking_enabled(), else no blocking.
  InitResult init(const QConvParams& params, const QGemmKernel& kernel, const CacheSizes* caches = nullptr);
  // Runs on weights packed for `kernel`'s layout (shared with other ops); allocates
  // the tile offsets table (taps x mr). kDeclined when `kernel` lacks the activation
  // type or has another layout; kOutOfMemory.
  // `shape` and `act_s8` those `packed` was built from.
  InitResult init(std::shared_ptr<const QConvPacked> packed, const ref::ConvShape& shape, bool act_s8,
                  const QGemmKernel& kernel, const CacheSizes* caches = nullptr);
  // The output as a grid of tiles: m rows (pixels) by n columns (channels) in tiles of
  // mr x nr. n_outer: the channel blocks should be the outer loop (the weights are the
  // larger operand), one tile a task; else the pixel tiles, a task running one pixel
  // tile over all n columns (its pointers built once for all of them).
  // m_step: rows of a task, mr, or a group of pixel tiles on a blocked layer
  // (kernels/gemm_blocking.h; then n_outer, one channel block a task).
  struct Grid {
    size_t m, n, mr, nr;
    bool n_outer;
    size_t m_step;
  };
  Grid grid() const;
  // x: NHWC input of shape.batch x in_h x in_w x in_c; y: NHWC output.
  void bind(const void* x, void* y);
  // Output rows [m0, m0 + mc), columns [n0, n0 + nc) of the bound tensors; m0 and n0
  // multiples of grid().m_step and nr, mc <= m_step, n0 + nc <= grid().n (any number
  // of nr-column blocks). Tiles may run concurrently.
  void run_tile(size_t m0, size_t n0, size_t mc, size_t nc) const;
  // bind(), then every tile on the calling thread, in the scheduler's order.
  void run(const void* x, void* y);
  // Bytes of a buffer for the input flipped once (0: the op does not flip). A kernel that
  // flips its activations' sign bit for every multiply (int8 activations on AVX512-VNNI
  // and AMX, uint8 on NEON and dotprod) is replaced, when the caller hands such a buffer
  // over, by the other type's kernel on the input copied with every byte xor 0x80 (and
  // the zero point flipped alike): the same sums, bit for bit, without the flips. Without
  // a buffer the op runs its own kernel. The buffer (64-byte aligned, read up to 64
  // bytes past its end like any input) must stay valid while the op runs.
  size_t flip_bytes() const;
  void set_flip_buffer(void* buffer);
  // Bytes of packed weights, bias and requantization arrays (for edgeq bench);
  // own_bytes(): what this op adds to the data it shares (the offsets table).
  size_t packed_bytes() const;
  size_t own_bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kern
}  // namespace edgeq
