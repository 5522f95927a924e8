// Unary float islands -> Lookup (see unary_island.h). The island is found backwards
// from the Quantize: every float tensor on the way must come from an island node or
// from a Dequantize of the one quantized tensor x, and every island node's output may
// be read only by island nodes or the Quantize (else the float values are needed
// elsewhere and the island stays). Then the island runs once, node by node in graph
// order, on the 256 values of x, through the float reference kernels.
#include "graph/unary_island.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace edgeq {
namespace {

constexpr int kTable = 256;

bool per_tensor_8bit(const Tensor& t) {
  return is_quantized_type(t.dtype) && t.quant.scale.size() == 1 && t.quant.zero_point.size() == 1;
}

bool binary_kind(OpType op, ref::BinaryOp* kind) {
  switch (op) {
    case OpType::kAdd: *kind = ref::BinaryOp::kAdd; return true;
    case OpType::kSub: *kind = ref::BinaryOp::kSub; return true;
    case OpType::kMul: *kind = ref::BinaryOp::kMul; return true;
    case OpType::kDiv: *kind = ref::BinaryOp::kDiv; return true;
    default: return false;
  }
}

bool scalar_constant(const Tensor& t) { return t.is_constant() && t.dtype == DType::kF32 && t.num_elements() == 1; }

// Whether node n can be in an island: elementwise on float tensors of the island's
// shape (scalar constants aside).
bool island_node(const Graph& g, const Node& n, const std::vector<int32_t>& shape) {
  ref::UnaryOp u;
  ref::BinaryOp b;
  if (n.outputs.size() != 1 || g.tensors[n.outputs[0]].dtype != DType::kF32 ||
      g.tensors[n.outputs[0]].shape != shape)
    return false;
  if (unary_op_kind(n.op, &u)) return n.inputs.size() == 1;
  if (!binary_kind(n.op, &b) || n.inputs.size() != 2) return false;
  for (int32_t t : n.inputs) {
    if (t < 0) return false;
    const Tensor& tt = g.tensors[t];
    if (!scalar_constant(tt) && (tt.is_constant() || tt.shape != shape)) return false;
  }
  return true;
}

template <typename T>
void quantize_table(const std::vector<float>& v, const QuantParams& q, std::vector<uint8_t>* bytes) {
  T table[kTable];
  ref::quantize<T>(kTable, v.data(), q.scale[0], q.zero_point[0], table);
  bytes->resize(kTable);
  std::memcpy(bytes->data(), table, kTable);
}

}  // namespace

bool unary_op_kind(OpType op, ref::UnaryOp* kind) {
  switch (op) {
    case OpType::kRelu: *kind = ref::UnaryOp::kRelu; return true;
    case OpType::kClip: *kind = ref::UnaryOp::kClip; return true;
    case OpType::kLeakyRelu: *kind = ref::UnaryOp::kLeakyRelu; return true;
    case OpType::kSigmoid: *kind = ref::UnaryOp::kSigmoid; return true;
    case OpType::kHardSigmoid: *kind = ref::UnaryOp::kHardSigmoid; return true;
    case OpType::kHardSwish: *kind = ref::UnaryOp::kHardSwish; return true;
    case OpType::kTanh: *kind = ref::UnaryOp::kTanh; return true;
    case OpType::kErf: *kind = ref::UnaryOp::kErf; return true;
    case OpType::kSoftplus: *kind = ref::UnaryOp::kSoftplus; return true;
    case OpType::kElu: *kind = ref::UnaryOp::kElu; return true;
    case OpType::kGelu: *kind = ref::UnaryOp::kGelu; return true;
    case OpType::kMish: *kind = ref::UnaryOp::kMish; return true;
    case OpType::kSqrt: *kind = ref::UnaryOp::kSqrt; return true;
    case OpType::kReciprocal: *kind = ref::UnaryOp::kReciprocal; return true;
    case OpType::kPow: *kind = ref::UnaryOp::kPow; return true;
    case OpType::kExp: *kind = ref::UnaryOp::kExp; return true;
    case OpType::kLog: *kind = ref::UnaryOp::kLog; return true;
    case OpType::kNeg: *kind = ref::UnaryOp::kNeg; return true;
    case OpType::kAbs: *kind = ref::UnaryOp::kAbs; return true;
    case OpType::kFloor: *kind = ref::UnaryOp::kFloor; return true;
    case OpType::kCeil: *kind = ref::UnaryOp::kCeil; return true;
    case OpType::kRound: *kind = ref::UnaryOp::kRound; return true;
    case OpType::kSin: *kind = ref::UnaryOp::kSin; return true;
    case OpType::kCos: *kind = ref::UnaryOp::kCos; return true;
    case OpType::kSoftsign: *kind = ref::UnaryOp::kSoftsign; return true;
    case OpType::kThresholdedRelu: *kind = ref::UnaryOp::kThresholdedRelu; return true;
    case OpType::kShrink: *kind = ref::UnaryOp::kShrink; return true;
    case OpType::kTan: *kind = ref::UnaryOp::kTan; return true;
    case OpType::kAsin: *kind = ref::UnaryOp::kAsin; return true;
    case OpType::kAcos: *kind = ref::UnaryOp::kAcos; return true;
    case OpType::kAtan: *kind = ref::UnaryOp::kAtan; return true;
    case OpType::kSinh: *kind = ref::UnaryOp::kSinh; return true;
    case OpType::kCosh: *kind = ref::UnaryOp::kCosh; return true;
    case OpType::kAsinh: *kind = ref::UnaryOp::kAsinh; return true;
    case OpType::kAcosh: *kind = ref::UnaryOp::kAcosh; return true;
    case OpType::kAtanh: *kind = ref::UnaryOp::kAtanh; return true;
    default: return false;
  }
}

bool find_unary_island(const Graph& g, const GraphUses& u, int32_t end, std::vector<int>* nodes,
                       std::vector<int32_t>* roots) {
  nodes->clear();
  roots->clear();
  if (end < 0 || g.tensors[end].dtype != DType::kF32) return false;
  const std::vector<int32_t>& shape = g.tensors[end].shape;
  std::vector<int32_t> stack = {end};
  std::vector<bool> seen(g.tensors.size(), false);
  while (!stack.empty()) {
    const int32_t t = stack.back();
    stack.pop_back();
    if (seen[t]) continue;
    seen[t] = true;
    const int p = u.producer[t];
    if (p < 0 || !island_node(g, g.nodes[p], shape)) {
      if (g.tensors[t].dtype != DType::kF32 || g.tensors[t].shape != shape) return false;
      roots->push_back(t);
      continue;
    }
    nodes->push_back(p);
    for (int32_t in : g.nodes[p].inputs) {
      if (!scalar_constant(g.tensors[in])) stack.push_back(in);
    }
  }
  if (nodes->empty()) return false;
  std::sort(nodes->begin(), nodes->end());
  for (int p : *nodes) {
    const int32_t o = g.nodes[p].outputs[0];
    if (o == end) continue;
    if (u.graph_output[o]) return false;
    for (int c : u.consumers[o]) {
      if (!std::binary_search(nodes->begin(), nodes->end(), c)) return false;
    }
  }
  return true;
}

bool fuse_unary_island(Graph* g, const GraphUses& u, int q) {
  const Node& qn = g->nodes[q];
  if (qn.op != OpType::kQuantize || qn.inputs.size() != 1 || qn.outputs.size() != 1) return false;
  const int32_t y = qn.outputs[0];
  if (!per_tensor_8bit(g->tensors[y]) || !u.single_use(qn.inputs[0])) return false;
  std::vector<int> nodes;
  std::vector<int32_t> dq_outputs;
  if (!find_unary_island(*g, u, qn.inputs[0], &nodes, &dq_outputs)) return false;
  // Every root is a Dequantize of the same x.
  int32_t x = -1;
  for (int32_t t : dq_outputs) {
    const int p = u.producer[t];
    if (p < 0 || g->nodes[p].op != OpType::kDequantize) return false;
    if (x >= 0 && g->nodes[p].inputs[0] != x) return false;
    x = g->nodes[p].inputs[0];
  }
  if (x < 0) return false;
  const Tensor& xt = g->tensors[x];
  if (xt.is_constant() || !per_tensor_8bit(xt) || xt.dtype != g->tensors[y].dtype) return false;

  // The island on x's 256 values: table entry b is x's element of byte value b.
  std::map<int32_t, std::vector<float>> values;
  std::vector<float> dq(kTable);
  for (int b = 0; b < kTable; ++b) {
    const int32_t v = xt.dtype == DType::kS8 && b >= 128 ? b - 256 : b;
    dq[b] = static_cast<float>(static_cast<int64_t>(v) - xt.quant.zero_point[0]) * xt.quant.scale[0];
  }
  for (int32_t t : dq_outputs) values[t] = dq;
  std::vector<std::vector<float>> constants;  // scalar operands, kept until the island ran
  auto operand = [&](int32_t t, int32_t* shape) -> const float* {
    if (scalar_constant(g->tensors[t])) {
      *shape = 1;
      constants.push_back(floats_of(g->tensors[t]));
      return constants.back().data();
    }
    *shape = kTable;
    return values.at(t).data();
  };
  for (int p : nodes) {
    const Node& n = g->nodes[p];
    std::vector<float> out(kTable);
    ref::UnaryOp uk;
    ref::BinaryOp bk;
    if (unary_op_kind(n.op, &uk)) {
      ref::unary_f32(uk, n.attrs.alpha, n.attrs.beta, kTable, values.at(n.inputs[0]).data(), out.data());
    } else if (binary_kind(n.op, &bk)) {
      int32_t sa, sb;
      const int32_t so = kTable;
      const float* a = operand(n.inputs[0], &sa);
      const float* b = operand(n.inputs[1], &sb);
      ref::Broadcast bc;
      if (!ref::make_broadcast(&sa, 1, &sb, 1, &so, 1, &bc)) return false;
      ref::binary_f32(bk, bc, a, b, n.attrs.act_min, n.attrs.act_max, out.data());
    }
    values[n.outputs[0]] = std::move(out);
  }

  const Tensor& yt = g->tensors[y];
  std::vector<uint8_t> bytes;
  if (yt.dtype == DType::kS8) {
    quantize_table<int8_t>(values.at(qn.inputs[0]), yt.quant, &bytes);
  } else {
    quantize_table<uint8_t>(values.at(qn.inputs[0]), yt.quant, &bytes);
  }
  Tensor table;
  table.name = yt.name + ".table";
  for (int k = 1; g->find_tensor(table.name) >= 0; ++k) table.name = yt.name + ".table_" + std::to_string(k);
  table.dtype = yt.dtype;
  table.quant = yt.quant;
  table.shape = {kTable};
  table.set_data(std::move(bytes));
  const int32_t table_index = g->add_tensor(std::move(table));

  for (int p : nodes) g->nodes[p].op = kDeadOp;
  Node& lookup = g->nodes[q];
  lookup.op = OpType::kLookup;
  lookup.inputs = {x, table_index};
  lookup.attrs = Attrs();
  return true;
}

}  // namespace edgeq
