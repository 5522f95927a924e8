// Observers and qparams against PyTorch: test/data/quant/observer_goldens.json holds
// torch.ao.quantization's results (tools/make_observer_goldens.py) for MinMax,
// MovingAverage, per-channel MinMax / MovingAverage and HistogramObserver (as shipped in
// 1.13 and with float histc edges) on batch sequences regenerated here from their specs,
// for int8 / uint8, affine / symmetric, narrow and reduced ranges. Everything must be
// equal: float32 min / max / scale bit for bit, zero points exactly, and for the
// histogram its range and the L2 search's range.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "quant/observer.h"
#include "quant/qparams.h"
#include "quant/weights.h"
#include "test/quant_test_util.h"

namespace edgeq {
namespace quant {
namespace {

using nlohmann::json;
using testing_util::batch_data;
using testing_util::json_shape;
using testing_util::scheme_from_json;

std::vector<float> floats(const json& j) { return j.get<std::vector<float>>(); }

TEST(QuantGoldens, QParamsMatchPyTorch) {
  const json g = testing_util::load_goldens();
  ASSERT_TRUE(g.is_object()) << "missing or unreadable observer_goldens.json";
  ASSERT_GE(g["qparams"].size(), 100u);
  for (const json& r : g["qparams"]) {
    const QScheme s = scheme_from_json(r, -1);
    SCOPED_TRACE(r.dump());
    float scale = 0.f;
    int32_t zp = 0;
    ASSERT_TRUE(choose_qparams(s, r["min"].get<float>(), r["max"].get<float>(), &scale, &zp).ok());
    EXPECT_EQ(scale, r["scale"].get<float>());
    EXPECT_EQ(zp, r["zero_point"].get<int32_t>());
  }
}

Method method_of(const std::string& kind) {
  if (kind == "moving_average" || kind == "moving_average_per_channel") return Method::kMovingAverage;
  if (kind == "histogram") return Method::kHistogram;
  return Method::kMinMax;
}

TEST(QuantGoldens, ObserversMatchPyTorch) {
  const json g = testing_util::load_goldens();
  ASSERT_TRUE(g.is_object()) << "missing or unreadable observer_goldens.json";
  ASSERT_GE(g["cases"].size(), 20u);
  size_t compared = 0;
  for (const json& c : g["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const json& opt = c["options"];
    ObserverOptions o;
    o.axis = opt.value("axis", -1);
    o.averaging_constant = opt.value("averaging_constant", 0.01f);
    o.histogram.bins = opt.value("bins", 2048);
    o.histogram.upsample_rate = opt.value("upsample", 128);
    o.histogram.torch_1_13_int_edges = opt.value("int_edges", false);
    const Method method = method_of(c["observer"]);
    std::unique_ptr<Observer> obs = make_observer(method, o);
    for (const json& b : c["batches"]) {
      const std::vector<float> data = batch_data(b);
      ASSERT_TRUE(obs->observe(data.data(), json_shape(b)).ok());
    }
    const TensorStats& st = obs->stats();
    if (method == Method::kHistogram) {
      const json& want = c["state"];
      const RunningHistogram& h = st.channels.at(0).hist;
      EXPECT_EQ(h.min, want["hist_min"].get<float>());
      EXPECT_EQ(h.max, want["hist_max"].get<float>());
      double moment = 0.0;
      for (size_t k = 0; k < h.counts.size(); ++k) moment += static_cast<double>(k) * h.counts[k];
      EXPECT_NEAR(h.total(), want["hist_total"].get<double>(), 1e-9 * want["hist_total"].get<double>());
      EXPECT_NEAR(moment, want["hist_moment"].get<double>(), 1e-9 * want["hist_moment"].get<double>());
      float lo = 0.f, hi = 0.f;
      l2_search(h, 256, &lo, &hi);
      EXPECT_EQ(lo, want["search_min"].get<float>());
      EXPECT_EQ(hi, want["search_max"].get<float>());
    }
    for (const json& r : c["results"]) {
      SCOPED_TRACE(r["name"].get<std::string>());
      const QScheme s = scheme_from_json(r, o.axis);
      if (r.contains("min")) {
        std::vector<float> lo, hi;
        ASSERT_TRUE(obs->compute_range(s, &lo, &hi).ok());
        EXPECT_EQ(lo, floats(r["min"]));
        EXPECT_EQ(hi, floats(r["max"]));
      }
      std::vector<float> scale;
      std::vector<int32_t> zp;
      const Status status = obs->compute(s, &scale, &zp);
      ASSERT_TRUE(status.ok()) << status.message();
      EXPECT_EQ(scale, floats(r["scale"]));
      EXPECT_EQ(zp, r["zero_point"].get<std::vector<int32_t>>());
      ++compared;
    }
  }
  EXPECT_GE(compared, 200u);
}

TEST(QuantGoldens, WeightsAndBiasMatchOnnxRounding) {
  const json g = testing_util::load_goldens();
  ASSERT_TRUE(g.is_object()) << "missing or unreadable observer_goldens.json";
  ASSERT_GE(g["weights"].size(), 3u);
  for (const json& c : g["weights"]) {
    SCOPED_TRACE(c["weights"].dump());
    const std::vector<float> w = batch_data(c["weights"]);
    std::vector<int8_t> q;
    std::vector<float> scale;
    ASSERT_TRUE(quantize_weights_per_channel(w.data(), json_shape(c["weights"]), 0, &q, &scale).ok());
    EXPECT_EQ(scale, floats(c["scale"]));
    const std::vector<int32_t> want_q = c["q"].get<std::vector<int32_t>>();
    ASSERT_EQ(q.size(), want_q.size());
    for (size_t i = 0; i < q.size(); ++i) ASSERT_EQ(q[i], want_q[i]) << "element " << i;
    const std::vector<float> bias = batch_data(c["bias"]);
    std::vector<int32_t> qb;
    ASSERT_TRUE(quantize_bias(bias.data(), bias.size(), c["input_scale"].get<float>(), scale, &qb).ok());
    EXPECT_EQ(qb, c["bias_q"].get<std::vector<int32_t>>());
  }
}

}  // namespace
}  // namespace quant
}  // namespace edgeq
