// LayerNorm over the last axis, float and quantized.
#include "runtime/ops/common.h"

namespace edgeq {
namespace ops {

Status prepare_layer_norm(const Graph&, const Node& n, const OpContext&, std::unique_ptr<PreparedOp>*) {
  return op_error(n, "LayerNorm is not implemented yet");
}

}  // namespace ops
}  // namespace edgeq
