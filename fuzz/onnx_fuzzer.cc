// Fuzzer: the ONNX importer on an untrusted serialized ModelProto (`edgeq convert`),
// then, for a graph it accepts, the writer and the loader: whatever the importer
// produces must serialize and load back (the loader re-validates every shape and
// parameter, so this also checks the importer's output against the file format).
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "graph/format.h"
#include "graph/onnx/importer.h"
#include "runtime/session.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  edgeq::Graph g;
  edgeq::ImportOptions options;
  options.quantized_io = size % 2 == 0;
  const edgeq::Status imported = edgeq::import_onnx_bytes(data, size, options, &g);
  if (!imported.ok()) {
    if (imported.message().empty()) std::abort();
    return 0;
  }
  std::vector<uint8_t> file;
  const edgeq::Status written = edgeq::serialize_graph(g, &file);
  if (!written.ok()) {
    if (written.message().empty()) std::abort();
    return 0;
  }
  std::shared_ptr<const edgeq::Model> model;
  const edgeq::Status loaded = edgeq::Model::load_memory(file.data(), file.size(), &model);
  // An out-of-memory status is the one acceptable failure: the graph is valid.
  if (!loaded.ok() && loaded.code() != edgeq::StatusCode::kOutOfMemory) std::abort();
  return 0;
}
