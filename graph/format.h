// Reading and writing `.edgeq` files (FlatBuffers schema in graph/edgeq.fbs).
//
// Writing lays constant data out in 64-byte-aligned segments after the FlatBuffer,
// referenced by offset and length, so a reader that mmaps the file uses weights in
// place. Reading runs the FlatBuffers verifier, checks every segment's bounds and
// alignment, then validate_graph() (graph/shape.h) for meaning.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "graph/ir.h"
#include "graph/status.h"

namespace edgeq {

constexpr uint32_t kFormatVersion = 1;

// Serializes `g` (constants copied into the returned buffer).
Status serialize_graph(const Graph& g, std::vector<uint8_t>* out);
// Writes the file complete or not at all (graph/write_file.h).
Status write_graph_file(const Graph& g, const std::string& path);

// Parses `size` bytes at `data` into `g`. Constant tensors point into `data`, which
// must outlive `g` and be 64-byte aligned. Runs the verifier and validate_graph().
Status parse_graph(const uint8_t* data, size_t size, Graph* g);

}  // namespace edgeq
