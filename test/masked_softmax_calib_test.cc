// --full-int8 calibration of a Softmax behind an additive attention mask (BERT's padded
// positions get -10000 added to their scores): the int8 Softmax input keeps the top 32 of
// its observed range (quant/calibrator.cc), so the masked scores saturate at a weight of
// exp(-32) and the unmasked ones keep their precision. Without that cut the mask set the
// range, the unmasked scores shared a handful of steps, and the Softmax's output SQNR
// fell to a few dB.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <vector>

#include "quant/calibrator.h"
#include "quant/report.h"
#include "test/encoder_graph.h"

namespace edgeq {
namespace {

constexpr int32_t kRows = 8, kCols = 16;

// scores [1,rows,cols] + mask [1,1,cols] -> Softmax(axis 2) -> y
Graph masked_softmax() {
  testing_graphs::GraphBuilder b(3);
  const int32_t scores = b.input("scores", DType::kF32, {1, kRows, kCols});
  const int32_t mask = b.input("mask", DType::kF32, {1, 1, kCols});
  const int32_t s = b.node("add_mask", OpType::kAdd, {scores, mask}, {1, kRows, kCols});
  Attrs a;
  a.axis = 2;
  const int32_t y = b.node("softmax", OpType::kSoftmax, {s}, {1, kRows, kCols}, a);
  b.graph().tensors[y].name = "y";
  return b.finish({y});
}

// T5's form: scores + (position bias [1,rows,cols] + mask [1,1,cols]) -> Softmax. With
// `bias_is_output`, the bias + mask sum is a graph output too.
Graph biased_masked_softmax(bool bias_is_output) {
  testing_graphs::GraphBuilder b(4);
  const int32_t scores = b.input("scores", DType::kF32, {1, kRows, kCols});
  const int32_t bias = b.input("bias", DType::kF32, {1, kRows, kCols});
  const int32_t mask = b.input("mask", DType::kF32, {1, 1, kCols});
  const int32_t bm = b.node("bias_mask", OpType::kAdd, {bias, mask}, {1, kRows, kCols});
  const int32_t s = b.node("add_bias", OpType::kAdd, {scores, bm}, {1, kRows, kCols});
  Attrs a;
  a.axis = 2;
  const int32_t y = b.node("softmax", OpType::kSoftmax, {s}, {1, kRows, kCols}, a);
  b.graph().tensors[y].name = "y";
  if (bias_is_output) return b.finish({y, bm});
  return b.finish({y});
}

// Scores in [-4, 4], a bias in [-2, 2]; the last `pad` columns masked (pad from the
// seed, 0 to 10).
struct Batch {
  std::vector<float> scores, bias, mask;
  explicit Batch(uint32_t seed, float masked = -10000.f) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-4.f, 4.f);
    scores.resize(kRows * kCols);
    for (float& v : scores) v = u(rng);
    bias.resize(kRows * kCols);
    for (float& v : bias) v = u(rng) / 2;
    const int32_t pad = static_cast<int32_t>(rng() % 11);
    mask.assign(kCols, 0.f);
    for (int32_t c = kCols - pad; c < kCols; ++c) mask[static_cast<size_t>(c)] = masked;
  }
  // The graph's inputs: scores and mask, or scores, bias and mask.
  std::vector<const float*> inputs(size_t count) const {
    if (count == 3) return {scores.data(), bias.data(), mask.data()};
    return {scores.data(), mask.data()};
  }
};

// A calibrator over 32 batches of masked scores (masked columns: `masked`).
void calibrate(const std::shared_ptr<const Model>& fm, float masked, std::unique_ptr<quant::Calibrator>* cal) {
  Status s = quant::Calibrator::create(fm, SessionOptions(), quant::ObserverOptions(), cal);
  ASSERT_TRUE(s.ok()) << s.message();
  for (uint32_t i = 0; i < 32; ++i) {
    const Batch b(100 + i, masked);
    s = (*cal)->add_batch(b.inputs(fm->graph().inputs.size()));
    ASSERT_TRUE(s.ok()) << s.message();
  }
}

// The --full-int8 graph calibrated on 32 batches (masked columns: `masked`).
void full_int8(const std::shared_ptr<const Model>& fm, float masked, Graph* qg) {
  std::unique_ptr<quant::Calibrator> cal;
  ASSERT_NO_FATAL_FAILURE(calibrate(fm, masked, &cal));
  quant::CalibrationOptions o;
  o.full_int8 = true;
  const Status s = cal->quantize(o, qg);
  ASSERT_TRUE(s.ok()) << s.message();
}

// The int8 graph's output SQNR against the float model's on 16 batches calibration did
// not see (masked columns: `masked`); NaN when the report fails.
double unseen_sqnr(const std::shared_ptr<const Model>& fm, const Graph& qg, float masked) {
  std::unique_ptr<quant::ErrorReport> r;
  Status s = quant::ErrorReport::create(fm, testing_graphs::as_model(qg), SessionOptions(), &r);
  EXPECT_TRUE(s.ok()) << s.message();
  if (!s.ok()) return std::nan("");
  for (uint32_t i = 0; i < 16; ++i) {
    const Batch b(9000 + i, masked);
    s = r->add_batch(b.inputs(fm->graph().inputs.size()));
    EXPECT_TRUE(s.ok()) << s.message();
    if (!s.ok()) return std::nan("");
  }
  return r->outputs()[0].sqnr_db();
}

TEST(MaskedSoftmaxCalibration, FullInt8KeepsTheUnmaskedScoresPrecise) {
  const Graph fg = masked_softmax();
  const std::shared_ptr<const Model> fm = testing_graphs::as_model(fg);
  Graph qg;
  ASSERT_NO_FATAL_FAILURE(full_int8(fm, -10000.f, &qg));
  // The Softmax input: the top 32 of its range (observed max about 4), not [-10004, 4].
  const Node& sm = qg.nodes.back();
  ASSERT_EQ(sm.op, OpType::kSoftmax);
  const Tensor& in = qg.tensors[sm.inputs[0]];
  ASSERT_EQ(in.dtype, DType::kU8);
  EXPECT_NEAR(in.quant.scale[0], 32.f / 255.f, 0.5f / 255.f);
  // The int8 Softmax tracks the float one on batches it did not see, masks included.
  // Without the cut, 1.5 dB.
  const double sqnr = unseen_sqnr(fm, qg, -10000.f);
  EXPECT_GT(sqnr, 25.0) << sqnr;
}

// The cut reaches the terms summed into the Softmax input: T5 adds its padding mask to
// the position bias first, and that sum, quantized over [-10002, 2], kept nothing of the
// bias (4.7-6.4 dB on the T5-style models that showed it, 29-31 dB with the cut). A sum
// that something else reads as well keeps its range.
TEST(MaskedSoftmaxCalibration, FullInt8CutsTheMaskedBiasFeedingTheSoftmax) {
  for (bool bias_is_output : {false, true}) {
    const Graph fg = biased_masked_softmax(bias_is_output);
    const std::shared_ptr<const Model> fm = testing_graphs::as_model(fg);
    Graph qg;
    ASSERT_NO_FATAL_FAILURE(full_int8(fm, -10000.f, &qg));
    for (const Node& n : qg.nodes) {
      if (n.name != "bias_mask") continue;
      const Tensor& bm = qg.tensors[n.outputs[0]];
      ASSERT_EQ(bm.dtype, DType::kU8);
      if (bias_is_output) {
        EXPECT_GT(bm.quant.scale[0], 10000.f / 255.f) << "a sum read elsewhere keeps its range";
      } else {
        EXPECT_NEAR(bm.quant.scale[0], 32.f / 255.f, 0.5f / 255.f);
      }
    }
    if (!bias_is_output) {
      const double sqnr = unseen_sqnr(fm, qg, -10000.f);
      EXPECT_GT(sqnr, 25.0) << sqnr;
    }
  }
}

// A mask of 0 and -inf (PyTorch's float key_padding_mask, a causal mask) has no int8
// form: quantized over its finite values (all 0) the -inf became 0 and the padding
// vanished from the model without a word. Calibration keeps such tensors, and the nodes
// that read or write them, in float, and says which; even with full_int8.
TEST(MaskedSoftmaxCalibration, InfiniteMaskStaysFloat) {
  const Graph fg = masked_softmax();
  const std::shared_ptr<const Model> fm = testing_graphs::as_model(fg);
  const float inf = std::numeric_limits<float>::infinity();
  std::unique_ptr<quant::Calibrator> cal;
  ASSERT_NO_FATAL_FAILURE(calibrate(fm, -inf, &cal));
  const auto kept = cal->nonfinite_nodes();
  ASSERT_FALSE(kept.empty());
  EXPECT_EQ(kept[0].first, "add_mask");
  quant::CalibrationOptions o;
  o.full_int8 = true;
  Graph qg;
  const Status s = cal->quantize(o, &qg);
  ASSERT_TRUE(s.ok()) << s.message();
  for (int32_t t : qg.inputs) {
    if (qg.tensors[t].name == "mask") {
      EXPECT_EQ(qg.tensors[t].dtype, DType::kF32);
    }
  }
  for (const Node& n : qg.nodes) {
    if (n.name == "add_mask") {
      EXPECT_EQ(qg.tensors[n.outputs[0]].dtype, DType::kF32);
    }
  }
  // With the mask lost, the padded columns take weight: about 3.5 dB.
  const double sqnr = unseen_sqnr(fm, qg, -inf);
  EXPECT_GT(sqnr, 25.0) << sqnr;
}

}  // namespace
}  // namespace edgeq
