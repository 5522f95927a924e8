// The float path of a build without XNNPACK (see float_xnn.h): no node is handled here,
// so every float node keeps its reference op.
#include "runtime/ops/float_xnn.h"

namespace edgeq {

bool xnn_float_available() { return false; }

Status prepare_xnn_float_op(const Graph&, const Node&, const OpContext&, std::unique_ptr<PreparedOp>* out) {
  out->reset();
  return Status::Ok();
}

}  // namespace edgeq
