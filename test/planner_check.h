// Independent check of a graph's memory plan: recomputes every tensor's lifetime from
// the node order and verifies that no two tensors alive at the same step share bytes
// unless one is a view of the other. Used on built-in graphs and every test model.
#pragma once

#include <algorithm>
#include <cstdio>
#include <vector>

#include "graph/ir.h"
#include "runtime/planner.h"

namespace edgeq {

inline bool check_plan_no_overlap(const Graph& g) {
  const GraphMemoryPlan p = plan_graph(g);
  const size_t nt = g.tensors.size();
  const int32_t last = static_cast<int32_t>(g.nodes.size()) - 1;
  std::vector<int32_t> first(nt, INT32_MAX), end(nt, -1);
  auto touch = [&](int32_t t, int32_t s) {
    first[t] = std::min(first[t], s);
    end[t] = std::max(end[t], s);
  };
  for (int32_t t : g.inputs) touch(t, 0);
  for (size_t s = 0; s < g.nodes.size(); ++s) {
    for (int32_t t : g.nodes[s].inputs)
      if (t >= 0) touch(t, static_cast<int32_t>(s));
    for (int32_t t : g.nodes[s].outputs) touch(t, static_cast<int32_t>(s));
  }
  for (int32_t t : g.outputs) touch(t, std::max(last, 0));
  bool ok = true;
  for (size_t a = 0; a < nt; ++a) {
    if (p.tensor_buffer[a] < 0 || end[a] < 0) continue;
    const size_t ao = p.plan.offsets[p.tensor_buffer[a]];
    if (ao + g.tensors[a].byte_size() + kArenaSlack > p.plan.arena_size) ok = false;
    for (size_t b = a + 1; b < nt; ++b) {
      if (p.tensor_buffer[b] < 0 || end[b] < 0) continue;
      if (p.tensor_alias[a] == p.tensor_alias[b]) continue;  // a view shares on purpose
      const bool live = first[a] <= end[b] && first[b] <= end[a];
      const size_t bo = p.plan.offsets[p.tensor_buffer[b]];
      const bool mem = ao < bo + g.tensors[b].byte_size() && bo < ao + g.tensors[a].byte_size();
      if (live && mem) {
        std::fprintf(stderr, "overlap: '%s' and '%s'\n", g.tensors[a].name.c_str(), g.tensors[b].name.c_str());
        ok = false;
      }
    }
  }
  return ok;
}

}  // namespace edgeq
