// Fuzzer: the statistics-file reader (quant/stats_io.cc) behind `edgeq calibrate
// --stats` and edgeq_calibrator_load_stats, on untrusted text. A file it accepts must
// give quantization parameters by every method, or an error, for every record, and
// must print back to text that parses to the same text (the format is exact).
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "quant/observer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace edgeq::quant;
  const std::string text(reinterpret_cast<const char*>(data), size);
  NamedStats named;
  const edgeq::Status st = parse_stats_file(text, &named);
  if (!st.ok()) {
    if (st.message().empty()) std::abort();
    return 0;
  }
  const std::string printed = stats_file_text(named);
  NamedStats again;
  if (!parse_stats_file(printed, &again).ok() || stats_file_text(again) != printed) std::abort();

  ObserverOptions options;
  options.entropy_bins = 64;  // keeps the searches quick; their code paths are the same
  options.mse_steps = 16;
  for (const auto& [name, stats] : named) {
    for (int m = 0; m <= static_cast<int>(Method::kMse); ++m) {
      QScheme scheme;
      scheme.dtype = m % 2 ? edgeq::DType::kS8 : edgeq::DType::kU8;
      scheme.symmetric = m >= 3;
      std::vector<float> scale;
      std::vector<int32_t> zero_point;
      const edgeq::Status q = compute_qparams(static_cast<Method>(m), stats, options, scheme, &scale, &zero_point);
      if (!q.ok()) continue;
      for (float s : scale)
        if (!(s > 0) || !std::isfinite(s)) std::abort();  // a scale is positive and finite
    }
  }
  return 0;
}
