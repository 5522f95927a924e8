// Data for every model input from `--data` entries (see input_data.h).
#include "tools/input_data.h"

#include <sys/stat.h>

namespace edgeq {
namespace {

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// The input NAME=... names, or -1 when the entry is a plain path (no '=', or the text
// before it names no input: a path may hold '=').
int32_t named_input(const std::string& entry, const Graph& g, std::string* path) {
  const size_t eq = entry.find('=');
  if (eq == std::string::npos) return -1;
  const std::string name = entry.substr(0, eq);
  for (size_t i = 0; i < g.inputs.size(); ++i)
    if (g.tensors[g.inputs[i]].name == name) {
      *path = entry.substr(eq + 1);
      return static_cast<int32_t>(i);
    }
  return -1;
}

std::string input_names(const Graph& g) {
  std::string s;
  for (size_t i = 0; i < g.inputs.size(); ++i) s += (i ? ", " : "") + g.tensors[g.inputs[i]].name;
  return s;
}

DType buffer_dtype(const std::string& npy) {
  if (npy == "i8") return DType::kS64;
  if (npy == "i4") return DType::kS32;
  if (npy == "i1") return DType::kS8;
  if (npy == "u1") return DType::kU8;
  if (npy == "b1") return DType::kBool;
  return DType::kF32;
}

}  // namespace

Status InputData::open(const std::vector<std::string>& entries, const Graph& g, const ImageOptions& images,
                       InputData* out) {
  *out = InputData();
  const size_t n = g.inputs.size();
  if (n == 0) return InvalidArgument("the model has no inputs");
  std::vector<std::vector<std::string>> paths(n);
  size_t named = 0, plain = 0;
  for (const std::string& e : entries) {
    std::string path;
    const int32_t i = named_input(e, g, &path);
    if (i >= 0) {
      if (path.empty()) return InvalidArgument("--data '" + e + "': no file after '='");
      paths[i].push_back(path);
      ++named;
    } else if (e.find('=') != std::string::npos && !exists(e)) {
      return InvalidArgument("--data '" + e + "': the model has no input named '" + e.substr(0, e.find('=')) +
                             "' (its inputs: " + input_names(g) + ")");
    } else {
      ++plain;
    }
  }
  if (named && plain)
    return InvalidArgument("--data: give every entry as NAME=FILE or none (the model's inputs: " + input_names(g) + ")");
  if (plain) {
    if (n == 1) {
      paths[0] = entries;
    } else if (plain != n) {
      return InvalidArgument("--data: the model has " + std::to_string(n) + " inputs (" + input_names(g) + "), " +
                             std::to_string(plain) + " file(s) given: give one file per input in this order, or "
                             "NAME=FILE for each");
    } else {
      for (size_t i = 0; i < n; ++i) paths[i] = {entries[i]};
    }
  }
  for (size_t i = 0; i < n; ++i) {
    const Tensor& t = g.tensors[g.inputs[i]];
    if (paths[i].empty()) return InvalidArgument("--data: no data for input '" + t.name + "' (give " + t.name + "=FILE)");
    Dataset d;
    EDGEQ_RETURN_IF_ERROR(Dataset::open(paths[i], t, images, &d));
    if (i > 0 && d.num_samples() != out->inputs_[0].num_samples())
      return InvalidArgument("--data: input '" + t.name + "' has " + std::to_string(d.num_samples()) +
                             " samples, input '" + g.tensors[g.inputs[0]].name + "' has " +
                             std::to_string(out->inputs_[0].num_samples()) + ": every input needs the same number");
    out->inputs_.push_back(std::move(d));
  }
  return Status::Ok();
}

std::vector<quant::InputBuffer> InputData::batch_buffers(int64_t b) const {
  std::vector<quant::InputBuffer> buffers;
  for (const Dataset& d : inputs_)
    buffers.push_back({d.batch_data(b), buffer_dtype(d.dtype()), d.batch_elements()});
  return buffers;
}

}  // namespace edgeq
