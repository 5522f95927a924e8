// Helpers for the quant/ tests: the deterministic data stream shared with
// tools/make_observer_goldens.py (so PyTorch and edgeq see the same float32 batches
// without storing them), the goldens file, and scheme construction.
#pragma once

#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "quant/qparams.h"

namespace edgeq {
namespace quant {
namespace testing_util {

inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// The i-th uniform of stream `seed`: k * 2^-24, k in [0, 2^24).
class Uniforms {
 public:
  explicit Uniforms(uint64_t seed) : base_(mix64(seed)) {}
  double operator()(uint64_t i) const {
    const uint64_t state = base_ + (i + 1) * 0x9E3779B97F4A7C15ull;
    return static_cast<double>(mix64(state) >> 40) * (1.0 / 16777216.0);
  }

 private:
  uint64_t base_;
};

// batch_data() of the goldens script: dist normal | uniform | relu | outlier | constant.
inline std::vector<float> batch_data(uint64_t seed, int64_t n, const std::string& dist, float scale, float offset) {
  Uniforms u(seed);
  std::vector<float> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    double v = 0.0;
    if (dist == "uniform") {
      v = 2.0 * u(i) - 1.0;
    } else if (dist != "constant") {
      for (int t = 0; t < 12; ++t) v += u(12 * i + t);
      v -= 6.0;
      if (dist == "relu") v = v > 0.0 ? v : 0.0;
      if (dist == "outlier" && i % 509 == 0) v = 25.0;
      if (dist == "outlier" && i % 509 == 254) v = -18.0;
    }
    const float prod = static_cast<float>(v) * scale;
    out[i] = prod + offset;
  }
  return out;
}

inline std::vector<int32_t> json_shape(const nlohmann::json& spec) { return spec["shape"].get<std::vector<int32_t>>(); }

inline int64_t element_count(const std::vector<int32_t>& shape) {
  int64_t n = 1;
  for (int32_t d : shape) n *= d;
  return n;
}

inline std::vector<float> batch_data(const nlohmann::json& spec) {
  return batch_data(spec["seed"].get<uint64_t>(), element_count(json_shape(spec)), spec["dist"].get<std::string>(),
                    spec["scale"].get<float>(), spec["offset"].get<float>());
}

inline nlohmann::json load_goldens() {
  std::ifstream f(std::string(EDGEQ_SOURCE_DIR) + "/test/data/quant/observer_goldens.json");
  return nlohmann::json::parse(f, nullptr, /*allow_exceptions=*/false);
}

inline QScheme scheme_from_json(const nlohmann::json& r, int32_t axis) {
  QScheme s;
  s.dtype = r["dtype"] == "s8" ? DType::kS8 : DType::kU8;
  s.symmetric = r["symmetric"].get<bool>();
  s.narrow_range = r["narrow"].get<bool>();
  s.reduce_range = r["reduce"].get<bool>();
  s.per_channel = axis >= 0;
  s.axis = axis < 0 ? 0 : axis;
  return s;
}

inline QScheme make_scheme(DType dtype, bool symmetric, bool narrow = false, bool reduce = false, int32_t axis = -1) {
  QScheme s;
  s.dtype = dtype;
  s.symmetric = symmetric;
  s.narrow_range = narrow;
  s.reduce_range = reduce;
  s.per_channel = axis >= 0;
  s.axis = axis < 0 ? 0 : axis;
  return s;
}

}  // namespace testing_util
}  // namespace quant
}  // namespace edgeq
