// `edgeq run` and `edgeq eval`: a model over every sample of its input files.
//
//   edgeq run model.edgeq -i x.npy [-i x2.npy ...] [-o y.npy ...] [--raw] [--top K]
//   edgeq eval model.edgeq -i x.npy --labels y.npy
//
// Each input is one NPY file holding any number of samples (its leading dimension a
// multiple of the model's batch) or a directory of them; the model runs batch by batch
// and `run` writes each output as one NPY covering all samples. `eval` compares a
// [batch, classes] output with integer labels and prints top-1 and top-5 accuracy.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <numeric>

#include "tools/cli.h"
#include "tools/dataset.h"
#include "tools/npy.h"

namespace edgeq {
namespace cli {
namespace {

// Loads one dataset per model input; all must have the same number of batches.
Status open_inputs(const Session& s, const std::vector<std::string>& inputs, std::vector<Dataset>* out) {
  const Graph& g = s.graph();
  if (inputs.size() != g.inputs.size())
    return InvalidArgument("the model has " + std::to_string(g.inputs.size()) + " inputs, " +
                           std::to_string(inputs.size()) + " --input given");
  out->resize(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    EDGEQ_RETURN_IF_ERROR(Dataset::open({inputs[i]}, s.input(i), ImageOptions(), &(*out)[i]));
    if ((*out)[i].num_batches() != (*out)[0].num_batches())
      return InvalidArgument("'" + inputs[i] + "' holds " + std::to_string((*out)[i].num_samples()) +
                             " samples, '" + inputs[0] + "' " + std::to_string((*out)[0].num_samples()));
  }
  return Status::Ok();
}

Status set_batch(Session& s, const std::vector<Dataset>& data, int64_t b) {
  for (size_t i = 0; i < data.size(); ++i) {
    const Dataset& d = data[i];
    if (d.dtype() == "f4")
      EDGEQ_RETURN_IF_ERROR(
          s.set_input_f32(i, reinterpret_cast<const float*>(d.batch_data(b)), d.batch_elements()));
    else if (d.dtype() == "i8")  // token ids, masks: converted to the input's s64 or s32
      EDGEQ_RETURN_IF_ERROR(
          s.set_input_s64(i, reinterpret_cast<const int64_t*>(d.batch_data(b)), d.batch_elements()));
    else if (d.dtype() == "i4")
      EDGEQ_RETURN_IF_ERROR(
          s.set_input_s32(i, reinterpret_cast<const int32_t*>(d.batch_data(b)), d.batch_elements()));
    else
      EDGEQ_RETURN_IF_ERROR(s.set_input_raw(i, d.batch_data(b), d.batch_bytes()));
  }
  return Status::Ok();
}

// Runs every batch, calling after_run(b) once batch b's outputs are ready.
Status run_all(Session& s, const std::vector<Dataset>& data, const std::function<Status(int64_t)>& after_run) {
  const int64_t n = data[0].num_batches();
  Progress progress("batch", n > 1 ? n : 0);
  for (int64_t b = 0; b < n; ++b) {
    EDGEQ_RETURN_IF_ERROR(set_batch(s, data, b));
    Status st = s.run();
    if (!st.ok()) return Status(st.code(), "batch " + std::to_string(b) + ": " + st.message());
    EDGEQ_RETURN_IF_ERROR(after_run(b));
    progress.update(b + 1);
  }
  progress.done();
  return Status::Ok();
}

void print_output(const std::vector<float>& v, const Tensor& t, int top) {
  std::printf("output '%s' %s:", t.name.c_str(), shape_string(t.shape).c_str());
  if (t.shape.size() == 2 && t.shape[1] > 1 && top > 0) {
    const int32_t classes = t.shape[1];
    for (int32_t b = 0; b < t.shape[0]; ++b) {
      std::vector<int32_t> idx(classes);
      std::iota(idx.begin(), idx.end(), 0);
      const float* row = v.data() + static_cast<size_t>(b) * classes;
      const int k = std::min<int>(top, classes);
      std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [&](int32_t x, int32_t y) { return row[x] > row[y]; });
      std::printf("\n  batch %d top-%d:", b, k);
      for (int j = 0; j < k; ++j) std::printf(" %d (%.4f)", idx[j], row[idx[j]]);
    }
    std::printf("\n");
  } else {
    const size_t n = std::min<size_t>(v.size(), 8);
    for (size_t j = 0; j < n; ++j) std::printf(" %.5g", v[j]);
    std::printf("%s\n", v.size() > n ? " ..." : "");
  }
}

struct RunArgs {
  std::string model;
  std::vector<std::string> inputs, outputs;
  bool raw = false;
  int top = 5;
  SessionArgs session;
};

int cmd_run(const RunArgs& a) {
  std::unique_ptr<Session> s;
  if (int rc = report(open_session(a.model, a.session, &s))) return rc;
  const Graph& g = s->graph();
  if (!a.outputs.empty() && a.outputs.size() != g.outputs.size())
    return report(InvalidArgument("the model has " + std::to_string(g.outputs.size()) + " outputs, " +
                                  std::to_string(a.outputs.size()) + " --output given"));
  std::vector<Dataset> data;
  if (int rc = report(open_inputs(*s, a.inputs, &data))) return rc;
  const int64_t batches = data[0].num_batches();

  // One NPY per output over all batches: float32, or the raw quantized bytes.
  std::vector<NpyArray> outs(g.outputs.size());
  for (size_t i = 0; i < outs.size(); ++i) {
    const Tensor& t = s->output(i);
    const bool raw = a.raw && is_quantized_type(t.dtype);
    outs[i].dtype = is_integer_valued(t.dtype) ? "i8" : raw ? (t.dtype == DType::kS8 ? "i1" : "u1") : "f4";
    outs[i].shape.assign(t.shape.begin(), t.shape.end());
    if (!outs[i].shape.empty()) outs[i].shape[0] *= batches;
    outs[i].data.reserve(static_cast<size_t>(batches) * (raw ? t.byte_size() : t.num_elements() * 4));
  }
  Status st = run_all(*s, data, [&](int64_t b) {
    for (size_t i = 0; i < outs.size(); ++i) {
      const Tensor& t = s->output(i);
      std::vector<float> values(static_cast<size_t>(t.num_elements()));
      const size_t at = outs[i].data.size();
      if (outs[i].dtype == "i8") {  // an integer or bool output: int64 values
        std::vector<int64_t> ints(values.size());
        EDGEQ_RETURN_IF_ERROR(s->get_output_s64(i, ints.data(), ints.size()));
        if (b == 0) print_output(std::vector<float>(ints.begin(), ints.end()), t, 0);
        outs[i].data.resize(at + ints.size() * 8);
        std::memcpy(outs[i].data.data() + at, ints.data(), ints.size() * 8);
        continue;
      }
      EDGEQ_RETURN_IF_ERROR(s->get_output_f32(i, values.data(), values.size()));
      if (b == 0) print_output(values, t, a.top);
      if (outs[i].dtype == "f4") {
        outs[i].data.resize(at + values.size() * 4);
        std::memcpy(outs[i].data.data() + at, values.data(), values.size() * 4);
      } else {
        outs[i].data.resize(at + t.byte_size());
        EDGEQ_RETURN_IF_ERROR(s->get_output_raw(i, outs[i].data.data() + at, t.byte_size()));
      }
    }
    return Status::Ok();
  });
  if (int rc = report(st)) return rc;
  if (batches > 1)
    std::printf("ran %lld batches (%lld samples); outputs above are the first batch's\n",
                static_cast<long long>(batches), static_cast<long long>(data[0].num_samples()));
  for (size_t i = 0; i < a.outputs.size(); ++i)
    if (int rc = report(write_npy(a.outputs[i], outs[i]))) return rc;
  return 0;
}

// Integer class labels from an NPY file of int64, int32, int8 or uint8.
Status read_labels(const std::string& path, std::vector<int64_t>* out) {
  NpyArray a;
  EDGEQ_RETURN_IF_ERROR(read_npy(path, &a));
  out->resize(static_cast<size_t>(a.num_elements()));
  for (size_t i = 0; i < out->size(); ++i) {
    if (a.dtype == "i8") {
      std::memcpy(&(*out)[i], a.data.data() + i * 8, 8);
    } else if (a.dtype == "i4") {
      int32_t v;
      std::memcpy(&v, a.data.data() + i * 4, 4);
      (*out)[i] = v;
    } else if (a.dtype == "i1") {
      (*out)[i] = static_cast<int8_t>(a.data[i]);
    } else if (a.dtype == "u1") {
      (*out)[i] = a.data[i];
    } else {
      return InvalidArgument("'" + path + "' holds " + a.dtype + "; labels must be integers");
    }
  }
  return Status::Ok();
}

struct EvalArgs {
  std::string model, input, labels;
  SessionArgs session;
};

int cmd_eval(const EvalArgs& a) {
  std::unique_ptr<Session> s;
  if (int rc = report(open_session(a.model, a.session, &s))) return rc;
  if (s->graph().outputs.size() != 1 || s->output(0).shape.size() != 2)
    return report(InvalidArgument("eval needs a model with one [batch, classes] output"));
  std::vector<Dataset> data;
  if (int rc = report(open_inputs(*s, {a.input}, &data))) return rc;
  std::vector<int64_t> labels;
  if (int rc = report(read_labels(a.labels, &labels))) return rc;
  if (static_cast<int64_t>(labels.size()) != data[0].num_samples())
    return report(InvalidArgument("'" + a.labels + "' has " + std::to_string(labels.size()) + " labels for " +
                                  std::to_string(data[0].num_samples()) + " samples"));
  const Tensor& y = s->output(0);
  const int32_t batch = y.shape[0], classes = y.shape[1];
  int64_t top1 = 0, top5 = 0;
  std::vector<float> values(static_cast<size_t>(y.num_elements()));
  Status st = run_all(*s, data, [&](int64_t b) {
    EDGEQ_RETURN_IF_ERROR(s->get_output_f32(0, values.data(), values.size()));
    for (int32_t i = 0; i < batch; ++i) {
      const float* row = values.data() + static_cast<size_t>(i) * classes;
      const int64_t label = labels[static_cast<size_t>(b * batch + i)];
      if (label < 0 || label >= classes)
        return InvalidArgument("label " + std::to_string(label) + " outside [0, " + std::to_string(classes) + ")");
      // Rank of the label's score: the number of classes scoring strictly higher.
      int32_t higher = 0;
      for (int32_t c = 0; c < classes; ++c) higher += row[c] > row[label];
      top1 += higher == 0;
      top5 += higher < 5;
    }
    return Status::Ok();
  });
  if (int rc = report(st)) return rc;
  const double n = static_cast<double>(labels.size());
  std::printf("samples: %zu\ntop-1: %.2f%% (%lld)\ntop-5: %.2f%% (%lld)\n", labels.size(), 100.0 * top1 / n,
              static_cast<long long>(top1), 100.0 * top5 / n, static_cast<long long>(top5));
  return 0;
}

}  // namespace

void add_run_commands(CLI::App& app, Commands* commands) {
  auto run = std::make_shared<RunArgs>();
  auto* r = app.add_subcommand("run", "Run a model on NPY inputs (any number of samples, batch by batch)");
  r->add_option("model", run->model, ".edgeq file")->required();
  r->add_option("-i,--input", run->inputs,
                "input NPY (float32, int8/uint8 for a quantized input, int64/int32 for an integer input such as "
                "token ids) or a directory of them, one per model input; the leading dimension is a multiple of the "
                "model's batch")
      ->required();
  r->add_option("-o,--output", run->outputs, "output NPY, one per model output (all samples)");
  r->add_flag("--raw", run->raw, "write quantized outputs as int8/uint8 instead of dequantized float32");
  r->add_option("--top", run->top, "print the top-k classes of a [batch, classes] output")->check(CLI::Range(0, 100));
  run->session.add_to(r);
  commands->push_back({r, [run] { return cmd_run(*run); }});

  auto eval = std::make_shared<EvalArgs>();
  auto* e = app.add_subcommand("eval", "Top-1 and top-5 accuracy of a classifier on labelled NPY data");
  e->add_option("model", eval->model, ".edgeq file")->required();
  e->add_option("-i,--input", eval->input, "samples: NPY file or directory (float32, any number of samples)")
      ->required();
  e->add_option("--labels", eval->labels, "NPY of integer labels, one per sample")->required();
  eval->session.add_to(e);
  commands->push_back({e, [eval] { return cmd_eval(*eval); }});
}

}  // namespace cli
}  // namespace edgeq
