// `edgeq calibrate` and `edgeq quant-report`.
//
//   edgeq calibrate model_f32.edgeq --data DIR|FILE.npy|NAME=FILE.npy... [--method M] [--per-channel|--per-tensor]
//         [--act-dtype uint8|int8] [--samples N] [--stats FILE] [--exclude A,B]
//         [--fallback N] [--fallback-sqnr DB] [--full-int8] -o model_int8.edgeq
//   edgeq calibrate model_f32.edgeq --dynamic [--dynamic-mode row|tensor] -o model_int8.edgeq
//   edgeq quant-report float.edgeq int8.edgeq --data ... [--samples N]
//
// --data feeds every model input (tools/input_data.h): for several inputs, one file per
// input in graph input order or NAME=FILE pairs, e.g. a BERT encoder's int64
// input_ids=ids.npy attention_mask=mask.npy token_type_ids=types.npy.
// calibrate runs the float model over the data with an observer on every activation
// (a progress line with ETA on stderr), computes qparams with the chosen method and
// writes the int8 model. With --stats FILE the statistics are saved there; given
// --stats of an existing file and no --data, they are read back instead of running the
// data again. --fallback / --fallback-sqnr measure each layer's isolated error on the
// data (up to --sensitivity-samples samples) and keep the worst layers in float.
// Transformers: LayerNorm, Softmax and GELU stay float islands between the int8 GEMMs
// unless --full-int8; --dynamic quantizes every GEMM with constant weights and marks
// every MatMul of two activations for run-time quantization (quant/quantize_graph.h).
// quant-report prints per-layer SQNR and cosine similarity, isolated and propagated,
// worst first, then each model output's SQNR and cosine (matched by position, so an
// int8 file imported from elsewhere, with other tensor names, still gets its end-to-end
// figure), and top-1 agreement for a classifier.
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "graph/format.h"
#include "quant/calibrator.h"
#include "quant/report.h"
#include "tools/cli.h"
#include "tools/input_data.h"

namespace edgeq {
namespace cli {
namespace {

struct DataArgs {
  std::vector<std::string> paths;
  int64_t samples = 0;  // 0: all
  bool images = false;
  std::string size, mean, stddev, layout = "nchw";

  void add_to(CLI::App* app, bool required) {
    auto* o = app->add_option("--data", paths,
                              "data: NPY files (samples along axis 0; int64/int32 for integer inputs such as token "
                              "ids) or directories of NPY files or, with --images, of PNG/JPEG images. Models with "
                              "several inputs: one file per input in graph input order, or NAME=FILE for each input "
                              "(e.g. input_ids=ids.npy attention_mask=mask.npy); every input the same sample count");
    if (required) o->required();
    app->add_option("--samples", samples, "use at most N samples (default: all)")->check(CLI::Range(1, 1 << 30));
    app->add_flag("--images", images, "directories hold images (PNG/JPEG/BMP), decoded and normalized");
    app->add_option("--size", size, "images: WIDTHxHEIGHT (default: the model input's)");
    app->add_option("--mean", mean, "images: mean per channel after scaling to [0,1], e.g. 0.485,0.456,0.406");
    app->add_option("--std", stddev, "images: standard deviation per channel, e.g. 0.229,0.224,0.225");
    app->add_option("--layout", layout, "images: the model input's layout")->check(CLI::IsMember({"nchw", "nhwc"}));
  }
};

Status parse_floats(const std::string& text, const char* what, std::vector<float>* out) {
  out->clear();
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    char* end = nullptr;
    const float v = std::strtof(item.c_str(), &end);
    if (item.empty() || *end != '\0' || !std::isfinite(v))
      return InvalidArgument(std::string(what) + ": '" + item + "' is not a number");
    out->push_back(v);
  }
  return Status::Ok();
}

Status open_data(const DataArgs& a, const Graph& g, InputData* out) {
  ImageOptions o;
  o.images = a.images;
  o.nchw = a.layout == "nchw";
  if (!a.size.empty()) {
    int w = 0, h = 0;
    char x = 0;
    std::stringstream ss(a.size);
    if (!(ss >> w >> x >> h) || x != 'x' || w < 1 || h < 1) return InvalidArgument("--size takes WIDTHxHEIGHT");
    o.width = w;
    o.height = h;
  }
  if (!a.mean.empty()) EDGEQ_RETURN_IF_ERROR(parse_floats(a.mean, "--mean", &o.mean));
  if (!a.stddev.empty()) EDGEQ_RETURN_IF_ERROR(parse_floats(a.stddev, "--std", &o.stddev));
  return InputData::open(a.paths, g, o, out);
}

int64_t batch_count(const DataArgs& a, const InputData& d) {
  int64_t n = d.num_batches();
  if (a.samples > 0) n = std::min<int64_t>(n, (a.samples + d.batch() - 1) / d.batch());
  return n;
}

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

Status load_model(const std::string& path, std::shared_ptr<const Model>* out) { return Model::load_file(path, out); }

// Runs the report over the data's batches, with a progress line.
Status fill_report(quant::ErrorReport* r, const InputData& d, int64_t batches, const char* label) {
  Progress p(label, batches);
  for (int64_t b = 0; b < batches; ++b) {
    EDGEQ_RETURN_IF_ERROR(r->add_batch(d.batch_buffers(b)));
    p.update(b + 1);
  }
  p.done();
  return Status::Ok();
}

std::string db(double v) {
  char buf[32];
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  std::snprintf(buf, sizeof(buf), "%.2f", v);
  return buf;
}

void print_report(const quant::ErrorReport& r, size_t top) {
  std::vector<const quant::LayerError*> layers;
  for (const auto& l : r.layers()) layers.push_back(&l);
  std::stable_sort(layers.begin(), layers.end(), [](const auto* a, const auto* b) {
    return a->propagated.sqnr_db() < b->propagated.sqnr_db();
  });
  std::printf("%-32s %-16s %10s %9s %10s %9s %11s\n", "layer (worst first)", "op", "SQNR iso", "cos iso", "SQNR prop",
              "cos prop", "MSE iso");
  for (size_t i = 0; i < layers.size() && (top == 0 || i < top); ++i) {
    const auto& l = *layers[i];
    std::string name = l.node.size() > 32 ? "..." + l.node.substr(l.node.size() - 29) : l.node;
    if (l.quantized)
      std::printf("%-32s %-16s %10s %9.5f %10s %9.5f %11.4g\n", name.c_str(), l.op.c_str(),
                  db(l.isolated.sqnr_db()).c_str(), l.isolated.cosine(), db(l.propagated.sqnr_db()).c_str(),
                  l.propagated.cosine(), l.isolated.mse());
    else
      std::printf("%-32s %-16s %10s %9s %10s %9.5f %11s\n", name.c_str(), (l.op + " (f32)").c_str(), "-", "-",
                  db(l.propagated.sqnr_db()).c_str(), l.propagated.cosine(), "-");
  }
  for (size_t i = 0; i < r.outputs().size(); ++i)
    if (r.outputs()[i].count > 0)
      std::printf("output '%s': SQNR %s dB, cosine %.5f against the float model\n", r.output_names()[i].c_str(),
                  db(r.outputs()[i].sqnr_db()).c_str(), r.outputs()[i].cosine());
  if (r.classifier())
    std::printf("top-1 agreement with the float model: %.2f%% (%lld of %lld samples)\n",
                100.0 * static_cast<double>(r.top1_agreement()) / static_cast<double>(std::max<int64_t>(1, r.samples())),
                static_cast<long long>(r.top1_agreement()), static_cast<long long>(r.samples()));
}

// ------------------------------------------------------------------ calibrate

struct CalibrateArgs {
  std::string model, output, stats, method = "minmax", act_dtype = "uint8", requant = "fp32", exclude;
  std::string dynamic_mode = "row";
  bool per_tensor = false, per_channel = false, dynamic = false, dynamic_attention = false, full_int8 = false;
  int32_t fallback = 0;
  double fallback_sqnr = std::numeric_limits<double>::quiet_NaN();
  int64_t sensitivity_samples = 200;
  double percentile = 99.999;
  float ema = 0.01f;
  int32_t bins = 2048;
  DataArgs data;
  SessionArgs session;
};

Status calibrate(const CalibrateArgs& a) {
  std::shared_ptr<const Model> model;
  EDGEQ_RETURN_IF_ERROR(load_model(a.model, &model));
  for (int32_t t : model->graph().inputs)
    if (model->graph().tensors[t].dtype != DType::kF32 && !is_integer_valued(model->graph().tensors[t].dtype))
      return InvalidArgument("'" + a.model + "' is not a float model (input '" + model->graph().tensors[t].name +
                             "' is " + dtype_name(model->graph().tensors[t].dtype) + ")");
  quant::CalibrationOptions opts;
  if (!quant::parse_method(a.method, &opts.method)) return InvalidArgument("unknown --method '" + a.method + "'");
  opts.observer.percentile = a.percentile;
  opts.observer.averaging_constant = a.ema;
  opts.observer.histogram.bins = a.bins;
  opts.observer.entropy_bins = a.bins;
  opts.act_dtype = a.act_dtype == "int8" ? DType::kS8 : DType::kU8;
  opts.per_channel_weights = !a.per_tensor;
  opts.requant = a.requant == "fixed" ? RequantScheme::kFixedPoint : RequantScheme::kFp32;
  if (a.per_tensor && a.per_channel) return InvalidArgument("--per-channel and --per-tensor exclude each other");
  opts.full_int8 = a.full_int8;
  quant::DynamicMode dynamic_mode = quant::DynamicMode::kRow;
  if (!quant::parse_dynamic_mode(a.dynamic_mode, &dynamic_mode))
    return InvalidArgument("unknown --dynamic-mode '" + a.dynamic_mode + "'");
  if (a.dynamic && a.full_int8) return InvalidArgument("--full-int8 is static quantization: drop --dynamic");
  if (a.dynamic_attention && !a.dynamic) return InvalidArgument("--dynamic-attention needs --dynamic");

  Graph out;
  if (a.dynamic) {
    quant::GraphQuantOptions g;
    g.dynamic = true;
    g.dynamic_mode = dynamic_mode;
    g.dynamic_attention = a.dynamic_attention;
    g.per_channel_weights = opts.per_channel_weights;
    g.requant = opts.requant;
    EDGEQ_RETURN_IF_ERROR(quant::quantize_graph(model->graph(), {}, g, &out));
  } else {
    std::unique_ptr<quant::Calibrator> cal;
    EDGEQ_RETURN_IF_ERROR(quant::Calibrator::create(model, a.session.options(), opts.observer, &cal));
    InputData data;
    const bool have_data = !a.data.paths.empty();
    if (!have_data && (a.stats.empty() || !file_exists(a.stats)))
      return InvalidArgument("give --data, or --stats with a statistics file saved by an earlier calibration");
    if (have_data) {
      EDGEQ_RETURN_IF_ERROR(open_data(a.data, model->graph(), &data));
      const int64_t batches = batch_count(a.data, data);
      Progress p("calibrating", batches);
      for (int64_t b = 0; b < batches; ++b) {
        EDGEQ_RETURN_IF_ERROR(cal->add_batch(data.batch_buffers(b)));
        p.update(b + 1);
      }
      p.done();
      std::fprintf(stderr, "observed %lld batches of %d\n", static_cast<long long>(batches), data.batch());
      if (!a.stats.empty()) EDGEQ_RETURN_IF_ERROR(cal->save_stats(a.stats));
    } else {
      EDGEQ_RETURN_IF_ERROR(cal->load_stats(a.stats));
      std::fprintf(stderr, "statistics of %lld batches read from '%s'\n", static_cast<long long>(cal->batches()),
                   a.stats.c_str());
    }
    std::stringstream ex(a.exclude);
    for (std::string name; std::getline(ex, name, ',');)
      if (!name.empty()) opts.exclude.push_back(name);
    EDGEQ_RETURN_IF_ERROR(cal->quantize(opts, &out));
    const auto nonfinite = cal->nonfinite_nodes();
    if (!nonfinite.empty()) {
      std::fprintf(stderr, "kept in float (their tensors held non-finite values, e.g. a -inf mask):");
      for (const auto& nt : nonfinite) std::fprintf(stderr, " %s (%s)", nt.first.c_str(), nt.second.c_str());
      std::fprintf(stderr, "\n");
    }
    const auto lossy = cal->lossy_input_nodes(opts);
    if (!lossy.empty()) {
      std::fprintf(stderr,
                   "kept in float (values int8 would round to 0 before a Log or a root, e.g. a log-mel front end, "
                   "a generalized-mean pooling):");
      for (const std::string& name : lossy) std::fprintf(stderr, " %s", name.c_str());
      std::fprintf(stderr, "\n");
    }

    if (a.fallback > 0 || !std::isnan(a.fallback_sqnr)) {
      if (!have_data) return InvalidArgument("--fallback and --fallback-sqnr need --data to measure sensitivity");
      std::vector<uint8_t> bytes;
      EDGEQ_RETURN_IF_ERROR(serialize_graph(out, &bytes));
      std::shared_ptr<const Model> int8;
      EDGEQ_RETURN_IF_ERROR(Model::load_memory(bytes.data(), bytes.size(), &int8));
      std::unique_ptr<quant::ErrorReport> report;
      EDGEQ_RETURN_IF_ERROR(quant::ErrorReport::create(model, int8, a.session.options(), &report));
      DataArgs sens = a.data;
      sens.samples = a.sensitivity_samples;
      EDGEQ_RETURN_IF_ERROR(fill_report(report.get(), data, batch_count(sens, data), "sensitivity"));
      opts.float_nodes = quant::choose_fallback(model->graph(), *report, a.fallback, a.fallback_sqnr);
      std::fprintf(stderr, "kept in float:");
      int kept = 0;
      for (size_t i = 0; i < opts.float_nodes.size(); ++i)
        if (opts.float_nodes[i]) {
          std::fprintf(stderr, " %s", model->graph().nodes[i].name.c_str());
          ++kept;
        }
      std::fprintf(stderr, "%s\n", kept ? "" : " (none)");
      EDGEQ_RETURN_IF_ERROR(cal->quantize(opts, &out));
    }
  }
  out.producer = "edgeq calibrate " + a.method + " from " + model->graph().producer;
  EDGEQ_RETURN_IF_ERROR(write_graph_file(out, a.output));
  // An op is int8 when a tensor it reads or writes is: a dynamically quantized fully
  // connected layer reads and writes float around its int8 weights.
  int quantized = 0, floating = 0;
  const auto int8 = [&](int32_t t) {
    return t >= 0 && (out.tensors[t].dtype == DType::kS8 || out.tensors[t].dtype == DType::kU8);
  };
  for (const Node& n : out.nodes) {
    if (op_has(n.op, kOpConversion)) continue;
    bool q = int8(n.outputs[0]);
    for (int32_t t : n.inputs) q |= int8(t);
    (q ? quantized : floating)++;
  }
  std::printf("wrote '%s': %d int8 ops, %d float ops\n", a.output.c_str(), quantized, floating);
  return Status::Ok();
}

// ------------------------------------------------------------------ quant-report

struct ReportArgs {
  std::string float_model, int8_model;
  size_t top = 0;
  DataArgs data;
  SessionArgs session;
};

Status quant_report(const ReportArgs& a) {
  std::shared_ptr<const Model> fm, qm;
  EDGEQ_RETURN_IF_ERROR(load_model(a.float_model, &fm));
  EDGEQ_RETURN_IF_ERROR(load_model(a.int8_model, &qm));
  std::unique_ptr<quant::ErrorReport> r;
  EDGEQ_RETURN_IF_ERROR(quant::ErrorReport::create(fm, qm, a.session.options(), &r));
  InputData data;
  EDGEQ_RETURN_IF_ERROR(open_data(a.data, fm->graph(), &data));
  EDGEQ_RETURN_IF_ERROR(fill_report(r.get(), data, batch_count(a.data, data), "comparing"));
  print_report(*r, a.top);
  return Status::Ok();
}

}  // namespace

void add_quant_commands(CLI::App& app, Commands* commands) {
  auto c = std::make_shared<CalibrateArgs>();
  auto* cal = app.add_subcommand("calibrate", "Calibrate a float model on data and write the int8 model");
  cal->add_option("model", c->model, "float .edgeq file")->required();
  cal->add_option("-o,--output", c->output, "int8 .edgeq file to write")->required();
  c->data.add_to(cal, false);
  cal->add_option("--method", c->method, "observer: minmax, ema, histogram, percentile, entropy, mse")
      ->check(CLI::IsMember({"minmax", "ema", "histogram", "percentile", "entropy", "mse"}));
  cal->add_flag("--per-channel", c->per_channel, "per-channel symmetric int8 weights (the default)");
  cal->add_flag("--per-tensor", c->per_tensor, "per-tensor symmetric int8 weights");
  cal->add_option("--act-dtype", c->act_dtype, "activation type")->check(CLI::IsMember({"uint8", "int8"}));
  cal->add_option("--requant", c->requant, "requantization scheme")->check(CLI::IsMember({"fp32", "fixed"}));
  cal->add_option("--stats", c->stats, "statistics cache: written after a run over --data, read when no --data");
  cal->add_option("--exclude", c->exclude, "comma-separated node names to keep in float");
  cal->add_option("--fallback", c->fallback, "keep the N most sensitive layers in float")->check(CLI::Range(0, 100000));
  cal->add_option("--fallback-sqnr", c->fallback_sqnr, "keep every layer whose isolated SQNR (dB) is below this in float");
  cal->add_option("--sensitivity-samples", c->sensitivity_samples, "samples used to measure sensitivity")
      ->check(CLI::Range(1, 1 << 30));
  cal->add_flag("--dynamic", c->dynamic,
                "dynamic quantization: int8 weights of every FullyConnected and constant-weight MatMul, no data needed");
  cal->add_option("--dynamic-mode", c->dynamic_mode,
                  "--dynamic: run-time activation quantization, row (per row, the default) or tensor (ONNX Runtime's)")
      ->check(CLI::IsMember({"row", "tensor"}));
  cal->add_flag("--dynamic-attention", c->dynamic_attention,
                "--dynamic: also quantize MatMuls of two activations at run time (default: they stay float)");
  cal->add_flag("--full-int8", c->full_int8,
                "static: LayerNorm, Softmax, GELU and residual Adds in int8 too (default: float islands)");
  cal->add_option("--percentile", c->percentile, "percentile method: the percentile kept")->check(CLI::Range(50.0, 100.0));
  cal->add_option("--ema-constant", c->ema, "ema method: averaging constant")->check(CLI::Range(0.0, 1.0));
  cal->add_option("--bins", c->bins, "histogram, percentile, entropy, mse: histogram bins")->check(CLI::Range(16, 1 << 20));
  c->session.add_to(cal);
  commands->push_back({cal, [c] { return report(calibrate(*c)); }});

  auto r = std::make_shared<ReportArgs>();
  auto* rep = app.add_subcommand("quant-report", "Per-layer SQNR and cosine similarity of an int8 model vs its float model");
  rep->add_option("float_model", r->float_model, "float .edgeq file")->required();
  rep->add_option("int8_model", r->int8_model, "int8 .edgeq file made from it")->required();
  r->data.add_to(rep, true);
  rep->add_option("--top", r->top, "print only the N worst layers (default: all)");
  r->session.add_to(rep);
  commands->push_back({rep, [r] { return report(quant_report(*r)); }});
}

}  // namespace cli
}  // namespace edgeq
