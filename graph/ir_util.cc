// Helpers on the IR shared by the importer and the quantizer (see ir_util.h).
#include "graph/ir_util.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

namespace edgeq {

std::vector<float> floats_of(const Tensor& t) {
  std::vector<float> v(static_cast<size_t>(t.num_elements()));
  if (!v.empty()) std::memcpy(v.data(), t.data, v.size() * sizeof(float));
  return v;
}

std::vector<uint8_t> bytes_of(const std::vector<float>& f) {
  std::vector<uint8_t> b(f.size() * sizeof(float));
  if (!f.empty()) std::memcpy(b.data(), f.data(), b.size());
  return b;
}

GraphUses compute_uses(const Graph& g) {
  GraphUses u;
  const size_t nt = g.tensors.size();
  u.producer.assign(nt, -1);
  u.consumers.assign(nt, {});
  u.graph_output.assign(nt, false);
  u.graph_input.assign(nt, false);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    if (n.op == OpType::kCount) continue;
    for (int32_t t : n.outputs) u.producer[t] = static_cast<int>(i);
    for (int32_t t : n.inputs)
      if (t >= 0) u.consumers[t].push_back(static_cast<int>(i));
  }
  for (int32_t t : g.outputs) u.graph_output[t] = true;
  for (int32_t t : g.inputs) u.graph_input[t] = true;
  return u;
}

void replace_uses(Graph* g, int32_t from, int32_t to) {
  for (Node& n : g->nodes) {
    if (n.op == OpType::kCount) continue;
    for (int32_t& t : n.inputs)
      if (t == from) t = to;
  }
  for (int32_t& t : g->outputs)
    if (t == from) t = to;
}

bool is_data_movement(const Node& n) {
  if (!op_has(n.op, kOpMovement)) return false;
  return n.op != OpType::kPad || n.attrs.pad_value == 0.f;
}

bool preserves_range(const Node& n) {
  if (!op_has(n.op, kOpRangePreserving)) return false;
  return !op_has(n.op, kOpActRange) || (std::isinf(n.attrs.act_min) && std::isinf(n.attrs.act_max));
}

Status quantize_bias(const float* bias, size_t n, float input_scale, const std::vector<float>& weight_scale,
                     std::vector<int32_t>* q) {
  if (n > 0 && bias == nullptr) return InvalidArgument("quantize_bias: null data");
  if (weight_scale.size() != n && weight_scale.size() != 1)
    return InvalidArgument("quantize_bias: " + std::to_string(weight_scale.size()) + " weight scales for " +
                           std::to_string(n) + " biases");
  if (!(input_scale > 0.f) || !std::isfinite(input_scale))
    return InvalidArgument("quantize_bias: input scale must be positive and finite");
  q->resize(n);
  for (size_t c = 0; c < n; ++c) {
    const float ws = weight_scale.size() == 1 ? weight_scale[0] : weight_scale[c];
    const float s = input_scale * ws;
    if (!(ws > 0.f) || !std::isfinite(ws) || !(s > 0.f) || !std::isfinite(s))
      return InvalidArgument("quantize_bias: channel " + std::to_string(c) + ": bias scale " +
                             std::to_string(input_scale) + " * " + std::to_string(ws) + " is not positive and finite");
    if (!std::isfinite(bias[c]))
      return InvalidArgument("quantize_bias: non-finite bias in channel " + std::to_string(c));
    const double r = std::nearbyint(static_cast<double>(bias[c] / s));  // float division, then round half even
    const double lo = std::numeric_limits<int32_t>::min(), hi = std::numeric_limits<int32_t>::max();
    (*q)[c] = static_cast<int32_t>(std::min(std::max(r, lo), hi));
  }
  return Status::Ok();
}

}  // namespace edgeq
