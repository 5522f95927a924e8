// Greedy-by-size, first-fit arena planner (see planner.h).
#include "runtime/planner.h"

#include <algorithm>
#include <limits>
#include <numeric>

namespace edgeq {
namespace {

size_t align_up(size_t x) { return (x + kArenaAlign - 1) / kArenaAlign * kArenaAlign; }

bool overlap_in_time(const BufferRequest& a, const BufferRequest& b) {
  return a.first <= b.last && b.first <= a.last;
}

}  // namespace

MemoryPlan plan_buffers(const std::vector<BufferRequest>& requests) {
  MemoryPlan plan;
  const size_t n = requests.size();
  plan.offsets.assign(n, 0);
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  // Largest first; ties by earlier start, then index, so plans are deterministic.
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (requests[a].size != requests[b].size) return requests[a].size > requests[b].size;
    return requests[a].first < requests[b].first;
  });
  std::vector<size_t> placed;
  size_t end = 0;
  for (size_t i : order) {
    const size_t size = align_up(requests[i].size);
    // Intervals [offset, offset + size) of placed buffers alive at the same time.
    std::vector<std::pair<size_t, size_t>> busy;
    for (size_t j : placed)
      if (overlap_in_time(requests[i], requests[j]))
        busy.emplace_back(plan.offsets[j], plan.offsets[j] + align_up(requests[j].size));
    std::sort(busy.begin(), busy.end());
    size_t offset = 0;
    for (const auto& [lo, hi] : busy) {
      if (offset + size <= lo) break;  // fits in the gap before this interval
      offset = std::max(offset, hi);
    }
    plan.offsets[i] = offset;
    placed.push_back(i);
    end = std::max(end, offset + size);
    plan.naive_size += size;
  }
  plan.arena_size = end + kArenaSlack;
  // Lower bound: the largest sum of sizes alive at any one step.
  int32_t last_step = 0;
  for (const auto& r : requests) last_step = std::max(last_step, r.last);
  for (int32_t s = 0; s <= last_step; ++s) {
    size_t alive = 0;
    for (const auto& r : requests)
      if (r.first <= s && s <= r.last) alive += align_up(r.size);
    plan.lower_bound = std::max(plan.lower_bound, alive);
  }
  return plan;
}

GraphMemoryPlan plan_graph(const Graph& g, const std::vector<size_t>& workspace) {
  GraphMemoryPlan gp;
  const size_t nt = g.tensors.size();
  const int32_t last_step = static_cast<int32_t>(g.nodes.size()) - 1;
  gp.tensor_alias.resize(nt);
  std::iota(gp.tensor_alias.begin(), gp.tensor_alias.end(), 0);
  // Views (kOpView: Reshape) share their input's memory (follow chains to the root).
  for (const Node& n : g.nodes)
    if (op_has(n.op, kOpView)) gp.tensor_alias[n.outputs[0]] = gp.tensor_alias[n.inputs[0]];

  gp.tensor_buffer.assign(nt, -1);
  std::vector<int32_t> root_buffer(nt, -1);
  auto buffer_of = [&](int32_t t) -> int32_t {
    const int32_t root = gp.tensor_alias[t];
    if (g.tensors[root].is_constant()) return -1;
    if (root_buffer[root] < 0) {
      root_buffer[root] = static_cast<int32_t>(gp.buffers.size());
      BufferRequest r;
      r.size = g.tensors[root].byte_size();
      r.first = std::numeric_limits<int32_t>::max();
      r.last = -1;
      gp.buffers.push_back(r);
    }
    return root_buffer[root];
  };
  auto touch = [&](int32_t t, int32_t step) {
    const int32_t b = buffer_of(t);
    gp.tensor_buffer[t] = b;
    if (b < 0) return;
    gp.buffers[b].first = std::min(gp.buffers[b].first, step);
    gp.buffers[b].last = std::max(gp.buffers[b].last, step);
  };
  for (int32_t t : g.inputs) touch(t, 0);
  for (size_t s = 0; s < g.nodes.size(); ++s) {
    for (int32_t t : g.nodes[s].inputs)
      if (t >= 0) touch(t, static_cast<int32_t>(s));
    for (int32_t t : g.nodes[s].outputs) touch(t, static_cast<int32_t>(s));
  }
  for (int32_t t : g.outputs) touch(t, std::max(last_step, 0));
  gp.node_workspace.assign(g.nodes.size(), -1);
  for (size_t s = 0; s < g.nodes.size() && s < workspace.size(); ++s) {
    if (workspace[s] == 0) continue;
    gp.node_workspace[s] = static_cast<int32_t>(gp.buffers.size());
    BufferRequest r;
    r.size = workspace[s];
    r.first = r.last = static_cast<int32_t>(s);
    gp.buffers.push_back(r);
  }
  gp.plan = plan_buffers(gp.buffers);
  return gp;
}

}  // namespace edgeq
