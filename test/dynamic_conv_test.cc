// The dynamically quantized Conv2D (ONNX Runtime's ConvInteger form, ref::dynamic_conv2d):
// the reference against a direct computation of its definition, and a session at every
// level this CPU runs against the reference, bit for bit, over shapes that take each
// path of runtime/ops/dynamic_conv.cc (1x1 direct rows, gathered windows with padding,
// stride and dilation, a grouped conv on the reference), per-tensor and per-channel
// weight scales, weight zero points (none, one, one per channel: ONNX Runtime's asymmetric
// weights), a bias and a clamp, and inputs with a NaN or an infinity. The model test
// (test/data/transformer/vit_tiny_dynamic.onnx) checks the whole form against ONNX Runtime.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "graph/format.h"
#include "kernels/kernels.h"
#include "kernels/ref/ref.h"
#include "runtime/session.h"
#include "test/gemm_tester.h"
#include "test/test_graphs.h"

namespace edgeq {
namespace {

using testing_graphs::make_node;
using testing_graphs::make_tensor;

void expect_same_floats(const std::vector<float>& got, const std::vector<float>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i)
    ASSERT_TRUE(std::memcmp(&got[i], &want[i], sizeof(float)) == 0 || (std::isnan(got[i]) && std::isnan(want[i])))
        << what << " at " << i << ": " << got[i] << " vs " << want[i];
}

enum class Wz { kNone, kTensor, kChannel };  // the weights' zero points

struct Case {
  const char* name;
  ref::ConvShape s;
  bool per_channel, bias, clamp;
  Wz wz;
};

// batch, in_h, in_w, in_c, out_h, out_w, out_c, kh, kw, sh, sw, dh, dw, pad_top, pad_left, groups
const Case kCases[] = {
    {"pointwise", {1, 5, 7, 24, 5, 7, 40, 1, 1, 1, 1, 1, 1, 0, 0, 1}, false, true, false, Wz::kTensor},
    {"patch_embed", {1, 16, 16, 3, 4, 4, 33, 4, 4, 4, 4, 1, 1, 0, 0, 1}, true, true, false, Wz::kChannel},
    {"padded_3x3", {2, 9, 8, 13, 9, 8, 19, 3, 3, 1, 1, 1, 1, 1, 1, 1}, true, false, true, Wz::kChannel},
    {"strided_dilated", {1, 11, 10, 6, 5, 4, 17, 3, 3, 2, 2, 2, 2, 1, 0, 1}, false, true, true, Wz::kNone},
    {"grouped", {1, 6, 6, 8, 6, 6, 12, 3, 3, 1, 1, 1, 1, 1, 1, 2}, true, true, false, Wz::kChannel},
    {"padded_3x3_tensor_zp", {1, 7, 6, 5, 7, 6, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1}, true, true, false, Wz::kTensor},
};

struct Data {
  std::vector<float> x, w_scale, bias;
  std::vector<int8_t> w;
  std::vector<int32_t> wz;  // empty, one, or one per output channel
};

Data make_data(const Case& c, uint32_t seed) {
  const ref::ConvShape& s = c.s;
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.3f, 1.5f);
  std::uniform_int_distribution<int> w8(-128, 127);
  Data d;
  d.x.resize(static_cast<size_t>(s.batch) * s.in_h * s.in_w * s.in_c);
  for (float& v : d.x) v = nd(rng);
  d.w.resize(static_cast<size_t>(s.out_c) * s.kernel_h * s.kernel_w * (s.in_c / s.groups));
  for (int8_t& v : d.w) v = static_cast<int8_t>(w8(rng));
  if (c.wz == Wz::kTensor) d.wz = {-37};
  if (c.wz == Wz::kChannel) {  // the extremes, then spread
    for (int32_t co = 0; co < s.out_c; ++co) d.wz.push_back(co == 0 ? -128 : co == 1 ? 127 : w8(rng));
  }
  d.w_scale.resize(c.per_channel ? s.out_c : 1);
  for (size_t i = 0; i < d.w_scale.size(); ++i) d.w_scale[i] = 0.002f + 0.0005f * static_cast<float>(i % 7);
  if (c.bias) {
    d.bias.resize(s.out_c);
    for (size_t i = 0; i < d.bias.size(); ++i) d.bias[i] = 0.1f * static_cast<float>(static_cast<int>(i % 9) - 4);
  }
  return d;
}

std::vector<float> run_ref(const Case& c, const Data& d) {
  const ref::ConvShape& s = c.s;
  std::vector<uint8_t> q(d.x.size());
  std::vector<float> y(static_cast<size_t>(s.batch) * s.out_h * s.out_w * s.out_c);
  ref::dynamic_conv2d(s, d.x.data(), d.w.data(), d.wz.empty() ? nullptr : d.wz.data(), d.wz.size() > 1,
                      d.w_scale.data(), c.per_channel, c.bias ? d.bias.data() : nullptr, c.clamp ? 0.f : -INFINITY,
                      c.clamp ? 6.f : INFINITY, q.data(), y.data());
  return y;
}

Graph conv_graph(const Case& c, const Data& d) {
  const ref::ConvShape& s = c.s;
  Graph g;
  g.producer = "test";
  const int32_t x = g.add_tensor(make_tensor("x", DType::kF32, {s.batch, s.in_h, s.in_w, s.in_c}));
  Tensor wt = make_tensor("w", DType::kS8, {s.out_c, s.kernel_h, s.kernel_w, s.in_c / s.groups});
  wt.quant.scale = d.w_scale;
  wt.quant.zero_point.assign(d.w_scale.size(), d.wz.empty() ? 0 : d.wz[0]);
  if (d.wz.size() > 1) wt.quant.zero_point = d.wz;
  wt.quant.axis = 0;
  wt.set_data(testing_graphs::bytes_of(d.w));
  const int32_t w = g.add_tensor(std::move(wt));
  int32_t b = -1;
  if (c.bias) {
    Tensor bt = make_tensor("b", DType::kF32, {s.out_c});
    bt.set_data(testing_graphs::bytes_of(d.bias));
    b = g.add_tensor(std::move(bt));
  }
  const int32_t y = g.add_tensor(make_tensor("y", DType::kF32, {s.batch, s.out_h, s.out_w, s.out_c}));
  Node n = make_node("conv", OpType::kConv2D, {x, w, b}, {y});
  n.attrs.stride_h = s.stride_h;
  n.attrs.stride_w = s.stride_w;
  n.attrs.dilation_h = s.dilation_h;
  n.attrs.dilation_w = s.dilation_w;
  n.attrs.pad_top = s.pad_top;
  n.attrs.pad_left = s.pad_left;
  n.attrs.pad_bottom = std::max(0, (s.out_h - 1) * s.stride_h + (s.kernel_h - 1) * s.dilation_h + 1 - s.in_h - s.pad_top);
  n.attrs.pad_right = std::max(0, (s.out_w - 1) * s.stride_w + (s.kernel_w - 1) * s.dilation_w + 1 - s.in_w - s.pad_left);
  n.attrs.groups = s.groups;
  n.attrs.dynamic = 1;
  if (c.clamp) {
    n.attrs.act_min = 0.f;
    n.attrs.act_max = 6.f;
  }
  g.nodes.push_back(n);
  g.inputs = {x};
  g.outputs = {y};
  return g;
}

TEST(DynamicConvRef, EqualsItsDefinition) {
  for (const Case& c : kCases) {
    const Data d = make_data(c, 5);
    const std::vector<float> y = run_ref(c, d);
    const ref::ConvShape& s = c.s;
    float lo = 0.f, hi = 0.f;
    for (float v : d.x) lo = std::min(lo, v), hi = std::max(hi, v);
    const float scale = (hi - lo) / 255.f;
    const int32_t zp = static_cast<int32_t>(std::nearbyint(-lo / scale));
    const int32_t cg = s.in_c / s.groups, og = s.out_c / s.groups;
    for (int32_t oy = 0; oy < s.out_h; ++oy)
      for (int32_t ox = 0; ox < s.out_w; ++ox)
        for (int32_t co = 0; co < s.out_c; ++co) {
          int64_t acc = 0;
          for (int32_t ky = 0; ky < s.kernel_h; ++ky)
            for (int32_t kx = 0; kx < s.kernel_w; ++kx) {
              const int32_t iy = oy * s.stride_h - s.pad_top + ky * s.dilation_h;
              const int32_t ix = ox * s.stride_w - s.pad_left + kx * s.dilation_w;
              if (iy < 0 || ix < 0 || iy >= s.in_h || ix >= s.in_w) continue;
              for (int32_t i = 0; i < cg; ++i) {
                const float xv = d.x[(static_cast<size_t>(iy) * s.in_w + ix) * s.in_c + (co / og) * cg + i];
                const int32_t q = std::clamp(static_cast<int32_t>(std::nearbyint(xv / scale)) + zp, 0, 255);
                const int32_t wz = d.wz.empty() ? 0 : d.wz[d.wz.size() > 1 ? co : 0];
                acc += int64_t{q - zp} *
                       (d.w[((static_cast<size_t>(co) * s.kernel_h + ky) * s.kernel_w + kx) * cg + i] - wz);
              }
            }
          float want = static_cast<float>(acc) * (scale * d.w_scale[c.per_channel ? co : 0]);
          if (c.bias) want += d.bias[co];
          if (c.clamp) want = std::min(6.f, std::max(0.f, want));
          ASSERT_EQ(y[(static_cast<size_t>(oy) * s.out_w + ox) * s.out_c + co], want)
              << c.name << " at " << oy << "," << ox << "," << co;
        }
  }
}

TEST(DynamicConvRef, NonFiniteInputsPropagate) {
  const Case& c = kCases[0];
  Data d = make_data(c, 6);
  d.x[3] = std::numeric_limits<float>::quiet_NaN();  // pixel 0, channel 3
  std::vector<float> y = run_ref(c, d);
  for (int32_t co = 0; co < c.s.out_c; ++co) EXPECT_TRUE(std::isnan(y[co])) << co;
  EXPECT_FALSE(std::isnan(y[c.s.out_c]));  // pixel 1 is finite, in double
  d.x[3] = std::numeric_limits<float>::infinity();
  y = run_ref(c, d);
  for (int32_t co = 0; co < c.s.out_c; ++co) {
    if (d.w[static_cast<size_t>(co) * c.s.in_c + 3] != (d.wz.empty() ? 0 : d.wz[0])) {  // w - wz
      EXPECT_TRUE(std::isinf(y[co])) << co;
    }
  }
}

TEST(DynamicConvSession, EveryLevelEqualsTheReference) {
  for (const Case& c : kCases) {
    for (int nonfinite = 0; nonfinite < 2; ++nonfinite) {
      Data d = make_data(c, 7);
      if (nonfinite) d.x[d.x.size() / 2] = -std::numeric_limits<float>::infinity();
      const std::vector<float> want = run_ref(c, d);
      const Graph g = conv_graph(c, d);
      std::vector<uint8_t> bytes;
      const Status ss = serialize_graph(g, &bytes);
      ASSERT_TRUE(ss.ok()) << ss.message();
      std::shared_ptr<const Model> model;
      const Status ls = Model::load_memory(bytes.data(), bytes.size(), &model);
      ASSERT_TRUE(ls.ok()) << c.name << ": " << ls.message();
      for (kern::Isa isa : kern::arch_levels()) {
        if (!kern::isa_supported(isa)) continue;
        for (int threads : {1, 2}) {
          SessionOptions o;
          o.isa = kern::isa_name(isa);
          o.num_threads = threads;
          std::unique_ptr<Session> s;
          const Status st = Session::create(model, o, &s);
          ASSERT_TRUE(st.ok()) << st.message();
          ASSERT_TRUE(s->set_input_f32(0, d.x.data(), d.x.size()).ok());
          s->run();
          std::vector<float> y(want.size());
          ASSERT_TRUE(s->get_output_f32(0, y.data(), y.size()).ok());
          const std::string label = std::string(c.name) + " " + kern::isa_name(isa) + " threads " +
                                    std::to_string(threads) + (nonfinite ? " with -inf" : "");
          expect_same_floats(y, want, label);
          // Ungrouped convs run on the level's GEMM kernel, grouped ones on the reference.
          const bool gemm = isa != kern::Isa::kRef && kern::kernel_set(isa).gemm.int32_output && c.s.groups == 1;
          EXPECT_EQ(std::string(s->op(0).kernel_name()) != "ref", gemm) << label;
        }
      }
    }
  }
}

TEST(DynamicConvSession, ValidationNamesTheProblem) {
  const Case& c = kCases[0];
  const Data d = make_data(c, 8);
  Graph g = conv_graph(c, d);
  g.nodes[0].attrs.dynamic = 0;
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(serialize_graph(g, &bytes).ok());
  std::shared_ptr<const Model> model;
  Status ls = Model::load_memory(bytes.data(), bytes.size(), &model);
  ASSERT_FALSE(ls.ok());
  EXPECT_NE(ls.message().find("dynamic mode 1"), std::string::npos) << ls.message();
  // Zero points: one, or one per output channel, each in [-128, 127].
  const Case& pc = kCases[1];  // per-channel scales and zero points
  const Data pd = make_data(pc, 8);
  g = conv_graph(pc, pd);
  g.tensors[g.nodes[0].inputs[1]].quant.zero_point[0] = 300;
  ASSERT_TRUE(serialize_graph(g, &bytes).ok());
  ls = Model::load_memory(bytes.data(), bytes.size(), &model);
  ASSERT_FALSE(ls.ok());
  EXPECT_NE(ls.message().find("zero point 300"), std::string::npos) << ls.message();
  g = conv_graph(pc, pd);
  g.tensors[g.nodes[0].inputs[1]].quant.zero_point.resize(2);  // neither one nor one per channel
  ASSERT_TRUE(serialize_graph(g, &bytes).ok());
  ls = Model::load_memory(bytes.data(), bytes.size(), &model);
  ASSERT_FALSE(ls.ok());
  EXPECT_NE(ls.message().find("zero point"), std::string::npos) << ls.message();
}

}  // namespace
}  // namespace edgeq
