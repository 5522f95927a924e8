// Quantization-parameter math: a real range [min, max] -> scale and zero point.
//
// Vocabulary as in PyTorch (torch.ao.quantization) and the ONNX quantization docs:
//  * affine (asymmetric): the range [min(min,0), max(max,0)] maps onto [qmin, qmax];
//    scale = (max - min) / (qmax - qmin), zero_point = qmin - round(min / scale).
//  * symmetric: scale = max(|min|, |max|) / ((qmax - qmin) / 2); the zero point is 0 for
//    int8 and the middle of the range for uint8 (128, or (qmin + qmax) // 2 for a
//    narrowed range).
//  * narrow range: int8 [-127, 127] (the weights our kernels expect), uint8 [1, 255]
//    (TFLite's convention: the lowest code is dropped).
//  * reduce range: one bit less, as PyTorch's reduce_range: int8 [-64, 63], uint8
//    [0, 127]; a narrowed range is halved with floor division ([-64, 63], [0, 127]).
//    Symmetric uint8 with reduce range and no narrowing is refused, as in PyTorch.
//  * per-tensor or per-channel (one range per index of `axis`).
// The range always includes 0, and the scale never falls below `eps` (PyTorch's
// torch.finfo(float32).eps by default). Every step runs in float32 in the order of
// PyTorch 1.13's UniformQuantizationObserverBase._calculate_qparams, so the same
// min/max give bit-identical results; round() is round half to even. Build the
// quant/ sources with -ffp-contract=off (quant/sources.cmake does) so no FMA changes
// a rounding.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "graph/ir.h"
#include "graph/status.h"

namespace edgeq {
namespace quant {

constexpr float kDefaultScaleEps = 1.1920928955078125e-07f;  // FLT_EPSILON, PyTorch's eps

struct QScheme {
  DType dtype = DType::kU8;  // kS8 or kU8
  bool symmetric = false;
  bool narrow_range = false;
  bool reduce_range = false;
  bool per_channel = false;
  int32_t axis = 0;  // per_channel only; a non-negative dimension index
  float eps = kDefaultScaleEps;
};

// "s8 symmetric narrow per-channel(axis=0)": how messages and tools print a scheme.
std::string scheme_string(const QScheme& s);

// The integer range [qmin, qmax] of a scheme; `custom` says whether the range was
// narrowed (PyTorch's has_customized_qrange, which changes the uint8 symmetric zero
// point). Fails for a dtype other than S8/U8, a non-positive or non-finite eps, and
// symmetric uint8 with reduce range but without narrow range.
Status quant_range(const QScheme& s, int32_t* qmin, int32_t* qmax, bool* custom = nullptr);

// Scale and zero point for one range. min and max must be finite with min <= max.
Status choose_qparams(const QScheme& s, float min, float max, float* scale, int32_t* zero_point);

// One (scale, zero_point) per range: n ranges (n == 1 for per-tensor).
Status choose_qparams(const QScheme& s, const float* min, const float* max, size_t n, std::vector<float>* scale,
                      std::vector<int32_t>* zero_point);

}  // namespace quant
}  // namespace edgeq
