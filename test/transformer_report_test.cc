// Calibration, per-layer error report and fallback run end to end on one encoder block
// (test/encoder_graph.h): the calibrator observes the float block, quantize_graph
// writes the int8 block (default float islands, and full int8), quant::ErrorReport
// names every MatMul and LayerNorm layer with finite figures, and choose_fallback can
// pick them, the block staying valid and runnable with them in float.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "graph/format.h"
#include "quant/calibrator.h"
#include "quant/report.h"
#include "test/encoder_graph.h"

namespace edgeq {
namespace {

using testing_graphs::as_model;

std::vector<float> batch(uint32_t seed) {
  const size_t n = testing_graphs::kSeq * testing_graphs::kWidth;
  return testing_graphs::random_floats(n, seed, -2.f, 2.f);
}

struct Calibrated {
  std::shared_ptr<const Model> float_model;
  std::unique_ptr<quant::Calibrator> cal;
};

Calibrated calibrate_block() {
  Calibrated c;
  c.float_model = as_model(testing_graphs::encoder_block());
  Status s = quant::Calibrator::create(c.float_model, SessionOptions(), quant::ObserverOptions(), &c.cal);
  EXPECT_TRUE(s.ok()) << s.message();
  for (uint32_t b = 0; b < 16 && c.cal; ++b) {
    const std::vector<float> x = batch(100 + b);
    s = c.cal->add_batch({x.data()});
    EXPECT_TRUE(s.ok()) << s.message();
  }
  return c;
}

std::unique_ptr<quant::ErrorReport> report_of(const Calibrated& c, const Graph& int8) {
  std::unique_ptr<quant::ErrorReport> r;
  Status s = quant::ErrorReport::create(c.float_model, as_model(int8), SessionOptions(), &r);
  EXPECT_TRUE(s.ok()) << s.message();
  if (!r) return r;
  for (uint32_t b = 0; b < 8; ++b) {
    const std::vector<float> x = batch(100 + b);
    s = r->add_batch({x.data()});
    EXPECT_TRUE(s.ok()) << s.message();
  }
  return r;
}

const quant::LayerError* layer(const quant::ErrorReport& r, const std::string& node) {
  for (const quant::LayerError& l : r.layers())
    if (l.node == node) return &l;
  return nullptr;
}

TEST(TransformerReport, NamesMatMulAndLayerNormLayersWithFiniteFigures) {
  Calibrated c = calibrate_block();
  ASSERT_TRUE(c.cal);
  for (bool full : {false, true}) {
    SCOPED_TRACE(full ? "full int8" : "float islands");
    quant::CalibrationOptions o;
    o.full_int8 = full;
    Graph int8;
    Status s = c.cal->quantize(o, &int8);
    ASSERT_TRUE(s.ok()) << s.message();
    auto r = report_of(c, int8);
    ASSERT_TRUE(r);
    for (const char* name : {"qk", "pv", "ln1", "ln2", "softmax", "q", "ffn2"}) {
      SCOPED_TRACE(name);
      const quant::LayerError* l = layer(*r, name);
      ASSERT_NE(l, nullptr);
      const bool island = std::string(name) == "ln1" || std::string(name) == "ln2" || std::string(name) == "softmax";
      EXPECT_EQ(l->quantized, full || !island);
      EXPECT_GT(l->propagated.count, 0);
      EXPECT_TRUE(std::isfinite(l->propagated.sqnr_db()) || l->propagated.ee == 0.0);
      EXPECT_GT(l->propagated.cosine(), 0.98);
      if (l->quantized) {
        EXPECT_GT(l->isolated.count, 0);
        EXPECT_GT(l->isolated.sqnr_db(), 20.0);
      }
    }
    EXPECT_EQ(layer(*r, "qk")->op, "MatMul");
    EXPECT_EQ(layer(*r, "ln2")->op, "LayerNorm");
  }
}

TEST(TransformerReport, FallbackKeepsTheChosenTransformerLayersFloat) {
  Calibrated c = calibrate_block();
  ASSERT_TRUE(c.cal);
  quant::CalibrationOptions o;
  o.full_int8 = true;
  Graph int8;
  ASSERT_TRUE(c.cal->quantize(o, &int8).ok());
  auto r = report_of(c, int8);
  ASSERT_TRUE(r);
  const Graph& fg = c.float_model->graph();
  // Every quantized layer below an SQNR above the best one's: all of them fall back.
  o.float_nodes = quant::choose_fallback(fg, *r, 0, 1000.0);
  int chosen = 0;
  for (size_t i = 0; i < fg.nodes.size(); ++i) chosen += o.float_nodes[i];
  EXPECT_GE(chosen, 10);
  // The worst two layers only; the block stays valid and runs with them in float.
  o.float_nodes = quant::choose_fallback(fg, *r, 2, std::nan(""));
  std::vector<std::string> kept;
  for (size_t i = 0; i < fg.nodes.size(); ++i)
    if (o.float_nodes[i]) kept.push_back(fg.nodes[i].name);
  ASSERT_EQ(kept.size(), 2u);
  Graph mixed;
  Status s = c.cal->quantize(o, &mixed);
  ASSERT_TRUE(s.ok()) << s.message();
  for (const std::string& name : kept)
    for (const Node& n : mixed.nodes)
      if (n.name == name) {
        EXPECT_EQ(mixed.tensors[n.outputs[0]].dtype, DType::kF32) << name;
      }
  auto r2 = report_of(c, mixed);
  ASSERT_TRUE(r2);
  const quant::LayerError* out = layer(*r2, "residual2");
  ASSERT_NE(out, nullptr);
  EXPECT_GT(out->propagated.cosine(), 0.98);
}

}  // namespace
}  // namespace edgeq
