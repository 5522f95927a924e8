// Small graphs built in code for runtime, format and planner tests: a quantized
// conv -> maxpool -> global-average-pool -> reshape -> fully-connected net and its
// float twin, with fixed-seed weights.
#pragma once

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "graph/ir.h"

namespace edgeq {
namespace testing_graphs {

template <typename T>
std::vector<uint8_t> bytes_of(const std::vector<T>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(T));
  if (!b.empty()) std::memcpy(b.data(), v.data(), b.size());
  return b;
}

// n uniform random floats in [lo, hi) from a fixed seed.
inline std::vector<float> random_floats(size_t n, uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& e : v) e = d(rng);
  return v;
}

inline Tensor make_tensor(const std::string& name, DType dtype, std::vector<int32_t> shape, float scale = 0.f,
                          int32_t zp = 0) {
  Tensor t;
  t.name = name;
  t.dtype = dtype;
  t.shape = std::move(shape);
  if (scale > 0.f) {
    t.quant.scale = {scale};
    t.quant.zero_point = {zp};
  }
  return t;
}

inline Node make_node(const std::string& name, OpType op, std::vector<int32_t> inputs,
                      std::vector<int32_t> outputs) {
  Node n;
  n.name = name;
  n.op = op;
  n.inputs = std::move(inputs);
  n.outputs = std::move(outputs);
  return n;
}

// x[1,8,8,3] -Conv3x3(pad 1, relu)-> [1,8,8,6] -MaxPool2x2-> [1,4,4,6] -GAP-> [1,1,1,6]
// -Reshape-> [1,6] -FC-> y[1,4]. Quantized (s8, per-channel weights) or float.
inline Graph small_net(bool quantized, uint32_t seed = 1) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> w8(-127, 127);
  std::uniform_real_distribution<float> wf(-0.5f, 0.5f);
  const DType act = quantized ? DType::kS8 : DType::kF32;
  Graph g;
  g.producer = "test";
  const int32_t x = g.add_tensor(make_tensor("x", act, {1, 8, 8, 3}, quantized ? 0.02f : 0.f, 3));

  Tensor w = make_tensor("conv_w", quantized ? DType::kS8 : DType::kF32, {6, 3, 3, 3});
  Tensor b = make_tensor("conv_b", quantized ? DType::kS32 : DType::kF32, {6});
  if (quantized) {
    std::vector<int8_t> wv(6 * 27);
    for (auto& v : wv) v = static_cast<int8_t>(w8(rng));
    w.set_data(bytes_of(wv));
    for (int c = 0; c < 6; ++c) {
      w.quant.scale.push_back(0.004f + 0.001f * c);
      w.quant.zero_point.push_back(0);
    }
    std::vector<int32_t> bv(6);
    for (auto& v : bv) v = w8(rng) * 10;
    b.set_data(bytes_of(bv));
  } else {
    std::vector<float> wv(6 * 27), bv(6);
    for (auto& v : wv) v = wf(rng);
    for (auto& v : bv) v = wf(rng);
    w.set_data(bytes_of(wv));
    b.set_data(bytes_of(bv));
  }
  const int32_t wi = g.add_tensor(w), bi = g.add_tensor(b);
  const int32_t c1 = g.add_tensor(make_tensor("conv_out", act, {1, 8, 8, 6}, quantized ? 0.03f : 0.f, -128));
  Node conv;
  conv.name = "conv";
  conv.op = OpType::kConv2D;
  conv.inputs = {x, wi, bi};
  conv.outputs = {c1};
  conv.attrs.pad_top = conv.attrs.pad_left = conv.attrs.pad_bottom = conv.attrs.pad_right = 1;
  conv.attrs.act_min = 0.f;
  g.nodes.push_back(conv);

  const int32_t p1 = g.add_tensor(make_tensor("pool_out", act, {1, 4, 4, 6}, quantized ? 0.03f : 0.f, -128));
  Node pool;
  pool.name = "pool";
  pool.op = OpType::kMaxPool2D;
  pool.inputs = {c1};
  pool.outputs = {p1};
  pool.attrs.kernel_h = pool.attrs.kernel_w = 2;
  pool.attrs.stride_h = pool.attrs.stride_w = 2;
  g.nodes.push_back(pool);

  const int32_t gp = g.add_tensor(make_tensor("gap_out", act, {1, 1, 1, 6}, quantized ? 0.02f : 0.f, -100));
  Node gap;
  gap.name = "gap";
  gap.op = OpType::kGlobalAvgPool;
  gap.inputs = {p1};
  gap.outputs = {gp};
  g.nodes.push_back(gap);

  const int32_t fl = g.add_tensor(make_tensor("flat", act, {1, 6}, quantized ? 0.02f : 0.f, -100));
  Node reshape;
  reshape.name = "flatten";
  reshape.op = OpType::kReshape;
  reshape.inputs = {gp};
  reshape.outputs = {fl};
  g.nodes.push_back(reshape);

  Tensor fw = make_tensor("fc_w", quantized ? DType::kS8 : DType::kF32, {4, 6}, quantized ? 0.01f : 0.f, 0);
  if (quantized) {
    std::vector<int8_t> v(24);
    for (auto& e : v) e = static_cast<int8_t>(w8(rng));
    fw.set_data(bytes_of(v));
  } else {
    std::vector<float> v(24);
    for (auto& e : v) e = wf(rng);
    fw.set_data(bytes_of(v));
  }
  const int32_t fwi = g.add_tensor(fw);
  const int32_t y = g.add_tensor(make_tensor("y", act, {1, 4}, quantized ? 0.05f : 0.f, 5));
  Node fc;
  fc.name = "fc";
  fc.op = OpType::kFullyConnected;
  fc.inputs = {fl, fwi, -1};
  fc.outputs = {y};
  g.nodes.push_back(fc);

  g.inputs = {x};
  g.outputs = {y};
  return g;
}

}  // namespace testing_graphs
}  // namespace edgeq
