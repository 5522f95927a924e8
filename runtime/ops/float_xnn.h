// The float execution path on XNNPACK's f32 operators.
//
// edgeq runs every op in float32 for calibration and for float islands in mixed-precision
// models. Where XNNPACK has an f32 operator with the same semantics as the reference op
// (kernels/ref/), a float node is prepared on it: the operator is created once (weights
// packed at creation), bound to the tensors' memory with xnn_setup_* (again only when the
// pointers a run receives differ from the last ones) and run with xnn_run_operator on the
// session's thread pool. Everything else keeps the reference op.
//
// Built with XNNPACK only when CMake found it (EDGEQ_HAVE_XNNPACK); otherwise
// runtime/ops/float_xnn_none.cc answers "not handled" for every node. Setting the environment
// variable EDGEQ_XNNPACK=0 also turns the path off (to compare with the reference).
#pragma once

#include <memory>

#include "graph/ir.h"
#include "graph/status.h"
#include "runtime/ops/ops.h"

namespace edgeq {

// True when this build has XNNPACK, it initialized on this CPU and EDGEQ_XNNPACK is not "0".
bool xnn_float_available();

// Prepares float node `n` of validated graph `g` on XNNPACK. Ok with *out set when XNNPACK
// handles the node; Ok with *out null when it does not (a quantized node, an op or an
// attribute XNNPACK lacks or computes differently, non-constant weights): the caller
// then prepares the reference op. An error only for a real failure (out of memory).
Status prepare_xnn_float_op(const Graph& g, const Node& n, const OpContext& ctx, std::unique_ptr<PreparedOp>* out);

}  // namespace edgeq
