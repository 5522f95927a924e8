// Names and sizes for the IR's enums; small helpers on tensors and graphs.
#include "graph/ir.h"

namespace edgeq {

const char* dtype_name(DType t) {
  switch (t) {
    case DType::kF32: return "f32";
    case DType::kS8: return "s8";
    case DType::kU8: return "u8";
    case DType::kS32: return "s32";
    case DType::kS64: return "s64";
    case DType::kBool: return "bool";
  }
  return "?";
}

size_t dtype_size(DType t) {
  switch (t) {
    case DType::kF32: return 4;
    case DType::kS8: return 1;
    case DType::kU8: return 1;
    case DType::kS32: return 4;
    case DType::kS64: return 8;
    case DType::kBool: return 1;
  }
  return 0;
}

const char* op_name(OpType op) {
  static const char* const kNames[] = {
#define EDGEQ_OP_NAME(Name, Options, Shape, Prepare, Flags) #Name,
      EDGEQ_OPS(EDGEQ_OP_NAME)
#undef EDGEQ_OP_NAME
  };
  const auto i = static_cast<size_t>(op);
  return i < static_cast<size_t>(OpType::kCount) ? kNames[i] : "?";
}

uint32_t op_flags(OpType op) {
  static constexpr uint32_t kFlags[] = {
#define EDGEQ_OP_FLAGS(Name, Options, Shape, Prepare, Flags) (Flags),
      EDGEQ_OPS(EDGEQ_OP_FLAGS)
#undef EDGEQ_OP_FLAGS
  };
  const auto i = static_cast<size_t>(op);
  return i < static_cast<size_t>(OpType::kCount) ? kFlags[i] : 0u;
}

std::string shape_string(const std::vector<int32_t>& shape) {
  std::string r = "[";
  for (size_t i = 0; i < shape.size(); ++i) r += (i ? "," : "") + std::to_string(shape[i]);
  return r + "]";
}

int64_t Tensor::num_elements() const {
  int64_t n = 1;
  for (int32_t d : shape) n *= d;
  return n;
}

int32_t Graph::find_tensor(const std::string& name) const {
  for (size_t i = 0; i < tensors.size(); ++i)
    if (tensors[i].name == name) return static_cast<int32_t>(i);
  return -1;
}

void compact_graph(Graph* g) {
  g->packed.clear();  // node indices change
  std::vector<Node> nodes;
  for (Node& n : g->nodes)
    if (n.op != OpType::kCount) nodes.push_back(std::move(n));
  g->nodes = std::move(nodes);
  std::vector<int32_t> remap(g->tensors.size(), -1);
  std::vector<bool> used(g->tensors.size(), false);
  for (const Node& n : g->nodes) {
    for (int32_t t : n.inputs)
      if (t >= 0) used[t] = true;
    for (int32_t t : n.outputs) used[t] = true;
  }
  for (int32_t t : g->inputs) used[t] = true;
  for (int32_t t : g->outputs) used[t] = true;
  std::vector<Tensor> tensors;
  for (size_t t = 0; t < g->tensors.size(); ++t) {
    if (!used[t]) continue;
    remap[t] = static_cast<int32_t>(tensors.size());
    tensors.push_back(std::move(g->tensors[t]));
  }
  g->tensors = std::move(tensors);
  for (Node& n : g->nodes) {
    for (int32_t& t : n.inputs)
      if (t >= 0) t = remap[t];
    for (int32_t& t : n.outputs) t = remap[t];
  }
  for (int32_t& t : g->inputs) t = remap[t];
  for (int32_t& t : g->outputs) t = remap[t];
}

}  // namespace edgeq
