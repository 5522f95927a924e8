// Shared pieces of the `edgeq` command-line tool: every subcommand file adds its
// subcommands to the CLI11 app with an action to run when that subcommand is chosen.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "graph/status.h"
#include "runtime/session.h"

namespace edgeq {
namespace cli {

// A subcommand and what to do when it is chosen (returns the exit status).
struct Command {
  CLI::App* app;
  std::function<int()> action;
};
using Commands = std::vector<Command>;

// Prints "edgeq: error: ..." on stderr; returns 0 for Ok, 1 otherwise.
int report(const Status& s);

// "512 B", "3.4 KiB", "1.25 MiB".
std::string human_bytes(size_t bytes);

// The options every command that runs a model takes.
struct SessionArgs {
  int threads = 1;
  std::string isa;
  void add_to(CLI::App* app);
  SessionOptions options() const;
};

// Packs the weights of `g` for the comma-separated kernel levels `levels` (avx2,
// avxvnni, avx512vnni, amx, neon, neondot, neoni8mm; ARM ones too on an x86 host) into
// pre-packed segments (graph/ir.h, PackedWeights), replacing any for the same layouts.
// *bytes: the bytes added.
Status add_packed_levels(const std::string& levels, Graph* g, size_t* bytes);

// Loads a model and creates a session.
Status open_session(const std::string& path, const SessionArgs& args, std::unique_ptr<Session>* out);

// A progress line on stderr ("label  i/n  ETA"), redrawn in place on a terminal and
// printed at every tenth otherwise; done() ends the line.
class Progress {
 public:
  Progress(std::string label, int64_t total);
  void update(int64_t done);
  void done();

 private:
  std::string label_;
  int64_t total_;
  int64_t last_tenth_ = -1;
  bool tty_;
  double start_;
};

void add_run_commands(CLI::App& app, Commands* commands);     // run, eval (run_cmd.cc)
void add_quant_commands(CLI::App& app, Commands* commands);   // calibrate, quant-report (quant_cmd.cc)
void add_bench_commands(CLI::App& app, Commands* commands);   // bench (bench_cmd.cc)
void add_export_commands(CLI::App& app, Commands* commands);  // export-onnx (export_cmd.cc)

}  // namespace cli
}  // namespace edgeq
