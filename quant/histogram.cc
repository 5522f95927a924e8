// The running histogram (PyTorch HistogramObserver's state update), the L2 range
// search on it, and the mass-based helpers (quantile, |x| folding, KL threshold).
//
// Float discipline: where PyTorch computes on float32 tensors this code uses float,
// where it computes on Python floats (.item()) or double tensors it uses double, and
// every mixed operation converts the way PyTorch's type promotion does (a Python
// scalar meeting a float32 tensor is first rounded to float32). The comments name the
// PyTorch step each block mirrors.
#include "quant/histogram.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace edgeq {
namespace quant {

int64_t bin_index(double pos, int64_t n) {
  if (!(pos > 0.0)) return 0;
  return static_cast<int64_t>(std::min(pos, static_cast<double>(n - 1)));
}

namespace {

// torch.histc's choice of the outer edges for a requested [lo, hi]: equal requests take
// the data's extremes, and a still-empty range is widened by 1 on both sides.
void histc_edges(double lo, double hi, float data_min, float data_max, float* flo, float* fhi) {
  if (lo == hi) {
    lo = data_min;
    hi = data_max;
  }
  if (lo == hi) {
    lo -= 1.0;
    hi += 1.0;
  }
  *flo = static_cast<float>(lo);
  *fhi = static_cast<float>(hi);
}

// torch.histc's binning: bin = trunc((x - lo) * bins / (hi - lo)) in float32; values
// outside [lo, hi] (and NaN) are skipped; hi falls into the last bin.
void histc(const ChannelView& v, int32_t bins, float lo, float hi, std::vector<uint32_t>* scratch,
           std::vector<float>* out) {
  scratch->assign(static_cast<size_t>(bins), 0u);
  uint32_t* cnt = scratch->data();
  const float fb = static_cast<float>(bins);
  const float range = hi - lo;
  const int64_t last = bins - 1;
  for (size_t b = 0; b < v.blocks; ++b) {
    const float* p = v.base + b * v.stride;
    for (size_t i = 0; i < v.len; ++i) {
      const float x = p[i];
      if (!(x >= lo && x <= hi)) continue;
      // Near the float limits the product or the range overflows (inf, or inf / inf =
      // NaN), and converting that to an integer is undefined: such a value's position
      // is computed in double, where neither overflows.
      const float q = ((x - lo) * fb) / range;
      const double pos = std::isfinite(q) ? static_cast<double>(q)
                                          : (static_cast<double>(x) - lo) * fb / (static_cast<double>(hi) - lo);
      // Still NaN when lo == hi (0 / 0: every value is lo, bin 0) or a bound is
      // infinite: bin_index() makes the conversion defined.
      ++cnt[bin_index(pos, last + 1)];
    }
  }
  out->resize(static_cast<size_t>(bins));
  for (int32_t i = 0; i < bins; ++i) (*out)[i] = static_cast<float>(cnt[i]);
}

// Adds `mass` spread uniformly over [x0, x1] into bins of width w starting at 0.
void spread(std::vector<double>* dst, double w, double x0, double x1, double mass) {
  const int64_t n = static_cast<int64_t>(dst->size());
  if (mass == 0.0) return;
  if (!(x1 > x0) || !(w > 0.0)) {
    const int64_t k = bin_index(x0 / w, n);
    (*dst)[k] += mass;
    return;
  }
  const double density = mass / (x1 - x0);
  const int64_t k0 = bin_index(std::floor(x0 / w), n);
  const int64_t k1 = bin_index(std::floor(x1 / w), n);
  for (int64_t k = k0; k <= k1; ++k) {
    const double a = k == k0 ? x0 : k * w;
    const double b = k == k1 ? x1 : (k + 1) * w;
    if (b > a) (*dst)[k] += density * (b - a);
  }
}

// Python-style floor division of float32 values, as torch.div(..., rounding_mode='floor').
float floor_divide(float a, float b) {
  if (b == 0.f) return a / b;
  const float mod = std::fmod(a, b);
  float div = (a - mod) / b;
  if (mod != 0.f && ((b < 0.f) != (mod < 0.f))) div -= 1.f;
  if (div == 0.f) return std::copysign(0.f, a / b);
  float fl = std::floor(div);
  if (div - fl > 0.5f) fl += 1.f;
  return fl;
}

// _combine_histograms: the old histogram repeated `up` times per bin, placed at
// `start` in a zero array of bins * down entries, cumulatively summed in double, sampled
// every `down` entries and differenced (the shifted copy is a float32 tensor), divided
// by `up` and added in float32 to the new batch's histogram. The zeros outside the
// placed region add nothing to the running sum, so only the region is walked.
void combine(const std::vector<float>& old_counts, int64_t up, int64_t down, int64_t start,
             std::vector<float>* counts) {
  const int64_t bins = static_cast<int64_t>(counts->size());
  const int64_t region_end = std::min(start + bins * up, bins * down);
  double acc = 0.0;
  double prev = 0.0;  // integral of the previous output bin
  int64_t j = std::max<int64_t>(start, 0);
  for (int64_t i = 0; i < bins; ++i) {
    const int64_t boundary = (i + 1) * down;
    for (; j < region_end && j < boundary; ++j) acc += static_cast<double>(old_counts[(j - start) / up]);
    const double shifted = static_cast<double>(static_cast<float>(prev));
    (*counts)[i] += static_cast<float>((acc - shifted) / static_cast<double>(up));
    prev = acc;
  }
}

}  // namespace

double RunningHistogram::total() const {
  double t = 0.0;
  for (float c : counts) t += c;
  return t;
}

void RunningHistogram::add(const HistogramOptions& o, const ChannelView& v, float batch_min, float batch_max,
                           std::vector<uint32_t>* scratch) {
  const int32_t bins = o.bins;
  auto request = [&](float lo, float hi, double* dlo, double* dhi) {
    *dlo = o.torch_1_13_int_edges ? std::trunc(static_cast<double>(lo)) : lo;
    *dhi = o.torch_1_13_int_edges ? std::trunc(static_cast<double>(hi)) : hi;
  };
  double rlo = 0, rhi = 0;
  float flo = 0, fhi = 0;
  if (!initialized() || min == max) {  // forward(): uninitialized or same_values
    min = batch_min;
    max = batch_max;
    request(min, max, &rlo, &rhi);
    histc_edges(rlo, rhi, batch_min, batch_max, &flo, &fhi);
    histc(v, bins, flo, fhi, scratch, &counts);
    return;
  }
  float cmin = std::min(batch_min, min);
  float cmax = std::max(batch_max, max);
  // _adjust_min_max, in float32 tensor arithmetic.
  const int64_t up = o.upsample_rate;
  const float hist_bin_width = (max - min) / static_cast<float>(static_cast<int64_t>(bins) * up);
  const float grid = static_cast<float>(bins) * hist_bin_width;
  const float ratio = (cmax - cmin) / grid;
  std::vector<float> fresh;
  if (!(hist_bin_width > 0.f) || !(ratio <= 1e12f)) {
    // Growth PyTorch cannot represent (its arrays would not fit): re-bin the old mass
    // by overlap into the combined range instead.
    histc_edges(cmin, cmax, batch_min, batch_max, &flo, &fhi);
    histc(v, bins, flo, fhi, scratch, &fresh);
    std::vector<double> moved(static_cast<size_t>(bins), 0.0);
    const double w_new = (static_cast<double>(fhi) - flo) / bins, w_old = (static_cast<double>(max) - min) / bins;
    for (int32_t k = 0; k < bins; ++k)
      spread(&moved, w_new, min - static_cast<double>(flo) + k * w_old,
             min - static_cast<double>(flo) + (k + 1) * w_old, counts[k]);
    for (int32_t k = 0; k < bins; ++k) fresh[k] += static_cast<float>(moved[k]);
    counts.swap(fresh);
    min = flo;
    max = fhi;
    return;
  }
  const int64_t down = static_cast<int64_t>(std::ceil(ratio));
  const float e = static_cast<float>(down) * grid - (cmax - cmin);
  cmax = cmax + e;
  const int64_t start = static_cast<int64_t>(std::nearbyint((min - cmin) / hist_bin_width));
  request(cmin, cmax, &rlo, &rhi);
  histc_edges(rlo, rhi, batch_min, batch_max, &flo, &fhi);
  histc(v, bins, flo, fhi, scratch, &fresh);
  if (cmin == min && cmax == max) {
    for (int32_t k = 0; k < bins; ++k) fresh[k] += counts[k];
  } else {
    combine(counts, up, down, start, &fresh);
  }
  counts.swap(fresh);
  min = cmin;
  max = cmax;
}

double l2_quantization_error(const RunningHistogram& h, int32_t dst_bins, int32_t start_bin, int32_t end_bin) {
  // _compute_quantization_error: Python floats for the widths, float32 tensors per bin.
  const int32_t bins = static_cast<int32_t>(h.counts.size());
  const double bin_width = (static_cast<double>(h.max) - static_cast<double>(h.min)) / bins;
  const double dst_width = bin_width * (end_bin - start_bin + 1) / dst_bins;
  if (dst_width == 0.0) return 0.0;
  const float fbw = static_cast<float>(bin_width);
  const float fdw = static_cast<float>(dst_width);
  const float half = static_cast<float>(dst_width / 2);
  const float neg_half = static_cast<float>(-dst_width / 2);
  const float last_dst = static_cast<float>(dst_bins - 1);
  // _get_norm(tensor(-w/2), tensor(w/2)) before the density factor.
  const float full_cube = (half * half * half - neg_half * neg_half * neg_half) / 3.f;
  double sum = 0.0;
  for (int32_t k = 0; k < bins; ++k) {
    const float begin = static_cast<float>(k - start_bin) * fbw;
    const float end = begin + fbw;
    const float dst_begin = std::min(std::max(floor_divide(begin, fdw), 0.f), last_dst);
    const float dst_end = std::min(std::max(floor_divide(end, fdw), 0.f), last_dst);
    const float density = h.counts[k] / fbw;
    const float delta_begin = begin - (dst_begin + 0.5f) * fdw;
    float norm = 0.f;
    norm += density * ((half * half * half - delta_begin * delta_begin * delta_begin) / 3.f);
    norm += (dst_end - dst_begin - 1.f) * (density * full_cube);
    const float delta_end = end - (dst_end * fdw + half);
    norm += density * ((delta_end * delta_end * delta_end - neg_half * neg_half * neg_half) / 3.f);
    sum += norm;
  }
  return sum;
}

void l2_search(const RunningHistogram& h, int32_t dst_bins, float* new_min, float* new_max) {
  const int32_t bins = static_cast<int32_t>(h.counts.size());
  const float bin_width = (h.max - h.min) / static_cast<float>(bins);
  if (!(h.max > h.min)) {  // bin width 0: every error is 0 and PyTorch ends at min + 0
    *new_min = h.min;
    *new_max = h.min;
    return;
  }
  // torch.sum in float32, then .item(); cumsum accumulates in double, stores float32.
  const double total = static_cast<double>(static_cast<float>(h.total()));
  std::vector<float> csum(static_cast<size_t>(bins));
  double acc = 0.0;
  for (int32_t k = 0; k < bins; ++k) {
    acc += h.counts[k];
    csum[k] = static_cast<float>(acc);
  }
  const double step = 1e-5;
  double alpha = 0.0, beta = 1.0;
  int32_t start = 0, end = bins - 1;
  double norm_min = std::numeric_limits<double>::infinity();
  while (alpha < beta) {
    const double next_alpha = alpha + step;
    const double next_beta = beta - step;
    // cSum[l] < next_alpha * total compares in float32 (the Python float is rounded).
    const float lo_mass = static_cast<float>(next_alpha * total);
    const float hi_mass = static_cast<float>(next_beta * total);
    int32_t l = start, r = end;
    while (l < end && csum[l] < lo_mass) ++l;
    while (r > start && csum[r] > hi_mass) --r;
    int32_t next_start = start, next_end = end;
    if ((l - start) > (end - r)) {
      next_start = l;
      alpha = next_alpha;
    } else {
      next_end = r;
      beta = next_beta;
    }
    if (next_start == start && next_end == end) continue;
    const double norm = l2_quantization_error(h, dst_bins, next_start, next_end);
    if (norm > norm_min) break;
    norm_min = norm;
    start = next_start;
    end = next_end;
  }
  *new_min = h.min + bin_width * static_cast<float>(start);
  *new_max = h.min + bin_width * static_cast<float>(end + 1);
}

namespace {

template <typename T>
float quantile_of(const T* counts, int32_t bins, double lo, double hi, double fraction) {
  double total = 0.0;
  for (int32_t k = 0; k < bins; ++k) total += counts[k];
  if (!(total > 0.0) || bins == 0) return static_cast<float>(lo);
  const double w = (hi - lo) / bins;
  const double target = std::min(std::max(fraction, 0.0), 1.0) * total;
  double cum = 0.0;
  for (int32_t k = 0; k < bins; ++k) {
    const double c = counts[k];
    if (c > 0.0 && cum + c >= target) {
      const double t = std::min(std::max((target - cum) / c, 0.0), 1.0);
      return static_cast<float>(std::min(lo + (k + t) * w, hi));
    }
    cum += c;
  }
  return static_cast<float>(hi);
}

// Integral of (u - round(u))^2 from 0 to u: whole cells give 1/12 each, the cell of u
// (centred on n = round(u), r = u - n in [-1/2, 1/2)) gives (r^3 + 1/8) / 3.
double rounding_integral(double u) {
  const double n = std::floor(u + 0.5);
  const double r = u - n;
  return n / 12.0 + (r * r * r + 0.125) / 3.0;
}

// Squared error of uniform mass 1/(b-a) per unit on [a, b] (a < b) quantized on the grid.
double interval_sq_error(double a, double b, double s, double lo_r, double hi_r) {
  double err = 0.0;
  if (a < lo_r) {  // clipped to lo_r
    const double e = std::min(b, lo_r);
    err += ((e - lo_r) * (e - lo_r) * (e - lo_r) - (a - lo_r) * (a - lo_r) * (a - lo_r)) / 3.0;
  }
  if (b > hi_r) {  // clipped to hi_r
    const double e = std::max(a, hi_r);
    err += ((b - hi_r) * (b - hi_r) * (b - hi_r) - (e - hi_r) * (e - hi_r) * (e - hi_r)) / 3.0;
  }
  const double m0 = std::max(a, lo_r), m1 = std::min(b, hi_r);
  if (m1 > m0) err += s * s * s * (rounding_integral(m1 / s) - rounding_integral(m0 / s));
  return err / (b - a);
}

}  // namespace

float histogram_quantile(const RunningHistogram& h, double fraction) {
  return quantile_of(h.counts.data(), static_cast<int32_t>(h.counts.size()), h.min, h.max, fraction);
}

float histogram_quantile(const std::vector<double>& counts, double lo, double hi, double fraction) {
  return quantile_of(counts.data(), static_cast<int32_t>(counts.size()), lo, hi, fraction);
}

double histogram_sq_error(const RunningHistogram& h, double scale, double kmin, double kmax) {
  const int32_t bins = static_cast<int32_t>(h.counts.size());
  const double lo = h.min, w = (static_cast<double>(h.max) - lo) / bins;
  const double lo_r = kmin * scale, hi_r = kmax * scale;
  double err = 0.0;
  for (int32_t k = 0; k < bins; ++k) {
    const double m = h.counts[k];
    if (m == 0.0) continue;
    const double a = lo + k * w, b = lo + (k + 1) * w;
    if (b > a) {
      err += m * interval_sq_error(a, b, scale, lo_r, hi_r);
    } else {  // a degenerate histogram: all mass at one point
      const double x = std::min(std::max(a, lo_r), hi_r);
      const double d = a - scale * std::nearbyint(x / scale);
      err += m * d * d;
    }
  }
  return err;
}

std::vector<double> fold_abs(const RunningHistogram& h, int32_t bins, float* abs_max) {
  std::vector<double> out(static_cast<size_t>(bins), 0.0);
  const double lo = h.min, hi = h.max;
  const double amax = std::max(std::fabs(lo), std::fabs(hi));
  *abs_max = static_cast<float>(amax);
  const int32_t src_bins = static_cast<int32_t>(h.counts.size());
  if (!(amax > 0.0)) {
    for (float c : h.counts) out[0] += c;
    return out;
  }
  const double ws = (hi - lo) / src_bins, wd = amax / bins;
  for (int32_t k = 0; k < src_bins; ++k) {
    const double m = h.counts[k];
    if (m == 0.0) continue;
    const double a = lo + k * ws, b = lo + (k + 1) * ws;
    if (a >= 0.0) {
      spread(&out, wd, a, b, m);
    } else if (b <= 0.0) {
      spread(&out, wd, -b, -a, m);
    } else {  // the bin straddles 0: its two sides fold onto [0, -a] and [0, b]
      spread(&out, wd, 0.0, -a, m * (-a) / (b - a));
      spread(&out, wd, 0.0, b, m * b / (b - a));
    }
  }
  return out;
}

namespace {

// What the KL searches below reuse across windows, as prefix sums over the bins (entry
// k covers hist[0:k]): the mass, the count of non-empty bins, and the sum of h log h,
// so that each group of a window costs O(1) and one log, whatever its width.
struct KlTables {
  std::vector<double> prefix, hlogh;
  std::vector<int32_t> nonzero;
};

double xlogx(double x) { return x > 0.0 ? x * std::log(x) : 0.0; }

KlTables kl_tables(const std::vector<double>& hist) {
  KlTables t;
  t.prefix.assign(hist.size() + 1, 0.0);
  t.hlogh.assign(hist.size() + 1, 0.0);
  t.nonzero.assign(hist.size() + 1, 0);
  for (size_t k = 0; k < hist.size(); ++k) {
    t.prefix[k + 1] = t.prefix[k] + hist[k];
    t.hlogh[k + 1] = t.hlogh[k] + xlogx(hist[k]);
    t.nonzero[k + 1] = t.nonzero[k] + (hist[k] > 0.0);
  }
  return t;
}

// One group of Q in a window: its mass, and P's bins > 0 in it (count, sum, sum p log p).
struct KlGroup {
  double mass, s_p, s_plogp;
  int32_t nonzero;
};

// KL(P || Q) of the window [a, b) of `hist`, normalized: P is hist[a:b] with the mass
// below a added to its first bin and the mass from b on added to its last; Q is
// hist[a:b] merged into `levels` groups of (nearly) equal bin counts, each group's
// mass spread evenly over its bins where P is non-zero. Infinity when Q is empty. A bin
// where P has mass and Q none (a tail landed on an empty group) gets a floor, so the
// divergence stays finite but large.
//
// Within a group every bin of P > 0 has the same q = mass / nonzero, so the group's
// terms sum to  S_plogp - S_p * log(q / Q)  (S_p, S_plogp: the sums of p and p log p
// over its bins), and the whole is (1/P) * sum_g [...] - log P. P equals hist except
// in the two end bins, which the group sums correct. `groups` is scratch.
double window_kl(const std::vector<double>& hist, const KlTables& t, int32_t a, int32_t b, int32_t levels,
                 std::vector<KlGroup>* groups) {
  const int32_t w = b - a;
  const double p_total = t.prefix.back();
  const double lower_tail = t.prefix[a], upper_tail = p_total - t.prefix[b];
  // Replaces bin j's hist value h by P's value p in a group's sums.
  auto correct = [&](KlGroup* gr, int32_t j, double p) {
    const double h = hist[j];
    gr->nonzero += static_cast<int32_t>(p > 0.0) - static_cast<int32_t>(h > 0.0);
    gr->s_p += p - h;
    gr->s_plogp += xlogx(p) - xlogx(h);
  };
  double q_total = 0.0;
  groups->clear();
  // Group g covers [a + floor(g w / levels), a + floor((g + 1) w / levels)), stepped
  // without a division: j1 advances by w / levels, and one more when the remainder wraps.
  const int32_t step = w / levels, rem = w % levels;
  int32_t j1 = a, frac = 0;
  for (int32_t g = 0; g < levels; ++g) {
    const int32_t j0 = j1;
    j1 += step;
    frac += rem;
    if (frac >= levels) {
      frac -= levels;
      ++j1;
    }
    if (j1 == j0) continue;
    KlGroup gr;
    gr.mass = t.prefix[j1] - t.prefix[j0];
    gr.s_p = gr.mass;
    gr.s_plogp = t.hlogh[j1] - t.hlogh[j0];
    gr.nonzero = t.nonzero[j1] - t.nonzero[j0];
    if (w == 1) {
      correct(&gr, a, hist[a] + lower_tail + upper_tail);
    } else {
      if (j0 == a) correct(&gr, a, hist[a] + lower_tail);
      if (j1 == b) correct(&gr, b - 1, hist[b - 1] + upper_tail);
    }
    if (gr.nonzero == 0) continue;
    q_total += gr.mass;  // spread over its bins of P > 0, all of it
    groups->push_back(gr);
  }
  if (!(q_total > 0.0)) return std::numeric_limits<double>::infinity();
  const double floor_q = 1e-12;
  double sum = 0.0;
  for (const KlGroup& gr : *groups) {
    const double qk = std::max(gr.mass / gr.nonzero / q_total, floor_q);
    sum += gr.s_plogp - gr.s_p * std::log(qk);
  }
  return sum / p_total - std::log(p_total);
}

}  // namespace

int32_t kl_threshold_bin(const std::vector<double>& hist, int32_t levels) {
  const int32_t n = static_cast<int32_t>(hist.size());
  if (levels < 1 || n <= levels) return n;
  const KlTables t = kl_tables(hist);
  if (!(t.prefix.back() > 0.0)) return n;
  std::vector<KlGroup> groups;
  double best_kl = std::numeric_limits<double>::infinity();
  int32_t best = n;
  for (int32_t i = levels; i <= n; ++i) {
    const double kl = window_kl(hist, t, 0, i, levels, &groups);
    if (kl < best_kl) {
      best_kl = kl;
      best = i;
    }
  }
  return best;
}

void kl_window(const std::vector<double>& hist, int32_t levels, int32_t* first, int32_t* last) {
  const int32_t n = static_cast<int32_t>(hist.size());
  *first = 0;
  *last = n;
  if (levels < 1 || n <= levels) return;
  const KlTables t = kl_tables(hist);
  if (!(t.prefix.back() > 0.0)) return;
  std::vector<KlGroup> groups;
  // KL compares normalized distributions, so a window off the bulk, whose P is nearly
  // all tail mass piled into one end bin, would score close to 0: windows must hold at
  // least half of the mass inside them.
  const double half = 0.5 * t.prefix.back();
  auto kl_of = [&](int32_t s, int32_t e) {
    if (t.prefix[e] - t.prefix[s] < half) return std::numeric_limits<double>::infinity();
    return window_kl(hist, t, s, e, levels, &groups);
  };
  int32_t a = 0, b = n;
  for (int round = 0; round < 4; ++round) {
    const int32_t a0 = a, b0 = b;
    double best = std::numeric_limits<double>::infinity();
    for (int32_t e = a + levels; e <= n; ++e) {  // the upper end, the lower fixed
      const double kl = kl_of(a, e);
      if (kl < best) {
        best = kl;
        b = e;
      }
    }
    best = std::numeric_limits<double>::infinity();
    for (int32_t s = b - levels; s >= 0; --s) {  // the lower end, from the upper one outwards
      const double kl = kl_of(s, b);
      if (kl < best) {
        best = kl;
        a = s;
      }
    }
    if (a == a0 && b == b0) break;
  }
  *first = a;
  *last = b;
}

std::vector<double> rebin(const RunningHistogram& h, double lo, double hi, int32_t bins) {
  std::vector<double> out(static_cast<size_t>(bins), 0.0);
  const int32_t src_bins = static_cast<int32_t>(h.counts.size());
  const double ws = (static_cast<double>(h.max) - h.min) / src_bins, wd = (hi - lo) / bins;
  for (int32_t k = 0; k < src_bins; ++k) {
    const double a = h.min + k * ws;
    spread(&out, wd, a - lo, a + ws - lo, h.counts[k]);
  }
  return out;
}

}  // namespace quant
}  // namespace edgeq
