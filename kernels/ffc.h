// A float fully connected layer with constant weights (Y = X * W^T + bias, clamped) on
// the level's float GEMM microkernel (kernels/fgemm.h).
//
// FFcPacked holds the weights W[n][k] packed once into the kernel's NR-wide panels
// P[k][NR] (zero beyond n), 64-byte aligned: the model's copy, shared by its sessions
// (runtime/pack_cache.h); it depends on the kernel's NR only. FFcOp runs a layer on it:
// for each block of MR rows of X (read in place with stride k) the kernel computes the
// block's tiles across every panel, then the epilogue adds the bias and applies
// [act_min, act_max] to the block's rows while they are in cache. The row blocks may
// be split over threads; each output's sum runs in k order inside one kernel call, so
// results never depend on the split. Numerics: the sum in float (FMA where the kernel
// has it) plus the bias, where ref::fully_connected_f32 sums in double; the clamp is the
// reference's (a NaN stays NaN), so NaN and infinities propagate as in the reference.
//
// The panels depend on NR only, so every kernel of one NR shares a layout, named
// ffc_layout_name(NR); a pre-packed file (graph/format.h) stores it per node for the
// levels it names (ffc_pack_nr: any level on any host) and FFcPacked::wrap() uses
// those bytes in place.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "kernels/fgemm.h"
#include "kernels/memory.h"

namespace edgeq {
namespace kern {

enum class Isa : uint8_t;

// Version of the panel layout a pre-packed file stores: bumped when the panels change.
constexpr uint32_t kFFcPackLayout = 1;
// The layout of panels NR floats wide: "f32_fc_panels_<NR>"; whether `name` is one.
std::string ffc_layout_name(uint32_t nr);
bool is_ffc_layout(const std::string& name);
// The NR of level `isa`'s float GEMM kernel, on any host (0: the level has none).
uint32_t ffc_pack_nr(Isa isa);

class FFcPacked {
 public:
  // Packs weight[n][k] into panels `nr` floats wide (a kernel's NR, on any host):
  // kDeclined (*out null) for nr 0 or an empty layer, kOutOfMemory when an allocation
  // fails.
  static InitResult pack(const float* weight, int32_t n, int32_t k, uint32_t nr, std::shared_ptr<const FFcPacked>* out);
  // Bytes of packed weights a layer takes for a kernel's NR.
  static size_t packed_bytes(int32_t n, int32_t k, uint32_t nr);
  // Writes the panels of weight[n][k] (packed_bytes() of them) to dst.
  static void write_panels(const float* weight, int32_t n, int32_t k, uint32_t nr, float* dst);
  // Panels packed ahead of time (a pre-packed file's segment, 64-byte aligned, alive as
  // long as *out), used in place: kDeclined as pack() declines, or when `nbytes` is not
  // packed_bytes() or the data is misaligned (the caller reports that).
  static InitResult wrap(const uint8_t* data, size_t nbytes, int32_t n, int32_t k, uint32_t nr,
                         std::shared_ptr<const FFcPacked>* out);

  const float* panels() const { return panels_; }
  // Bytes allocated (0 for wrapped panels).
  size_t heap_bytes() const { return data_ ? bytes_ : 0; }
  int32_t n() const { return n_; }
  int32_t k() const { return k_; }
  uint32_t nr() const { return nr_; }

 private:
  AlignedBuffer data_;  // null for wrapped panels
  const float* panels_ = nullptr;
  size_t bytes_ = 0;
  int32_t n_ = 0, k_ = 0;
  uint32_t nr_ = 0;
};

class FFcOp {
 public:
  // kDeclined when the kernel is null, m is 0 or `packed` was made for another NR or size.
  InitResult init(int32_t m, std::shared_ptr<const FFcPacked> packed, const FGemmKernel& kernel, const float* bias,
                  float act_min, float act_max);
  size_t row_blocks() const { return m_blocks_; }
  size_t row_block_rows() const { return kernel_.mr; }
  size_t panels() const { return panels_; }
  // Output elements of a run (to decide whether to split it).
  size_t elements() const { return static_cast<size_t>(m_) * static_cast<size_t>(packed_->n()); }
  // Blocks [begin, end) of rows of y = x * W^T + bias, clamped.
  void run_rows(const float* x, float* y, size_t begin, size_t end) const;
  // The columns of panels [p0, p1) of `rows` rows of y = a * W^T + bias, clamped, for a
  // driver that builds the rows itself (a convolution's windows): row i of a at
  // a + i * a_stride (k floats read), row i of y at y + i * y_stride. Panel by panel
  // over the rows' blocks, as run_rows(); the same sums whatever the split.
  void run_tile(const float* a, size_t a_stride, float* y, size_t y_stride, size_t rows, size_t p0,
                size_t p1) const;

 private:
  std::shared_ptr<const FFcPacked> packed_;
  FGemmKernel kernel_;
  const float* bias_ = nullptr;
  float act_min_ = 0.f, act_max_ = 0.f;
  bool clamp_ = false;
  int32_t m_ = 0;
  size_t m_blocks_ = 0, panels_ = 0;
};

}  // namespace kern
}  // namespace edgeq
