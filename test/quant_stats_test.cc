// Statistics records and bad input: a record written to text and read back gives the
// same qparams for every method (so a stats cache can be re-quantized with another
// method), damaged text and bad data give clear errors, non-finite values are skipped
// and counted, per-channel axes are checked, and qparams edge cases behave.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "quant/observer.h"
#include "quant/qparams.h"
#include "quant/weights.h"
#include "test/quant_test_util.h"

namespace edgeq {
namespace quant {
namespace {

using testing_util::make_scheme;

const Method kAllMethods[] = {Method::kMinMax,     Method::kMovingAverage, Method::kHistogram,
                              Method::kPercentile, Method::kEntropy,       Method::kMse};

std::vector<float> data(size_t n, uint32_t seed, float sigma, float mean) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(mean, sigma);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

// An observer collecting everything (the stats cache), fed 5 batches of [2, 3, 4, 5]
// whose spread grows, so the histogram re-bins.
std::unique_ptr<Observer> fed_observer(int32_t axis) {
  ObserverOptions o;
  o.axis = axis;
  o.collect_histogram = true;
  std::unique_ptr<Observer> obs = make_observer(Method::kMinMax, o);
  for (int b = 0; b < 5; ++b) {
    const std::vector<float> x = data(120, 10 + b, 0.5f + b, 0.1f * b);
    EXPECT_TRUE(obs->observe(x.data(), {2, 3, 4, 5}).ok());
  }
  return obs;
}

TEST(QuantStats, TextRoundTripGivesIdenticalQParamsForEveryMethod) {
  for (int32_t axis : {-1, 1, 3}) {
    SCOPED_TRACE("axis " + std::to_string(axis));
    std::unique_ptr<Observer> obs = fed_observer(axis);
    const std::string text = stats_to_text(obs->stats());
    TensorStats back;
    const Status st = stats_from_text(text, &back);
    ASSERT_TRUE(st.ok()) << st.message();
    EXPECT_EQ(stats_to_text(back), text);
    ObserverOptions search;
    for (Method m : kAllMethods) {
      for (const QScheme& s :
           {make_scheme(DType::kU8, false, false, false, axis), make_scheme(DType::kS8, true, true, false, axis),
            make_scheme(DType::kS8, false, false, true, axis)}) {
        SCOPED_TRACE(std::string(method_name(m)) + " " + scheme_string(s));
        std::vector<float> s1, s2;
        std::vector<int32_t> z1, z2;
        ASSERT_TRUE(compute_qparams(m, obs->stats(), search, s, &s1, &z1).ok());
        ASSERT_TRUE(compute_qparams(m, back, search, s, &s2, &z2).ok());
        EXPECT_EQ(s1, s2);
        EXPECT_EQ(z1, z2);
        EXPECT_EQ(s1.size(), axis < 0 ? 1u : (axis == 1 ? 3u : 5u));
      }
    }
  }
}

TEST(QuantStats, LoadedStatsServeAnotherMethodsObserver) {
  std::unique_ptr<Observer> cache = fed_observer(-1);
  std::unique_ptr<Observer> hist = make_observer(Method::kHistogram, ObserverOptions());
  ASSERT_TRUE(hist->set_stats(cache->stats()).ok());
  std::vector<float> a, b;
  std::vector<int32_t> za, zb;
  const QScheme s = make_scheme(DType::kU8, false);
  ASSERT_TRUE(hist->compute(s, &a, &za).ok());
  ASSERT_TRUE(compute_qparams(Method::kHistogram, cache->stats(), ObserverOptions(), s, &b, &zb).ok());
  EXPECT_EQ(a, b);
  EXPECT_EQ(za, zb);
  // A min/max-only record cannot answer a histogram method.
  std::unique_ptr<Observer> mm = make_observer(Method::kMinMax, ObserverOptions());
  const std::vector<float> x = {1.f, 2.f};
  ASSERT_TRUE(mm->observe(x.data(), {2}).ok());
  const Status st = compute_qparams(Method::kEntropy, mm->stats(), ObserverOptions(), s, &a, &za);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("no histogram"), std::string::npos) << st.message();
}

TEST(QuantStats, StatsFileKeepsNamesAndRecords) {
  NamedStats in;
  in.emplace_back("conv1/out put:0", fed_observer(-1)->stats());
  in.emplace_back("name\nwith newline 7:x", fed_observer(3)->stats());
  in.emplace_back("", TensorStats());  // never observed
  const std::string path = ::testing::TempDir() + "quant_stats_test.txt";
  ASSERT_TRUE(write_stats_file(path, in).ok());
  NamedStats out;
  const Status st = read_stats_file(path, &out);
  ASSERT_TRUE(st.ok()) << st.message();
  ASSERT_EQ(out.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(out[i].first, in[i].first);
    EXPECT_EQ(stats_to_text(out[i].second), stats_to_text(in[i].second));
  }
  std::remove(path.c_str());
  EXPECT_EQ(read_stats_file(path, &out).code(), StatusCode::kIoError);
}

TEST(QuantStats, DamagedTextIsRejected) {
  const std::string good = stats_to_text(fed_observer(1)->stats());
  TensorStats s;
  ASSERT_TRUE(stats_from_text(good, &s).ok());
  // Every truncation fails cleanly (no crash, no partial success).
  for (size_t cut = 0; cut + 1 < good.size(); cut += 97)
    EXPECT_FALSE(stats_from_text(good.substr(0, cut), &s).ok()) << "cut at " << cut;
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string t = good;
    const size_t at = t.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return t.replace(at, from.size(), to);
  };
  EXPECT_FALSE(stats_from_text(replaced("stats 1", "stats 2"), &s).ok());
  EXPECT_FALSE(stats_from_text(replaced("channels 3", "channels 4"), &s).ok());
  EXPECT_FALSE(stats_from_text(replaced("bins 2048", "bins 2047"), &s).ok());
  EXPECT_FALSE(stats_from_text(replaced("channel 1 ", "channel 2 "), &s).ok());
  EXPECT_FALSE(stats_from_text(replaced(" min ", " min x"), &s).ok());
  EXPECT_FALSE(stats_from_text(replaced(" 0:", " 99999:"), &s).ok());
  EXPECT_FALSE(stats_from_text(good + "extra", &s).ok());
  const Status st = stats_from_text(replaced(" min ", " min nan "), &s);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  NamedStats named;
  EXPECT_FALSE(parse_stats_file("edgeq-stats 1 tensors 1 tensor 999:abc", &named).ok());
  EXPECT_FALSE(parse_stats_file("edgeq-stats 1 tensors 2\ntensor 1:a\n" + good, &named).ok());
}

TEST(QuantStats, NonFiniteValuesAreSkippedAndCounted) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> clean = {-1.5f, 0.25f, 3.f, 0.f};
  const std::vector<float> dirty = {nan, -1.5f, inf, 0.25f, -inf, 3.f, nan, 0.f};
  for (Method m : kAllMethods) {
    SCOPED_TRACE(method_name(m));
    std::unique_ptr<Observer> a = make_observer(m, ObserverOptions());
    std::unique_ptr<Observer> b = make_observer(m, ObserverOptions());
    ASSERT_TRUE(a->observe(clean.data(), {4}).ok());
    ASSERT_TRUE(b->observe(dirty.data(), {2, 4}).ok());
    EXPECT_EQ(b->stats().nonfinite, 4u);
    EXPECT_EQ(b->stats().channels[0].count, 4u);
    std::vector<float> sa, sb;
    std::vector<int32_t> za, zb;
    ASSERT_TRUE(a->compute(make_scheme(DType::kU8, false), &sa, &za).ok());
    ASSERT_TRUE(b->compute(make_scheme(DType::kU8, false), &sb, &zb).ok());
    EXPECT_EQ(sa, sb);
    EXPECT_EQ(za, zb);
  }
  // Only non-finite values: an error that says so.
  std::unique_ptr<Observer> obs = make_observer(Method::kMinMax, ObserverOptions());
  const std::vector<float> bad = {nan, inf};
  ASSERT_TRUE(obs->observe(bad.data(), {2}).ok());
  std::vector<float> sc;
  std::vector<int32_t> zp;
  const Status st = obs->compute(make_scheme(DType::kU8, false), &sc, &zp);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("2 non-finite"), std::string::npos) << st.message();
}

TEST(QuantStats, BadObserveCallsAndSchemesAreErrors) {
  ObserverOptions o;
  o.axis = 2;
  std::unique_ptr<Observer> obs = make_observer(Method::kHistogram, o);
  const std::vector<float> x(24, 1.f);
  std::vector<float> sc;
  std::vector<int32_t> zp;
  // Nothing observed yet.
  EXPECT_EQ(obs->compute(make_scheme(DType::kU8, false, false, false, 2), &sc, &zp).code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(obs->observe(nullptr, {2, 3, 4}).ok());
  EXPECT_FALSE(obs->observe(x.data(), {2, -3, 4}).ok());
  EXPECT_FALSE(obs->observe(x.data(), {24}).ok());  // axis 2 outside a rank-1 shape
  EXPECT_FALSE(obs->observe(x.data(), nullptr, 3).ok());
  EXPECT_TRUE(obs->observe(nullptr, {2, 0, 4}).ok());  // empty batch: nothing to do
  EXPECT_TRUE(obs->observe(x.data(), {2, 3, 4}).ok());
  EXPECT_FALSE(obs->observe(x.data(), {2, 4, 3}).ok());  // 3 channels, earlier 4
  EXPECT_EQ(obs->stats().batches, 1u);
  // Scheme axis must match; per-tensor from per-channel only for min/max.
  EXPECT_FALSE(obs->compute(make_scheme(DType::kU8, false, false, false, 1), &sc, &zp).ok());
  EXPECT_FALSE(obs->compute(make_scheme(DType::kU8, false), &sc, &zp).ok());
  EXPECT_TRUE(obs->compute(make_scheme(DType::kU8, false, false, false, 2), &sc, &zp).ok());
  EXPECT_EQ(sc.size(), 4u);
  std::vector<float> lo, hi;
  ASSERT_TRUE(compute_range(Method::kMinMax, obs->stats(), o, make_scheme(DType::kU8, false), &lo, &hi).ok());
  EXPECT_EQ(lo, std::vector<float>{1.f});
  // Schemes the math refuses.
  EXPECT_EQ(obs->compute(make_scheme(DType::kU8, true, false, true, 2), &sc, &zp).code(), StatusCode::kUnsupported);
  QScheme s32 = make_scheme(DType::kS32, false);
  EXPECT_FALSE(choose_qparams(s32, -1.f, 1.f, &sc[0], &zp[0]).ok());
  QScheme no_eps = make_scheme(DType::kS8, true);
  no_eps.eps = 0.f;
  EXPECT_FALSE(choose_qparams(no_eps, -1.f, 1.f, &sc[0], &zp[0]).ok());
}

TEST(QuantStats, PerChannelAlongEveryAxisMatchesADirectScan) {
  const std::vector<int32_t> shape = {3, 4, 5, 2};
  const std::vector<float> x = data(120, 77, 2.f, 0.3f);
  for (int32_t axis = 0; axis < 4; ++axis) {
    SCOPED_TRACE("axis " + std::to_string(axis));
    ObserverOptions o;
    o.axis = axis;
    std::unique_ptr<Observer> obs = make_observer(Method::kMinMax, o);
    ASSERT_TRUE(obs->observe(x.data(), shape).ok());
    const int32_t c = shape[axis];
    std::vector<float> lo(c, 1e30f), hi(c, -1e30f);
    int32_t stride = 1;
    for (int32_t d = axis + 1; d < 4; ++d) stride *= shape[d];
    for (size_t i = 0; i < x.size(); ++i) {
      const int32_t k = static_cast<int32_t>(i / stride) % c;
      lo[k] = std::min(lo[k], x[i]);
      hi[k] = std::max(hi[k], x[i]);
    }
    std::vector<float> glo, ghi;
    ASSERT_TRUE(obs->compute_range(make_scheme(DType::kS8, true, true, false, axis), &glo, &ghi).ok());
    EXPECT_EQ(glo, lo);
    EXPECT_EQ(ghi, hi);
  }
}

TEST(QuantQParams, EdgeCases) {
  float scale = 0.f;
  int32_t zp = 0;
  int32_t qmin = 0, qmax = 0;
  // The narrow uint8 range is [1, 255] with the symmetric zero point in its middle.
  ASSERT_TRUE(quant_range(make_scheme(DType::kU8, true, true), &qmin, &qmax).ok());
  EXPECT_EQ(qmin, 1);
  EXPECT_EQ(qmax, 255);
  ASSERT_TRUE(choose_qparams(make_scheme(DType::kU8, true, true), -2.f, 1.f, &scale, &zp).ok());
  EXPECT_EQ(zp, 128);
  EXPECT_EQ(scale, 2.f / 127.f);
  // An all-positive range still represents 0 exactly.
  ASSERT_TRUE(choose_qparams(make_scheme(DType::kU8, false), 2.f, 5.f, &scale, &zp).ok());
  EXPECT_EQ(zp, 0);
  EXPECT_EQ(scale, 5.f / 255.f);
  ASSERT_TRUE(choose_qparams(make_scheme(DType::kS8, false), -5.f, -2.f, &scale, &zp).ok());
  EXPECT_EQ(zp, 127);
  // Errors, not asserts.
  EXPECT_FALSE(choose_qparams(make_scheme(DType::kU8, false), 1.f, -1.f, &scale, &zp).ok());
  EXPECT_FALSE(choose_qparams(make_scheme(DType::kU8, false), std::nanf(""), 1.f, &scale, &zp).ok());
  EXPECT_FALSE(
      choose_qparams(make_scheme(DType::kU8, false), -std::numeric_limits<float>::infinity(), 1.f, &scale, &zp).ok());
  EXPECT_FALSE(choose_qparams(make_scheme(DType::kU8, false), -3e38f, 3e38f, &scale, &zp).ok());  // scale overflows
  std::vector<float> sv;
  std::vector<int32_t> zv;
  const float lo[2] = {-1.f, 2.f}, hi[2] = {1.f, 1.f};
  const Status st = choose_qparams(make_scheme(DType::kU8, false), lo, hi, 2, &sv, &zv);
  EXPECT_NE(st.message().find("channel 1"), std::string::npos) << st.message();
}

TEST(QuantWeights, BiasSaturatesAndBadInputFails) {
  std::vector<int32_t> q;
  const std::vector<float> bias = {1e10f, -1e10f, 0.5f, 1.5f, -2.5f};
  ASSERT_TRUE(quantize_bias(bias.data(), bias.size(), 1.f, {1.f}, &q).ok());
  EXPECT_EQ(q, (std::vector<int32_t>{std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::min(), 0, 2,
                                     -2}));  // saturation, then round half to even
  EXPECT_FALSE(quantize_bias(bias.data(), bias.size(), 1.f, {1.f, 2.f}, &q).ok());
  EXPECT_FALSE(quantize_bias(bias.data(), bias.size(), 0.f, {1.f}, &q).ok());
  EXPECT_FALSE(quantize_bias(bias.data(), bias.size(), 1e-30f, {1e-30f}, &q).ok());  // product underflows to 0
  const float nan_bias = std::nanf("");
  EXPECT_FALSE(quantize_bias(&nan_bias, 1, 1.f, {1.f}, &q).ok());
  std::vector<int8_t> qw;
  std::vector<float> sw;
  const std::vector<float> w = {1.f, -2.f, std::numeric_limits<float>::infinity(), 0.f};
  EXPECT_FALSE(quantize_weights_per_channel(w.data(), {2, 2}, 0, &qw, &sw).ok());
  EXPECT_FALSE(quantize_weights_per_channel(w.data(), {2, 2}, 2, &qw, &sw).ok());
  // A zero channel gets the eps scale and zeros; the other channel spans [-127, 127].
  const std::vector<float> w2 = {0.f, 0.f, 0.5f, -1.f};
  ASSERT_TRUE(quantize_weights_per_channel(w2.data(), {2, 2}, 0, &qw, &sw).ok());
  EXPECT_EQ(sw[0], kDefaultScaleEps);
  EXPECT_EQ(qw, (std::vector<int8_t>{0, 0, 64, -127}));  // 63.5 rounds to even 64
}

}  // namespace
}  // namespace quant
}  // namespace edgeq
