// Graph validation: the meaning checks run on every graph the loader reads and every
// graph the importer writes. For each node: operand counts, dtypes, quantization
// parameters (scales > 0 and finite, zero points inside their dtype), attributes in
// range, and the stored output shapes equal to the ones derived from the inputs.
// For the graph: tensor indices in range, each tensor produced once, nodes in
// topological order (hence no cycles), inputs/outputs sensible. Every error names
// the node or tensor.
#pragma once

#include <vector>

#include "graph/ir.h"
#include "graph/status.h"

namespace edgeq {

Status validate_graph(const Graph& g);

// Derives the output shapes of node `n` from its input shapes and attributes.
// Ops whose output shape is given rather than derived (Reshape, Slice, Split) only
// check it. Used by validate_graph() and by the importer to fill shapes in.
Status infer_shapes(const Graph& g, const Node& n, std::vector<std::vector<int32_t>>* out_shapes);

}  // namespace edgeq
