// The executor's op layer: turns a validated graph node into a prepared op that a
// session runs. Preparing computes everything a kernel needs once (requantization
// multipliers per channel, output clamp ranges, lookup tables, broadcast strides)
// and rejects what the kernels cannot do, naming the node. Running only calls
// kernels: no allocation, no checks, no error paths.
//
// One file per family prepares its ops (gemm.cc: convolution and fully connected;
// depthwise.cc; elementwise.cc: binary ops, unary tables, softmax; pool.cc;
// movement.cc; quantize.cc; float_xnn.cc: float nodes on XNNPACK). registry.cc maps
// every op to its family's prepare_<Prepare>() through the op table
// (graph/op_table.h): explicit registration, no static constructors. Work is split
// over threads only through the session's Scheduler (runtime/schedule.h).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "graph/ir.h"
#include "graph/status.h"
#include "kernels/kernels.h"
#include "runtime/schedule.h"

namespace edgeq {

class PreparedOp {
 public:
  virtual ~PreparedOp() = default;
  // `ptrs[i]` is the memory of tensor i (arena, constant data or a view).
  virtual void run(uint8_t* const* ptrs) = 0;
  // Bytes the op allocated at preparation for itself (tables, indirection buffers),
  // not counting packed weights it shares with the model's other sessions.
  virtual size_t packed_bytes() const { return 0; }
  // Memory the op needs only while it runs (a product's packed run-time operand): the
  // session plans it into its arena, alive at this node's step only, and hands it over
  // with set_workspace() before the first run (64-byte aligned; its contents are
  // whatever the previous user left). Ops own no such memory themselves, so a session
  // holds one arena's worth however many nodes need it.
  virtual size_t workspace_bytes() const { return 0; }
  virtual void set_workspace(uint8_t* /*workspace*/) {}
  // Name of the optimized kernel the op runs, or "ref".
  virtual const char* kernel_name() const { return "ref"; }
  // False when the op's kernel does not propagate NaN and infinities as IEEE float
  // arithmetic does (XNNPACK's output clamps turn NaN into a bound): the session then
  // runs the node's reference op on inputs that are not all finite (session.h).
  virtual bool propagates_nonfinite() const { return true; }
  // Run-time validation, for the few ops whose inputs can be wrong in ways preparing
  // cannot see (Gather's indices, which come from the user or another op): an op that
  // returns true from checks_inputs() has check() called by the session just before
  // each run() (its inputs computed by then), and the run stops with its error, which
  // names the tensor. Other ops pay nothing.
  virtual bool checks_inputs() const { return false; }
  virtual Status check(const uint8_t* const* /*ptrs*/) const { return Status::Ok(); }
};

class PackCache;

// What a session gives every op it prepares; all outlive the op.
struct OpContext {
  const kern::KernelSet* kernels = &kern::kernel_set(kern::Isa::kRef);  // the session's ISA level
  const Scheduler* scheduler = &kSerial;     // splits work over the session's threads
  // The model's packed weights, shared by its sessions (runtime/pack_cache.h); null:
  // the op packs its own.
  PackCache* cache = nullptr;

  static const Scheduler kSerial;            // runs everything on the calling thread
};

// The weights of every node of `g` that the GEMM engine of `layout` takes, packed for
// it (a pre-packed file: graph/ir.h, PackedWeights), appended to *out. Of a level's exact
// layout and its layout for weights in [-127, 127], each node goes to the one the run
// time picks for it (kern::gemm_layout_takes). `layout` needs
// the packing parameters and names only (kern::gemm_pack_layouts gives those of any
// level, so the host packs for ARM).
Status prepack_gemm(const Graph& g, const kern::QGemmKernel& layout, std::vector<PackedWeights>* out);

// The weights of every node of `g` that runs on kern::QMatMulOp with constant weights
// (dynamically quantized FullyConnected and Conv2D, int8 FullyConnected with a float
// output) and that `layout` takes, packed for it with their column sums
// (kern::QMatMulPacked, named kern::qmatmul_layout_name), appended to *out; `layout`
// as for prepack_gemm (runtime/ops/gemm.cc).
Status prepack_qmatmul(const Graph& g, const kern::QGemmKernel& layout, std::vector<PackedWeights>* out);

// The weights of every depthwise node of `g` that level `isa`'s depthwise engine
// takes, packed for the layout it picks for the node (kern::dw_pack_layouts: any
// level on any host), appended to *out.
Status prepack_depthwise(const Graph& g, kern::Isa isa, std::vector<PackedWeights>* out);

// The weights of every float FullyConnected node of `g` with constant weights, and of
// every float Conv2D of one group, packed into the panels of level `isa`'s float GEMM
// (kern::ffc_pack_nr: any level on any host), appended to *out
// (runtime/ops/float_fc.cc).
Status prepack_float_fc(const Graph& g, kern::Isa isa, std::vector<PackedWeights>* out);

// The weights and bias of every float depthwise Conv2D of `g` with constant weights,
// in kern::FDwPacked's layout (one for every level), appended to *out
// (runtime/ops/float_dw.cc).
Status prepack_float_dw(const Graph& g, std::vector<PackedWeights>* out);

// Prepares node `n` of validated graph `g`.
Status prepare_op(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out);

// The output clamp of a quantized op: the folded activation range [act_min, act_max]
// in real units mapped into y's quantized domain and intersected with its dtype.
void quantized_output_range(const Tensor& y, float act_min, float act_max, int32_t* qmin, int32_t* qmax);

}  // namespace edgeq
