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
// each input to the output's parameters.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "graph/ir.h"
#include "graph/status.h"

namespace edgeq {
namespace quant {

struct GraphQuantOptions {
  DType act_dtype = DType::kU8;  // activations: kU8 or kS8
  bool per_channel_weights = true;
  RequantScheme requant = RequantScheme::kFp32;
  std::vector<bool> float_nodes;  // per node index: keep in float (empty: none)
  // Dynamic quantization instead: only FullyConnected weights become int8 (per channel
  // or per tensor); activations stay float and each row is quantized at run time. No
  // activation qparams are needed.
  bool dynamic = false;
};

// `act_qparams` has one entry per tensor of `g`: the per-tensor scale and zero point
// (in opts.act_dtype) calibration chose for each activation; constants and tensors no
// quantized node touches may stay empty. Outputs of range-preserving ops take their
// input's entry instead of their own.
Status quantize_graph(const Graph& g, const std::vector<QuantParams>& act_qparams, const GraphQuantOptions& opts,
                      Graph* out);

}  // namespace quant
}  // namespace edgeq
