// Helpers on the IR shared by the ONNX importer's passes (graph/onnx/) and the
// quantizer (quant/): reading constants, who produces and who reads each tensor, the
// node-level forms of the op table's properties, and the one bias quantization.
// Part of the runtime library (calibration runs on the device): standard library only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "graph/ir.h"
#include "graph/status.h"

namespace edgeq {

// The values of a constant F32 tensor, and bytes holding floats.
std::vector<float> floats_of(const Tensor& t);
std::vector<uint8_t> bytes_of(const std::vector<float>& f);

// Producer and consumers of every tensor. Nodes whose op is OpType::kCount (marked
// dead by a rewrite) are skipped.
struct GraphUses {
  std::vector<int> producer;                // node index, -1 for inputs and constants
  std::vector<std::vector<int>> consumers;  // node indices, in node order
  std::vector<bool> graph_output, graph_input;
  // Read by exactly one node and not a graph output.
  bool single_use(int32_t t) const { return consumers[t].size() == 1 && !graph_output[t]; }
};
GraphUses compute_uses(const Graph& g);
// Every live node input and graph output that reads `from` reads `to` instead.
void replace_uses(Graph* g, int32_t from, int32_t to);

// kOpMovement for this node: a Pad moves data only when it fills with 0 (a real 0 is
// a quantized zero point, so it commutes with quantization).
bool is_data_movement(const Node& n);
// kOpRangePreserving for this node: an op with a clamp (a max pool) only while the
// clamp is unbounded.
bool preserves_range(const Node& n);

// The int32 bias of a quantized Conv2D / FullyConnected: scale input_scale *
// weight_scale[c] (one weight scale, or one per bias), zero point 0. Each value is
// bias[c] / (input_scale * weight_scale[c]) divided in float32 and rounded half to
// even, saturated to int32: what ONNX Runtime's quantization tool computes (numpy
// float32), so a model it wrote keeps its numbers. Fails on non-finite values or scales
// that are not positive and finite.
Status quantize_bias(const float* bias, size_t n, float input_scale, const std::vector<float>& weight_scale,
                     std::vector<int32_t>* q);

}  // namespace edgeq
