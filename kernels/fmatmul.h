// The float product of two activations (the MatMul op on float tensors) on the level's
// float GEMM microkernel (kernels/fgemm.h), over ref::MatMulShape's broadcast batches.
//
// Per run: begin() binds the operands; pack_b over [0, b_parts()) copies each distinct
// B matrix (once, however many Y matrices share it through a broadcast) into NR-wide
// panels W[k][NR], zero beyond n; run_rows over [0, row_blocks()) computes, for each
// block of MR rows of each Y matrix, its tiles across every panel (A read in place with
// its row stride, the block's rows staying in cache across the panels). Both ranges may
// be split over threads (runtime/schedule.h); packing must end before the rows start.
// The tiles are fixed by the shape, and each output's sum runs in k order inside one
// kernel call, so results never depend on the split or the thread count. No K blocking:
// attention's k (a head's width, or the sequence length) fits the cache as a whole.
// Operands may lie in views (ref::MatMulViews: a Slice / Reshape / Transpose chain read
// or written in place): B with any strides (the packing gathers it), A and Y with
// contiguous rows (column step 1) at any row and batch steps.
// The packed panels of every B matrix live in a workspace the caller provides
// (workspace_bytes(), set_workspace(): a session plans it into its arena, alive at the
// node's step only, runtime/ops/ops.h); the op allocates nothing.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/fgemm.h"
#include "kernels/memory.h"
#include "kernels/ref/ref.h"

namespace edgeq {
namespace kern {

class FMatMulOp {
 public:
  // kDeclined when the kernel is null, the product is empty, or A's or Y's columns are
  // not contiguous in `views`.
  InitResult init(const ref::MatMulShape& s, const FGemmKernel& kernel);
  InitResult init(const ref::MatMulShape& s, const ref::MatMulViews& views, const FGemmKernel& kernel);
  // The packed panels' bytes, and where they go (64-byte aligned), before the first run.
  size_t workspace_bytes() const { return workspace_bytes_; }
  void set_workspace(uint8_t* workspace) { packed_ = reinterpret_cast<float*>(workspace); }

  void begin(const float* a, const float* b, float* y);
  size_t b_parts() const { return static_cast<size_t>(s_.b_batches) * panels_; }
  void pack_b(size_t begin, size_t end);
  size_t row_blocks() const { return static_cast<size_t>(s_.batches) * m_blocks_; }
  void run_rows(size_t begin, size_t end) const;
  // Output elements of a run (to decide whether to split it).
  size_t elements() const { return static_cast<size_t>(s_.batches) * s_.m * s_.n; }
  // begin() through run_rows(), serially.
  void run(const float* a, const float* b, float* y);

 private:
  ref::MatMulShape s_;
  ref::MatMulViews v_;
  FGemmKernel kernel_;
  size_t panels_ = 0, m_blocks_ = 0, panel_floats_ = 0;
  size_t workspace_bytes_ = 0;
  float* packed_ = nullptr;
  const float *a_ = nullptr, *b_ = nullptr;
  float* y_ = nullptr;
};

}  // namespace kern
}  // namespace edgeq
