// Whole-model measurement shared by `edgeq bench` and the Python module (see
// tools/bench_measure.h). Moved out of the tool so that both report the same figures.
#include "tools/bench_measure.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

namespace edgeq {
namespace bench {
namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::ordered_json;

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

}  // namespace

// ------------------------------------------------------------------ statistics

// Median of a sorted, non-empty vector (the mean of the middle two for an even count).
static double sorted_median(const std::vector<double>& v) {
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Nearest-rank percentile of a sorted, non-empty vector: the smallest value with at
// least p of the samples at or below it.
static double sorted_percentile(const std::vector<double>& v, double p) {
  const double rank = std::ceil(p * static_cast<double>(v.size()));
  const size_t i = static_cast<size_t>(std::max(rank, 1.0)) - 1;
  return v[std::min(i, v.size() - 1)];
}

Stats summarize(std::vector<double> v) {
  Stats s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  s.min = v.front();
  s.max = v.back();
  s.median = sorted_median(v);
  s.p90 = sorted_percentile(v, 0.90);
  s.p99 = sorted_percentile(v, 0.99);
  double sum = 0, sq = 0;
  for (double x : v) sum += x;
  s.mean = sum / static_cast<double>(v.size());
  for (double x : v) sq += (x - s.mean) * (x - s.mean);
  s.stddev = std::sqrt(sq / static_cast<double>(v.size()));
  return s;
}

// ------------------------------------------------------------------ model facts

// Multiply-accumulates of one run of node n, from its shapes; 0 for ops that are not
// Conv2D (W[Cout,KH,KW,Cin/groups]: out_pixels*Cout*KH*KW*Cin/groups) or
// FullyConnected (W[N,K]: rows*N*K).
int64_t node_macs(const Graph& g, const Node& n) {
  if (n.op != OpType::kConv2D && n.op != OpType::kFullyConnected) return 0;
  if (n.inputs.size() < 2 || n.inputs[1] < 0) return 0;
  const Tensor& y = g.tensors[n.outputs[0]];
  const std::vector<int32_t>& w = g.tensors[n.inputs[1]].shape;
  int64_t per_output = 1;
  for (size_t d = 1; d < w.size(); ++d) per_output *= w[d];
  return y.num_elements() * per_output;
}

// The op type as the profile groups it: depthwise and grouped convolutions apart from
// the others, since they run other kernels.
std::string op_label(const Graph& g, const Node& n) {
  if (n.op != OpType::kConv2D || n.attrs.groups <= 1) return op_name(n.op);
  const std::vector<int32_t>& y = g.tensors[n.outputs[0]].shape;
  return std::string(op_name(n.op)) + (!y.empty() && y.back() == n.attrs.groups ? " dw" : " grouped");
}

// The "model name" line of /proc/cpuinfo (Linux), or "" elsewhere.
std::string cpu_model_name() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) != 0) continue;
    const size_t colon = line.find(':');
    if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
  }
  return "";
}

// The most memory the process has held (resident), in bytes.
size_t peak_rss_bytes() {
  struct rusage u {};
  if (getrusage(RUSAGE_SELF, &u) != 0) return 0;
#ifdef __APPLE__
  return static_cast<size_t>(u.ru_maxrss);  // bytes
#else
  return static_cast<size_t>(u.ru_maxrss) * 1024;  // KiB
#endif
}

double process_cpu_ms() {
  struct rusage u {};
  if (getrusage(RUSAGE_SELF, &u) != 0) return 0;
  auto ms = [](const timeval& t) {
    return 1e3 * static_cast<double>(t.tv_sec) + 1e-3 * static_cast<double>(t.tv_usec);
  };
  return ms(u.ru_utime) + ms(u.ru_stime);
}

int64_t index_input_bound(const Graph& g, int32_t tensor) {
  // Follow the values through ops that keep them (views, movement, integer casts) to
  // the Gathers that take them as indices; the smallest table bounds them all.
  int64_t bound = 0;
  std::vector<int32_t> todo{tensor}, seen;
  while (!todo.empty()) {
    const int32_t t = todo.back();
    todo.pop_back();
    if (std::find(seen.begin(), seen.end(), t) != seen.end()) continue;
    seen.push_back(t);
    for (const Node& n : g.nodes) {
      for (size_t k = 0; k < n.inputs.size(); ++k) {
        if (n.inputs[k] != t) continue;
        if (n.op == OpType::kGather && k == 1) {
          const int64_t rows = g.tensors[n.inputs[0]].shape[0];
          bound = bound == 0 ? rows : std::min(bound, rows);
        } else if (op_has(n.op, kOpMovement) ||
                   (n.op == OpType::kCast && is_index_type(g.tensors[n.outputs[0]].dtype))) {
          for (int32_t o : n.outputs) todo.push_back(o);
        }
      }
    }
  }
  return bound > 0 ? bound : 2;
}

// Fills every input from a fixed seed: uniform bytes for int8/uint8 inputs, standard
// normal values for float ones, valid values for integer ones (index_input_bound), false
// for bool ones.
// Kernel speed does not depend on the values.
Status fill_inputs(Session& s) {
  std::mt19937 rng(20261122);
  for (size_t i = 0; i < s.graph().inputs.size(); ++i) {
    const Tensor& t = s.input(i);
    if (t.dtype == DType::kF32) {
      std::normal_distribution<float> normal;
      std::vector<float> v(static_cast<size_t>(t.num_elements()));
      for (float& x : v) x = normal(rng);
      EDGEQ_RETURN_IF_ERROR(s.set_input_f32(i, v.data(), v.size()));
    } else if (t.dtype == DType::kBool) {  // masks: all false (for a padding mask, no padding)
      const std::vector<uint8_t> v(t.byte_size(), 0);
      EDGEQ_RETURN_IF_ERROR(s.set_input_raw(i, v.data(), v.size()));
    } else if (is_index_type(t.dtype)) {
      std::uniform_int_distribution<int64_t> id(0, index_input_bound(s.graph(), s.graph().inputs[i]) - 1);
      std::vector<int64_t> v(static_cast<size_t>(t.num_elements()));
      for (int64_t& x : v) x = id(rng);
      EDGEQ_RETURN_IF_ERROR(s.set_input_s64(i, v.data(), v.size()));
    } else {
      std::uniform_int_distribution<int> byte(0, 255);
      std::vector<uint8_t> v(t.byte_size());
      for (uint8_t& x : v) x = static_cast<uint8_t>(byte(rng));
      EDGEQ_RETURN_IF_ERROR(s.set_input_raw(i, v.data(), v.size()));
    }
  }
  return Status::Ok();
}

// ------------------------------------------------------------------ measuring


Status measure(Session& s, const MeasureOptions& a, Measurement* m, const ProgressFn& progress) {
  // The arena reuses an input's memory once its last reader ran, so a run may change
  // its inputs (a Gather's ids would then be garbage): they are set again before
  // every run, outside the timed part, as an application does.
  const Graph& g = s.graph();
  std::vector<std::vector<uint8_t>> inputs(g.inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const uint8_t* p = s.tensor_data(static_cast<size_t>(g.inputs[i]));
    if (p) inputs[i].assign(p, p + s.input(i).byte_size());
  }
  std::vector<double> node_seconds;
  bool first = true;
  Status failed;  // the first run's error (a run fails on every try or never: same inputs)
  auto one_run = [&](bool profiled) {
    for (size_t i = 0; i < inputs.size() && failed.ok(); ++i)
      if (!inputs[i].empty()) failed = s.set_input_raw(i, inputs[i].data(), inputs[i].size());
    const auto t0 = Clock::now();
    Status st = profiled ? s.run_profiled(&node_seconds) : s.run();
    if (!st.ok() && failed.ok()) failed = st;
    const double ms = ms_since(t0);
    if (first) m->first_run_ms = ms;
    first = false;
    return ms;
  };
  auto report = [&](const char* phase, int64_t done, int64_t total) {
    if (progress) progress(phase, done, total);
  };

  double warm_total = 0;
  for (int i = 0; i < a.warmup; ++i) {
    warm_total += one_run(false);
    if (!failed.ok()) return failed;
    report("warm-up", i + 1, a.warmup);
  }
  report("warm-up", -1, a.warmup);
  m->warmup_mean_ms = a.warmup > 0 ? warm_total / a.warmup : 0.0;

  m->node_ms.assign(a.profile ? s.graph().nodes.size() : 0, {});
  const double cpu_start = process_cpu_ms();
  double timed_ms = 0.0;  // min_time counts the timed runs themselves, not the loop around them
  while (static_cast<int>(m->run_ms.size()) < a.runs || timed_ms < 1000.0 * a.min_time) {
    m->run_ms.push_back(one_run(a.profile));
    if (!failed.ok()) return failed;
    timed_ms += m->run_ms.back();
    for (size_t i = 0; i < m->node_ms.size(); ++i) m->node_ms[i].push_back(1000.0 * node_seconds[i]);
    if (static_cast<int>(m->run_ms.size()) <= a.runs) report("run", static_cast<int64_t>(m->run_ms.size()), a.runs);
  }
  report("run", -1, a.runs);
  m->cpu_ms_per_run = (process_cpu_ms() - cpu_start) / static_cast<double>(m->run_ms.size());
  return failed;
}

// ------------------------------------------------------------------ profile



double gmac_per_s(int64_t macs, double ms) { return ms > 0 ? static_cast<double>(macs) / (ms * 1e6) : 0.0; }
double share(double part, double whole) { return whole > 0 ? 100.0 * part / whole : 0.0; }

// Nodes sorted by median time (slowest first) and op types sorted the same way.
void build_profile(const Session& s, const Measurement& m, std::vector<NodeRow>* nodes, std::vector<TypeRow>* types,
                   double* total_ms) {
  const Graph& g = s.graph();
  *total_ms = 0;
  std::map<std::string, TypeRow> by_type;
  for (size_t i = 0; i < m.node_ms.size(); ++i) {
    NodeRow r;
    r.index = i;
    r.node = &g.nodes[i];
    r.op = op_label(g, *r.node);
    r.shape = shape_string(g.tensors[r.node->outputs[0]].shape);
    r.kernel = s.op(i).kernel_name();
    r.median_ms = summarize(m.node_ms[i]).median;
    r.macs = node_macs(g, *r.node);
    *total_ms += r.median_ms;
    TypeRow& t = by_type[r.op];
    t.op = r.op;
    t.count += 1;
    t.median_ms += r.median_ms;
    t.macs += r.macs;
    nodes->push_back(std::move(r));
  }
  std::stable_sort(nodes->begin(), nodes->end(),
                   [](const NodeRow& x, const NodeRow& y) { return x.median_ms > y.median_ms; });
  for (auto& kv : by_type) types->push_back(kv.second);
  std::stable_sort(types->begin(), types->end(),
                   [](const TypeRow& x, const TypeRow& y) { return x.median_ms > y.median_ms; });
}

// ------------------------------------------------------------------ reports


Facts gather_facts(const Model& model, const Session& s) {
  Facts f;
  f.cpu = cpu_model_name();
  f.model_bytes = model.file_bytes();
  const Graph& g = s.graph();
  for (const Tensor& t : g.tensors) f.constant_bytes += t.nbytes;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    f.macs += node_macs(g, g.nodes[i]);
    f.kernels[s.op(i).kernel_name()] += 1;
  }
  f.peak_rss = peak_rss_bytes();
  return f;
}

static Json stats_json(const Stats& s) {
  return Json{{"min", s.min}, {"median", s.median}, {"mean", s.mean},    {"p90", s.p90},
              {"p99", s.p99}, {"max", s.max},       {"stddev", s.stddev}};
}

std::string report_json(const std::string& model, const Session& s, const Facts& f, const Measurement& m, int warmup,
                        bool profile) {
  const Stats lat = summarize(m.run_ms);
  Json j;
  j["model"] = model;
  j["model_bytes"] = f.model_bytes;
  j["nodes"] = s.graph().nodes.size();
  j["cpu"] = f.cpu;
  j["isa"] = s.isa();
  j["threads"] = s.num_threads();
  j["load_ms"] = m.load_ms;
  j["session_ms"] = m.session_ms;
  j["later_session_ms"] = m.later_session_ms;
  j["load_cpu_ms"] = m.load_cpu_ms;
  j["session_cpu_ms"] = m.session_cpu_ms;
  j["later_session_cpu_ms"] = m.later_session_cpu_ms;
  j["arena_bytes"] = s.arena_bytes();
  // The packed weights are the model's, shared by its sessions; a session adds its own.
  j["packed_bytes"] = s.model().pack_cache().heap_bytes();
  j["prepacked_bytes"] = s.model().prepacked_bytes();
  j["session_bytes"] = s.packed_bytes();
  j["constant_bytes"] = f.constant_bytes;
  j["peak_rss_bytes"] = f.peak_rss;
  j["warmup"] = warmup;
  j["runs"] = m.run_ms.size();
  j["first_run_ms"] = m.first_run_ms;
  j["warmup_mean_ms"] = m.warmup_mean_ms;
  j["latency_ms"] = stats_json(lat);
  j["samples_ms"] = m.run_ms;
  j["cpu_ms_per_run"] = m.cpu_ms_per_run;
  j["macs"] = f.macs;
  j["gmac_per_s"] = gmac_per_s(f.macs, lat.median);
  j["kernels"] = f.kernels;
  if (profile) {
    std::vector<NodeRow> nodes;
    std::vector<TypeRow> types;
    double total = 0;
    build_profile(s, m, &nodes, &types, &total);
    Json jn = Json::array(), jt = Json::array();
    for (const NodeRow& r : nodes)
      jn.push_back({{"index", r.index},
                    {"name", r.node->name},
                    {"op", r.op},
                    {"output_shape", r.shape},
                    {"kernel", r.kernel},
                    {"median_ms", r.median_ms},
                    {"share_pct", share(r.median_ms, total)},
                    {"macs", r.macs},
                    {"gmac_per_s", gmac_per_s(r.macs, r.median_ms)}});
    for (const TypeRow& t : types)
      jt.push_back({{"op", t.op},
                    {"count", t.count},
                    {"median_ms", t.median_ms},
                    {"share_pct", share(t.median_ms, total)},
                    {"macs", t.macs},
                    {"gmac_per_s", gmac_per_s(t.macs, t.median_ms)}});
    j["profile"] = {{"sum_of_node_medians_ms", total}, {"nodes", jn}, {"op_types", jt}};
  }
  return j.dump(2);
}

}  // namespace bench
}  // namespace edgeq
