// Calibration and error reports of models with several inputs and integer inputs
// (quant/batch.h): a BERT-style front of int64 token ids and token types looked up in
// embedding tables, plus a float position input, summed into one encoder block
// (test/encoder_graph.h). Every static method, full int8 and both dynamic modes make a
// model that runs and tracks the float model on separate evaluation batches (output
// SQNR above a floor measured with margin); mismatched inputs are errors naming the
// input, and an id outside its table fails the batch without touching the statistics.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "edgeq/edgeq.h"
#include "graph/format.h"
#include "quant/calibrator.h"
#include "quant/quantize_graph.h"
#include "quant/report.h"
#include "test/encoder_graph.h"

namespace edgeq {
namespace {

using testing_graphs::as_model;
using testing_graphs::GraphBuilder;
constexpr int32_t kVocab = 11, kTypes = 2;
constexpr int32_t S = testing_graphs::kSeq, D = testing_graphs::kWidth;

// ids (s64 [1,S]) -Gather(word table)-> + types (s64) -Gather(type table)-> + pos (f32
// [1,S,D]) -LayerNorm-> encoder block -> y
Graph bert_front() {
  GraphBuilder b(21);
  const int32_t ids = b.input("ids", DType::kS64, {1, S});
  const int32_t types = b.input("types", DType::kS64, {1, S});
  const int32_t pos = b.input("pos", DType::kF32, {1, S, D});
  const int32_t words = b.constant("word_table", {kVocab, D}, -1.f, 1.f);
  const int32_t type_table = b.constant("type_table", {kTypes, D}, -0.5f, 0.5f);
  const int32_t we = b.node("word_embed", OpType::kGather, {words, ids}, {1, S, D});
  const int32_t te = b.node("type_embed", OpType::kGather, {type_table, types}, {1, S, D});
  const int32_t sum1 = b.node("sum_types", OpType::kAdd, {we, te}, {1, S, D});
  const int32_t sum2 = b.node("sum_pos", OpType::kAdd, {sum1, pos}, {1, S, D});
  const int32_t x = b.layer_norm("embed_ln", sum2, D);
  const int32_t y = testing_graphs::encoder_layers(b, x);
  b.graph().tensors[y].name = "y";
  return b.finish({y});
}

// One batch of the three inputs, from a seed.
struct Batch {
  std::vector<int64_t> ids, types;
  std::vector<float> pos;
  explicit Batch(uint32_t seed) {
    std::mt19937 rng(seed);
    for (int32_t i = 0; i < S; ++i) {
      ids.push_back(static_cast<int64_t>(rng() % kVocab));
      types.push_back(static_cast<int64_t>(rng() % kTypes));
    }
    pos = testing_graphs::random_floats(static_cast<size_t>(S * D), seed + 1000, -0.5f, 0.5f);
  }
  std::vector<quant::InputBuffer> buffers() const {
    return {quant::InputBuffer::s64(ids.data(), ids.size()), quant::InputBuffer::s64(types.data(), types.size()),
            quant::InputBuffer::f32(pos.data(), pos.size())};
  }
};

constexpr uint32_t kCalibSeed = 100, kEvalSeed = 5000;
constexpr int kCalibBatches = 24, kEvalBatches = 12;

std::unique_ptr<quant::Calibrator> calibrated(const std::shared_ptr<const Model>& fm) {
  std::unique_ptr<quant::Calibrator> cal;
  Status s = quant::Calibrator::create(fm, SessionOptions(), quant::ObserverOptions(), &cal);
  EXPECT_TRUE(s.ok()) << s.message();
  for (int b = 0; b < kCalibBatches && cal; ++b) {
    s = cal->add_batch(Batch(kCalibSeed + b).buffers());
    EXPECT_TRUE(s.ok()) << s.message();
  }
  return cal;
}

// SQNR (dB) of the int8 model's output against the float model's over the evaluation
// batches (none of them seen in calibration).
double output_sqnr(const std::shared_ptr<const Model>& fm, const Graph& int8) {
  std::unique_ptr<quant::ErrorReport> r;
  Status s = quant::ErrorReport::create(fm, as_model(int8), SessionOptions(), &r);
  EXPECT_TRUE(s.ok()) << s.message();
  if (!r) return -1e9;
  for (int b = 0; b < kEvalBatches; ++b) {
    s = r->add_batch(Batch(kEvalSeed + b).buffers());
    EXPECT_TRUE(s.ok()) << s.message();
  }
  EXPECT_EQ(r->output_names(), std::vector<std::string>{"y"});
  EXPECT_EQ(r->outputs()[0].count, kEvalBatches * S * D);
  // Every MatMul and FC layer has finite figures: ids and types reached the int8 model.
  for (const quant::LayerError& l : r->layers())
    if (l.quantized) {
      EXPECT_TRUE(std::isfinite(l.propagated.sqnr_db())) << l.node;
    }
  return r->outputs()[0].sqnr_db();
}

TEST(CalibInputs, EveryStaticMethodAndFullInt8RunFromInt64Ids) {
  const std::shared_ptr<const Model> fm = as_model(bert_front());
  std::unique_ptr<quant::Calibrator> cal = calibrated(fm);
  ASSERT_TRUE(cal);
  EXPECT_EQ(cal->batches(), kCalibBatches);
  for (const char* method : {"minmax", "histogram", "entropy", "percentile", "mse", "ema"})
    for (bool full : {false, true}) {
      SCOPED_TRACE(std::string(method) + (full ? " full int8" : ""));
      quant::CalibrationOptions o;
      ASSERT_TRUE(quant::parse_method(method, &o.method));
      o.full_int8 = full;
      Graph qg;
      Status s = cal->quantize(o, &qg);
      ASSERT_TRUE(s.ok()) << s.message();
      EXPECT_EQ(qg.tensors[qg.inputs[0]].dtype, DType::kS64);
      EXPECT_EQ(qg.tensors[qg.inputs[1]].dtype, DType::kS64);
      // Measured 40.1-40.4 dB (default) and 35.5-36.3 dB (full int8); ema, whose
      // moving average lags on 24 batches, 24.7 and 17.6 dB.
      const bool ema = std::string(method) == "ema";
      EXPECT_GT(output_sqnr(fm, qg), full ? (ema ? 14.0 : 30.0) : (ema ? 20.0 : 35.0));
    }
}

TEST(CalibInputs, DynamicModesRunWithIntegerInputs) {
  const Graph fg = bert_front();
  const std::shared_ptr<const Model> fm = as_model(fg);
  for (quant::DynamicMode mode : {quant::DynamicMode::kRow, quant::DynamicMode::kTensor}) {
    quant::GraphQuantOptions o;
    o.dynamic = true;
    o.dynamic_mode = mode;
    Graph qg;
    Status s = quant::quantize_graph(fg, {}, o, &qg);
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_GT(output_sqnr(fm, qg), 45.0);  // measured 55.2 (row) and 53.3 dB (tensor)
  }
}

// Integer buffers of either width give the same statistics.
TEST(CalibInputs, Int32IdsForAnInt64InputGiveTheSameStatistics) {
  const std::shared_ptr<const Model> fm = as_model(bert_front());
  std::unique_ptr<quant::Calibrator> wide = calibrated(fm), narrow;
  ASSERT_TRUE(quant::Calibrator::create(fm, SessionOptions(), quant::ObserverOptions(), &narrow).ok());
  for (int b = 0; b < kCalibBatches; ++b) {
    const Batch batch(kCalibSeed + b);
    const std::vector<int32_t> ids(batch.ids.begin(), batch.ids.end()), types(batch.types.begin(), batch.types.end());
    Status s = narrow->add_batch({quant::InputBuffer::s32(ids.data(), ids.size()),
                                  quant::InputBuffer::s32(types.data(), types.size()),
                                  quant::InputBuffer::f32(batch.pos.data(), batch.pos.size())});
    ASSERT_TRUE(s.ok()) << s.message();
  }
  const std::string a = ::testing::TempDir() + "/calib_inputs_wide.txt", b = ::testing::TempDir() + "/calib_inputs_narrow.txt";
  ASSERT_TRUE(wide->save_stats(a).ok());
  ASSERT_TRUE(narrow->save_stats(b).ok());
  std::stringstream ta, tb;
  ta << std::ifstream(a).rdbuf();
  tb << std::ifstream(b).rdbuf();
  EXPECT_FALSE(ta.str().empty());
  EXPECT_EQ(ta.str(), tb.str());
}

void expect_error(const Status& s, const std::string& needle) {
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(needle), std::string::npos) << s.message();
}

TEST(CalibInputs, MismatchedInputsAreErrorsNamingTheInput) {
  const std::shared_ptr<const Model> fm = as_model(bert_front());
  std::unique_ptr<quant::Calibrator> cal;
  ASSERT_TRUE(quant::Calibrator::create(fm, SessionOptions(), quant::ObserverOptions(), &cal).ok());
  const Batch b(1);
  std::vector<quant::InputBuffer> in = b.buffers();
  in.pop_back();
  expect_error(cal->add_batch(in), "3 input(s), a batch of 2");
  in = b.buffers();
  in[0] = quant::InputBuffer::f32(b.pos.data(), static_cast<size_t>(S));  // floats for ids
  expect_error(cal->add_batch(in), "'ids'");
  in = b.buffers();
  in[2] = quant::InputBuffer::s64(b.ids.data(), b.pos.size());  // ids for the float input
  expect_error(cal->add_batch(in), "'pos'");
  in = b.buffers();
  in[1].count = static_cast<size_t>(S - 1);
  expect_error(cal->add_batch(in), "'types'");
  in = b.buffers();
  in[2].data = nullptr;
  expect_error(cal->add_batch(in), "'pos'");
  // The float-only form cannot feed integer inputs.
  std::vector<float> fake(static_cast<size_t>(S), 1.f);
  expect_error(cal->add_batch(std::vector<const float*>{fake.data(), fake.data(), b.pos.data()}), "'ids'");
  EXPECT_EQ(cal->batches(), 0);

  std::unique_ptr<quant::ErrorReport> r;
  ASSERT_TRUE(quant::ErrorReport::create(fm, fm, SessionOptions(), &r).ok());
  in = b.buffers();
  in[0] = quant::InputBuffer::f32(b.pos.data(), static_cast<size_t>(S));
  expect_error(r->add_batch(in), "'ids'");
}

TEST(CalibInputs, IdOutsideTheTableFailsTheBatchAndLeavesTheStatistics) {
  const std::shared_ptr<const Model> fm = as_model(bert_front());
  std::unique_ptr<quant::Calibrator> cal = calibrated(fm);
  ASSERT_TRUE(cal);
  const std::string before = ::testing::TempDir() + "/calib_inputs_before.txt";
  const std::string after = ::testing::TempDir() + "/calib_inputs_after.txt";
  ASSERT_TRUE(cal->save_stats(before).ok());
  for (int64_t bad : {int64_t{kVocab}, -int64_t{kVocab} - 1, int64_t{1} << 40}) {
    Batch b(7);
    b.ids[S - 1] = bad;
    expect_error(cal->add_batch(b.buffers()), "'ids'");
    Batch t(8);
    t.types[0] = kTypes;  // the second Gather: the word embedding was observed already
    expect_error(cal->add_batch(t.buffers()), "'types'");
  }
  EXPECT_EQ(cal->batches(), kCalibBatches);
  ASSERT_TRUE(cal->save_stats(after).ok());
  std::stringstream a, b;
  a << std::ifstream(before).rdbuf();
  b << std::ifstream(after).rdbuf();
  EXPECT_EQ(a.str(), b.str());

  // The report fails the same way.
  std::unique_ptr<quant::ErrorReport> r;
  ASSERT_TRUE(quant::ErrorReport::create(fm, fm, SessionOptions(), &r).ok());
  Batch bad(9);
  bad.ids[0] = kVocab + 3;
  expect_error(r->add_batch(bad.buffers()), "'ids'");
}

TEST(CalibInputs, CApiTakesTypedBatches) {
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(serialize_graph(bert_front(), &bytes).ok());
  edgeq_model* model = nullptr;
  ASSERT_EQ(edgeq_model_load_memory(bytes.data(), bytes.size(), &model), EDGEQ_OK);
  edgeq_calibrator* cal = nullptr;
  ASSERT_EQ(edgeq_calibrator_create(model, nullptr, &cal), EDGEQ_OK) << edgeq_last_error();
  for (int i = 0; i < 4; ++i) {
    const Batch b(kCalibSeed + i);
    const edgeq_input_buffer in[3] = {{b.ids.data(), EDGEQ_S64, b.ids.size()},
                                      {b.types.data(), EDGEQ_S64, b.types.size()},
                                      {b.pos.data(), EDGEQ_F32, b.pos.size()}};
    ASSERT_EQ(edgeq_calibrator_add_batch_typed(cal, in, 3), EDGEQ_OK) << edgeq_last_error();
    const edgeq_input_buffer wrong[3] = {{b.pos.data(), EDGEQ_F32, b.ids.size()}, in[1], in[2]};
    EXPECT_EQ(edgeq_calibrator_add_batch_typed(cal, wrong, 3), EDGEQ_INVALID_ARGUMENT);
    EXPECT_NE(std::string(edgeq_last_error()).find("'ids'"), std::string::npos) << edgeq_last_error();
  }
  const float* floats[3] = {nullptr, nullptr, nullptr};
  std::vector<float> f(static_cast<size_t>(S * D));
  for (auto& p : floats) p = f.data();
  EXPECT_EQ(edgeq_calibrator_add_batch(cal, floats, 3), EDGEQ_INVALID_ARGUMENT);
  edgeq_calibration_options o;
  edgeq_calibration_options_init(&o);
  const std::string path = ::testing::TempDir() + "/calib_inputs_capi.edgeq";
  ASSERT_EQ(edgeq_calibrator_write(cal, &o, path.c_str()), EDGEQ_OK) << edgeq_last_error();
  edgeq_calibrator_destroy(cal);
  edgeq_model_release(model);
  std::shared_ptr<const Model> q;
  ASSERT_TRUE(Model::load_file(path, &q).ok());
  EXPECT_EQ(q->graph().tensors[q->graph().inputs[0]].dtype, DType::kS64);
}

}  // namespace
}  // namespace edgeq
