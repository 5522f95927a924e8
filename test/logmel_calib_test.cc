// Calibration of a log-mel front end (quant/calibrator.cc, log_input_float_nodes): an
// STFT's real and imaginary parts squared and summed into a power spectrum, a mel
// projection (non-negative weights), then Log. The power and mel energies span orders of
// magnitude; int8 with one absolute step rounds most of them to 0, and the Log of those
// is its floor. The Log, and the producers back through the squares to the STFT, stay
// float; the log-energies after it stay int8.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <random>
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

TEST(LogMelCalibration, LogAndItsPowerSpectrumStayFloat) {
  const Graph fg = log_mel();
  const std::shared_ptr<const Model> fm = testing_graphs::as_model(fg);
  std::unique_ptr<quant::Calibrator> cal;
  Status s = quant::Calibrator::create(fm, SessionOptions(), quant::ObserverOptions(), &cal);
  ASSERT_TRUE(s.ok()) << s.message();
  for (uint32_t i = 0; i < 24; ++i) {
    const std::vector<float> f = frames(100 + i);
    ASSERT_TRUE(cal->add_batch({f.data()}).ok());
  }
  Graph qg;
  s = cal->quantize(quant::CalibrationOptions(), &qg);
  ASSERT_TRUE(s.ok()) << s.message();
  for (const Node& n : qg.nodes) {
    const DType out = qg.tensors[n.outputs[0]].dtype;
    if (n.name == "log" || n.name == "mel" || n.name == "power" || n.name == "re2" || n.name == "im2" ||
        n.name == "stft_re" || n.name == "stft_im") {
      EXPECT_EQ(out, DType::kF32) << n.name;
    }
    if (n.name == "head") {
      EXPECT_NE(qg.tensors[n.inputs[0]].dtype, DType::kF32) << "the log-energies stay int8";
    }
  }
  std::unique_ptr<quant::ErrorReport> r;
  s = quant::ErrorReport::create(fm, testing_graphs::as_model(qg), SessionOptions(), &r);
  ASSERT_TRUE(s.ok()) << s.message();
  for (uint32_t i = 0; i < 8; ++i) {
    const std::vector<float> f = frames(9000 + i);
    ASSERT_TRUE(r->add_batch({f.data()}).ok());
  }
  const double sqnr = r->outputs()[0].sqnr_db();
  EXPECT_GT(sqnr, 30.0) << sqnr;
}

}  // namespace
}  // namespace edgeq
