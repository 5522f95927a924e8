// MatMul: the batched product of two activations (attention's QK^T and scores x V).
#include "runtime/ops/common.h"

namespace edgeq {
namespace ops {

Status prepare_matmul(const Graph&, const Node& n, const OpContext&, std::unique_ptr<PreparedOp>*) {
  return op_error(n, "MatMul of two activations is not implemented yet");
}

}  // namespace ops
}  // namespace edgeq
