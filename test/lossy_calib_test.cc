// Calibration of graphs where int8 would round most of a tensor to 0 before an op that
// reads it relatively (quant/calibrator.cc, lossy_input_float_nodes):
//  * a log-mel front end: an STFT's real and imaginary parts squared and summed into a
//    power spectrum, a mel projection (non-negative weights), then Log. The power and mel
//    energies span orders of magnitude; int8 with one absolute step rounds most of them
//    to 0, and the Log of those is its floor. The Log, and the producers back through
//    the squares to the STFT, stay float; the log-energies after it stay int8.
//  * a generalized-mean pooling (GeM): x^3 of a ReLU output, a global average pool, the
//    cube root. The cubes span the activations' range cubed; the power, the pool and the
//    root stay float, the layers before and after them int8.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "quant/calibrator.h"
#include "quant/report.h"
#include "test/encoder_graph.h"

namespace edgeq {
namespace {

constexpr int32_t kFrames = 12, kWindow = 32, kBins = 16, kMels = 8;

// frames [1,T,W] -FC-> re, im [1,T,B] -> re*re + im*im -FC (mel, >= 0)-> +1e-6 -> Log
// -FC-> y [1,T,4]
Graph log_mel() {
  testing_graphs::GraphBuilder b(7);
  const int32_t frames = b.input("frames", DType::kF32, {1, kFrames, kWindow});
  // The STFT: fixed projections, no bias.
  const int32_t re_w = b.constant("stft_re.weight", {kBins, kWindow}, -0.3f, 0.3f);
  const int32_t im_w = b.constant("stft_im.weight", {kBins, kWindow}, -0.3f, 0.3f);
  const int32_t re = b.node("stft_re", OpType::kFullyConnected, {frames, re_w, -1}, {1, kFrames, kBins});
  const int32_t im = b.node("stft_im", OpType::kFullyConnected, {frames, im_w, -1}, {1, kFrames, kBins});
  const int32_t re2 = b.node("re2", OpType::kMul, {re, re}, {1, kFrames, kBins});
  const int32_t im2 = b.node("im2", OpType::kMul, {im, im}, {1, kFrames, kBins});
  const int32_t power = b.node("power", OpType::kAdd, {re2, im2}, {1, kFrames, kBins});
  const int32_t mel_w = b.constant("mel.weight", {kMels, kBins}, 0.f, 1.f);
  const int32_t mel = b.node("mel", OpType::kFullyConnected, {power, mel_w, -1}, {1, kFrames, kMels});
  const int32_t eps = b.constant_values("eps", {1}, {1e-6f});
  const int32_t shifted = b.node("mel_eps", OpType::kAdd, {mel, eps}, {1, kFrames, kMels});
  const int32_t logmel = b.node("log", OpType::kLog, {shifted}, {1, kFrames, kMels});
  const int32_t y = b.fc("head", logmel, {1, kFrames, 4}, kMels);
  b.graph().tensors[y].name = "y";
  return b.finish({y});
}

// Frames of a signal whose loudness varies by 60 dB from frame to frame (speech and
// silence), seeded.
std::vector<float> frames(uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.f, 1.f);
  std::uniform_real_distribution<float> db(-60.f, 0.f);
  std::vector<float> v(kFrames * kWindow);
  for (int32_t t = 0; t < kFrames; ++t) {
    const float gain = std::pow(10.f, db(rng) / 20.f);
    for (int32_t k = 0; k < kWindow; ++k) v[static_cast<size_t>(t * kWindow + k)] = gain * nd(rng);
  }
  return v;
}

// Calibrates `fg` on 24 batches of calib(seed), checks the quantized graph with
// check(qg), and returns the SQNR (dB) of its output against the float graph's on 8
// other batches.
template <typename Data, typename Check>
double calibrated_sqnr(const Graph& fg, const Data& calib, const Check& check) {
  const std::shared_ptr<const Model> fm = testing_graphs::as_model(fg);
  std::unique_ptr<quant::Calibrator> cal;
  Status s = quant::Calibrator::create(fm, SessionOptions(), quant::ObserverOptions(), &cal);
  EXPECT_TRUE(s.ok()) << s.message();
  if (!s.ok()) return 0.0;
  for (uint32_t i = 0; i < 24; ++i) {
    const std::vector<float> f = calib(100 + i);
    EXPECT_TRUE(cal->add_batch({f.data()}).ok());
  }
  Graph qg;
  s = cal->quantize(quant::CalibrationOptions(), &qg);
  EXPECT_TRUE(s.ok()) << s.message();
  if (!s.ok()) return 0.0;
  check(qg);
  std::unique_ptr<quant::ErrorReport> r;
  s = quant::ErrorReport::create(fm, testing_graphs::as_model(qg), SessionOptions(), &r);
  EXPECT_TRUE(s.ok()) << s.message();
  if (!s.ok()) return 0.0;
  for (uint32_t i = 0; i < 8; ++i) {
    const std::vector<float> f = calib(9000 + i);
    EXPECT_TRUE(r->add_batch({f.data()}).ok());
  }
  return r->outputs()[0].sqnr_db();
}

// The dtype of the output of the node named `name` in g.
DType output_dtype(const Graph& g, const std::string& name) {
  for (const Node& n : g.nodes)
    if (n.name == name) return g.tensors[n.outputs[0]].dtype;
  ADD_FAILURE() << "no node " << name;
  return DType::kF32;
}

// The dtype of the first input of the node named `name` in g.
DType input_dtype(const Graph& g, const std::string& name) {
  for (const Node& n : g.nodes)
    if (n.name == name) return g.tensors[n.inputs[0]].dtype;
  ADD_FAILURE() << "no node " << name;
  return DType::kF32;
}

TEST(LogMelCalibration, LogAndItsPowerSpectrumStayFloat) {
  const double sqnr = calibrated_sqnr(log_mel(), frames, [](const Graph& qg) {
    for (const char* name : {"log", "mel", "power", "re2", "im2", "stft_re", "stft_im"})
      EXPECT_EQ(output_dtype(qg, name), DType::kF32) << name;
    EXPECT_NE(input_dtype(qg, "head"), DType::kF32) << "the log-energies stay int8";
  });
  EXPECT_GT(sqnr, 30.0) << sqnr;
}

constexpr int32_t kSide = 6, kChannels = 32;

// x [1,6,6,32] -FC (a 1x1 convolution) + ReLU-> a -> a^3 -> global average pool -> ^(1/3)
// -> [1,32] -FC-> y [1,8]
Graph gem_head() {
  testing_graphs::GraphBuilder b(11);
  const int32_t x = b.input("x", DType::kF32, {1, kSide, kSide, kChannels});
  const int32_t w = b.constant("proj.weight", {kChannels, kChannels}, -0.4f, 0.4f);
  Attrs relu;
  relu.act_min = 0.f;
  const int32_t a = b.node("proj", OpType::kFullyConnected, {x, w, -1}, {1, kSide, kSide, kChannels}, relu);
  Attrs cube;
  cube.alpha = 3.f;
  const int32_t cubes = b.node("cube", OpType::kPow, {a}, {1, kSide, kSide, kChannels}, cube);
  const int32_t pooled = b.node("pool", OpType::kGlobalAvgPool, {cubes}, {1, 1, 1, kChannels});
  Attrs root;
  root.alpha = 1.f / 3.f;
  const int32_t gem = b.node("root", OpType::kPow, {pooled}, {1, 1, 1, kChannels}, root);
  const int32_t flat = b.node("flatten", OpType::kReshape, {gem}, {1, kChannels});
  const int32_t y = b.fc("head", flat, {1, 8}, kChannels);
  b.graph().tensors[y].name = "y";
  return b.finish({y});
}

// Images whose channels differ in scale by up to 100x (feature maps), seeded.
std::vector<float> images(uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.f, 1.f);
  std::uniform_real_distribution<float> log_gain(std::log(0.03f), std::log(3.f));
  std::vector<float> g(kChannels), v(kSide * kSide * kChannels);
  for (float& x : g) x = std::exp(log_gain(rng));
  for (size_t i = 0; i < v.size(); ++i) v[i] = g[i % kChannels] * nd(rng);
  return v;
}

TEST(GemCalibration, PowerMeanRootStaysFloat) {
  const double sqnr = calibrated_sqnr(gem_head(), images, [](const Graph& qg) {
    for (const char* name : {"cube", "pool", "root"}) EXPECT_EQ(output_dtype(qg, name), DType::kF32) << name;
    EXPECT_NE(output_dtype(qg, "proj"), DType::kF32) << "the layer before stays int8, read by the power";
    EXPECT_NE(input_dtype(qg, "head"), DType::kF32) << "the pooled features stay int8";
  });
  EXPECT_GT(sqnr, 32.0) << sqnr;  // 34.3 dB; 28.9 with the cubes, the pool and the root in int8
}

}  // namespace
}  // namespace edgeq
