// Properties of the histogram-search methods (percentile, entropy, MSE) and of the
// histogram itself, which have no PyTorch counterpart to compare with: outliers are
// clipped where min/max keeps them, MSE's range quantizes the data with less error
// than min/max's, the entropy threshold of a Gaussian lies in a sane band, percentiles
// land where the distribution puts them, per-channel searches follow each channel.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "kernels/ref/ref.h"
#include "quant/histogram.h"
#include "quant/observer.h"
#include "test/quant_test_util.h"

namespace edgeq {
namespace quant {
namespace {

using testing_util::make_scheme;

std::vector<float> gaussian(size_t n, uint32_t seed, float sigma = 1.f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.f, sigma);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

std::vector<float> laplace(size_t n, uint32_t seed, float b = 1.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-0.5f, 0.5f);
  std::vector<float> v(n);
  for (float& x : v) {
    const float r = u(rng);
    x = -b * std::copysign(1.f, r) * std::log(1.f - 2.f * std::fabs(r) + 1e-12f);
  }
  return v;
}

// Mean squared error of quantizing then dequantizing x with (scale, zp).
double quant_mse(const std::vector<float>& x, const QScheme& s, float scale, int32_t zp) {
  int32_t qmin = 0, qmax = 0;
  EXPECT_TRUE(quant_range(s, &qmin, &qmax).ok());
  double e = 0.0;
  for (float v : x) {
    const int32_t q = ref::quantize_value(v, scale, zp, qmin, qmax);
    const double d = static_cast<double>(v) - static_cast<double>(scale) * (q - zp);
    e += d * d;
  }
  return e / x.size();
}

struct Result {
  std::vector<float> lo, hi, scale;
  std::vector<int32_t> zp;
};

Result run(Method m, const std::vector<float>& x, const QScheme& s, ObserverOptions o = ObserverOptions(),
           int batches = 4) {
  std::unique_ptr<Observer> obs = make_observer(m, o);
  const size_t per = x.size() / batches;
  for (int b = 0; b < batches; ++b) {
    const size_t n = b + 1 == batches ? x.size() - per * b : per;
    EXPECT_TRUE(obs->observe(x.data() + per * b, {static_cast<int32_t>(n)}).ok());
  }
  Result r;
  Status st = obs->compute_range(s, &r.lo, &r.hi);
  EXPECT_TRUE(st.ok()) << st.message();
  st = obs->compute(s, &r.scale, &r.zp);
  EXPECT_TRUE(st.ok()) << st.message();
  return r;
}

TEST(QuantMethods, OutliersAreClippedExceptByMinMax) {
  // Two outliers: 5e-6 of the mass, inside percentile 99.999's tail. Huge ones for
  // percentile and entropy; MSE weighs their clipping error against the bulk's
  // rounding error, so it clips moderate outliers (60) but keeps huge ones.
  for (float big : {1000.f, 60.f}) {
    std::vector<float> x = gaussian(400000, 1);
    x[1234] = big;
    x[345678] = -0.8f * big;
    for (const QScheme& s : {make_scheme(DType::kS8, true), make_scheme(DType::kU8, false)}) {
      SCOPED_TRACE(scheme_string(s) + " outlier " + std::to_string(big));
      const Result mm = run(Method::kMinMax, x, s);
      EXPECT_EQ(mm.hi[0], big);
      EXPECT_EQ(mm.lo[0], -0.8f * big);
      for (Method m : {Method::kPercentile, Method::kEntropy, Method::kMse}) {
        if (m == Method::kMse && big > 100.f) continue;
        SCOPED_TRACE(method_name(m));
        const Result r = run(m, x, s);
        if (m == Method::kMse) {
          // T minimizes (60-T)^2 + (48-T)^2 + n (T/127.5)^2 / 12: about 27 for n = 4e5.
          EXPECT_LT(r.hi[0], 0.75f * big);
          EXPECT_GT(r.lo[0], -0.75f * 0.8f * big);
          EXPECT_LT(quant_mse(x, s, r.scale[0], r.zp[0]), quant_mse(x, s, mm.scale[0], mm.zp[0]));
          continue;
        }
        EXPECT_LT(r.hi[0], big / 4);
        EXPECT_GT(r.hi[0], 2.f);
        EXPECT_GT(r.lo[0], -big / 4);
        EXPECT_LT(r.scale[0], mm.scale[0] / 4);
      }
    }
  }
}

TEST(QuantMethods, MseKeepsHugeOutliersWhoseClippingCostsMore) {
  std::vector<float> x = gaussian(400000, 1);
  x[1234] = 1000.f;
  x[345678] = -800.f;
  const QScheme s = make_scheme(DType::kS8, true);
  const Result mm = run(Method::kMinMax, x, s);
  const Result mse = run(Method::kMse, x, s);
  EXPECT_LE(quant_mse(x, s, mse.scale[0], mse.zp[0]), quant_mse(x, s, mm.scale[0], mm.zp[0]));
  EXPECT_GT(mse.hi[0], 500.f);
}

TEST(QuantMethods, MseRangeQuantizesWithLessErrorThanMinMax) {
  const std::vector<std::vector<float>> data = {gaussian(200000, 2), laplace(200000, 3, 0.5f)};
  for (const std::vector<float>& x : data) {
    for (const QScheme& s : {make_scheme(DType::kS8, true), make_scheme(DType::kU8, false),
                             make_scheme(DType::kS8, true, true), make_scheme(DType::kU8, false, false, true)}) {
      SCOPED_TRACE(scheme_string(s));
      const Result mm = run(Method::kMinMax, x, s);
      const Result mse = run(Method::kMse, x, s);
      const double e_mm = quant_mse(x, s, mm.scale[0], mm.zp[0]);
      const double e_mse = quant_mse(x, s, mse.scale[0], mse.zp[0]);
      EXPECT_LT(e_mse, e_mm);
      EXPECT_LT(mse.hi[0], mm.hi[0]);  // heavy-enough tails: clipping pays
    }
  }
}

TEST(QuantMethods, MseSearchPredictsTheDataError) {
  // The histogram model of the error agrees with the error measured on the data.
  const std::vector<float> x = laplace(200000, 4);
  const QScheme s = make_scheme(DType::kS8, true);
  ObserverOptions o;
  std::unique_ptr<Observer> obs = make_observer(Method::kMse, o);
  ASSERT_TRUE(obs->observe(x.data(), {static_cast<int32_t>(x.size())}).ok());
  const RunningHistogram& h = obs->stats().channels[0].hist;
  for (float t : {2.f, 4.f, 8.f}) {
    float scale = 0.f;
    int32_t zp = 0;
    ASSERT_TRUE(choose_qparams(s, -t, t, &scale, &zp).ok());
    const double model = histogram_sq_error(h, scale, -128 - zp, 127 - zp) / x.size();
    EXPECT_NEAR(model, quant_mse(x, s, scale, zp), 0.05 * model) << "t=" << t;
  }
}

TEST(QuantMethods, EntropyThresholdOfGaussianIsInASaneBand) {
  const std::vector<float> x = gaussian(300000, 5, 2.f);  // sigma 2
  for (const QScheme& s : {make_scheme(DType::kS8, true), make_scheme(DType::kU8, false)}) {
    SCOPED_TRACE(scheme_string(s));
    const Result mm = run(Method::kMinMax, x, s);
    const Result r = run(Method::kEntropy, x, s);
    const float amax = std::max(-mm.lo[0], mm.hi[0]);
    EXPECT_GT(r.hi[0], 3.f * 2.f);  // at least 3 sigma (8-bit optimal clipping is near 4)
    EXPECT_LE(r.hi[0], amax);
    if (s.symmetric) {
      EXPECT_EQ(r.lo[0], -r.hi[0]);
    } else {
      EXPECT_LT(r.lo[0], -3.f * 2.f);
    }
  }
}

// A range near the float limits, with exact zeros: the entropy search takes the zeros
// out of the bin holding 0, whose position overflowed float ((0 - min) * bins / (max -
// min) was inf / inf) and was converted to an integer: undefined behaviour that UBSan
// (tools/sanitize.sh) reports. Found by the calibrator's fuzzer.
TEST(QuantMethods, EntropyOfARangeNearTheFloatLimits) {
  std::vector<float> x = gaussian(4096, 11);
  for (size_t i = 0; i < x.size(); i += 7) x[i] = 0.f;
  x[5] = -3.0e38f;
  x[9] = 3.2e38f;
  for (const QScheme& s : {make_scheme(DType::kS8, true), make_scheme(DType::kU8, false)}) {
    SCOPED_TRACE(scheme_string(s));
    std::unique_ptr<Observer> obs = make_observer(Method::kEntropy, ObserverOptions());
    ASSERT_TRUE(obs->observe(x.data(), {static_cast<int32_t>(x.size())}).ok());
    std::vector<float> lo, hi;
    const Status st = obs->compute_range(s, &lo, &hi);
    if (!st.ok()) continue;  // refusing such a range is fine; undefined behaviour is not
    ASSERT_EQ(lo.size(), 1u);
    EXPECT_LE(lo[0], 0.f);
    EXPECT_GE(hi[0], 0.f);
    EXPECT_TRUE(std::isfinite(lo[0]) && std::isfinite(hi[0]));
  }
}

// A constant batch far from 0: torch.histc widens an empty range to [x - 1, x + 1], which
// in float is still [x, x] for |x| >= 2^24, so every value's bin position was 0 / 0 =
// NaN, converted to an index (undefined; in practice INT64_MIN, a write far outside the
// counts). Found by the calibrator's fuzzer. Every value must land in a bin.
TEST(QuantMethods, HistogramOfAConstantBatchFarFromZero) {
  for (float v : {1.0e30f, -3.0e9f, 3.4e38f}) {
    for (bool int_edges : {false, true}) {
      SCOPED_TRACE(std::to_string(v) + (int_edges ? " int edges" : ""));
      const std::vector<float> x(100, v);
      HistogramOptions o;
      o.torch_1_13_int_edges = int_edges;
      RunningHistogram h;
      std::vector<uint32_t> scratch;
      ChannelView view;
      view.base = x.data();
      view.blocks = 1;
      view.len = x.size();
      view.stride = x.size();
      h.add(o, view, v, v, &scratch);
      h.add(o, view, v, v, &scratch);  // same values again: the min == max branch
      EXPECT_EQ(h.total(), 100.0);
    }
  }
}

TEST(QuantMethods, EntropyUsesAllCodesForOneSidedUnsignedData) {
  std::vector<float> x = gaussian(200000, 6);
  for (float& v : x) v = std::max(v, 0.f);  // after ReLU
  ObserverOptions o;
  const Result u8 = run(Method::kEntropy, x, make_scheme(DType::kU8, false), o);
  const Result mm = run(Method::kMinMax, x, make_scheme(DType::kU8, false), o);
  EXPECT_EQ(u8.lo[0], 0.f);
  EXPECT_GT(u8.hi[0], 3.f);  // the spike of zeros does not drag the threshold down
  EXPECT_LE(u8.hi[0], mm.hi[0]);
  EXPECT_EQ(u8.zp[0], 0);
}

// Data on one side away from zero (x + 1 of a sigmoid, log-probabilities): the folded
// search put T below the data's start, so every value quantized to one code (11 dB) or
// the range came out with min > max. Every scheme now keeps the bulk of the data.
TEST(QuantMethods, EntropyKeepsDataOnOneSideAwayFromZero) {
  std::vector<float> pos = gaussian(100000, 7, 3.f);
  for (float& v : pos) v = 1.f + 1.f / (1.f + std::exp(-v));  // 1 + sigmoid: in (1, 2), dense at both ends
  std::vector<float> neg(pos);
  for (float& v : neg) v = -v;
  for (const std::vector<float>* x : {&pos, &neg}) {
    for (const QScheme& s : {make_scheme(DType::kU8, false), make_scheme(DType::kS8, false), make_scheme(DType::kS8, true)}) {
      SCOPED_TRACE(scheme_string(s) + (x == &pos ? " positive" : " negative"));
      const Result mm = run(Method::kMinMax, *x, s);
      const Result r = run(Method::kEntropy, *x, s);
      ASSERT_LE(r.lo[0], r.hi[0]);
      EXPECT_LT(quant_mse(*x, s, r.scale[0], r.zp[0]), 2.0 * quant_mse(*x, s, mm.scale[0], mm.zp[0]));
    }
  }
}

TEST(QuantMethods, PercentileLandsOnTheQuantile) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.f, 3.f);
  std::vector<float> x(400000);
  for (float& v : x) v = u(rng);
  ObserverOptions o;
  o.percentile = 99.0;
  const Result a = run(Method::kPercentile, x, make_scheme(DType::kU8, false), o);
  EXPECT_NEAR(a.lo[0], -1.f + 0.04f, 0.01f);  // 1% of [-1, 3] is 0.04
  EXPECT_NEAR(a.hi[0], 3.f - 0.04f, 0.01f);
  // symmetric: the 99th percentile of |x|; |x| has density 1/4 on [1, 3] and 1/2 on [0, 1]
  const Result s = run(Method::kPercentile, x, make_scheme(DType::kS8, true), o);
  EXPECT_NEAR(s.hi[0], 3.f - 0.04f, 0.01f);
  EXPECT_EQ(s.lo[0], -s.hi[0]);
  o.percentile = 100.0;
  const Result full = run(Method::kPercentile, x, make_scheme(DType::kU8, false), o);
  const Result mm = run(Method::kMinMax, x, make_scheme(DType::kU8, false), o);
  EXPECT_NEAR(full.hi[0], mm.hi[0], 1e-5f);
  o.percentile = 40.0;
  std::unique_ptr<Observer> bad = make_observer(Method::kPercentile, o);
  ASSERT_TRUE(bad->observe(x.data(), {100}).ok());
  std::vector<float> sc;
  std::vector<int32_t> zp;
  EXPECT_EQ(bad->compute(make_scheme(DType::kU8, false), &sc, &zp).code(), StatusCode::kInvalidArgument);
}

TEST(QuantMethods, PerChannelSearchesFollowEachChannel) {
  // [N, C] with channel c = 2^c * the same values: every method's range scales along.
  const int32_t n = 50000, c = 4;
  const std::vector<float> g = gaussian(static_cast<size_t>(n), 8);
  std::vector<float> x(static_cast<size_t>(n) * c);
  for (int32_t i = 0; i < n; ++i)
    for (int32_t k = 0; k < c; ++k) x[i * c + k] = g[i] * static_cast<float>(1 << k);
  ObserverOptions o;
  o.axis = 1;
  const QScheme s = make_scheme(DType::kS8, true, false, false, 1);
  for (Method m : {Method::kMinMax, Method::kMovingAverage, Method::kHistogram, Method::kPercentile, Method::kEntropy,
                   Method::kMse}) {
    SCOPED_TRACE(method_name(m));
    std::unique_ptr<Observer> obs = make_observer(m, o);
    ASSERT_TRUE(obs->observe(x.data(), {n / 2, c}).ok());
    ASSERT_TRUE(obs->observe(x.data() + (n / 2) * c, {n / 2, c}).ok());
    std::vector<float> scale;
    std::vector<int32_t> zp;
    ASSERT_TRUE(obs->compute(s, &scale, &zp).ok());
    ASSERT_EQ(scale.size(), 4u);
    for (int32_t k = 1; k < c; ++k) EXPECT_NEAR(scale[k] / scale[k - 1], 2.f, 0.02f) << "channel " << k;
  }
}

TEST(QuantMethods, KlThresholdOnHandmadeHistograms) {
  // All mass inside the first `levels` bins: nothing to gain from a wider range.
  std::vector<double> h(512, 0.0);
  for (int i = 0; i < 100; ++i) h[i] = 1.0 + i % 3;
  EXPECT_EQ(kl_threshold_bin(h, 128), 128);
  // A tiny far tail is not worth covering.
  h[500] = 1e-3;
  EXPECT_LT(kl_threshold_bin(h, 128), 500);
  // Mass spread evenly to the end: the full range is the best.
  std::vector<double> flat(512, 1.0);
  EXPECT_EQ(kl_threshold_bin(flat, 128), 512);
  EXPECT_EQ(kl_threshold_bin(std::vector<double>(64, 1.0), 128), 64);  // fewer bins than levels
}

TEST(QuantMethods, KlWindowOnHandmadeHistograms) {
  int32_t a = -1, b = -1;
  // Mass spread evenly to both ends: the whole range.
  kl_window(std::vector<double>(512, 1.0), 128, &a, &b);
  EXPECT_EQ(a, 0);
  EXPECT_EQ(b, 512);
  // A smooth bulk off centre with a tiny far tail on each side: each side clipped on
  // its own (the sides are not mirrored), without cutting into the bulk's shoulders.
  std::vector<double> h(1000, 0.0);
  for (int i = 300; i < 600; ++i) h[i] = 100.0 * std::exp(-std::pow((i - 450) / 60.0, 2));
  h[2] = 1e-3;
  h[990] = 1e-3;
  kl_window(h, 128, &a, &b);
  EXPECT_GT(a, 250);
  EXPECT_LT(a, 340);
  EXPECT_GT(b, 560);
  EXPECT_LT(b, 700);
  kl_window(std::vector<double>(64, 1.0), 128, &a, &b);  // fewer bins than levels
  EXPECT_EQ(a, 0);
  EXPECT_EQ(b, 64);
}

// The KL of one window straight from its definition, bin by bin (quant/histogram.h):
// the searches sum it per group from prefix sums instead.
double direct_kl(const std::vector<double>& hist, int32_t a, int32_t b, int32_t levels) {
  const int32_t w = b - a;
  double below = 0, above = 0, total = 0;
  for (int32_t k = 0; k < static_cast<int32_t>(hist.size()); ++k) {
    total += hist[k];
    if (k < a) below += hist[k];
    if (k >= b) above += hist[k];
  }
  std::vector<double> p(hist.begin() + a, hist.begin() + b), q(static_cast<size_t>(w), 0.0);
  p[0] += below;
  p[w - 1] += above;
  for (int32_t g = 0; g < levels; ++g) {
    const int32_t b0 = static_cast<int32_t>(int64_t{g} * w / levels), b1 = static_cast<int32_t>(int64_t{g + 1} * w / levels);
    double mass = 0;
    int32_t nonzero = 0;
    for (int32_t k = b0; k < b1; ++k) {
      mass += hist[a + k];
      nonzero += p[k] > 0;
    }
    for (int32_t k = b0; k < b1; ++k)
      if (p[k] > 0) q[k] = mass / nonzero;
  }
  double q_total = 0;
  for (double v : q) q_total += v;
  if (!(q_total > 0)) return std::numeric_limits<double>::infinity();
  double kl = 0;
  for (int32_t k = 0; k < w; ++k)
    if (p[k] > 0) kl += p[k] / total * std::log((p[k] / total) / std::max(q[k] / q_total, 1e-12));
  return kl;
}

// Random histograms with empty runs, spikes and far tails: the threshold search returns
// a window whose KL (by definition) is the smallest of all, and the two-sided search a
// window whose lower end is the best for its upper end among the windows holding half
// the mass (its last sweep), both within rounding.
TEST(QuantMethods, KlSearchesMatchTheDefinition) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 12; ++trial) {
    SCOPED_TRACE(trial);
    const int32_t n = 150 + trial * 17, levels = trial % 2 ? 32 : 7;
    std::vector<double> h(static_cast<size_t>(n), 0.0);
    std::normal_distribution<double> bulk(n * (0.3 + 0.04 * trial), n / 10.0);
    for (int i = 0; i < 4000; ++i) {
      const double x = bulk(rng);
      if (x >= 0 && x < n) h[static_cast<size_t>(x)] += 1.0;
    }
    for (int32_t k = 0; k < n; k += 11) h[k] = 0.0;             // empty runs inside the bulk
    h[static_cast<size_t>(rng() % n)] += 300.0;                  // a spike
    h[0] += 0.25 * (trial % 3);                                   // tails, some fractional
    h[n - 1] += 0.5 * (trial % 2);
    const int32_t t = kl_threshold_bin(h, levels);
    double best = std::numeric_limits<double>::infinity();
    for (int32_t i = levels; i <= n; ++i) best = std::min(best, direct_kl(h, 0, i, levels));
    EXPECT_LE(direct_kl(h, 0, t, levels), best + 1e-9 * std::fabs(best) + 1e-12) << "threshold " << t;

    int32_t a = -1, b = -1;
    kl_window(h, levels, &a, &b);
    double total = 0;
    for (double v : h) total += v;
    const double at = direct_kl(h, a, b, levels);
    for (int32_t s = 0; s + levels <= b; ++s) {
      double inside = 0;
      for (int32_t k = s; k < b; ++k) inside += h[k];
      if (inside < 0.5 * total) continue;
      EXPECT_GE(direct_kl(h, s, b, levels), at - 1e-9 * std::fabs(at) - 1e-12) << "window [" << a << ", " << b
                                                                               << ") against lower end " << s;
    }
  }
}

TEST(QuantMethods, RebinKeepsMassAndClampsToTheEnds) {
  RunningHistogram h;
  h.min = -2.f;
  h.max = 2.f;
  h.counts.assign(4, 1.f);  // [-2,-1] [-1,0] [0,1] [1,2]
  const std::vector<double> r = rebin(h, -1.0, 1.0, 4);  // bins of 0.5 over [-1, 1]
  EXPECT_DOUBLE_EQ(r[0], 1.5);  // [-1, -0.5] plus all of [-2, -1]
  EXPECT_DOUBLE_EQ(r[1], 0.5);
  EXPECT_DOUBLE_EQ(r[2], 0.5);
  EXPECT_DOUBLE_EQ(r[3], 1.5);
}

// Normalized images, as Fashion-MNIST's (pixel / 255 - mean) / std: half the pixels are
// background at the lower end, the rest spread up to the bright end. Folding |x| put
// the background spike at |min| and clipped every pixel above it (a uint8 range of
// [-0.81, 0.81] for data in [-0.81, 2.02]); the search on the signed histogram keeps
// the bright end and clips nothing it should not.
TEST(QuantMethods, EntropyKeepsBothSidesOfTwoSidedAffineData) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  const float mean = 0.2860406f, sd = 0.3530242f;
  std::vector<float> x(200000);
  for (float& v : x) {
    const float pixel = u(rng) < 0.5f ? 0.f : u(rng);
    v = (pixel - mean) / sd;
  }
  for (DType dt : {DType::kU8, DType::kS8}) {
    const QScheme s = make_scheme(dt, false);
    SCOPED_TRACE(scheme_string(s));
    const Result mm = run(Method::kMinMax, x, s);
    const Result r = run(Method::kEntropy, x, s);
    EXPECT_EQ(r.lo[0], mm.lo[0]);
    EXPECT_GT(r.hi[0], 0.97f * mm.hi[0]);
    EXPECT_LT(quant_mse(x, s, r.scale[0], r.zp[0]), 1.1 * quant_mse(x, s, mm.scale[0], mm.zp[0]));
  }
}

// A ReLU output over images with a constant background: besides the zeros, a few
// values shared by many samples (one per channel: the convolution of the background)
// and a long tail. The KL search ran to the atoms (each group next to one diverges)
// and clipped the tail hard; with the atoms flattened for the search and kept inside
// the range, it clips only the sparse end of the tail.
TEST(QuantMethods, EntropyIsNotDraggedToAtomsAndKeepsThem) {
  std::mt19937 rng(12);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  std::exponential_distribution<float> tail(1.f / 1.5f);
  const float atoms[] = {0.2f, 0.45f, 0.7f, 1.f};
  std::vector<float> x(400000);
  for (size_t i = 0; i < x.size(); ++i) {
    const float r = u(rng);
    x[i] = r < 0.6f ? 0.f : r < 0.8f ? atoms[i % 4] : tail(rng);
  }
  for (const QScheme& s : {make_scheme(DType::kU8, false), make_scheme(DType::kS8, true)}) {
    SCOPED_TRACE(scheme_string(s));
    const Result r = run(Method::kEntropy, x, s);
    EXPECT_GE(r.hi[0], 1.f);
    size_t clipped = 0;
    for (float v : x) clipped += v > r.hi[0];
    EXPECT_LT(static_cast<double>(clipped) / x.size(), 0.01) << "hi " << r.hi[0];
  }
}

TEST(QuantMethods, FoldAbsKeepsMassAndMirrors) {
  RunningHistogram h;
  h.min = -2.f;
  h.max = 2.f;
  h.counts.assign(8, 0.f);
  h.counts[0] = 3.f;  // [-2, -1.5]
  h.counts[3] = 2.f;  // [-0.5, 0]
  h.counts[7] = 5.f;  // [1.5, 2]
  float amax = 0.f;
  const std::vector<double> f = fold_abs(h, 4, &amax);  // bins of 0.5 over [0, 2]
  EXPECT_EQ(amax, 2.f);
  EXPECT_DOUBLE_EQ(f[0], 2.0);
  EXPECT_DOUBLE_EQ(f[1], 0.0);
  EXPECT_DOUBLE_EQ(f[3], 8.0);
}

TEST(QuantMethods, HistogramSurvivesHugeRangeGrowth) {
  // PyTorch cannot combine ranges this far apart (its arrays would not fit); edgeq
  // re-bins by overlap and keeps every count.
  std::unique_ptr<Observer> obs = make_observer(Method::kHistogram, ObserverOptions());
  const std::vector<float> tiny = {1e-30f, 2e-30f, 3e-30f};
  const std::vector<float> huge = {-1e30f, 5e29f, 1e30f};
  ASSERT_TRUE(obs->observe(tiny.data(), {3}).ok());
  ASSERT_TRUE(obs->observe(huge.data(), {3}).ok());
  const RunningHistogram& h = obs->stats().channels[0].hist;
  EXPECT_NEAR(h.total(), 6.0, 1e-9);
  EXPECT_LE(h.min, -1e30f);
  EXPECT_GE(h.max, 1e30f);
  std::vector<float> sc;
  std::vector<int32_t> zp;
  EXPECT_TRUE(obs->compute(make_scheme(DType::kU8, false), &sc, &zp).ok());
}

// Values near the float limits: (x - lo) * bins and hi - lo overflow float32, and the
// bin position was inf or NaN converted to an integer (undefined behaviour, found by
// fuzz/calibrate_fuzzer.cc). Each value must land in the bin of its place in the range.
TEST(QuantMethods, HistogramOfValuesNearTheFloatLimits) {
  const float big = std::numeric_limits<float>::max();
  for (const std::vector<float>& x : {std::vector<float>{-big, 0.f, big}, std::vector<float>{0.f, big / 2, big}}) {
    std::unique_ptr<Observer> obs = make_observer(Method::kHistogram, ObserverOptions());
    ASSERT_TRUE(obs->observe(x.data(), {3}).ok());
    const RunningHistogram& h = obs->stats().channels[0].hist;
    ASSERT_EQ(h.counts.size(), 2048u);
    EXPECT_EQ(h.total(), 3.0);
    EXPECT_EQ(h.counts.front(), 1.f);
    EXPECT_EQ(h.counts[1024], 1.f);
    EXPECT_EQ(h.counts.back(), 1.f);
  }
}

}  // namespace
}  // namespace quant
}  // namespace edgeq
