// Observers: per-batch statistics collection and the methods that turn statistics
// into clipping ranges and qparams (see observer.h for the design and the methods).
#include "quant/observer.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <string>

namespace edgeq {
namespace quant {

namespace {

// One value into a running (min, max, non-finite count, zero count): selects only,
// so loops of it vectorize (packed compares and blends).
template <typename Count>
inline void observe_value(float x, float* mn, float* mx, Count* bad, Count* zeros) {
  const int32_t finite = std::fabs(x) <= FLT_MAX ? 1 : 0;  // 0 for NaN and +-inf
  *bad += static_cast<Count>(1 - finite);
  *zeros += static_cast<Count>(x == 0.f ? 1 : 0);
  const float xl = finite ? x : *mn;
  const float xh = finite ? x : *mx;
  *mn = xl < *mn ? xl : *mn;
  *mx = xh > *mx ? xh : *mx;
}

// Running min/max of the finite values of p[0:len) into *lo/*hi, counting non-finite
// values into *bad and exact zeros into *zeros. Eight independent lanes (no
// cross-iteration min reduction, which GCC only vectorizes under -ffast-math).
void minmax_finite(const float* p, size_t len, float* lo, float* hi, uint64_t* bad, uint64_t* zeros) {
  constexpr size_t kLanes = 8;
  float mn[kLanes], mx[kLanes];
  int32_t nb[kLanes] = {}, nz[kLanes] = {};
  for (size_t l = 0; l < kLanes; ++l) {
    mn[l] = *lo;
    mx[l] = *hi;
  }
  uint64_t total_bad = 0, total_zeros = 0;
  constexpr size_t kChunk = size_t{1} << 20;  // keeps the 32-bit lane counters from overflowing
  size_t i = 0;
  while (i + kLanes <= len) {
    const size_t end = std::min(len - len % kLanes, i + kChunk);
    for (; i < end; i += kLanes) {
      for (size_t l = 0; l < kLanes; ++l) observe_value(p[i + l], &mn[l], &mx[l], &nb[l], &nz[l]);
    }
    for (size_t l = 0; l < kLanes; ++l) {
      total_bad += static_cast<uint64_t>(nb[l]);
      total_zeros += static_cast<uint64_t>(nz[l]);
      nb[l] = nz[l] = 0;
    }
  }
  float rmn = mn[0], rmx = mx[0];
  for (size_t l = 1; l < kLanes; ++l) {
    rmn = mn[l] < rmn ? mn[l] : rmn;
    rmx = mx[l] > rmx ? mx[l] : rmx;
  }
  for (; i < len; ++i) observe_value(p[i], &rmn, &rmx, &total_bad, &total_zeros);
  *lo = rmn;
  *hi = rmx;
  *bad += total_bad;
  *zeros += total_zeros;
}

// The running histogram without the mass of exact zeros (ncnn leaves zeros out of its
// entropy histogram: after ReLU they are a spike the KL search would chase). The zeros
// sit in the bin holding 0.
RunningHistogram without_zeros(const ChannelStats& ch) {
  RunningHistogram h = ch.hist;
  if (ch.zeros == 0 || !(h.min <= 0.f && h.max >= 0.f) || !(h.max > h.min)) return h;
  const int64_t bins = static_cast<int64_t>(h.counts.size());
  // In double: with a range near the float limits, (0 - min) * bins and max - min
  // overflow float (inf / inf is NaN). The quotient lies in [0, bins].
  const double pos = (0.0 - static_cast<double>(h.min)) * static_cast<double>(bins) /
                     (static_cast<double>(h.max) - static_cast<double>(h.min));
  const int64_t k = bin_index(pos, bins);
  h.counts[k] = std::max(0.f, h.counts[k] - static_cast<float>(ch.zeros));
  return h;
}

// Atoms: values that many samples share exactly, such as a convolution's output over
// an image's constant background (one value per channel), or padding. In the histogram
// each is a bin far above its surroundings. The KL search compares shapes of bins, so
// an atom drags the threshold to itself as the zeros would (the groups next to it
// cannot be merged without a large divergence): on Fashion-MNIST's first ReLU, four
// background atoms of 3% each cut the range from 5.9 to 1.4, clipping 5.7% of the
// values. An atom is a bin above kAtomRatio times the median of the 8 bins 2 to 5 away
// (a smeared atom may spill into its neighbours) and above kAtomShare of the mass.
// Atoms are flattened to that median for the search, and the range found is widened
// to keep them: a value that frequent must not be clipped, and its rounding error is
// at most half a step wherever the grid lies.
constexpr float kAtomRatio = 8.f;
constexpr double kAtomShare = 1e-3;

struct AtomRange {
  bool any = false;
  float lo = 0.f, hi = 0.f;  // the outer edges of the outermost atoms' bins
};

RunningHistogram without_atoms(const RunningHistogram& in, AtomRange* atoms) {
  RunningHistogram h = in;
  *atoms = AtomRange();
  const int64_t bins = static_cast<int64_t>(h.counts.size());
  if (!(h.max > h.min)) return h;
  const double share = kAtomShare * h.total();
  const double w = (static_cast<double>(h.max) - h.min) / static_cast<double>(bins);
  std::vector<float> around;
  for (int64_t k = 0; k < bins; ++k) {
    const float c = in.counts[k];
    if (!(c > share)) continue;
    around.clear();
    for (int64_t d = 2; d <= 5; ++d) {
      if (k - d >= 0) around.push_back(in.counts[k - d]);
      if (k + d < bins) around.push_back(in.counts[k + d]);
    }
    if (around.empty()) continue;
    std::nth_element(around.begin(), around.begin() + around.size() / 2, around.end());
    const float median = around[around.size() / 2];
    if (!(c > kAtomRatio * median)) continue;
    h.counts[k] = median;
    const float a = static_cast<float>(h.min + w * k), b = static_cast<float>(h.min + w * (k + 1));
    atoms->lo = atoms->any ? std::min(atoms->lo, a) : a;
    atoms->hi = atoms->any ? std::max(atoms->hi, b) : b;
    atoms->any = true;
  }
  return h;
}

std::string channel_prefix(const TensorStats& s, size_t c) {
  return s.axis >= 0 ? "channel " + std::to_string(c) + ": " : std::string();
}

bool schemes_match(const TensorStats& stats, const QScheme& scheme) {
  return scheme.per_channel ? stats.axis == scheme.axis : stats.axis < 0;
}

// The search of one channel for the histogram-based methods.
Status histogram_range(Method method, const ChannelStats& ch, const ObserverOptions& options, const QScheme& scheme,
                       float* lo, float* hi) {
  const RunningHistogram& h = ch.hist;
  int32_t qmin = 0, qmax = 0;
  EDGEQ_RETURN_IF_ERROR(quant_range(scheme, &qmin, &qmax));
  switch (method) {
    case Method::kHistogram:
      l2_search(h, 256, lo, hi);  // 2^bits of int8 / uint8, as PyTorch's dst_nbins
      return Status::Ok();
    case Method::kPercentile: {
      if (!(options.percentile > 50.0 && options.percentile <= 100.0))
        return InvalidArgument("percentile must be in (50, 100], not " + std::to_string(options.percentile));
      const double p = options.percentile / 100.0;
      if (scheme.symmetric) {
        float amax = 0.f;
        const std::vector<double> folded = fold_abs(h, static_cast<int32_t>(h.counts.size()), &amax);
        const float t = std::min(histogram_quantile(folded, 0.0, amax, p), std::max(-ch.min, ch.max));
        *lo = -t;
        *hi = t;
      } else {
        *lo = std::max(ch.min, histogram_quantile(h, 1.0 - p));
        *hi = std::min(ch.max, histogram_quantile(h, p));
      }
      return Status::Ok();
    }
    case Method::kEntropy: {
      if (options.entropy_bins < 2) return InvalidArgument("entropy_bins must be at least 2");
      // One-sided at zero: the data start at 0 (after ReLU) or end there. Data on one
      // side away from zero (a sigmoid, log-probabilities, x + 1) take the window search
      // too: the folded search over [0, T] would look for T below the data's own start.
      const bool one_sided = ch.min == 0.f || ch.max == 0.f;
      const bool away_from_zero = ch.min > 0.f || ch.max < 0.f;
      const int32_t codes = qmax - qmin + 1;
      AtomRange atoms;
      const RunningHistogram smooth = without_atoms(without_zeros(ch), &atoms);
      if (((!scheme.symmetric && !one_sided) || (scheme.symmetric && away_from_zero)) && ch.max > ch.min) {
        // Affine scheme, data not anchored at 0 (and a symmetric one on data away from
        // 0, which then takes [-T, T] around the window): every code over a window of the
        // signed histogram.
        const std::vector<double> signed_hist = rebin(smooth, ch.min, ch.max, options.entropy_bins);
        int32_t first = 0, last = 0;
        kl_window(signed_hist, codes, &first, &last);
        const double w = (static_cast<double>(ch.max) - ch.min) / options.entropy_bins;
        *lo = std::max(ch.min, static_cast<float>(ch.min + w * first));
        *hi = last == options.entropy_bins ? ch.max : std::min(ch.max, static_cast<float>(ch.min + w * last));
        if (atoms.any) {
          *lo = std::max(ch.min, std::min(*lo, atoms.lo));
          *hi = std::min(ch.max, std::max(*hi, atoms.hi));
        }
        if (scheme.symmetric) {
          const float t = std::max(std::fabs(*lo), std::fabs(*hi));
          *lo = -t;
          *hi = t;
        }
        return Status::Ok();
      }
      float amax = 0.f;
      const std::vector<double> folded = fold_abs(smooth, options.entropy_bins, &amax);
      const int32_t levels = (!scheme.symmetric && one_sided) ? codes : codes / 2;
      const int32_t bin = kl_threshold_bin(folded, levels);
      // The histogram's range may reach past the data (PyTorch widens its max side).
      const float data_amax = std::max(std::fabs(ch.min), std::fabs(ch.max));
      const float atom_amax = atoms.any ? std::max(std::fabs(atoms.lo), std::fabs(atoms.hi)) : 0.f;
      const float t = std::min(std::max(static_cast<float>(static_cast<double>(amax) * bin / options.entropy_bins), atom_amax),
                               data_amax);
      if (scheme.symmetric) {
        *lo = -t;
        *hi = t;
      } else {  // one-sided
        *lo = std::max(ch.min, -t);
        *hi = std::min(ch.max, t);
      }
      return Status::Ok();
    }
    case Method::kMse: {
      if (options.mse_steps < 1) return InvalidArgument("mse_steps must be at least 1");
      const int32_t n = options.mse_steps;
      auto error_of = [&](float a, float b) {
        float s = 0.f;
        int32_t zp = 0;
        if (!choose_qparams(scheme, a, b, &s, &zp).ok()) return std::numeric_limits<double>::infinity();
        return histogram_sq_error(h, s, qmin - zp, qmax - zp);
      };
      auto frac = [n](float v, int32_t k) { return static_cast<float>(static_cast<double>(v) * k / n); };
      if (scheme.symmetric) {
        const float amax = std::max(std::fabs(ch.min), std::fabs(ch.max));
        float best_t = amax;
        double best = error_of(-amax, amax);
        for (int32_t k = 1; k < n; ++k) {
          const float t = frac(amax, k);
          const double e = error_of(-t, t);
          if (e < best) {
            best = e;
            best_t = t;
          }
        }
        *lo = -best_t;
        *hi = best_t;
        return Status::Ok();
      }
      float best_lo = ch.min, best_hi = ch.max;
      double best = error_of(best_lo, best_hi);
      for (int32_t k = 1; k < n; ++k) {  // shrink both ends together
        const double e = error_of(frac(ch.min, k), frac(ch.max, k));
        if (e < best) {
          best = e;
          best_lo = frac(ch.min, k);
          best_hi = frac(ch.max, k);
        }
      }
      for (int round = 0; round < 2; ++round) {  // then each end alone
        for (int32_t k = 1; k <= n; ++k) {
          const double e = error_of(frac(ch.min, k), best_hi);
          if (e < best) {
            best = e;
            best_lo = frac(ch.min, k);
          }
        }
        for (int32_t k = 1; k <= n; ++k) {
          const double e = error_of(best_lo, frac(ch.max, k));
          if (e < best) {
            best = e;
            best_hi = frac(ch.max, k);
          }
        }
      }
      *lo = best_lo;
      *hi = best_hi;
      return Status::Ok();
    }
    default:
      break;
  }
  return Status(StatusCode::kInternal, "histogram_range: not a histogram method");
}

}  // namespace

const char* method_name(Method m) {
  switch (m) {
    case Method::kMinMax:
      return "minmax";
    case Method::kMovingAverage:
      return "moving_average";
    case Method::kHistogram:
      return "histogram";
    case Method::kPercentile:
      return "percentile";
    case Method::kEntropy:
      return "entropy";
    case Method::kMse:
      return "mse";
  }
  return "?";
}

bool parse_method(const std::string& name, Method* out) {
  if (name == "ema") {  // the short name the CLI uses
    *out = Method::kMovingAverage;
    return true;
  }
  for (Method m : {Method::kMinMax, Method::kMovingAverage, Method::kHistogram, Method::kPercentile, Method::kEntropy,
                   Method::kMse}) {
    if (name == method_name(m)) {
      *out = m;
      return true;
    }
  }
  return false;
}

bool method_needs_histogram(Method m) { return m != Method::kMinMax && m != Method::kMovingAverage; }

Observer::Observer(Method method, const ObserverOptions& options) : method_(method), options_(options) { reset(); }

std::unique_ptr<Observer> make_observer(Method method, const ObserverOptions& options) {
  return std::make_unique<Observer>(method, options);
}

void Observer::reset() {
  stats_ = TensorStats();
  stats_.axis = options_.axis;
  stats_.averaging_constant = options_.averaging_constant;
  stats_.has_histogram = options_.collect_histogram || method_needs_histogram(method_);
  stats_.histogram = options_.histogram;
}

Status Observer::observe(const float* data, const int32_t* shape, int rank) {
  if (rank < 0 || (rank > 0 && shape == nullptr)) return InvalidArgument("observe: bad shape");
  if (stats_.has_histogram && (stats_.histogram.bins < 1 || stats_.histogram.upsample_rate < 1))
    return InvalidArgument("observe: histogram bins and upsample rate must be positive");
  if (!std::isfinite(stats_.averaging_constant)) return InvalidArgument("observe: averaging constant is not finite");
  int64_t n = 1;
  for (int i = 0; i < rank; ++i) {
    if (shape[i] < 0)
      return InvalidArgument("observe: negative dimension in shape " + shape_string({shape, shape + rank}));
    n *= shape[i];
  }
  if (n == 0) return Status::Ok();
  if (data == nullptr) return InvalidArgument("observe: null data for shape " + shape_string({shape, shape + rank}));
  size_t outer = 1, channels = 1, inner = static_cast<size_t>(n);
  if (stats_.axis >= 0) {
    if (stats_.axis >= rank)
      return InvalidArgument("observe: axis " + std::to_string(stats_.axis) + " outside shape " +
                             shape_string({shape, shape + rank}));
    outer = 1;
    inner = 1;
    for (int i = 0; i < stats_.axis; ++i) outer *= static_cast<size_t>(shape[i]);
    for (int i = stats_.axis + 1; i < rank; ++i) inner *= static_cast<size_t>(shape[i]);
    channels = static_cast<size_t>(shape[stats_.axis]);
  }
  if (stats_.channels.empty()) {
    stats_.channels.resize(channels);
  } else if (stats_.channels.size() != channels) {
    return InvalidArgument("observe: " + std::to_string(channels) + " channels along axis " +
                           std::to_string(stats_.axis) + ", earlier batches had " +
                           std::to_string(stats_.channels.size()));
  }

  // Pass 1: each channel's finite extremes and non-finite count.
  batch_min_.assign(channels, std::numeric_limits<float>::infinity());
  batch_max_.assign(channels, -std::numeric_limits<float>::infinity());
  std::vector<uint64_t>& bad = bad_scratch_;
  std::vector<uint64_t>& zeros = zero_scratch_;
  bad.assign(channels, 0);
  zeros.assign(channels, 0);
  for (size_t o = 0; o < outer; ++o) {
    const float* row = data + o * channels * inner;
    if (inner == 1) {  // channel-last: one value per channel per row, vectorized across channels
      float* mn = batch_min_.data();
      float* mx = batch_max_.data();
      uint64_t* nb = bad.data();
      uint64_t* nz = zeros.data();
      for (size_t c = 0; c < channels; ++c) observe_value(row[c], &mn[c], &mx[c], &nb[c], &nz[c]);
    } else {
      for (size_t c = 0; c < channels; ++c)
        minmax_finite(row + c * inner, inner, &batch_min_[c], &batch_max_[c], &bad[c], &zeros[c]);
    }
  }

  // Update the running statistics and, with a histogram, bin the batch (pass 2).
  const float avg = stats_.averaging_constant;
  for (size_t c = 0; c < channels; ++c) {
    stats_.nonfinite += bad[c];
    const uint64_t finite = outer * inner - bad[c];
    if (finite == 0) continue;
    ChannelStats& ch = stats_.channels[c];
    const float bmin = batch_min_[c], bmax = batch_max_[c];
    ch.min = std::min(ch.min, bmin);
    ch.max = std::max(ch.max, bmax);
    if (ch.count == 0) {
      ch.ma_min = bmin;
      ch.ma_max = bmax;
    } else {
      ch.ma_min = ch.ma_min + avg * (bmin - ch.ma_min);
      ch.ma_max = ch.ma_max + avg * (bmax - ch.ma_max);
    }
    ch.count += finite;
    ch.zeros += zeros[c];
    if (stats_.has_histogram) {
      ChannelView v;
      v.base = data + c * inner;
      v.blocks = outer;
      v.len = inner;
      v.stride = channels * inner;
      ch.hist.add(stats_.histogram, v, bmin, bmax, &bin_scratch_);
    }
  }
  ++stats_.batches;
  return Status::Ok();
}

Status Observer::compute(const QScheme& scheme, std::vector<float>* scale, std::vector<int32_t>* zero_point) const {
  return compute_qparams(method_, stats_, options_, scheme, scale, zero_point);
}

Status Observer::compute_range(const QScheme& scheme, std::vector<float>* min, std::vector<float>* max) const {
  return quant::compute_range(method_, stats_, options_, scheme, min, max);
}

Status Observer::set_stats(TensorStats stats) {
  EDGEQ_RETURN_IF_ERROR(validate_stats(stats));
  stats_ = std::move(stats);
  options_.axis = stats_.axis;
  options_.averaging_constant = stats_.averaging_constant;
  options_.histogram = stats_.histogram;
  options_.collect_histogram = stats_.has_histogram;
  return Status::Ok();
}

Status compute_range(Method method, const TensorStats& stats, const ObserverOptions& options, const QScheme& scheme,
                     std::vector<float>* min, std::vector<float>* max) {
  int32_t qmin = 0, qmax = 0;
  EDGEQ_RETURN_IF_ERROR(quant_range(scheme, &qmin, &qmax));
  if (stats.channels.empty() || stats.batches == 0)
    return InvalidArgument(std::string(method_name(method)) + ": nothing observed");
  const bool reduce_channels = !scheme.per_channel && stats.axis >= 0 && method == Method::kMinMax;
  if (!schemes_match(stats, scheme) && !reduce_channels) {
    return InvalidArgument(std::string(method_name(method)) + ": statistics are " +
                           (stats.axis >= 0 ? "per-channel along axis " + std::to_string(stats.axis) : "per-tensor") +
                           ", the scheme asks for " + scheme_string(scheme));
  }
  if (method_needs_histogram(method) && !stats.has_histogram)
    return InvalidArgument(std::string(method_name(method)) + ": no histogram was collected");
  const size_t channels = stats.channels.size();
  const std::string skipped =
      stats.nonfinite ? " (" + std::to_string(stats.nonfinite) + " non-finite values skipped)" : std::string();
  if (reduce_channels) {
    float lo = std::numeric_limits<float>::infinity(), hi = -lo;
    for (const ChannelStats& ch : stats.channels) {
      if (ch.count == 0) continue;
      lo = std::min(lo, ch.min);
      hi = std::max(hi, ch.max);
    }
    if (!(lo <= hi)) return InvalidArgument("minmax: no finite values observed" + skipped);
    min->assign(1, lo);
    max->assign(1, hi);
    return Status::Ok();
  }
  min->assign(channels, 0.f);
  max->assign(channels, 0.f);
  for (size_t c = 0; c < channels; ++c) {
    const ChannelStats& ch = stats.channels[c];
    if (ch.count == 0)
      return InvalidArgument(channel_prefix(stats, c) + method_name(method) + ": no finite values observed" + skipped);
    switch (method) {
      case Method::kMinMax:
        (*min)[c] = ch.min;
        (*max)[c] = ch.max;
        break;
      case Method::kMovingAverage:
        (*min)[c] = ch.ma_min;
        (*max)[c] = ch.ma_max;
        break;
      default: {
        Status st = histogram_range(method, ch, options, scheme, &(*min)[c], &(*max)[c]);
        if (!st.ok()) return Status(st.code(), channel_prefix(stats, c) + st.message());
      }
    }
  }
  return Status::Ok();
}

Status compute_qparams(Method method, const TensorStats& stats, const ObserverOptions& options, const QScheme& scheme,
                       std::vector<float>* scale, std::vector<int32_t>* zero_point) {
  std::vector<float> lo, hi;
  EDGEQ_RETURN_IF_ERROR(compute_range(method, stats, options, scheme, &lo, &hi));
  return choose_qparams(scheme, lo.data(), hi.data(), lo.size(), scale, zero_point);
}

}  // namespace quant
}  // namespace edgeq
