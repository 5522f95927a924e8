// edgeq graph IR -> ONNX (QDQ form). The inverse of the importer, for models that were
// converted, quantized or rewritten in edgeq and must go back to other tools (ONNX
// Runtime, netron, another compiler).
//
// Every quantized activation is written as QuantizeLinear -> DequantizeLinear around
// the float op; int8 weights and int32 biases as integer initializers with a
// DequantizeLinear; fused activations (act_min/act_max) as Relu or Clip (on a quantized
// result: Q -> DQ -> Relu/Clip -> Q, or nothing when the clamp has no effect). Graph
// inputs and outputs are float: a quantized IR input becomes a float input followed by
// QuantizeLinear, a quantized output a DequantizeLinear, so
// edgeq's importer reads the file back into the same graph. See exporter.cc for the
// layout (tensors keep their IR shapes; spatial ops are wrapped in Transposes).
#pragma once

#include <string>

#include "graph/ir.h"
#include "graph/status.h"

namespace edgeq {

// ONNX opset the exporter writes (HardSwish needs 14).
constexpr int kExportOpset = 14;

// Serializes `g` as an onnx.ModelProto into `*bytes`. Fails (nothing written) on an op
// or a tensor ONNX cannot express in this form.
Status export_onnx_bytes(const Graph& g, std::string* bytes);

// Writes the model to `path` through a temporary file renamed into place, so a failure
// leaves no partial file.
Status export_onnx(const Graph& g, const std::string& path);

}  // namespace edgeq
