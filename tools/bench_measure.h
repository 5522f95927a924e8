// Whole-model measurement behind `edgeq bench` and the Python module's edgeq.bench():
// latency over timed runs, an optional per-node profile, and the facts about the model
// and session (memory, kernels, MACs), and the JSON report of them all. No printing.
//
//   fill_inputs(session);                      // fixed-seed random inputs
//   measure(session, options, &m, progress);   // warm-ups, then the timed runs
//   summarize(m.run_ms), build_profile(...), gather_facts(...)
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "graph/status.h"
#include "runtime/session.h"

namespace edgeq {
namespace bench {

struct Stats {
  double min = 0, median = 0, mean = 0, p90 = 0, p99 = 0, max = 0, stddev = 0;
};
// Median (mean of the middle two for an even count), nearest-rank p90 / p99.
Stats summarize(std::vector<double> v);

// Multiply-accumulates of one run of node n (Conv2D and FullyConnected; 0 otherwise).
int64_t node_macs(const Graph& g, const Node& n);
// The op type as the profile groups it ("Conv2D dw", "Conv2D grouped" apart).
std::string op_label(const Graph& g, const Node& n);
// The "model name" line of /proc/cpuinfo, or "".
std::string cpu_model_name();
// The most memory the process has held (resident), in bytes.
size_t peak_rss_bytes();
// CPU time (user + system, all threads) the process has used, in milliseconds.
double process_cpu_ms();

// The values an integer (s32 / s64) input of g may take, [0, bound): for an input that
// reaches Gathers as indices (directly or through movement ops and integer casts), the
// smallest of their tables' row counts; for any other integer input (an attention mask
// feeding a Cast, say) 2, i.e. 0/1 values.
int64_t index_input_bound(const Graph& g, int32_t tensor);

// Fills every input from a fixed seed: uniform bytes for int8/uint8 inputs, standard
// normal values for float ones, uniform values in [0, index_input_bound) for integer
// ones (token ids valid for every table they index, 0/1 masks). Kernel speed does not
// depend on the values.
Status fill_inputs(Session& s);

struct MeasureOptions {
  int warmup = 10;
  int runs = 100;
  double min_time = 0.0;  // seconds of timed runs, at least
  bool profile = false;   // time every node
};

struct Measurement {
  double load_ms = 0, session_ms = 0, first_run_ms = 0, warmup_mean_ms = 0;
  std::vector<double> later_session_ms;      // sessions after the first (edgeq bench --sessions)
  // CPU time of the process for the same steps: on a busy machine wall time includes
  // waiting for a core, CPU time does not.
  double load_cpu_ms = 0, session_cpu_ms = 0;
  std::vector<double> later_session_cpu_ms;
  double cpu_ms_per_run = 0;                 // CPU time of all threads, mean over the timed runs
  std::vector<double> run_ms;                // one per timed run
  std::vector<std::vector<double>> node_ms;  // [node][timed run], with profile
};

// progress(phase, done, total) after each run of a phase ("warm-up", "run"), with
// done = -1 once the phase ends; may be empty.
using ProgressFn = std::function<void(const char* phase, int64_t done, int64_t total)>;
// Sets the session's current inputs again before every run (untimed: a run may
// overwrite an input whose last reader ran). Fails with the run's error when a run
// fails (an index outside a Gather's table).
Status measure(Session& s, const MeasureOptions& o, Measurement* m, const ProgressFn& progress = {});

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

double gmac_per_s(int64_t macs, double ms);
double share(double part, double whole);

// Nodes sorted by median time (slowest first) and op types sorted the same way.
void build_profile(const Session& s, const Measurement& m, std::vector<NodeRow>* nodes, std::vector<TypeRow>* types,
                   double* total_ms);

struct Facts {
  std::string cpu;
  size_t model_bytes = 0, constant_bytes = 0, peak_rss = 0;
  int64_t macs = 0;
  std::map<std::string, int> kernels;  // kernel name -> node count
};
Facts gather_facts(const Model& model, const Session& s);

// Every figure as one JSON object (`edgeq bench --json`; the Python module's
// edgeq.bench() reads the same), indented by 2. `model` is the file's name.
std::string report_json(const std::string& model, const Session& s, const Facts& f, const Measurement& m, int warmup,
                        bool profile);

}  // namespace bench
}  // namespace edgeq
