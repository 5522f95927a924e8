// Weight and bias quantization (see weights.h).
#include "quant/weights.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "graph/ir.h"
#include "kernels/ref/ref.h"
#include "quant/qparams.h"

namespace edgeq {
namespace quant {

Status quantize_weights_per_channel(const float* w, const std::vector<int32_t>& shape, int32_t axis,
                                    std::vector<int8_t>* q, std::vector<float>* scale) {
  const int rank = static_cast<int>(shape.size());
  if (axis < 0 || axis >= rank)
    return InvalidArgument("quantize_weights: axis " + std::to_string(axis) + " outside shape " + shape_string(shape));
  size_t outer = 1, inner = 1;
  for (int i = 0; i < rank; ++i) {
    if (shape[i] <= 0) return InvalidArgument("quantize_weights: empty or negative shape " + shape_string(shape));
    if (i < axis) outer *= static_cast<size_t>(shape[i]);
    if (i > axis) inner *= static_cast<size_t>(shape[i]);
  }
  if (w == nullptr) return InvalidArgument("quantize_weights: null data");
  const size_t channels = static_cast<size_t>(shape[axis]);
  std::vector<float> lo(channels, std::numeric_limits<float>::infinity()), hi(channels, -lo[0]);
  for (size_t o = 0; o < outer; ++o) {
    for (size_t c = 0; c < channels; ++c) {
      const float* p = w + (o * channels + c) * inner;
      for (size_t i = 0; i < inner; ++i) {
        if (!std::isfinite(p[i]))
          return InvalidArgument("quantize_weights: non-finite weight in channel " + std::to_string(c));
        lo[c] = std::min(lo[c], p[i]);
        hi[c] = std::max(hi[c], p[i]);
      }
    }
  }
  QScheme scheme;
  scheme.dtype = DType::kS8;
  scheme.symmetric = true;
  scheme.narrow_range = true;
  scheme.per_channel = true;
  scheme.axis = axis;
  std::vector<int32_t> zp;
  EDGEQ_RETURN_IF_ERROR(choose_qparams(scheme, lo.data(), hi.data(), channels, scale, &zp));
  q->resize(outer * channels * inner);
  for (size_t o = 0; o < outer; ++o) {
    for (size_t c = 0; c < channels; ++c) {
      const size_t base = (o * channels + c) * inner;
      for (size_t i = 0; i < inner; ++i)
        (*q)[base + i] = static_cast<int8_t>(ref::quantize_value(w[base + i], (*scale)[c], 0, -127, 127));
    }
  }
  return Status::Ok();
}

}  // namespace quant
}  // namespace edgeq
