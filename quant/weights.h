// Weight and bias quantization for converting a float graph to int8.
//
// Weights: per-channel symmetric int8 in the narrow range [-127, 127] with zero point
// 0 (what edgeq's kernels expect), along axis 0 for conv weights [Cout, KH, KW, Cin/g]
// and fully-connected weights [N, K]. Each channel's scale is chosen from its min/max
// exactly as PyTorch's PerChannelMinMaxObserver(qint8, per_channel_symmetric,
// quant_min=-127, quant_max=127) would: max(|min|, |max|) / 127, floored at eps. The
// values are quantized as ONNX QuantizeLinear (and ref::quantize_value):
// clamp(round_half_even(w / scale), -127, 127).
//
// Biases: int32 with scale s_in * s_w[c], quantized by edgeq::quantize_bias
// (graph/ir_util.h), the one bias quantization the importer shares.
#pragma once

#include <cstdint>
#include <vector>

#include "graph/ir_util.h"  // quantize_bias
#include "graph/status.h"

namespace edgeq {
namespace quant {

// w: float weights of `shape` (rank >= 1), channels along `axis`. Fills q (same
// layout) and scale (one per channel). Fails on non-finite weights or a bad axis.
Status quantize_weights_per_channel(const float* w, const std::vector<int32_t>& shape, int32_t axis,
                                    std::vector<int8_t>* q, std::vector<float>* scale);

}  // namespace quant
}  // namespace edgeq
