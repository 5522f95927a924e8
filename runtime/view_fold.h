// The view fold: float MatMuls read their operands and write their result in place
// through strides, instead of after (or before) copies by Slice, Reshape and Transpose.
//
// Attention as PyTorch and Hugging Face export it moves every head's data twice around
// each product: Q, K and V are sliced out of the fused projection, reshaped to heads
// and transposed to [heads, tokens, width] (K to [heads, width, tokens]), and the
// product's result is transposed back before the output projection. Each of those
// nodes copies a whole activation; none computes anything. Here, at model load, a chain
// of such nodes between a tensor and a float MatMul operand (or between the MatMul's
// result and a tensor) becomes a strided view (ref::MatMulViews) on the MatMul itself,
// when
//   * every tensor inside the chain is read by the next node only (not a graph output),
//   * each step keeps a strided view: a Slice with positive steps, any Transpose, and a
//     Reshape that splits or merges dimensions whose steps allow it (numpy's rule for a
//     reshape without a copy),
//   * A's and the result's rows stay contiguous (the float GEMM reads A's rows and
//     writes the result's rows whole); B may take any steps, as it is packed per run.
// Of a chain that does not fold whole, the longest foldable part next to the MatMul
// folds. The folded nodes become no-ops (OpType::kCount with no inputs or outputs), so
// node indices, and with them pre-packed weights, the pack cache and profiles, stay
// those of the file. Results are bit for bit those of the unfolded graph: the same sums
// in the same order, only read from and written to other addresses.
// The same copy also turns every float Div by a power of two (1 / sqrt(64) = 1/8) into
// a Mul by its reciprocal: both round the same real value, and a multiply is cheaper.
#pragma once

#include <memory>

#include "graph/ir.h"

namespace edgeq {

// A copy of `g` with every foldable chain folded, or null when nothing folds.
std::shared_ptr<const Graph> fold_matmul_views(const Graph& g);

}  // namespace edgeq
