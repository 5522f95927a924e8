// Static memory planning: every intermediate tensor of a graph gets an offset in one
// arena, known before the first run.
//
// How: tensors that are views (Reshape outputs) are merged with their source into one
// buffer. Each buffer lives from the step that first writes it to the last step that
// reads it (graph inputs from the start, graph outputs to the end). Buffers are
// placed largest first, each at the lowest 64-byte-aligned offset that overlaps no
// already-placed buffer whose lifetime intersects its own (greedy by size, first fit).
// The arena ends with kArenaSlack bytes so kernels may read (never write) past a
// tensor's end: the GEMM kernels' 64 bytes past round_up(kc, kr) of a row (kernels.h),
// where a row may end up to kr - 1 bytes before round_up(kc, kr) (a window-row fold's
// last window, kernels/qconv.h), kr <= 64.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "graph/ir.h"

namespace edgeq {

constexpr size_t kArenaAlign = 64;
constexpr size_t kArenaSlack = 128;

struct BufferRequest {
  size_t size = 0;
  int32_t first = 0;  // first step (inclusive) the buffer must hold its value
  int32_t last = 0;   // last step (inclusive)
};

struct MemoryPlan {
  std::vector<size_t> offsets;  // per buffer
  size_t arena_size = 0;        // bytes, including kArenaSlack
  size_t naive_size = 0;        // sum of all buffers (each aligned)
  size_t lower_bound = 0;       // largest total of buffers alive at one step (aligned)
};

// Plans arbitrary buffers (the algorithm; exposed for tests).
MemoryPlan plan_buffers(const std::vector<BufferRequest>& requests);

struct GraphMemoryPlan {
  // For every tensor: the buffer holding it, or -1 for constants and for views of
  // constants (tensor_alias gives the constant they view).
  std::vector<int32_t> tensor_buffer;
  // For every node: the buffer of its workspace (memory it needs only while it runs),
  // or -1 for none.
  std::vector<int32_t> node_workspace;
  std::vector<int32_t> tensor_alias;  // view -> the tensor whose memory it shares, else itself
  std::vector<BufferRequest> buffers;
  MemoryPlan plan;
};

// Steps are node indices; graph inputs are alive from step 0, graph outputs to the
// last step, so nothing overwrites them. `workspace[i]` (optional; missing or 0: none)
// is the bytes node i needs while it runs and never after (a product's packed
// operand, a dynamic quantization's int8 copy): a buffer alive at step i only, so the
// workspaces of all nodes share the arena with each other and with the tensors.
GraphMemoryPlan plan_graph(const Graph& g, const std::vector<size_t>& workspace = {});

}  // namespace edgeq
