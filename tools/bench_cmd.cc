// `edgeq bench`: whole-model latency, memory and a per-node profile, in the manner of
// TFLite's benchmark_model.
//
//   edgeq bench model.edgeq [--threads N] [--isa X] [--warmup W] [--runs R]
//                           [--min-time S] [--sessions N] [--profile] [--json]
//
// Times model loading and session creation separately (the first session packs the
// model's weights unless the file carries them pre-packed; --sessions N creates N - 1
// more, timed, each sharing them, and keeps them alive through the runs), fills every input from a fixed
// seed (random int8/uint8 bytes, standard-normal floats, or valid integers: token ids
// in [0, V) for an input that indexes Gathers of V rows, 0/1 for other integer inputs
// such as attention masks: bench::index_input_bound), runs W warm-ups, then R
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
#include <chrono>
#include <cstdio>
#include <memory>

#include "tools/bench_measure.h"
#include "tools/cli.h"

namespace edgeq {
namespace cli {
namespace {

using Clock = std::chrono::steady_clock;
using namespace ::edgeq::bench;  // NOLINT: the measurement this file prints

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
  MeasureOptions measure() const {
    MeasureOptions o;
    o.warmup = warmup;
    o.runs = runs;
    o.min_time = min_time;
    o.profile = profile;
    return o;
  }
};

void print_json(const BenchArgs& a, const Session& s, const Facts& f, const Measurement& m) {
  std::printf("%s\n", report_json(a.model, s, f, m, a.warmup, a.profile).c_str());
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
    std::printf("input:            '%s' %s %s (random, fixed seed%s)\n", s.input(i).name.c_str(),
                dtype_name(s.input(i).dtype), shape_string(s.input(i).shape).c_str(),
                is_index_type(s.input(i).dtype)
                    ? (", values in [0, " + std::to_string(index_input_bound(g, g.inputs[i])) + ")").c_str()
                    : s.input(i).dtype == DType::kBool ? ", all false" : "");
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
  const size_t packed = s.model().pack_cache().heap_bytes(), prepacked = s.model().prepacked_bytes();
  std::printf("packed weights:   %s packed by the model (%zu bytes), %s pre-packed in the file; shared by its sessions\n",
              human_bytes(packed).c_str(), packed, human_bytes(prepacked).c_str());
  std::printf("per session:      arena %s (%zu bytes) + %s (%zu bytes) of its own (op tables)\n",
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
  // Later sessions share the packed weights the first one made; they stay alive.
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
  if (int rc = report(fill_inputs(*s))) return rc;
  // One progress line per phase; none for a phase of fewer than two runs.
  std::unique_ptr<Progress> line;
  const Status measured = measure(*s, a.measure(), &m, [&line](const char* phase, int64_t done, int64_t total) {
    if (!line) line = std::make_unique<Progress>(phase, total >= 2 ? total : 0);
    if (done >= 0) {
      line->update(done);
    } else {
      line->done();
      line.reset();
    }
  });
  if (line) line->done();  // a failed run ends its phase's line early
  if (int rc = report(measured)) return rc;
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
