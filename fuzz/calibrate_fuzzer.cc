// Fuzzer: the calibrator on an untrusted float model (`edgeq calibrate`): a .edgeq
// file from memory, and for a float model small enough to run (fuzz_util.h), two
// batches observed, then quantization by a method picked from the input's size. The
// int8 model the calibrator writes must load and run: calibration never produces an
// invalid file. The first batch holds a NaN and an infinity (skipped by observers).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "graph/format.h"
#include "quant/calibrator.h"
#include "runtime/session.h"

namespace {

// A broken promise: say which step refused the calibrator's own output, then abort.
void fail(const char* step, const edgeq::Status& status) {
  std::fprintf(stderr, "calibrate fuzzer: %s refused the int8 model: %s\n", step, status.message().c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace edgeq;
  std::shared_ptr<const Model> model;
  if (!Model::load_memory(data, size, &model).ok() || !fuzz::small_enough(model->graph())) return 0;
  std::unique_ptr<quant::Calibrator> cal;
  quant::ObserverOptions collect;
  collect.histogram.bins = 64;  // quick searches; the same code paths as 2048 bins
  if (!quant::Calibrator::create(model, SessionOptions(), collect, &cal).ok()) return 0;
  const Graph& g = cal->graph();
  for (uint32_t batch = 0; batch < 2; ++batch) {
    std::vector<std::vector<float>> inputs;
    std::vector<const float*> pointers;
    for (size_t i = 0; i < g.inputs.size(); ++i) {
      const size_t n = static_cast<size_t>(g.tensors[g.inputs[i]].num_elements());
      inputs.push_back(fuzz::floats_from_seed(n, static_cast<uint32_t>(size + batch * 31 + i)));
      if (batch == 0 && n >= 2) {
        inputs.back()[0] = std::numeric_limits<float>::quiet_NaN();
        inputs.back()[1] = std::numeric_limits<float>::infinity();
      }
      pointers.push_back(inputs.back().data());
    }
    if (!cal->add_batch(pointers).ok()) return 0;
  }
  quant::CalibrationOptions options;
  options.method = static_cast<quant::Method>(size % 6);
  options.observer.histogram.bins = 64;
  options.observer.entropy_bins = 64;
  options.observer.mse_steps = 16;
  options.act_dtype = size % 4 < 2 ? DType::kU8 : DType::kS8;
  options.per_channel_weights = size % 3 != 0;
  Graph quantized;
  if (!cal->quantize(options, &quantized).ok()) return 0;
  std::vector<uint8_t> file;
  Status st = serialize_graph(quantized, &file);
  if (!st.ok()) fail("serialize_graph", st);
  std::shared_ptr<const Model> q;
  st = Model::load_memory(file.data(), file.size(), &q);
  if (!st.ok()) fail("Model::load_memory", st);
  std::unique_ptr<Session> session;
  st = Session::create(q, SessionOptions(), &session);
  if (!st.ok()) fail("Session::create", st);
  for (size_t i = 0; i < q->graph().inputs.size(); ++i) {
    const std::vector<float> x =
        fuzz::floats_from_seed(static_cast<size_t>(session->input(i).num_elements()), static_cast<uint32_t>(i));
    st = session->set_input_f32(i, x.data(), x.size());
    if (!st.ok()) fail("set_input_f32", st);
  }
  session->run();
  return 0;
}
