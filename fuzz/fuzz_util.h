// What the fuzzers share: a bound on the work a fuzzed model may ask for, and inputs
// made from a seed.
//
// A fuzzed file may declare tensors of any size the format allows. Loading and session
// creation must handle that (an out-of-memory status, never a crash), but running a
// 2 GiB model or a convolution of 10^12 MACs makes a fuzzer slow or trips its memory
// limit without finding anything. The fuzzers load every input, and create sessions
// for and run only the models whose total tensor bytes and rough MAC count are small.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "graph/ir.h"

namespace edgeq {
namespace fuzz {

constexpr double kMaxTensorBytes = 8 << 20;
constexpr double kMaxWork = 20e6;

// Whether running `g` stays within the bounds above: the bytes of all its tensors,
// and, per node, its output elements times the elements of its largest input per
// output channel (a convolution's or fully connected layer's MACs, an upper bound of
// the rest's work).
inline bool small_enough(const Graph& g) {
  double bytes = 0, work = 0;
  for (const Tensor& t : g.tensors) bytes += static_cast<double>(t.num_elements()) * dtype_size(t.dtype);
  if (bytes > kMaxTensorBytes) return false;
  for (const Node& n : g.nodes) {
    double out = 0, in = 1;
    for (int32_t o : n.outputs)
      if (o >= 0) out += static_cast<double>(g.tensors[o].num_elements());
    for (int32_t i : n.inputs) {
      if (i < 0) continue;
      const Tensor& t = g.tensors[i];
      const double per_channel =
          static_cast<double>(t.num_elements()) / (t.shape.empty() || t.shape[0] <= 0 ? 1 : t.shape[0]);
      if (per_channel > in) in = per_channel;
    }
    work += out * in;
  }
  return work <= kMaxWork;
}

// `count` floats in [-2, 2) from a linear congruential generator seeded with `seed`.
inline std::vector<float> floats_from_seed(size_t count, uint32_t seed) {
  std::vector<float> v(count);
  for (float& x : v) {
    seed = seed * 1664525u + 1013904223u;
    x = static_cast<float>(seed >> 8) / static_cast<float>(1 << 24) * 4.f - 2.f;
  }
  return v;
}

}  // namespace fuzz
}  // namespace edgeq
