// Calibration observers: statistics of a float tensor gathered batch by batch, and
// the scale / zero point each method derives from them.
//
// One statistics record (TensorStats) serves every method, so a calibration run can
// be cached (`--stats FILE`) and re-quantized with another method without the data:
// per channel (one channel for per-tensor), the running min/max, the moving-average
// min/max (PyTorch's MovingAverage*MinMaxObserver, first batch sets them), the count
// of finite values and, when collected, PyTorch's running histogram (histogram.h).
// The histogram is single-pass: its range grows with the data and old counts are
// re-binned by PyTorch's upsample / combine step. That keeps HistogramObserver's L2
// search bit-exact against PyTorch and needs no second pass over the data; the price
// is that bins gathered early are smeared when the range later grows, which the
// percentile, entropy and MSE searches accept (they model each bin as uniform).
//
// Methods (what compute() turns the statistics into; the range then goes through
// choose_qparams, so 0 is always representable and eps floors the scale):
//  * kMinMax        [min, max] (MinMaxObserver / PerChannelMinMaxObserver).
//  * kMovingAverage [ma_min, ma_max] with averaging constant c (default 0.01):
//                   m += c * (batch - m) in float32.
//  * kHistogram     PyTorch HistogramObserver's L2 search (l2_search), bit-exact.
//  * kPercentile    affine: [q(1 - p), q(p)], both tails clipped; symmetric: [-T, T]
//                   with T = q_|x|(p) on the histogram of |x|. q is the histogram's
//                   quantile with linear interpolation inside a bin; p = 99.999%.
//  * kEntropy       TensorRT / ncnn KL search on the histogram (`entropy_bins` bins),
//                   with as many levels as the scheme has codes over the range it
//                   searches. Symmetric: kl_threshold_bin on the histogram of |x| over
//                   [0, max|x|] with (qmax-qmin+1)/2 levels (128 for int8), giving
//                   [-T, T] (on data on one side away from 0: T the larger end of the
//                   window search below). Affine on data anchored at zero (min == 0 after
//                   ReLU, or max == 0): the same search with every code, (qmax-qmin+1)
//                   levels, over [0, T] (or [-T, 0]). Affine on other data (two-sided,
//                   or on one side away from zero: a sigmoid, log-probabilities, whose
//                   folded search would put T below the data): folding |x| would be wrong
//                   twice over, since the grid then spans [lo, hi] with every code (finer
//                   than the T/128 the folded search assumes, so T came out too small)
//                   and the two sides' shapes differ (a residual's long positive tail
//                   and short negative one get one threshold). So the search runs on
//                   the signed histogram over [min, max] with every code: the window
//                   [lo, hi] of least KL (kl_window: the upper end with the lower fixed,
//                   then the lower end, until neither moves), each side clipped on its
//                   own; the integer zero point comes from choose_qparams afterwards.
//                   Exact zeros are left out of the histogram first (ncnn does; after
//                   ReLU they are a spike that would drag the threshold down), other
//                   atoms (bins far above their surroundings: a convolution of a
//                   constant image background) are flattened for the search and then
//                   kept inside the range (observer.cc, without_atoms), and the range
//                   never exceeds the data's. On light-tailed data (Gaussian,
//                   Laplace) the KL curve keeps falling almost to the extremes, so
//                   entropy clips little there; it does clip sparse outliers.
//  * kMse           the range whose quantization (with this scheme's exact scale and
//                   zero point) has the least expected squared error on the histogram
//                   (histogram_sq_error): symmetric: T = max|x| * k / mse_steps for
//                   k = 1..mse_steps; affine: the same shrink of [min, max] on both
//                   sides, then two rounds of coordinate search on each end alone.
//                   It minimizes total squared error, so it keeps a few outliers whose
//                   clipping error would exceed the rounding error their range costs
//                   the bulk (e.g. 2 values at 1000 among 4e5 N(0,1) values).
//
// Non-finite values (NaN, +-inf) are skipped and counted (TensorStats::nonfinite);
// PyTorch would propagate them into the range. compute() fails with a clear status
// when a channel saw no finite value, when a method needs the histogram and it was not
// collected, and when the scheme's per-channel axis does not match the statistics'.
// Per-channel statistics answer a per-tensor scheme only for kMinMax (the channels'
// extremes); anything else needs per-tensor statistics.
//
// Cost per batch: one pass for min/max (finite check, no allocation) and, with a
// histogram, one more binning pass plus an O(bins * upsample_rate) combine when the
// range grows. Nothing of the data is kept.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "graph/status.h"
#include "quant/histogram.h"
#include "quant/qparams.h"

namespace edgeq {
namespace quant {

enum class Method : uint8_t { kMinMax, kMovingAverage, kHistogram, kPercentile, kEntropy, kMse };

const char* method_name(Method m);  // "minmax", "moving_average", "histogram", "percentile", "entropy", "mse"
bool parse_method(const std::string& name, Method* out);  // also accepts "ema"
bool method_needs_histogram(Method m);

struct ObserverOptions {
  int32_t axis = -1;                 // >= 0: per-channel statistics along this axis; -1: per-tensor
  float averaging_constant = 0.01f;  // kMovingAverage
  HistogramOptions histogram;        // bins (2048), upsample rate (128), PyTorch 1.13 edges
  bool collect_histogram = false;    // also for kMinMax / kMovingAverage (a stats cache)
  double percentile = 99.999;        // kPercentile, in percent, (50, 100]
  int32_t entropy_bins = 2048;       // kEntropy: bins of the |x| histogram
  int32_t mse_steps = 128;           // kMse: candidates per search line
};

struct ChannelStats {
  float min = std::numeric_limits<float>::infinity();
  float max = -std::numeric_limits<float>::infinity();
  float ma_min = std::numeric_limits<float>::infinity();
  float ma_max = -std::numeric_limits<float>::infinity();
  uint64_t count = 0;  // finite values seen
  uint64_t zeros = 0;  // of which exactly 0 (the entropy search leaves them out, as ncnn)
  RunningHistogram hist;
};

struct TensorStats {
  int32_t axis = -1;  // as ObserverOptions::axis
  float averaging_constant = 0.01f;
  bool has_histogram = false;
  HistogramOptions histogram;
  uint64_t batches = 0;                // non-empty batches observed
  uint64_t nonfinite = 0;              // values skipped
  std::vector<ChannelStats> channels;  // one per channel; one for per-tensor
};

class Observer {
 public:
  Observer(Method method, const ObserverOptions& options);

  Method method() const { return method_; }
  const ObserverOptions& options() const { return options_; }

  // Adds one batch: `data` densely packed in `shape` order (any rank; rank 0 is a
  // scalar). An empty batch changes nothing. Fails on a null pointer, a negative
  // dimension, an axis outside the shape, or a channel count that differs from the
  // earlier batches'.
  Status observe(const float* data, const int32_t* shape, int rank);
  Status observe(const float* data, const std::vector<int32_t>& shape) {
    return observe(data, shape.data(), static_cast<int>(shape.size()));
  }

  // Scale and zero point (one per channel, or one) with this observer's method.
  Status compute(const QScheme& scheme, std::vector<float>* scale, std::vector<int32_t>* zero_point) const;
  // The clipping range the method chose, before choose_qparams.
  Status compute_range(const QScheme& scheme, std::vector<float>* min, std::vector<float>* max) const;

  const TensorStats& stats() const { return stats_; }
  // Replaces the statistics (e.g. read from a stats file); checks them first.
  Status set_stats(TensorStats stats);
  void reset();

 private:
  Method method_;
  ObserverOptions options_;
  TensorStats stats_;
  std::vector<float> batch_min_, batch_max_;  // per-channel scratch
  std::vector<uint64_t> bad_scratch_, zero_scratch_;
  std::vector<uint32_t> bin_scratch_;
};

std::unique_ptr<Observer> make_observer(Method method, const ObserverOptions& options);

// Any method from a statistics record; `options` gives the method's search parameters
// (percentile, entropy_bins, mse_steps); collection parameters come from `stats`.
Status compute_range(Method method, const TensorStats& stats, const ObserverOptions& options, const QScheme& scheme,
                     std::vector<float>* min, std::vector<float>* max);
Status compute_qparams(Method method, const TensorStats& stats, const ObserverOptions& options, const QScheme& scheme,
                       std::vector<float>* scale, std::vector<int32_t>* zero_point);

// Checks a record's internal consistency (channel count, histogram sizes, ranges).
Status validate_stats(const TensorStats& stats);

// ---- serialization: a line-based text record, floats printed with 9 significant
// digits (exact for float32), histograms as sparse "bin:count" pairs. A stats file is
// a header line then one record per tensor, each introduced by its name.
std::string stats_to_text(const TensorStats& stats);
// Parses one record starting at *pos (advanced past it).
Status stats_from_text(const std::string& text, size_t* pos, TensorStats* stats);
Status stats_from_text(const std::string& text, TensorStats* stats);

using NamedStats = std::vector<std::pair<std::string, TensorStats>>;
std::string stats_file_text(const NamedStats& tensors);
Status parse_stats_file(const std::string& text, NamedStats* tensors);
Status write_stats_file(const std::string& path, const NamedStats& tensors);
Status read_stats_file(const std::string& path, NamedStats* tensors);

}  // namespace quant
}  // namespace edgeq
