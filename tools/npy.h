// Minimal NPY (NumPy array file) reading and writing for the CLI and tests.
// Supports format versions 1-3, C order, little-endian dtypes f4, i1, u1, b1 (bool), i4, i8.
// Reading validates the header completely: a malformed or truncated file is an error,
// never a crash.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "graph/status.h"

namespace edgeq {

struct NpyArray {
  std::string dtype;             // "f4", "i1", "u1", "b1", "i4", "i8"
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;     // little-endian, C order
  int64_t num_elements() const;
  size_t item_size() const;
};

Status read_npy(const std::string& path, NpyArray* out);
Status parse_npy(const uint8_t* bytes, size_t size, NpyArray* out);
Status write_npy(const std::string& path, const NpyArray& a);

}  // namespace edgeq
