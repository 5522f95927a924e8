// Float graph -> int8 graph, given the activation ranges calibration measured.
//
// quantize_graph() rewrites a validated float graph (BatchNorm already folded, ReLU /
// ReLU6 / Clip already folded into their producers' act_min/act_max by the importer)
// into the graph the int8 kernels run:
//  * every activation tensor of a quantized node gets the activation dtype (int8 or
//    uint8) and the qparams computed from its observed range; ops that only move or
//    select values (max pool, reshape, transpose, split, slice, pad, nearest resize)
//    give their output the input's qparams, so no requantization is needed;
//  * Conv2D / FullyConnected weights become int8, symmetric, narrow range [-127, 127]
//    (the kernels rely on it), per output channel (axis 0) or per tensor; biases become
//    int32 with scale s_in * s_w[c] and zero point 0;
//  * nodes listed in `float_nodes` stay in float: Dequantize is inserted on their
//    quantized inputs and Quantize on outputs that quantized nodes consume, so a float
//    island runs on the float path between int8 neighbours;
//  * graph inputs and outputs take the domain of the nodes that use or produce them.
// Concat and binary ops take inputs with different scales: their kernels requantize
// each input to the output's parameters. Their float constant inputs (a position
// embedding, a class token, a scale) are quantized per tensor over their own min/max.
//
// Transformer ops:
//  * MatMul: both operands activations, per tensor in the activation dtype (a constant
//    operand is quantized per tensor over its own min/max);
//  * Gather: the constant table is quantized per tensor over its own min/max and the
//    output keeps the table's qparams; the integer indices are left as they are, as
//    is every integer tensor (Cast, a conversion, stays in its own domain);
//  * by default LayerNorm, Softmax, Gelu and Erf stay float, as ONNX Runtime's QDQ
//    quantization leaves them: float islands between the int8 GEMMs. Elementwise
//    Add / Sub / Mul / Div join an island when an activation input comes from it or
//    a reader of their output is in it (the residual Adds around a LayerNorm, the
//    scale and mask of the attention scores before Softmax, a GELU written out with
//    Erf), so the residual stream and the island's arithmetic stay float.
//    `full_int8` runs every quantizable op in int8 instead (LayerNorm, Softmax, GELU
//    as a table, residual Adds): a fully int8 encoder.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "graph/ir.h"
#include "graph/status.h"

namespace edgeq {
namespace quant {

// How a dynamically quantized GEMM quantizes its float activations at run time
// (graph/op_table.h, Attrs::dynamic): kRow: each row of A (and each column of B of a
// MatMul) its own scale, edgeq's accurate mode (FullyConnected 0, MatMul 2); kTensor:
// ONNX Runtime's DynamicQuantizeLinear, uint8 per tensor (1), bit-compatible with ORT.
enum class DynamicMode { kRow, kTensor };

// "row" / "tensor"; parse_dynamic_mode returns false for any other name.
const char* dynamic_mode_name(DynamicMode m);
bool parse_dynamic_mode(const std::string& name, DynamicMode* out);

struct GraphQuantOptions {
  DType act_dtype = DType::kU8;  // activations: kU8 or kS8
  bool per_channel_weights = true;
  RequantScheme requant = RequantScheme::kFp32;
  std::vector<bool> float_nodes;  // per node index: keep in float (empty: none)
  // Static: LayerNorm, Softmax, GELU and residual Adds in int8 too (see above).
  bool full_int8 = false;
  // Dynamic quantization instead: only GEMM weights become int8 (per channel or per
  // tensor); activations stay float and are quantized at run time. No activation
  // qparams are needed. Every FullyConnected with constant weights (any input rank)
  // and every MatMul whose B is a constant matrix (rewritten as a FullyConnected with
  // W = B^T) get int8 weights. A MatMul of two activations (attention) stays float, as
  // ONNX Runtime's dynamic quantization leaves it: the float kernel is exact and, with
  // no operand to quantize per run, faster; with `dynamic_attention` it is quantized at
  // run time on both sides instead. `dynamic_mode` sets Attrs::dynamic on them.
  bool dynamic = false;
  bool dynamic_attention = false;
  DynamicMode dynamic_mode = DynamicMode::kRow;
};

// OK when every node of g produces float (or integer index) tensors: a model to quantize.
Status check_float_graph(const Graph& g);

// `act_qparams` has one entry per tensor of `g`: the per-tensor scale and zero point
// (in opts.act_dtype) calibration chose for each activation; constants and tensors no
// quantized node touches may stay empty. Outputs of range-preserving ops take their
// input's entry instead of their own.
Status quantize_graph(const Graph& g, const std::vector<QuantParams>& act_qparams, const GraphQuantOptions& opts,
                      Graph* out);

}  // namespace quant
}  // namespace edgeq
