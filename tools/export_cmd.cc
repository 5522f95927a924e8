// `edgeq export-onnx`: a .edgeq model back to ONNX in QDQ form (graph/onnx/exporter.h).
//
//   edgeq export-onnx model.edgeq -o model_qdq.onnx
//
// The model is loaded and verified like any .edgeq file, then written through a
// temporary file, so an error (unreadable model, an op ONNX cannot express, an
// unwritable output) leaves no partial output behind.
#include <cstdio>

#include "graph/onnx/exporter.h"
#include "tools/cli.h"

namespace edgeq {
namespace cli {
namespace {

struct ExportArgs {
  std::string model, output;
};

int cmd_export(const ExportArgs& a) {
  std::shared_ptr<const Model> model;
  if (int rc = report(Model::load_file(a.model, &model))) return rc;
  const Graph& g = model->graph();
  Status s = export_onnx(g, a.output);
  if (!s.ok()) return report(Status(s.code(), a.model + ": " + s.message()));
  std::printf("wrote %s: ONNX opset %d, %zu IR nodes\n", a.output.c_str(), kExportOpset, g.nodes.size());
  return 0;
}

}  // namespace

void add_export_commands(CLI::App& app, Commands* commands) {
  auto args = std::make_shared<ExportArgs>();
  auto* e = app.add_subcommand("export-onnx", "Write a .edgeq model as ONNX (QDQ form, float inputs and outputs)");
  e->add_option("model", args->model, ".edgeq file")->required();
  e->add_option("-o,--output", args->output, "output .onnx file")->required();
  commands->push_back({e, [args] { return cmd_export(*args); }});
}

}  // namespace cli
}  // namespace edgeq
