// `edgeq bench`: whole-model latency, memory and a per-node profile, in the manner of
// TFLite's benchmark_model.
//
//   edgeq bench model.edgeq [--threads N] [--isa X] [--warmup W] [--runs R]
//                           [--min-time S] [--sessions N] [--profile] [--json]
//
// Times model loading and session creation separately (the first session packs the
// model's weights unless the file carries them pre-packed; --sessions N creates N - 1
// more, timed, each sharing them, and keeps them alive through the runs), fills every input from a fixed
// seed (random int8/uint8 bytes, or standard-normal floats), runs W warm-ups, then R
// timed runs (and more until --min-time seconds of timed runs have passed). Reports the
// latency distribution, the arena, packed-weight and peak-RSS bytes, the ISA level and
// thread count the session chose, and the kernels its ops run.
//
// --profile times every node of the timed runs through Session::run_profiled (two clock
// reads per node, well under a microsecond each) and reports, per node, the median time
// over the runs, its share of the sum of node medians and, for Conv2D and
// FullyConnected, the GMAC/s the shapes imply; then the same summed per op type.
// --json prints one JSON object (nlohmann-json) instead of the text report.
// Progress goes to stderr: redrawn in place on a terminal, every tenth otherwise.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "tools/cli.h"

namespace edgeq {
namespace cli {
namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::ordered_json;

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

struct BenchArgs {
  std::string model;
  int warmup = 10;
  int runs = 100;
  double min_time = 0.0;
  bool profile = false;
  bool json = false;
  int sessions = 2;
  SessionArgs session;
};

// ------------------------------------------------------------------ statistics

struct Stats {
  double min = 0, median = 0, mean = 0, p90 = 0, p99 = 0, max = 0, stddev = 0;
};

// Median of a sorted, non-empty vector (the mean of the middle two for an even count).
double sorted_median(const std::vector<double>& v) {
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Nearest-rank percentile of a sorted, non-empty vector: the smallest value with at
// least p of the samples at or below it.
double sorted_percentile(const std::vector<double>& v, double p) {
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

Json stats_json(const Stats& s) {
  return Json{{"min", s.min}, {"median", s.median}, {"mean", s.mean},    {"p90", s.p90},
              {"p99", s.p99}, {"max", s.max},       {"stddev", s.stddev}};
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

// CPU time (user + system, all threads) the process has used, in milliseconds.
double process_cpu_ms() {
  struct rusage u {};
  if (getrusage(RUSAGE_SELF, &u) != 0) return 0;
  auto ms = [](const timeval& t) {
    return 1e3 * static_cast<double>(t.tv_sec) + 1e-3 * static_cast<double>(t.tv_usec);
  };
  return ms(u.ru_utime) + ms(u.ru_stime);
}

// Fills every input from a fixed seed: uniform bytes for int8/uint8 inputs, standard
// normal values for float ones. Kernel speed does not depend on the values.
Status fill_inputs(Session& s) {
  std::mt19937 rng(20261122);
  for (size_t i = 0; i < s.graph().inputs.size(); ++i) {
    const Tensor& t = s.input(i);
    if (t.dtype == DType::kF32) {
      std::normal_distribution<float> normal;
      std::vector<float> v(static_cast<size_t>(t.num_elements()));
      for (float& x : v) x = normal(rng);
      EDGEQ_RETURN_IF_ERROR(s.set_input_f32(i, v.data(), v.size()));
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

struct Measurement {
  double load_ms = 0, session_ms = 0, first_run_ms = 0, warmup_mean_ms = 0;
  std::vector<double> later_session_ms;      // sessions after the first (--sessions)
  // CPU time of the process for the same steps: on a busy machine wall time includes
  // waiting for a core, CPU time does not.
  double load_cpu_ms = 0, session_cpu_ms = 0;
  std::vector<double> later_session_cpu_ms;
  size_t model_packed_bytes = 0, prepacked_bytes = 0;  // the model's, after all sessions
  double cpu_ms_per_run = 0;                 // CPU time of all threads, mean over the timed runs
  std::vector<double> run_ms;                // one per timed run
  std::vector<std::vector<double>> node_ms;  // [node][timed run], with --profile
};

void measure(Session& s, const BenchArgs& a, Measurement* m) {
  std::vector<double> node_seconds;
  bool first = true;
  auto one_run = [&](bool profiled) {
    const auto t0 = Clock::now();
    if (profiled)
      s.run_profiled(&node_seconds);
    else
      s.run();
    const double ms = ms_since(t0);
    if (first) m->first_run_ms = ms;
    first = false;
    return ms;
  };

  Progress warm("warm-up", a.warmup >= 2 ? a.warmup : 0);
  double warm_total = 0;
  for (int i = 0; i < a.warmup; ++i) {
    warm_total += one_run(false);
    warm.update(i + 1);
  }
  warm.done();
  m->warmup_mean_ms = a.warmup > 0 ? warm_total / a.warmup : 0.0;

  m->node_ms.assign(a.profile ? s.graph().nodes.size() : 0, {});
  Progress progress("run", a.runs >= 2 ? a.runs : 0);
  const double cpu_start = process_cpu_ms();
  double timed_ms = 0.0;  // --min-time counts the timed runs themselves, not the loop around them
  while (static_cast<int>(m->run_ms.size()) < a.runs || timed_ms < 1000.0 * a.min_time) {
    m->run_ms.push_back(one_run(a.profile));
    timed_ms += m->run_ms.back();
    for (size_t i = 0; i < m->node_ms.size(); ++i) m->node_ms[i].push_back(1000.0 * node_seconds[i]);
    if (static_cast<int>(m->run_ms.size()) <= a.runs) progress.update(static_cast<int64_t>(m->run_ms.size()));
  }
  progress.done();
  m->cpu_ms_per_run = (process_cpu_ms() - cpu_start) / static_cast<double>(m->run_ms.size());
}

// ------------------------------------------------------------------ profile

struct NodeRow {
  size_t index = 0;
  const Node* node = nullptr;
  std::string op, shape, kernel;
  double median_ms = 0;
  int64_t macs = 0;
};

struct TypeRow {
  std::string op;
  int count = 0;
  double median_ms = 0;
  int64_t macs = 0;
};

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

struct Facts {
  std::string cpu;
  size_t model_bytes = 0, constant_bytes = 0, peak_rss = 0;
  int64_t macs = 0;
  std::map<std::string, int> kernels;  // kernel name -> node count
};

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

void print_json(const BenchArgs& a, const Session& s, const Facts& f, const Measurement& m) {
  const Stats lat = summarize(m.run_ms);
  Json j;
  j["model"] = a.model;
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
  j["session_bytes"] = s.packed_bytes();
  j["packed_bytes"] = m.model_packed_bytes;
  j["prepacked_bytes"] = m.prepacked_bytes;
  j["constant_bytes"] = f.constant_bytes;
  j["peak_rss_bytes"] = f.peak_rss;
  j["warmup"] = a.warmup;
  j["runs"] = m.run_ms.size();
  j["first_run_ms"] = m.first_run_ms;
  j["warmup_mean_ms"] = m.warmup_mean_ms;
  j["latency_ms"] = stats_json(lat);
  j["samples_ms"] = m.run_ms;
  j["cpu_ms_per_run"] = m.cpu_ms_per_run;
  j["macs"] = f.macs;
  j["gmac_per_s"] = gmac_per_s(f.macs, lat.median);
  j["kernels"] = f.kernels;
  if (a.profile) {
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
  std::printf("%s\n", j.dump(2).c_str());
}

void print_profile(const Session& s, const Measurement& m) {
  std::vector<NodeRow> nodes;
  std::vector<TypeRow> types;
  double total = 0;
  build_profile(s, m, &nodes, &types, &total);
  std::printf("\nper-node profile: median over %zu runs, slowest first\n", m.run_ms.size());
  std::printf("  %4s  %-15s %-18s %-40s %10s %7s %7s %8s  %s\n", "node", "op", "output", "kernel", "median ms", "share",
              "cum", "GMAC/s", "name");
  double cum = 0;
  for (const NodeRow& r : nodes) {
    cum += r.median_ms;
    char gmacs[32] = "";
    if (r.macs > 0) std::snprintf(gmacs, sizeof(gmacs), "%.2f", gmac_per_s(r.macs, r.median_ms));
    std::printf("  %4zu  %-15s %-18s %-40s %10.3f %6.1f%% %6.1f%% %8s  %s\n", r.index, r.op.c_str(), r.shape.c_str(),
                r.kernel.c_str(), r.median_ms, share(r.median_ms, total), share(cum, total), gmacs,
                r.node->name.c_str());
  }
  std::printf("\nper op type:\n  %-15s %5s %10s %7s %10s %8s\n", "op", "nodes", "ms", "share", "GMAC", "GMAC/s");
  for (const TypeRow& t : types) {
    char gmac[32] = "", gmacs[32] = "";
    if (t.macs > 0) {
      std::snprintf(gmac, sizeof(gmac), "%.3f", static_cast<double>(t.macs) / 1e9);
      std::snprintf(gmacs, sizeof(gmacs), "%.2f", gmac_per_s(t.macs, t.median_ms));
    }
    std::printf("  %-15s %5d %10.3f %6.1f%% %10s %8s\n", t.op.c_str(), t.count, t.median_ms, share(t.median_ms, total),
                gmac, gmacs);
  }
  const double median = summarize(m.run_ms).median;
  std::printf("  sum of node medians %.3f ms (%.1f%% of the median latency)\n", total, share(total, median));
}

void print_text(const BenchArgs& a, const Session& s, const Facts& f, const Measurement& m) {
  const Graph& g = s.graph();
  const Stats lat = summarize(m.run_ms);
  std::printf("model:            %s (%s, %zu nodes)\n", a.model.c_str(), human_bytes(f.model_bytes).c_str(),
              g.nodes.size());
  for (size_t i = 0; i < g.inputs.size(); ++i)
    std::printf("input:            '%s' %s %s (random, fixed seed)\n", s.input(i).name.c_str(),
                dtype_name(s.input(i).dtype), shape_string(s.input(i).shape).c_str());
  if (!f.cpu.empty()) std::printf("cpu:              %s\n", f.cpu.c_str());
  std::printf("isa:              %s\nthreads:          %d\n", s.isa().c_str(), s.num_threads());
  std::string kernels;
  for (const auto& kv : f.kernels)
    kernels += (kernels.empty() ? "" : ", ") + kv.first + " x" + std::to_string(kv.second);
  std::printf("kernels:          %s\n", kernels.c_str());
  std::printf("model load:       %.3f ms (cpu %.3f ms)\nsession creation: %.3f ms (cpu %.3f ms) first", m.load_ms,
              m.load_cpu_ms, m.session_ms, m.session_cpu_ms);
  if (!m.later_session_ms.empty())
    std::printf(", %.3f ms (cpu %.3f ms) later, median of %zu", summarize(m.later_session_ms).median,
                summarize(m.later_session_cpu_ms).median, m.later_session_ms.size());
  std::printf("\n");
  for (const std::string& note : s.model().notes()) std::printf("note:             %s\n", note.c_str());
  std::printf("packed weights:   %s packed by the model (%zu bytes), %s pre-packed in the file; shared by its sessions\n",
              human_bytes(m.model_packed_bytes).c_str(), m.model_packed_bytes, human_bytes(m.prepacked_bytes).c_str());
  std::printf("per session:      arena %s (%zu bytes) + %s (%zu bytes) of its own (indirection, tables)\n",
              human_bytes(s.arena_bytes()).c_str(), s.arena_bytes(), human_bytes(s.packed_bytes()).c_str(),
              s.packed_bytes());
  std::printf("constants:        %s (used in place from the file)\n", human_bytes(f.constant_bytes).c_str());
  std::printf("peak RSS:         %s\n", human_bytes(f.peak_rss).c_str());
  std::printf("first run:        %.3f ms\n", m.first_run_ms);
  if (a.warmup > 0) std::printf("warm-up:          %d runs, mean %.3f ms\n", a.warmup, m.warmup_mean_ms);
  std::printf(
      "latency (ms) over %zu runs:\n  min %.3f  median %.3f  mean %.3f  p90 %.3f  p99 %.3f  max %.3f  "
      "stddev %.3f\n",
      m.run_ms.size(), lat.min, lat.median, lat.mean, lat.p90, lat.p99, lat.max, lat.stddev);
  // One busy thread near 100% of the mean latency; well below: the CPU was shared.
  std::printf("cpu time:         %.3f ms per run, all threads (%.0f%% of the mean latency)\n", m.cpu_ms_per_run,
              share(m.cpu_ms_per_run, lat.mean));
  if (lat.median > 0)
    std::printf("throughput:       %.2f runs/s; %.3f GMAC per run (conv + FC), %.2f GMAC/s at the median\n",
                1000.0 / lat.median, static_cast<double>(f.macs) / 1e9, gmac_per_s(f.macs, lat.median));
  if (a.profile) print_profile(s, m);
}

int cmd_bench(const BenchArgs& a) {
  Measurement m;
  auto t0 = Clock::now();
  double cpu0 = process_cpu_ms();
  std::shared_ptr<const Model> model;
  if (int rc = report(Model::load_file(a.model, &model))) return rc;
  m.load_ms = ms_since(t0);
  m.load_cpu_ms = process_cpu_ms() - cpu0;
  t0 = Clock::now();
  cpu0 = process_cpu_ms();
  std::unique_ptr<Session> s;
  if (int rc = report(Session::create(model, a.session.options(), &s))) return rc;
  m.session_ms = ms_since(t0);
  m.session_cpu_ms = process_cpu_ms() - cpu0;
  std::vector<std::unique_ptr<Session>> later;
  for (int i = 1; i < a.sessions; ++i) {
    t0 = Clock::now();
    cpu0 = process_cpu_ms();
    std::unique_ptr<Session> extra;
    if (int rc = report(Session::create(model, a.session.options(), &extra))) return rc;
    m.later_session_ms.push_back(ms_since(t0));
    m.later_session_cpu_ms.push_back(process_cpu_ms() - cpu0);
    later.push_back(std::move(extra));
  }
  m.model_packed_bytes = model->pack_cache().heap_bytes();
  m.prepacked_bytes = model->prepacked_bytes();
  if (int rc = report(fill_inputs(*s))) return rc;
  measure(*s, a, &m);
  const Facts f = gather_facts(*model, *s);
  if (a.json)
    print_json(a, *s, f, m);
  else
    print_text(a, *s, f, m);
  return 0;
}

}  // namespace

void add_bench_commands(CLI::App& app, Commands* commands) {
  auto bench = std::make_shared<BenchArgs>();
  auto* b = app.add_subcommand("bench", "Measure a model's latency, memory and per-node time on random inputs");
  b->add_option("model", bench->model, ".edgeq file")->required();
  b->add_option("--warmup", bench->warmup, "untimed runs first (default 10)")->check(CLI::Range(0, 1000000));
  b->add_option("--runs", bench->runs, "timed runs, at least (default 100)")->check(CLI::Range(1, 10000000));
  b->add_option("--min-time", bench->min_time, "keep running until the timed runs took this many seconds")
      ->check(CLI::Range(0.0, 86400.0));
  b->add_option("--sessions", bench->sessions,
                 "sessions to create on the model, the later ones timed apart (default 2)")
      ->check(CLI::Range(1, 64));
  b->add_flag("--profile", bench->profile, "time every node: per-node and per-op-type tables");
  b->add_flag("--json", bench->json, "print one JSON object with every figure instead of the text report");
  bench->session.add_to(b);
  commands->push_back({b, [bench] { return cmd_bench(*bench); }});
}

}  // namespace cli
}  // namespace edgeq
