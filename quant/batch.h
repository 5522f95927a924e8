// One batch of graph inputs for the calibrator and the error report, each input in its
// own dtype: float32 for float inputs, int64 or int32 for integer (s64 / s32) inputs
// such as token ids, masks and token types, int8 / uint8 bytes for a quantized input.
//
//   std::vector<quant::InputBuffer> batch = {quant::InputBuffer::s64(ids, n),
//                                            quant::InputBuffer::s64(mask, n), ...};
//   calibrator->add_batch(batch);
//
// set_batch() checks the buffers against the session's graph inputs (how many, each
// one's dtype and element count) and names the input in any error, then hands each to
// the Session setter for its dtype (set_input_f32 / _s64 / _s32 / _raw).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "graph/ir.h"
#include "graph/status.h"
#include "runtime/session.h"

namespace edgeq {
namespace quant {

struct InputBuffer {
  const void* data = nullptr;
  DType dtype = DType::kF32;  // the buffer's element type: kF32, kS64, kS32, kS8 or kU8
  size_t count = 0;           // elements

  static InputBuffer f32(const float* p, size_t n) { return {p, DType::kF32, n}; }
  static InputBuffer s64(const int64_t* p, size_t n) { return {p, DType::kS64, n}; }
  static InputBuffer s32(const int32_t* p, size_t n) { return {p, DType::kS32, n}; }
};

// Checks `inputs` against the graph inputs of `s` and sets them. A float buffer is
// accepted for float and quantized inputs (set_input_f32 quantizes), int64 / int32 for
// integer inputs, int8 / uint8 bytes only for an input of that dtype.
Status set_batch(Session* s, const std::vector<InputBuffer>& inputs);

// The float-only form of a batch: pointer i holds graph input i as float32. An integer
// input is an error naming it (its values must be given as integers).
Status float_batch(const Graph& g, const std::vector<const float*>& inputs, std::vector<InputBuffer>* out);

}  // namespace quant
}  // namespace edgeq
