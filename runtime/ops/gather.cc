// Gather (embedding lookup) and Cast: the ops on integer index tensors.
#include "runtime/ops/common.h"

namespace edgeq {
namespace ops {

Status prepare_gather(const Graph&, const Node& n, const OpContext&, std::unique_ptr<PreparedOp>*) {
  return op_error(n, "Gather is not implemented yet");
}

Status prepare_cast(const Graph&, const Node& n, const OpContext&, std::unique_ptr<PreparedOp>*) {
  return op_error(n, "Cast is not implemented yet");
}

}  // namespace ops
}  // namespace edgeq
