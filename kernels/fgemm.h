// Contract of the float GEMM microkernels: MatMul of two float activations (attention's
// QK^T and scores x V), driven by kern::FMatMulOp (kernels/fmatmul.h), and float fully
// connected layers with constant weights, driven by kern::FFcOp (kernels/ffc.h).
//
// A kernel computes one mr x nc tile (mr <= MR rows, nc <= NR columns) of C = A * W,
// summing the k terms of every output in order from 0, one multiply-add per term:
//   C[i][j] = (...((0 + A[i][0] * W[0][j]) + A[i][1] * W[1][j]) + ...) + A[i][kc-1] * W[kc-1][j]
// with a fused multiply-add (one rounding per term) on ISAs that have one, else a
// multiply and an add (then it equals ref::matmul_f32 bit for bit, flush-to-zero aside
// on ARMv7 NEON). No min/max or other trick: NaN and infinities propagate as in the
// reference. The order per output never depends on the tile or thread a output falls in.
//   a: row i of the tile at a + i * a_stride floats; exactly kc floats of each of the mr
//      rows are read (rows i >= mr are not read: the kernel repeats row mr - 1).
//   w: one packed panel of B, W[kc][NR] (NR consecutive floats per k), 64-byte aligned,
//      zero in the columns >= nc (those are read, never stored).
//   c: row i of the tile at c + i * c_stride floats; exactly nc floats of each of the mr
//      rows are written.
// kc may be 0 (the tile is then zeros).
#pragma once

#include <cstddef>
#include <cstdint>

namespace edgeq {
namespace kern {

using FGemmUkernel = void (*)(size_t mr, size_t nc, size_t kc, const float* a, size_t a_stride, const float* w,
                              float* c, size_t c_stride);

struct FGemmKernel {
  // By kernels.h's rule: f32_gemm_ukernel_<MR>x<NR>__<isa>, e.g. f32_gemm_ukernel_6x16__fma3.
  const char* name = nullptr;
  uint32_t mr = 0, nr = 0;
  FGemmUkernel fn = nullptr;  // null: the level has none (ref::matmul_f32 runs)
  // Optional: the same contract for nc <= NR / 2 only (a last, narrow panel: the upper
  // half of its columns is zero and neither multiplied nor stored). Null: fn.
  FGemmUkernel fn_half = nullptr;
  // The function for a panel of `cols` columns: fn_half where it takes them, else fn.
  FGemmUkernel for_columns(size_t cols) const { return cols <= nr / 2 && fn_half != nullptr ? fn_half : fn; }
};

}  // namespace kern
}  // namespace edgeq
