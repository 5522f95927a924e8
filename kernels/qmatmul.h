// Products whose right operand changes at run time, on the level's int8 GEMM
// microkernels (kernels.h QIgemmUkernel, ks = 1): MatMul of two activations, quantized
// or dynamically quantized (ref::qmatmul, ref::dynamic_matmul), and the dynamically
// quantized fully connected layer (ref::dynamic_fully_connected and its per-tensor
// sibling), all bit-exact with the reference.
//
// The kernels multiply activations (uint8 or int8, any zero point, folded into the
// packed bias) by int8 weights of zero point 0, so the right operand is packed per run
// (per B matrix, once for a broadcast B) as w = b - o with o the offset that puts the
// whole type in int8 (128 for uint8, 0 for int8). What that leaves out,
//   sum_k (a - za)(b - zb) = sum_k (a - za) w + d sum_k (a - za),   d = o - zb,
// is a per-ROW term, which a per-column epilogue cannot add. Two ways, chosen per B
// matrix at packing time:
//  * direct: every b - zb of the matrix fits int8 (zb = o, or values away from the
//    far end of the type: the common case of activations around their zero point).
//    Then w = b - zb, d = 0, and the kernel's own requantizing epilogue writes Y.
//  * int32: the kernel stores raw accumulators (QuantEpilogue::int32_output) into a
//    tile on the stack; the driver adds d * (rowsum_i(a) - k * za), precomputed once
//    per A row, then requantizes (or scales to float) in scalar code.
// Changing every microkernel's epilogue for a per-row term would cost every
// convolution a load and an add per tile row; the int32 tile costs only these products.
// The float-output mode 0 (y_f32) takes the int32 way too, with d = 0 whenever every
// b - zb fits int8 (no row term then), and scales the tile to float like the dynamic
// modes. The dynamic modes always take the int32 way (their output is float): per-row zero
// points z_i of A enter as -z_i * colsum_j(w), colsum from packing.
//
// Per run: begin() (serial: binds, and mode 1's tensor-wide ranges), then pack_b over
// [0, b_parts()), prepare_a over [0, a_rows()), run_tiles over [0, tiles()): each range
// may be split over threads (runtime/schedule.h) and each phase must end before the
// next starts. Scratch is allocated by init() (or, what a run rewrites, is the caller's
// workspace), none per run.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/memory.h"

namespace edgeq {
namespace kern {

struct QMatMulParams {
  ref::MatMulShape shape;
  // 0: quantized (A, B, Y int8/uint8 per tensor); 1: ONNX DynamicQuantizeLinear per
  // tensor; 2: per row of A and per column of B (a fully connected layer: per row).
  int mode = 0;
  // mode 0
  bool a_s8 = false, b_s8 = false, y_s8 = false;
  int32_t a_zero_point = 0, b_zero_point = 0;
  ref::Requant rq;  // per tensor (unused when y_f32)
  // mode 0 with a float Y (ref::qmatmul_float, ref::qfully_connected_float): the int32
  // sum times a_scale * b_scale (a fully connected layer: a_scale * weight_scale[c], then
  // + bias, then the clamp).
  bool y_f32 = false;
  // The memory a run rewrites comes from the caller (workspace_bytes(), set_workspace():
  // a session's arena) instead of init()'s allocations.
  bool external_workspace = false;
  float a_scale = 1.f, b_scale = 1.f;
  // A fully connected layer (dynamic modes, or mode 0 with y_f32): the constant weights
  // w[n][k] (zero point 0) packed once; shape is then m x k by k x n with one batch.
  const int8_t* weight = nullptr;
  // Mode 1 only: the weights' zero point (ONNX Runtime's asymmetric weights), one for the
  // tensor, or with weight_zero_points one per column (n values, weight_zero_point then
  // unused); other modes decline non-zero ones. One for the tensor is the tiles' row term;
  // zero points per column correct the int32 tile before its finish.
  int32_t weight_zero_point = 0;
  const int32_t* weight_zero_points = nullptr;
  const float* weight_scale = nullptr;
  bool per_channel = false;
  const float* bias = nullptr;
  float act_min = -INFINITY, act_max = INFINITY;
  // Mode 1 fully connected layer whose A arrives quantized (a dynamically quantized
  // convolution's im2col rows, kernels/ref dynamic_conv2d): begin() takes uint8 rows of
  // k bytes (readable for round_up(k, kr) + 64 past each row's start) and the
  // parameters of set_a_quantization(); no range scan and no quantized copy here.
  bool a_prequantized = false;
  // Dynamic modes: the level's float -> uint8 quantize kernel (MiscKernels::quantize_u8,
  // bit-exact with ref::quantize), or null for a scalar loop.
  QuantizeFn<uint8_t> quantize_u8 = nullptr;
};

// A fully connected layer's constant weights packed for one kernel layout (NR-column
// blocks, qmatmul.cc) with their column sums: immutable once made, so every op built
// from it (the sessions of one model, runtime/pack_cache.h) shares the bytes. They
// depend on the layout (mr/nr/kr/wide of the kernel), on the weights and on the
// offset folded into the packed bias, a_offset(params, kernel): A's zero point plus
// the kernel's act offset in the float-output mode 0, the act offset alone in the
// dynamic modes.
//
// The packed blocks are followed by the n column sums (uint32): those bytes together are
// what a pre-packed file stores (segment_bytes(), layout version kQMatMulPackLayout,
// under the name qmatmul_layout_name()), used in place by from_segment().
// Version of QMatMulPacked's segment layout (below): a pre-packed file records it, and a
// segment of another version is packed again at run time.
constexpr uint32_t kQMatMulPackLayout = 1;

// The name a fully connected layer's QMatMulPacked is stored and cached under: the
// kernel's name and the offset folded into the packed bias, "qmatmul/<kernel>/<offset>".
std::string qmatmul_layout_name(const char* kernel, uint32_t a_offset);
// "qmatmul/<kernel>/": what every such name of the kernel starts with.
std::string qmatmul_layout_prefix(const char* kernel);
bool is_qmatmul_layout(const std::string& name);

class QMatMulPacked {
 public:
  // kDeclined when QMatMulOp::init() would decline the (fully connected) params with
  // this kernel; kOutOfMemory.
  static InitResult pack_weights(const QMatMulParams& params, const QGemmKernel& kernel,
                                 std::shared_ptr<const QMatMulPacked>* out);
  // The same bytes for a layout's packing parameters alone (its functions may be null:
  // kern::gemm_pack_layouts gives any level's), for a pre-packed file; such a packing
  // is for segment_data() only, never for an op.
  static InitResult pack_layout(const QMatMulParams& params, const QGemmKernel& layout,
                                std::shared_ptr<const QMatMulPacked>* out);
  // Pre-packed bytes (64-byte aligned, living as long as the result) used in place:
  // kDeclined when the kernel declines the params, or the bytes are misaligned or not
  // segment_bytes() long.
  static InitResult from_segment(const QMatMulParams& params, const QGemmKernel& kernel, const uint8_t* data,
                                 size_t nbytes, std::shared_ptr<const QMatMulPacked>* out);
  // The size of the segment of these params for this layout (0: the layout declines them).
  static size_t segment_bytes(const QMatMulParams& params, const QGemmKernel& layout);
  // The offset the packed bias folds in (above).
  static uint32_t a_offset(const QMatMulParams& params, const QGemmKernel& kernel);

  // Heap bytes this object holds (none for a segment used in place).
  size_t heap_bytes() const { return data_ ? segment_size_ : 0; }
  const uint8_t* weights() const { return base_; }
  const uint32_t* colsum() const { return reinterpret_cast<const uint32_t*>(base_ + bytes_); }
  // The segment: weights() then colsum(), segment_size() bytes.
  const uint8_t* segment_data() const { return base_; }
  size_t segment_size() const { return segment_size_; }

 private:
  friend class QMatMulOp;
  static InitResult make(const QMatMulParams& params, const QGemmKernel& layout, const void* ukernel,
                         const uint8_t* segment, size_t segment_nbytes, std::shared_ptr<const QMatMulPacked>* out);
  AlignedBuffer data_;      // packed here, or null (a segment in place)
  const uint8_t* base_ = nullptr;
  size_t bytes_ = 0;         // the packed blocks; the column sums follow
  size_t segment_size_ = 0;
  // What the bytes were made for, checked by QMatMulOp::init().
  const void* ukernel_ = nullptr;
  uint32_t a_offset_ = 0;
  int32_t k_ = 0, n_ = 0;
};

class QMatMulOp {
 public:
  QMatMulOp();
  ~QMatMulOp();
  QMatMulOp(const QMatMulOp&) = delete;
  QMatMulOp& operator=(const QMatMulOp&) = delete;

  // kDeclined when the kernel lacks int32_output or the shape is empty; kOutOfMemory.
  // A fully connected layer (QMatMulParams::weight set) takes its packed weights from
  // `packed` (made by QMatMulPacked::pack_weights for the same params and kernel,
  // shared, never written) or, when null, packs its own copy.
  InitResult init(const QMatMulParams& p, const QGemmKernel& kernel,
                  std::shared_ptr<const QMatMulPacked> packed = nullptr);

  // Binds one run's operands (b ignored for a fully connected layer).
  void begin(const void* a, const void* b, void* y);
  size_t b_parts() const;
  void pack_b(size_t begin, size_t end);
  size_t a_rows() const;
  void prepare_a(size_t begin, size_t end);
  size_t tiles() const;
  void run_tiles(size_t begin, size_t end) const;
  // Output elements of a run (to decide whether to split it).
  size_t elements() const;
  // With QMatMulParams::a_prequantized: the scale and zero point of the next begin()'s A
  // (finite, as ref::dynamic_uint8_params gives them).
  void set_a_quantization(float scale, int32_t zero_point);
  // begin() through run_tiles(), serially.
  void run(const void* a, const void* b, void* y);

  // Bytes init() allocated for this op (not the shared packed weights it was given).
  size_t scratch_bytes() const;
  // With QMatMulParams::external_workspace: the bytes of memory a run rewrites (a
  // run-time B packed, the dynamic modes' quantized copies), which the caller provides
  // with set_workspace() before the first begin() (64-byte aligned; it may hold
  // anything between runs). 0 otherwise: init() allocated them.
  size_t workspace_bytes() const;
  void set_workspace(uint8_t* workspace);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kern
}  // namespace edgeq
