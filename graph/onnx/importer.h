// ONNX -> edgeq graph IR. Reads a float model, or an int8 one in QDQ form
// (DequantizeLinear -> op -> QuantizeLinear, as PyTorch and ONNX Runtime write them) or
// QOperator form (QLinearConv, QLinearMatMul, ...), and produces a Graph that follows
// graph/ir.h: NHWC activations, permuted weights, quantized ops fused from their QDQ
// patterns, constants folded, every tensor with a static shape.
//
// Graph inputs and outputs keep the ONNX shape and element order (NCHW for rank 4).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "graph/ir.h"
#include "graph/status.h"

namespace edgeq {

struct ImportOptions {
  // Absorb a graph input's sole QuantizeLinear consumer and a graph output's
  // DequantizeLinear producer: the IR input/output becomes the int8 tensor with its
  // quantization parameters (the runtime API quantizes / dequantizes for the user).
  bool quantized_io = true;
  RequantScheme requant = RequantScheme::kFp32;
  // Value given to a symbolic (named or unknown) leading dimension of a graph input.
  int32_t batch = 1;
  // Shapes of graph inputs by name (e.g. {"ids", {1, 128}}): fix every dimension of the
  // input, symbolic or not (a fixed ONNX dimension must agree). Other symbolic
  // dimensions than the leading one need a value from here.
  std::map<std::string, std::vector<int64_t>> input_shapes;
};

// Parses "name=1x128,other=1x3x32x32" into ImportOptions::input_shapes.
Status parse_input_shapes(const std::string& spec,
                          std::map<std::string, std::vector<int64_t>>* out);

// Imports the model in the file at `path` into `*out` (replaced on success).
Status import_onnx_file(const std::string& path, const ImportOptions& opts, Graph* out);
// Imports a serialized onnx.ModelProto.
Status import_onnx_bytes(const void* data, size_t size, const ImportOptions& opts, Graph* out);

}  // namespace edgeq
