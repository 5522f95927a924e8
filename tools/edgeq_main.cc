// The `edgeq` command-line tool.
//   edgeq convert model.onnx -o model.edgeq   ONNX -> .edgeq
//   edgeq info model.edgeq                    ops, tensors, qparams, memory plan
//   edgeq run model.edgeq --input x.npy --output y.npy   (run_cmd.cc; also eval)
//   edgeq bench model.edgeq [--threads N] [--profile]   (bench_cmd.cc)
//   edgeq export-onnx model.edgeq -o model.onnx          (export_cmd.cc)
// Each subcommand has --help. Errors go to stderr with a non-zero exit status.
// A build without the ONNX importer (EDGEQ_HAVE_IMPORTER unset: cross builds for a
// device) keeps every command that works on .edgeq files; `convert` and `export-onnx`
// stay on the command line only to say that this build cannot do them.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <numeric>
#include <string>
#include <vector>

#include "graph/format.h"
#ifdef EDGEQ_HAVE_IMPORTER
#include "graph/onnx/importer.h"
#endif
#include "runtime/session.h"
#include "tools/bench_measure.h"
#include "tools/cli.h"
#include "tools/npy.h"

namespace edgeq {
namespace {

using cli::human_bytes;
using cli::report;

std::string quant_str(const QuantParams& q) {
  if (q.empty()) return "";
  char buf[96];
  if (q.per_tensor()) {
    std::snprintf(buf, sizeof(buf), "scale=%.6g zp=%d", q.scale[0], q.zero_point[0]);
    return buf;
  }
  const auto [lo, hi] = std::minmax_element(q.scale.begin(), q.scale.end());
  std::snprintf(buf, sizeof(buf), "per-axis(axis=%d, %zu): scale %.3g..%.3g", q.axis, q.scale.size(), *lo, *hi);
  return buf;
}

// ------------------------------------------------------------------ convert

#ifdef EDGEQ_HAVE_IMPORTER
struct ConvertArgs {
  std::string input, output, requant = "fp32", pack, shapes;
  bool float_io = false;
  int batch = 1;
};

int cmd_convert(const ConvertArgs& a) {
  ImportOptions opts;
  opts.quantized_io = !a.float_io;
  opts.batch = a.batch;
  opts.requant = a.requant == "fixed" ? RequantScheme::kFixedPoint : RequantScheme::kFp32;
  if (int rc = report(parse_input_shapes(a.shapes, &opts.input_shapes))) return rc;
  Graph g;
  std::fprintf(stderr, "importing %s ...\n", a.input.c_str());
  if (int rc = report(import_onnx_file(a.input, opts, &g))) return rc;
  size_t packed = 0;
  if (!a.pack.empty())
    if (int rc = report(cli::add_packed_levels(a.pack, &g, &packed))) return rc;
  if (int rc = report(write_graph_file(g, a.output))) return rc;
  size_t weights = 0;
  for (const Tensor& t : g.tensors) weights += t.nbytes;
  std::printf("wrote %s: %zu nodes, %zu tensors, %s of constants", a.output.c_str(), g.nodes.size(),
              g.tensors.size(), human_bytes(weights).c_str());
  if (!a.pack.empty()) std::printf(", %s of weights pre-packed for %s", human_bytes(packed).c_str(), a.pack.c_str());
  std::printf("\n");
  return 0;
}

void add_convert_command(CLI::App& app, cli::Commands* commands) {
  auto conv = std::make_shared<ConvertArgs>();
  auto* c = app.add_subcommand("convert", "Convert an ONNX model (float, QDQ or QOperator) to .edgeq");
  c->add_option("model", conv->input, "ONNX file")->required()->check(CLI::ExistingFile);
  c->add_option("-o,--output", conv->output, "output .edgeq file")->required();
  c->add_option("--requant", conv->requant, "requantization scheme of the int8 ops")
      ->check(CLI::IsMember({"fp32", "fixed"}));
  c->add_flag("--float-io", conv->float_io, "keep float graph inputs/outputs (quantize inside the model)");
  c->add_option("--batch", conv->batch, "batch size for a symbolic batch dimension")->check(CLI::Range(1, 4096));
  c->add_option("--shape", conv->shapes,
                "shapes of graph inputs with symbolic dimensions (e.g. ids=1x128,mask=1x128, or the flag "
                "once per input)")
      ->join(',');
  c->add_option("--pack", conv->pack,
                "store the weights pre-packed for these kernel levels (comma-separated, e.g. avx512vnni,neondot)");
  commands->push_back({c, [conv] { return cmd_convert(*conv); }});
}
#else
// The commands that read or write ONNX, present only to refuse: any arguments are
// accepted (and --help too), so the answer is always this error.
void add_onnx_refusals(CLI::App& app, cli::Commands* commands) {
  struct Refusal {
    const char* name;
    const char* instead;
  };
  const Refusal refusals[] = {
      {"convert", "convert on a host (edgeq convert model.onnx -o model.edgeq) and copy the .edgeq file here"},
      {"export-onnx", "run `edgeq export-onnx` on a host with the .edgeq file"},
  };
  for (const Refusal& r : refusals) {
    auto* c = app.add_subcommand(r.name, "(not in this build: it has no ONNX importer)");
    c->allow_extras();
    c->set_help_flag();
    commands->push_back({c, [r] {
                           std::fprintf(stderr, "edgeq: error: this build has no ONNX importer (no `edgeq %s`); %s\n",
                                        r.name, r.instead);
                           return 1;
                         }});
  }
}
#endif

// ------------------------------------------------------------------ info

// The step where the most bytes are alive, and the largest buffers alive there, each
// with the tensor (or node workspace) it holds and the steps it lives: where a
// transformer keeps its attention scores.
void print_peak(const Graph& g, const GraphMemoryPlan& plan) {
  if (g.nodes.empty() || plan.buffers.empty()) return;
  std::vector<size_t> alive(g.nodes.size(), 0);
  for (const BufferRequest& b : plan.buffers)
    for (int32_t s = std::max(b.first, 0); s <= b.last && s < static_cast<int32_t>(alive.size()); ++s) alive[s] += b.size;
  const size_t peak = static_cast<size_t>(std::max_element(alive.begin(), alive.end()) - alive.begin());
  std::vector<std::string> what(plan.buffers.size());
  for (size_t t = 0; t < plan.tensor_buffer.size(); ++t) {
    const int32_t b = plan.tensor_buffer[t];
    if (b >= 0 && static_cast<int32_t>(t) == plan.tensor_alias[t] && what[b].empty())
      what[b] = "'" + g.tensors[t].name + "' " + dtype_name(g.tensors[t].dtype) + " " + shape_string(g.tensors[t].shape);
  }
  for (size_t i = 0; i < plan.node_workspace.size(); ++i)
    if (plan.node_workspace[i] >= 0) what[plan.node_workspace[i]] = "workspace of node " + std::to_string(i);
  std::vector<size_t> live;
  for (size_t b = 0; b < plan.buffers.size(); ++b)
    if (plan.buffers[b].first <= static_cast<int32_t>(peak) && static_cast<int32_t>(peak) <= plan.buffers[b].last)
      live.push_back(b);
  std::sort(live.begin(), live.end(), [&](size_t a, size_t b) { return plan.buffers[a].size > plan.buffers[b].size; });
  std::printf("  peak at node %zu '%s' (%s): %zu buffers alive, the largest:\n", peak, g.nodes[peak].name.c_str(),
              op_name(g.nodes[peak].op), live.size());
  for (size_t i = 0; i < live.size() && i < 4; ++i) {
    const BufferRequest& b = plan.buffers[live[i]];
    std::printf("    %12zu bytes  %s, nodes %d-%d\n", b.size, what[live[i]].c_str(), b.first, b.last);
  }
}

int cmd_info(const std::string& path) {
  std::shared_ptr<const Model> model;
  if (int rc = report(Model::load_file(path, &model))) return rc;
  const Graph& g = model->graph();
  std::printf("model: %s\n  format version %u, %s, requantization %s\n  producer: %s\n", path.c_str(),
              kFormatVersion, human_bytes(model->file_bytes()).c_str(),
              g.requant == RequantScheme::kFixedPoint ? "fixed-point" : "fp32", g.producer.c_str());
  auto io = [&](const char* what, const std::vector<int32_t>& list) {
    for (int32_t i : list) {
      const Tensor& t = g.tensors[i];
      // Integer inputs: the ids they may hold (what `edgeq bench` draws).
      const std::string ids = !is_index_type(t.dtype) || &list != &g.inputs
                                  ? quant_str(t.quant)
                                  : "values in [0, " + std::to_string(bench::index_input_bound(g, i)) + ")";
      std::printf("  %s '%s' %s %s %s\n", what, t.name.c_str(), dtype_name(t.dtype), shape_string(t.shape).c_str(),
                  ids.c_str());
    }
  };
  io("input ", g.inputs);
  io("output", g.outputs);

  std::printf("\nnodes (%zu):\n", g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    std::string ins, outs;
    for (int32_t t : n.inputs) ins += (ins.empty() ? "" : ", ") + (t < 0 ? std::string("-") : std::to_string(t));
    for (int32_t t : n.outputs) outs += (outs.empty() ? "" : ", ") + std::to_string(t);
    const Tensor& y = g.tensors[n.outputs[0]];
    std::string act;
    if (std::isfinite(n.attrs.act_min) || std::isfinite(n.attrs.act_max)) {
      char buf[64];
      std::snprintf(buf, sizeof(buf), " clamp[%g, %g]", n.attrs.act_min, n.attrs.act_max);
      act = buf;
    }
    // A GEMM on int8 inputs writing float (op_table.h: ONNX Runtime's MatMulIntegerToFloat).
    if ((n.op == OpType::kFullyConnected || n.op == OpType::kMatMul) && y.dtype == DType::kF32 &&
        is_quantized_type(g.tensors[n.inputs[0]].dtype))
      act += std::string(" (") + dtype_name(g.tensors[n.inputs[0]].dtype) + " in)";
    std::printf("  %4zu %-15s %-40s (%s) -> (%s) %s %s%s\n", i, op_name(n.op), n.name.c_str(), ins.c_str(),
                outs.c_str(), dtype_name(y.dtype), shape_string(y.shape).c_str(), act.c_str());
  }

  std::printf("\ntensors (%zu):\n", g.tensors.size());
  size_t weights = 0;
  for (size_t i = 0; i < g.tensors.size(); ++i) {
    const Tensor& t = g.tensors[i];
    weights += t.nbytes;
    std::printf("  %4zu %-40s %-4s %-18s %s%s\n", i, t.name.c_str(), dtype_name(t.dtype), shape_string(t.shape).c_str(),
                quant_str(t.quant).c_str(), t.is_constant() ? (" const " + human_bytes(t.nbytes)).c_str() : "");
  }

  // The plan a session of the default level makes: the tensors and the nodes'
  // workspaces (memory a node needs only while it runs). Without a session (a level
  // that cannot prepare the graph), the tensors' plan alone.
  std::unique_ptr<Session> session;
  const Status made = Session::create(model, SessionOptions{}, &session);
  const GraphMemoryPlan plan = made.ok() ? session->memory_plan() : plan_graph(g);
  size_t workspaces = 0, largest_ws = 0;
  int32_t largest_ws_node = -1;
  for (size_t i = 0; i < plan.node_workspace.size(); ++i) {
    const int32_t b = plan.node_workspace[i];
    if (b < 0) continue;
    ++workspaces;
    if (plan.buffers[b].size > largest_ws) {
      largest_ws = plan.buffers[b].size;
      largest_ws_node = static_cast<int32_t>(i);
    }
  }
  std::printf("\nmemory:\n  constants        %12zu bytes (%s, used in place from the file)\n", weights,
              human_bytes(weights).c_str());
  std::printf("  arena (planned)  %12zu bytes (%s, %zu buffers, incl. %zu bytes read slack; %s)\n",
              plan.plan.arena_size, human_bytes(plan.plan.arena_size).c_str(), plan.buffers.size(), kArenaSlack,
              made.ok() ? ("a session at " + session->isa() + " plans it").c_str()
                        : ("tensors only: " + made.message()).c_str());
  if (workspaces > 0)
    std::printf("  workspaces       %12zu nodes  (alive only while their node runs; the largest %s, node %d '%s')\n",
                workspaces, human_bytes(largest_ws).c_str(), largest_ws_node,
                g.nodes[static_cast<size_t>(largest_ws_node)].name.c_str());
  std::printf("  naive sum        %12zu bytes (%s, every intermediate in its own buffer)\n", plan.plan.naive_size,
              human_bytes(plan.plan.naive_size).c_str());
  std::printf("  lower bound      %12zu bytes (%s, most bytes alive at one step)\n", plan.plan.lower_bound,
              human_bytes(plan.plan.lower_bound).c_str());
  print_peak(g, plan);
  return 0;
}

// ------------------------------------------------------------------ pack

struct PackArgs {
  std::string input, output, levels;
};

// Adds pre-packed weights for kernel levels to an .edgeq file (on any host, for any
// level, ARM ones included).
int cmd_pack(const PackArgs& a) {
  std::shared_ptr<const Model> model;
  if (int rc = report(Model::load_file(a.input, &model))) return rc;
  Graph g = model->graph();  // constants and packed data still point into `model`
  size_t packed = 0;
  if (int rc = report(cli::add_packed_levels(a.levels, &g, &packed))) return rc;
  if (int rc = report(write_graph_file(g, a.output))) return rc;
  std::printf("wrote %s: %s of weights pre-packed for %s\n", a.output.c_str(), human_bytes(packed).c_str(),
              a.levels.c_str());
  return 0;
}

int main_impl(int argc, char** argv) {
  CLI::App app{"edgeq: int8 inference for edge CPUs"};
  app.require_subcommand(1);

  cli::Commands commands;
#ifdef EDGEQ_HAVE_IMPORTER
  add_convert_command(app, &commands);
#endif

  std::string info_path;
  auto* i = app.add_subcommand("info", "Print a model's ops, tensors, quantization and memory plan");
  i->add_option("model", info_path, ".edgeq file")->required();
  commands.push_back({i, [&info_path] { return cmd_info(info_path); }});

  PackArgs pack_args;
  auto* pk = app.add_subcommand("pack", "Store a model's weights pre-packed for kernel levels (any architecture's)");
  pk->add_option("model", pack_args.input, ".edgeq file")->required();
  pk->add_option("levels", pack_args.levels, "comma-separated kernel levels, e.g. avx512vnni,neondot")->required();
  pk->add_option("-o,--output", pack_args.output, "output .edgeq file (may be the input)")->required();
  commands.push_back({pk, [&pack_args] { return cmd_pack(pack_args); }});

  cli::add_run_commands(app, &commands);
  cli::add_quant_commands(app, &commands);
  cli::add_bench_commands(app, &commands);
#ifdef EDGEQ_HAVE_IMPORTER
  cli::add_export_commands(app, &commands);
#else
  add_onnx_refusals(app, &commands);
#endif

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  for (const auto& cmd : commands)
    if (*cmd.app) return cmd.action();
  return 2;
}

}  // namespace
}  // namespace edgeq

int main(int argc, char** argv) {
  // A write past the file size limit (ulimit -f) would raise SIGXFSZ and kill the tool
  // mid-write, leaving the temporary file behind; ignored, the write fails with EFBIG,
  // and the writer removes the temporary file and reports the error (graph/write_file.h).
  std::signal(SIGXFSZ, SIG_IGN);
  try {
    return edgeq::main_impl(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "edgeq: error: %s\n", e.what());
    return 1;
  }
}
