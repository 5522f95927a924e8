// One float Conv2D node built in code, for the suites of the float convolution ops
// (float_fc_test.cc: one group on the float GEMM; float_dw_test.cc: depthwise), and
// the levels that run them.
#pragma once

#include <string>
#include <vector>

#include "graph/ir.h"
#include "kernels/kernels.h"
#include "test/test_graphs.h"

namespace edgeq {
namespace testing_graphs {

// The levels of this host with a float GEMM kernel (the ones that run float
// convolutions on edgeq's own kernels).
inline std::vector<kern::Isa> levels_with_fgemm() {
  std::vector<kern::Isa> out;
  for (int l = 1; l < static_cast<int>(kern::Isa::kCount); ++l) {
    const kern::Isa isa = static_cast<kern::Isa>(l);
    if (kern::isa_supported(isa) && kern::kernel_set(isa).fgemm.fn != nullptr) out.push_back(isa);
  }
  return out;
}

// A constant float tensor of uniform values in [-0.5, 0.5) from `seed`.
inline Tensor float_const(const std::string& name, std::vector<int32_t> shape, uint32_t seed) {
  Tensor t = make_tensor(name, DType::kF32, shape);
  size_t count = 1;
  for (int32_t d : shape) count *= static_cast<size_t>(d);
  t.set_data(bytes_of(random_floats(count, seed, -0.5f, 0.5f)));
  return t;
}

struct FloatConvSpec {
  int32_t in_h, in_w, c, oc, kh, kw, stride_h, stride_w;
  int32_t pad_top, pad_left, pad_bottom, pad_right, dilation, groups;
  bool bias;
};

// x[batch, in_h, in_w, c] -Conv2D "conv" (weights from seed 21, bias from 22, output
// clamped to [act_min, act_max])-> y; *out_count: y's elements.
inline Graph float_conv_graph(const FloatConvSpec& k, int32_t batch, float act_min, float act_max, size_t* out_count) {
  Graph g;
  g.producer = "test";
  const DType f = DType::kF32;
  const int32_t out_h = (k.in_h + k.pad_top + k.pad_bottom - k.dilation * (k.kh - 1) - 1) / k.stride_h + 1;
  const int32_t out_w = (k.in_w + k.pad_left + k.pad_right - k.dilation * (k.kw - 1) - 1) / k.stride_w + 1;
  const int32_t x = g.add_tensor(make_tensor("x", f, {batch, k.in_h, k.in_w, k.c}));
  std::vector<int32_t> inputs = {x, g.add_tensor(float_const("w", {k.oc, k.kh, k.kw, k.c / k.groups}, 21))};
  if (k.bias) inputs.push_back(g.add_tensor(float_const("b", {k.oc}, 22)));
  const int32_t y = g.add_tensor(make_tensor("y", f, {batch, out_h, out_w, k.oc}));
  Node conv = make_node("conv", OpType::kConv2D, inputs, {y});
  conv.attrs.kernel_h = k.kh;
  conv.attrs.kernel_w = k.kw;
  conv.attrs.stride_h = k.stride_h;
  conv.attrs.stride_w = k.stride_w;
  conv.attrs.dilation_h = conv.attrs.dilation_w = k.dilation;
  conv.attrs.pad_top = k.pad_top;
  conv.attrs.pad_left = k.pad_left;
  conv.attrs.pad_bottom = k.pad_bottom;
  conv.attrs.pad_right = k.pad_right;
  conv.attrs.groups = k.groups;
  conv.attrs.act_min = act_min;
  conv.attrs.act_max = act_max;
  g.nodes.push_back(conv);
  g.inputs = {x};
  g.outputs = {y};
  *out_count =
      static_cast<size_t>(batch) * static_cast<size_t>(out_h) * static_cast<size_t>(out_w) * static_cast<size_t>(k.oc);
  return g;
}

// A spec's shape for a trace: "13x11x6 -> 21 window 3x3 stride 2x2 pad 1,1,1,1 dilation 1 groups 1".
inline std::string describe(const FloatConvSpec& k) {
  auto s = [](int32_t v) { return std::to_string(v); };
  return s(k.in_h) + "x" + s(k.in_w) + "x" + s(k.c) + " -> " + s(k.oc) + " window " + s(k.kh) + "x" + s(k.kw) +
         " stride " + s(k.stride_h) + "x" + s(k.stride_w) + " pad " + s(k.pad_top) + "," + s(k.pad_left) + "," +
         s(k.pad_bottom) + "," + s(k.pad_right) + " dilation " + s(k.dilation) + " groups " + s(k.groups);
}

}  // namespace testing_graphs
}  // namespace edgeq
