// The running histogram every histogram-based method computes from, and the
// histogram searches that turn it into a clipping range.
//
// RunningHistogram reproduces PyTorch's HistogramObserver state update (forward):
//  * first batch (or while every value seen so far was equal): the range is the
//    batch's [min, max] and the batch is binned over it (torch.histc);
//  * later batches: the combined range [min(old, new), max(old, new)] is widened on
//    the max side so that it is an integer multiple ("downsample rate") of the old
//    range divided by the upsample rate (_adjust_min_max); the new batch is binned
//    over it, and the old histogram is spread uniformly over `upsample_rate`
//    sub-bins per bin, placed at its offset, and re-summed into the new bins
//    (_combine_histograms, cumulative sums in double). If the range did not change
//    the counts are simply added.
// Counts are float32 as in PyTorch (and, like PyTorch's, may end a hair below zero
// after a combine: its differences of a double and a float32-rounded running sum), and each step uses PyTorch's float32
// / double arithmetic so that the state, and the L2 search result, equal PyTorch's. PyTorch 1.13 alone passes int(min)
// and int(max) to torch.histc, which truncates the binning range (values outside are dropped; a range inside (-1, 1)
// becomes the batch's own range); other releases pass the float range. `torch_1_13_int_edges` reproduces 1.13 for tests
// against that release; leave it off otherwise.
//
// Non-finite values are never passed in: callers skip them (observer.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace edgeq {
namespace quant {

struct HistogramOptions {
  int32_t bins = 2048;
  int32_t upsample_rate = 128;
  bool torch_1_13_int_edges = false;
};

// Values of one channel inside one batch: `blocks` runs of `len` contiguous floats,
// the i-th starting at base + i * stride. Per-tensor: one run of all elements.
struct ChannelView {
  const float* base = nullptr;
  size_t blocks = 0;
  size_t len = 0;
  size_t stride = 0;
};

struct RunningHistogram {
  float min = std::numeric_limits<float>::infinity();  // the range the bins cover
  float max = -std::numeric_limits<float>::infinity();
  std::vector<float> counts;  // empty until the first value

  bool initialized() const { return !counts.empty(); }
  double total() const;
  // Adds one batch. batch_min/max are the batch's finite extremes (batch_min <= batch_max);
  // the view's non-finite values are skipped.
  // `scratch` is reused between calls to count without allocating per batch.
  void add(const HistogramOptions& o, const ChannelView& v, float batch_min, float batch_max,
           std::vector<uint32_t>* scratch);
};

// The bin of position pos (in bins) among n, clamped to [0, n - 1] in double before the
// conversion, so that it is defined for any pos: NaN (0 / 0, inf / inf) gives bin 0.
int64_t bin_index(double pos, int64_t n);

// PyTorch's HistogramObserver._non_linear_param_search (itself caffe2's
// NormMinimization): moves the start or end bin inward by quantile steps of 1e-5 and
// stops as soon as the approximate L2 quantization error into dst_bins levels grows.
// dst_bins is 2^bits of the dtype (256 for int8 and uint8, whatever the range).
void l2_search(const RunningHistogram& h, int32_t dst_bins, float* new_min, float* new_max);

// The error _compute_quantization_error approximates, for bins [start, end] (exposed for tests).
double l2_quantization_error(const RunningHistogram& h, int32_t dst_bins, int32_t start_bin, int32_t end_bin);

// ---- searches on the histogram's mass, modelled as uniform inside each bin

// The value below which `fraction` (0..1) of the mass lies, linear inside a bin: for
// the running histogram, and for `counts` bins over [lo, hi].
float histogram_quantile(const RunningHistogram& h, double fraction);
float histogram_quantile(const std::vector<double>& counts, double lo, double hi, double fraction);

// The histogram of |x|: `bins` bins over [0, max(|min|, |max|)], each source bin's
// mass spread over the |x| interval it covers in proportion to overlap.
std::vector<double> fold_abs(const RunningHistogram& h, int32_t bins, float* abs_max);

// Expected squared error of quantizing the histogram's mass with grid step `scale` and
// codes k in [kmin, kmax] (real values k * scale; kmin = qmin - zp, kmax = qmax - zp):
// mass outside [kmin*scale, kmax*scale] is clipped to the nearest end, mass inside is
// rounded to the nearest grid point. Exact for the piecewise-uniform density, in
// closed form per bin (the rounding error of one grid cell integrates to scale^3 / 12).
double histogram_sq_error(const RunningHistogram& h, double scale, double kmin, double kmax);

// KL-divergence threshold search (TensorRT / ncnn entropy calibration) on a histogram
// over [0, range_max] of hist.size() bins: for every i from `levels` to hist.size(), the
// reference P is hist[0:i] with the clipped tail's mass added to its last bin; the
// candidate Q is hist[0:i] merged into `levels` groups of (nearly) equal bin counts,
// each group's mass spread evenly over its bins where P is non-zero. Returns the i of
// least KL(P || Q); the clipping threshold is that bin's upper edge, i * bin width.
// Needs levels >= 1; returns hist.size() when hist.size() <= levels.
int32_t kl_threshold_bin(const std::vector<double>& hist, int32_t levels);

// The same KL criterion on a signed histogram with both ends free (affine schemes on
// two-sided data): the window [*first, *last) of at least `levels` bins whose P (the
// window, each tail's mass saturating into its end bin) is closest to Q (the window
// merged into `levels` groups). Coordinate search from the whole histogram: the upper
// end with the lower one fixed, then the lower end with the upper one fixed, repeated
// until neither moves (at most 4 rounds); each line search is exhaustive and keeps the
// first of equal minima. Windows holding less than half the mass are not candidates
// (their P is mostly one end bin, which normalized KL would score near 0). Returns [0, hist.size()) when hist.size() <= levels.
void kl_window(const std::vector<double>& hist, int32_t levels, int32_t* first, int32_t* last);

// `bins` bins over [lo, hi] (lo < hi) holding the running histogram's mass, each source
// bin spread in proportion to overlap; mass outside [lo, hi] lands in the end bins.
std::vector<double> rebin(const RunningHistogram& h, double lo, double hi, int32_t bins);

}  // namespace quant
}  // namespace edgeq
