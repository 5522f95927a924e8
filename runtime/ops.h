// The executor's op layer: turns a validated graph node into a prepared op that a
// session runs. Preparing computes everything a kernel needs once (requantization
// multipliers per channel, output clamp ranges, lookup tables, broadcast strides)
// and rejects what the kernels cannot do, naming the node. Running only calls
// kernels: no allocation, no checks, no error paths.
//
// Ops are registered explicitly in one table in ops.cc (no static constructors).
#pragma once

#include <pthreadpool.h>

#include <cstdint>
#include <memory>

#include "graph/ir.h"
#include "graph/status.h"
#include "kernels/kernels.h"

namespace edgeq {

class PreparedOp {
 public:
  virtual ~PreparedOp() = default;
  // `ptrs[i]` is the memory of tensor i (arena, constant data or a view).
  virtual void run(uint8_t* const* ptrs) = 0;
  // Bytes the op allocated at preparation (packed weights, tables, indirection).
  virtual size_t packed_bytes() const { return 0; }
  // Name of the optimized kernel the op runs, or "ref".
  virtual const char* kernel_name() const { return "ref"; }
};

// What a session gives every op it prepares; both outlive the op.
struct OpContext {
  const kern::KernelSet* kernels = &kern::kernel_set(kern::Isa::kRef);  // the session's ISA level
  pthreadpool_t pool = nullptr;              // null: run on the calling thread
};

// Prepares node `n` of validated graph `g`.
Status prepare_op(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out);

// The output clamp of a quantized op: the folded activation range [act_min, act_max]
// in real units mapped into y's quantized domain and intersected with its dtype.
void quantized_output_range(const Tensor& y, float act_min, float act_max, int32_t* qmin, int32_t* qmax);

}  // namespace edgeq
