// Unary float islands: a Dequantize of one quantized tensor x, then float elementwise
// functions of that one tensor (unary ops; Add / Sub / Mul / Div whose operands are
// island values or scalar constants, e.g. SiLU's x * sigmoid(x), GELU's erf form), then
// a Quantize. Such an island maps each of x's 256 byte values to one output byte, so it
// becomes one Lookup node whose table is the island evaluated in float32 on the 256
// dequantized inputs (the float reference kernels' arithmetic) and quantized with the
// Quantize's parameters. The ONNX importer (graph/onnx/ir_passes.cc) and the
// calibrator (quant/quantize_graph.cc) both call it. Part of the runtime library.
#pragma once

#include <cstdint>
#include <vector>

#include "graph/ir.h"
#include "graph/ir_util.h"
#include "kernels/ref/ref.h"

namespace edgeq {

// The reference function of a unary op (Relu, Clip, Sigmoid, ..., Mish); false for
// other ops.
bool unary_op_kind(OpType op, ref::UnaryOp* kind);

// Nodes marked dead by a rewrite have this op (ir_util.h's compute_uses skips them).
constexpr OpType kDeadOp = OpType::kCount;

// The island ending at float tensor `end`, without its Dequantize: its nodes in graph
// order, and its roots (the float tensors it reads that no island node produces,
// scalar constants aside). False when there is no island node before `end`, or an
// island value other than `end` is read outside the island or is a graph output.
bool find_unary_island(const Graph& g, const GraphUses& u, int32_t end, std::vector<int>* nodes,
                       std::vector<int32_t>* roots);

// When node `q` (a Quantize) ends a unary island, turns it into a Lookup of the
// island's quantized input (a new constant table tensor), marks the island's nodes
// that nothing else reads dead, and returns true. Needs at least one float node
// between the Dequantize and the Quantize, and x and the output of one 8-bit dtype,
// quantized per tensor.
bool fuse_unary_island(Graph* g, const GraphUses& u, int q);

}  // namespace edgeq
