// Tests of the float path on XNNPACK (runtime/ops/float_xnn.h). Each case is a one-node float
// graph with seeded random data, prepared twice: as the reference op (prepare_op with
// EDGEQ_XNNPACK=0, so the test stays a comparison with the reference even once prepare_op
// tries XNNPACK first) and by prepare_xnn_float_op. Both run on the same inputs; the XNNPACK
// op runs a second time on copies at other addresses (a new setup) and must repeat itself
// bit for bit. Where XNNPACK computes something else than the reference op, prepare must
// return null.
//
// Tolerances, with u = 2^-24 (float's unit roundoff):
//  * one IEEE operation per element (add, sub, mul, div, clamp, relu, leaky relu, max pool):
//    equal.
//  * sums (conv, fully connected, average and global average pools): |xnn - ref| <= 1e-5 * M,
//    M = the same op on |x|, |w|, |b| without clamp (the sum of the terms' magnitudes). A
//    float sum of K terms in any order, with or without FMA, is off by at most (K - 1) u M;
//    the reference (summed in double, rounded once) by u M. Every case keeps K <= 160, so
//    (K + 1) u < 1e-5 bounds the difference; typical differences are ~sqrt(K) u M.
//  * hardswish x * min(max(x / 6 + 1/2, 0), 1): a few roundings of terms of size
//    M = |x| (|x| / 6 + 1/2); |d| <= 1e-5 M (near x = -3 the result cancels, so a bound
//    relative to |y| would be wrong).
//  * sigmoid and softmax (polynomial exponentials; softmax sums C <= 64 positive terms, so
//    (C + a few) u < 1e-5): |d| <= 1e-5 |ref| + 2^-124, since XNNPACK returns 0 for
//    exponentials at the bottom of float's normal range (it builds 2^n in the exponent
//    bits), where the reference still gives values down to 2^-126 and below.
#include "runtime/ops/float_xnn.h"

#include <gtest/gtest.h>
#include <pthreadpool.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "graph/shape.h"
#include "runtime/ops/ops.h"
#include "test/scoped_env.h"

#ifndef EDGEQ_HAVE_XNNPACK
#define EDGEQ_HAVE_XNNPACK 0
#endif

namespace edgeq {
namespace {

constexpr bool kBuiltWithXnnpack = EDGEQ_HAVE_XNNPACK;
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr double kTiny = 4.7019774032891500e-38;  // 2^-124

using testing_env::ScopedEnv;

std::vector<uint8_t> bytes_of(const std::vector<float>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(float));
  if (!b.empty()) std::memcpy(b.data(), v.data(), b.size());
  return b;
}

// A one-node float graph and the values of its activations.
struct Case {
  Graph g;
  std::vector<std::vector<float>> values;  // per tensor: input values, empty otherwise
  std::mt19937 rng{7};

  std::vector<float> random(size_t n, float lo, float hi) {
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(n);
    for (auto& e : v) e = d(rng);
    return v;
  }
  int32_t add(std::vector<int32_t> shape) {
    Tensor t;
    t.name = "t" + std::to_string(g.tensors.size());
    t.dtype = DType::kF32;
    t.shape = std::move(shape);
    values.emplace_back();
    return g.add_tensor(std::move(t));
  }
  int32_t input(std::vector<int32_t> shape, float lo = -2.f, float hi = 2.f) {
    const int32_t i = add(std::move(shape));
    values[i] = random(static_cast<size_t>(g.tensors[i].num_elements()), lo, hi);
    g.inputs.push_back(i);
    return i;
  }
  int32_t constant(std::vector<int32_t> shape, float lo = -1.f, float hi = 1.f) {
    const int32_t i = add(std::move(shape));
    g.tensors[i].set_data(bytes_of(random(static_cast<size_t>(g.tensors[i].num_elements()), lo, hi)));
    return i;
  }
  // The node, with its output of the shape shape inference gives.
  Node& node(OpType op, std::vector<int32_t> inputs, const Attrs& attrs = Attrs()) {
    Node n;
    n.name = std::string(op_name(op)) + "_node";
    n.op = op;
    n.inputs = std::move(inputs);
    n.attrs = attrs;
    g.nodes.push_back(n);
    return g.nodes.back();
  }
  // Adds the output tensor once the node's attributes are final.
  Status finish() {
    Node& n = g.nodes.back();
    n.outputs = {add({})};
    std::vector<std::vector<int32_t>> shapes;
    EDGEQ_RETURN_IF_ERROR(infer_shapes(g, n, &shapes));
    g.tensors[n.outputs[0]].shape = shapes[0];
    g.outputs = n.outputs;
    return validate_graph(g);
  }
  const Node& the_node() const { return g.nodes.back(); }
  size_t out_count() const { return static_cast<size_t>(g.tensors[the_node().outputs[0]].num_elements()); }
};

// Runs `op` on the case's inputs (copied to fresh memory) into a NaN-filled output.
std::vector<float> run_op(const Case& c, PreparedOp* op) {
  std::vector<std::vector<float>> mem(c.g.tensors.size());
  std::vector<uint8_t*> ptrs(c.g.tensors.size(), nullptr);
  for (size_t i = 0; i < c.g.tensors.size(); ++i) {
    const Tensor& t = c.g.tensors[i];
    if (t.is_constant()) {
      ptrs[i] = const_cast<uint8_t*>(t.data);
      continue;
    }
    mem[i] = c.values[i];
    mem[i].resize(static_cast<size_t>(t.num_elements()), std::numeric_limits<float>::quiet_NaN());
    ptrs[i] = reinterpret_cast<uint8_t*>(mem[i].data());
  }
  op->run(ptrs.data());
  return mem[c.the_node().outputs[0]];
}

std::unique_ptr<PreparedOp> prepare_reference(const Case& c) {
  ScopedEnv off("EDGEQ_XNNPACK", "0");
  std::unique_ptr<PreparedOp> op;
  const Status s = prepare_op(c.g, c.the_node(), OpContext(), &op);
  EXPECT_TRUE(s.ok()) << s.message();
  if (op) {
    EXPECT_STREQ(op->kernel_name(), "ref");
  }
  return op;
}

std::vector<float> reference(const Case& c) {
  auto op = prepare_reference(c);
  return op ? run_op(c, op.get()) : std::vector<float>();
}

// M for sums: the reference op on |inputs| and |constants| without the fused clamp.
std::vector<float> sum_magnitude(Case c) {
  for (size_t i = 0; i < c.g.tensors.size(); ++i) {
    for (auto& v : c.values[i]) v = std::fabs(v);
    Tensor& t = c.g.tensors[i];
    if (!t.is_constant()) continue;
    std::vector<float> v(static_cast<size_t>(t.num_elements()));
    std::memcpy(v.data(), t.data, v.size() * sizeof(float));
    for (auto& e : v) e = std::fabs(e);
    t.set_data(bytes_of(v));
  }
  c.g.nodes.back().attrs.act_min = -kInf;
  c.g.nodes.back().attrs.act_max = kInf;
  return reference(c);
}

enum class Bound { kExact, kSum, kHardSwish, kRelative };

// |xnn - ref| <= 1e-5 * M (+ 2^-124 for kRelative), M per the file's comment.
void expect_agree(const Case& c, const std::vector<float>& xnn, const std::vector<float>& ref, Bound bound) {
  ASSERT_EQ(xnn.size(), ref.size());
  std::vector<float> mag;
  if (bound == Bound::kSum) mag = sum_magnitude(c);
  const std::vector<float>& x = c.values[c.the_node().inputs[0]];
  double worst = 0.0;
  int failures = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double d = std::fabs(static_cast<double>(xnn[i]) - ref[i]);
    double allowed = 0.0;
    switch (bound) {
      case Bound::kExact:
        break;
      case Bound::kSum:
        allowed = 1e-5 * mag[i];
        break;
      case Bound::kHardSwish:
        allowed = 1e-5 * std::fabs(x[i]) * (std::fabs(x[i]) / 6.0 + 0.5);
        break;
      case Bound::kRelative:
        allowed = 1e-5 * std::fabs(ref[i]) + kTiny;
        break;
    }
    if (!(d <= allowed) && failures++ < 5)
      ADD_FAILURE() << "element " << i << ": xnnpack " << xnn[i] << " reference " << ref[i] << " allowed " << allowed;
    if (allowed > 0.0) worst = std::max(worst, d / allowed);
  }
  EXPECT_EQ(failures, 0) << "elements outside the bound";
  if (bound != Bound::kExact)
    std::printf("[ xnn     ] %s: %zu elements, largest difference %.3g of the bound\n", c.the_node().name.c_str(),
                ref.size(), worst);
}

// Prepares the case on XNNPACK (which must handle it), runs it twice (the second time at
// other addresses) and compares with the reference.
void check(Case& c, Bound bound, pthreadpool_t pool = nullptr) {
  const Status fs = c.finish();
  ASSERT_TRUE(fs.ok()) << fs.message();
  const Scheduler scheduler(pool);
  OpContext ctx;
  ctx.scheduler = &scheduler;
  std::unique_ptr<PreparedOp> op;
  const Status s = prepare_xnn_float_op(c.g, c.the_node(), ctx, &op);
  ASSERT_TRUE(s.ok()) << s.message();
  if (!kBuiltWithXnnpack) {
    EXPECT_EQ(op, nullptr) << "a build without XNNPACK handles no node";
    return;
  }
  ASSERT_NE(op, nullptr) << c.the_node().name << ": XNNPACK declined";
  EXPECT_EQ(std::string(op->kernel_name()).rfind("xnnpack_", 0), 0u) << op->kernel_name();
  const std::vector<float> first = run_op(c, op.get());
  const std::vector<float> again = run_op(c, op.get());
  ASSERT_EQ(std::memcmp(first.data(), again.data(), first.size() * sizeof(float)), 0)
      << "a run at other addresses differs";
  expect_agree(c, first, reference(c), bound);
}

// For cases XNNPACK must leave to the reference op.
void check_declined(Case& c) {
  const Status fs = c.finish();
  ASSERT_TRUE(fs.ok()) << fs.message();
  std::unique_ptr<PreparedOp> op;
  const Status s = prepare_xnn_float_op(c.g, c.the_node(), OpContext(), &op);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(op, nullptr) << c.the_node().name << " should keep the reference op";
}

// The window attributes conv and pool specs share: strides, dilation, padding, clamp.
template <typename Spec>
Attrs window_attrs(const Spec& s, int32_t stride_h, int32_t stride_w) {
  Attrs a;
  a.stride_h = stride_h;
  a.stride_w = stride_w;
  a.dilation_h = a.dilation_w = s.dilation;
  a.pad_top = s.pad_t;
  a.pad_left = s.pad_l;
  a.pad_bottom = s.pad_b;
  a.pad_right = s.pad_r;
  a.act_min = s.act_min;
  a.act_max = s.act_max;
  return a;
}

// ------------------------------------------------------------------ convolution

struct ConvSpec {
  int32_t n, h, w, cin, cout, kh, kw, groups;
  int32_t stride_h = 1, stride_w = 1, dilation = 1;
  int32_t pad_t = 0, pad_l = 0, pad_b = 0, pad_r = 0;
  bool bias = true;
  float act_min = -kInf, act_max = kInf;
};

void check_conv(const ConvSpec& s, pthreadpool_t pool = nullptr) {
  Case c;
  const int32_t x = c.input({s.n, s.h, s.w, s.cin});
  std::vector<int32_t> in = {x, c.constant({s.cout, s.kh, s.kw, s.cin / s.groups})};
  if (s.bias) in.push_back(c.constant({s.cout}));
  Attrs a = window_attrs(s, s.stride_h, s.stride_w);
  a.groups = s.groups;
  c.node(OpType::kConv2D, in, a);
  check(c, Bound::kSum, pool);
}

TEST(XnnFloat, ConvDense) {
  // 3x3 pad 1, batch 2, bias, no clamp (K = 72).
  check_conv({2, 6, 7, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1});
  // Stride 2, asymmetric padding, odd channels, ReLU6.
  check_conv({1, 9, 9, 3, 5, 3, 3, 1, 2, 2, 1, 0, 1, 1, 0, true, 0.f, 6.f});
  // 1x1 without bias, batch 3, K = 32; a narrow clamp that cuts most values.
  check_conv({3, 5, 4, 32, 24, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, false, -0.5f, 0.5f});
  // 1x1 stride 2, rectangular 1x7 with stride (1, 2), dilation 2.
  check_conv({1, 8, 8, 16, 8, 1, 1, 1, 2, 2});
  check_conv({2, 5, 16, 4, 6, 1, 7, 1, 1, 2, 1, 0, 3, 0, 3});
  check_conv({1, 9, 10, 4, 5, 3, 3, 1, 1, 1, 2, 2, 2, 2, 2, true, -1.f, kInf});
  // 7x7 stride 2 pad 3 (a ResNet stem on few channels; K = 147).
  check_conv({1, 16, 16, 3, 8, 7, 7, 1, 2, 2, 1, 3, 3, 3, 3, true, 0.f, kInf});
}

TEST(XnnFloat, ConvDepthwiseAndGrouped) {
  // Depthwise 3x3 pad 1, batch 2, ReLU.
  check_conv({2, 7, 6, 12, 12, 3, 3, 12, 1, 1, 1, 1, 1, 1, 1, true, 0.f, kInf});
  // Depthwise 5x5 stride 2 pad 2, odd channel count, no bias.
  check_conv({1, 11, 9, 7, 7, 5, 5, 7, 2, 2, 1, 2, 2, 2, 2, false});
  // Depthwise with channel multiplier 2, and with dilation 2.
  check_conv({1, 6, 6, 4, 8, 3, 3, 4, 1, 1, 1, 1, 1, 1, 1});
  check_conv({1, 9, 9, 6, 6, 3, 3, 6, 1, 1, 2, 2, 2, 2, 2, true, -0.25f, 0.25f});
  // Grouped: 2 and 4 groups of several channels.
  check_conv({2, 5, 5, 8, 6, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1});
  check_conv({1, 6, 7, 16, 12, 3, 3, 4, 2, 1, 1, 1, 0, 1, 1, true, 0.f, 6.f});
}

TEST(XnnFloat, ConvOnAThreadPool) {
  pthreadpool_t pool = pthreadpool_create(2);
  ASSERT_NE(pool, nullptr);
  check_conv({2, 12, 12, 16, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, 0.f, kInf}, pool);
  check_conv({2, 12, 12, 16, 16, 3, 3, 16, 2, 2, 1, 1, 1, 1, 1}, pool);
  pthreadpool_destroy(pool);
}

// ------------------------------------------------------------------ fully connected

void check_fc(std::vector<int32_t> x_shape, int32_t n, bool bias, float act_min, float act_max) {
  Case c;
  const int32_t k = x_shape.back();
  std::vector<int32_t> in = {c.input(x_shape), c.constant({n, k})};
  if (bias) in.push_back(c.constant({n}));
  Attrs a;
  a.act_min = act_min;
  a.act_max = act_max;
  c.node(OpType::kFullyConnected, in, a);
  check(c, Bound::kSum);
}

TEST(XnnFloat, FullyConnected) {
  check_fc({1, 160}, 10, true, -kInf, kInf);
  check_fc({4, 33}, 17, false, 0.f, kInf);
  check_fc({2, 3, 64}, 9, true, -1.f, 1.f);  // rows = 6
}

// ------------------------------------------------------------------ binary

void check_binary(OpType op, std::vector<int32_t> a, std::vector<int32_t> b, float act_min = -kInf,
                  float act_max = kInf) {
  Case c;
  const int32_t x0 = c.input(a);
  // Divisors away from zero; other ops take any sign.
  const int32_t x1 = op == OpType::kDiv ? c.input(b, 0.25f, 3.f) : c.input(b);
  Attrs at;
  at.act_min = act_min;
  at.act_max = act_max;
  c.node(op, {x0, x1}, at);
  check(c, Bound::kExact);
}

TEST(XnnFloat, BinaryBroadcasting) {
  for (OpType op : {OpType::kAdd, OpType::kSub, OpType::kMul, OpType::kDiv}) {
    SCOPED_TRACE(op_name(op));
    check_binary(op, {2, 3, 4, 5}, {2, 3, 4, 5});
    check_binary(op, {2, 3, 4, 5}, {5});
    check_binary(op, {1}, {2, 3, 4, 5});
    check_binary(op, {2, 1, 4, 1}, {3, 1, 5});
    check_binary(op, {2, 7, 1, 3, 1, 2}, {1, 1, 5, 1, 4, 2}, 0.f, kInf);
    check_binary(op, {3, 4, 9}, {3, 1, 9}, -0.5f, 0.5f);
  }
}

TEST(XnnFloat, BinaryWithConstantOperand) {
  Case c;
  const int32_t x = c.input({2, 4, 4, 8});
  const int32_t k = c.constant({8});
  c.node(OpType::kAdd, {x, k});
  check(c, Bound::kExact);
}

// ------------------------------------------------------------------ unary

void check_unary(OpType op, float alpha, float beta, Bound bound, std::vector<float> extra = {}) {
  Case c;
  const int32_t x = c.input({2, 5, 7, 3}, -8.f, 8.f);
  for (size_t i = 0; i < extra.size(); ++i) c.values[x][i] = extra[i];
  Attrs a;
  a.alpha = alpha;
  a.beta = beta;
  c.node(op, {x}, a);
  check(c, bound);
}

TEST(XnnFloat, Unary) {
  const std::vector<float> specials = {0.f, -0.f, 3.f, -3.f, 6.f, -6.f, 1e-20f, -1e-20f, 40.f, -40.f};
  check_unary(OpType::kRelu, 0.f, 0.f, Bound::kExact, specials);
  check_unary(OpType::kClip, -0.5f, 1.f, Bound::kExact, specials);
  check_unary(OpType::kClip, 0.f, 6.f, Bound::kExact, specials);
  check_unary(OpType::kLeakyRelu, 0.1f, 0.f, Bound::kExact, specials);
  check_unary(OpType::kLeakyRelu, 1.5f, 0.f, Bound::kExact, specials);
  check_unary(OpType::kHardSwish, 0.f, 0.f, Bound::kHardSwish, specials);
  std::vector<float> wide = specials;
  for (float v : {-80.f, -87.f, -88.f, -90.f, -100.f, -1e4f, 1e4f, 17.f, -17.f, 0.5f}) wide.push_back(v);
  check_unary(OpType::kSigmoid, 0.f, 0.f, Bound::kRelative, wide);
}

// ------------------------------------------------------------------ softmax

void check_softmax(std::vector<int32_t> shape, float spread) {
  Case c;
  const int32_t x = c.input(shape, -spread, spread);
  Attrs a;
  a.axis = static_cast<int32_t>(shape.size()) - 1;
  c.node(OpType::kSoftmax, {x}, a);
  check(c, Bound::kRelative);
}

TEST(XnnFloat, SoftmaxOverTheInnermostAxis) {
  check_softmax({3, 10}, 4.f);
  check_softmax({2, 2, 2, 37}, 8.f);
  check_softmax({4, 64}, 60.f);  // exponentials far below float's range for some entries
  check_softmax({1, 1}, 1.f);
}

// ------------------------------------------------------------------ pooling

struct PoolSpec {
  int32_t n, h, w, c, kh, kw, stride;
  int32_t pad_t = 0, pad_l = 0, pad_b = 0, pad_r = 0;
  int32_t dilation = 1;
  bool include_pad = false;
  float act_min = -kInf, act_max = kInf;
};

Case pool_case(OpType op, const PoolSpec& s) {
  Case c;
  const int32_t x = c.input({s.n, s.h, s.w, s.c}, -3.f, 3.f);
  Attrs a = window_attrs(s, s.stride, s.stride);
  a.kernel_h = s.kh;
  a.kernel_w = s.kw;
  a.count_include_pad = s.include_pad;
  c.node(op, {x}, a);
  return c;
}

TEST(XnnFloat, MaxPool) {
  for (const PoolSpec& s : std::vector<PoolSpec>{
           {1, 12, 12, 8, 3, 3, 2, 1, 1, 1, 1},                      // ResNet's 3x3 s2 pad 1
           {2, 8, 6, 5, 2, 2, 2},                                    // 2x2 s2, batch 2
           {1, 7, 7, 3, 2, 2, 2, 0, 0, 1, 1},                        // ceil mode as end padding
           {1, 9, 9, 4, 3, 3, 1, 0, 0, 0, 0, 2},                     // dilation 2 without padding
           {1, 6, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, false, -0.5f, 1.f},  // clamp
       }) {
    Case c = pool_case(OpType::kMaxPool2D, s);
    check(c, Bound::kExact);
  }
  // Dilation 2 with padding 1 and 2: the top-left windows have taps in the padding whose
  // nearest image pixel (row or column 0, made the largest here) is not a tap when the
  // padding is 1; a pool that clamped padded taps to the border would return it.
  for (int32_t pad : {1, 2}) {
    Case c = pool_case(OpType::kMaxPool2D, {1, 9, 9, 4, 3, 3, 1, pad, pad, pad, pad, 2});
    std::vector<float>& x = c.values[c.g.inputs[0]];
    for (int32_t y = 0; y < 9; ++y)
      for (int32_t xx = 0; xx < 9; ++xx)
        if (y == 0 || xx == 0)
          for (int32_t ch = 0; ch < 4; ++ch) x[(y * 9 + xx) * 4 + ch] = 100.f + ch;
    check(c, Bound::kExact);
  }
}

TEST(XnnFloat, AveragePool) {
  for (const PoolSpec& s : std::vector<PoolSpec>{
           {1, 8, 8, 6, 2, 2, 2},                                   // 2x2 s2
           {2, 7, 5, 3, 3, 3, 1, 1, 1, 1, 1},                       // pad 1, padding not counted
           {1, 6, 6, 4, 3, 3, 2, 1, 1, 0, 0},                       // asymmetric padding
           {1, 6, 6, 4, 3, 3, 1, 0, 0, 0, 0, 1, true},              // include_pad without padding
           {1, 5, 5, 9, 2, 3, 1, 0, 1, 0, 1, 1, false, 0.f, 0.5f},  // clamp
       }) {
    Case c = pool_case(OpType::kAvgPool2D, s);
    check(c, Bound::kSum);
  }
}

TEST(XnnFloat, GlobalAveragePool) {
  for (std::vector<int32_t> shape : {std::vector<int32_t>{2, 7, 7, 16}, {1, 1, 1, 5}, {3, 4, 5, 2}}) {
    Case c;
    c.node(OpType::kGlobalAvgPool, {c.input(shape)});
    check(c, Bound::kSum);
  }
  Case c;
  Attrs a;
  a.act_min = 0.f;
  a.act_max = 0.5f;
  c.node(OpType::kGlobalAvgPool, {c.input({1, 3, 3, 7})}, a);
  check(c, Bound::kSum);
}

// ------------------------------------------------------------------ what stays on the reference

TEST(XnnFloat, DeclinesWhatXnnpackComputesDifferently) {
  {
    SCOPED_TRACE("average pool counting the padding");
    Case c = pool_case(OpType::kAvgPool2D, {1, 6, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, true});
    check_declined(c);
  }
  {
    SCOPED_TRACE("softmax over an outer axis");
    Case c;
    Attrs a;
    a.axis = 1;
    c.node(OpType::kSoftmax, {c.input({2, 5, 3})}, a);
    check_declined(c);
  }
  for (OpType op : {OpType::kTanh, OpType::kHardSigmoid}) {
    SCOPED_TRACE(op_name(op));
    Case c;
    Attrs a;
    a.alpha = 0.2f;
    a.beta = 0.5f;
    c.node(op, {c.input({2, 3})}, a);
    check_declined(c);
  }
  {
    SCOPED_TRACE("fully connected with weights computed at run time");
    Case c;
    const int32_t x = c.input({2, 8});
    const int32_t w = c.input({4, 8});
    c.node(OpType::kFullyConnected, {x, w});
    c.g.nodes.back().outputs = {c.add({2, 4})};
    std::unique_ptr<PreparedOp> op;
    ASSERT_TRUE(prepare_xnn_float_op(c.g, c.the_node(), OpContext(), &op).ok());
    EXPECT_EQ(op, nullptr);
  }
}

TEST(XnnFloat, DeclinesQuantizedNodes) {
  Case c;
  const int32_t x = c.input({1, 4, 4, 2});
  c.g.tensors[x].dtype = DType::kS8;
  c.g.tensors[x].quant.scale = {0.1f};
  c.g.tensors[x].quant.zero_point = {0};
  c.node(OpType::kMaxPool2D, {x});
  Attrs& a = c.g.nodes.back().attrs;
  a.kernel_h = a.kernel_w = a.stride_h = a.stride_w = 2;
  c.g.nodes.back().outputs = {c.add({1, 2, 2, 2})};
  c.g.tensors.back().dtype = DType::kS8;
  c.g.tensors.back().quant = c.g.tensors[x].quant;
  std::unique_ptr<PreparedOp> op;
  ASSERT_TRUE(prepare_xnn_float_op(c.g, c.the_node(), OpContext(), &op).ok());
  EXPECT_EQ(op, nullptr);
}

// Where XNNPACK refuses parameters itself (1x1 pooling, an empty clamp range), the op may
// go either way, but the result must be the reference's.
TEST(XnnFloat, EdgeParametersMatchTheReferenceWhicheverPathRuns) {
  std::vector<Case> cases(3);
  cases[0] = pool_case(OpType::kMaxPool2D, {1, 6, 6, 3, 1, 1, 2});
  cases[1] = pool_case(OpType::kAvgPool2D, {1, 6, 6, 3, 1, 1, 1});
  Attrs a;
  a.alpha = a.beta = 0.25f;
  cases[2].node(OpType::kClip, {cases[2].input({3, 4})}, a);
  for (Case& c : cases) {
    SCOPED_TRACE(c.the_node().name);
    ASSERT_TRUE(c.finish().ok());
    std::unique_ptr<PreparedOp> op;
    ASSERT_TRUE(prepare_xnn_float_op(c.g, c.the_node(), OpContext(), &op).ok());
    std::printf("[ xnn     ] %s: %s\n", c.the_node().name.c_str(), op ? op->kernel_name() : "declined");
    if (op) {
      expect_agree(c, run_op(c, op.get()), reference(c), Bound::kExact);
    }
  }
}

TEST(XnnFloat, AvailabilityAndTheSwitch) {
  EXPECT_EQ(xnn_float_available(), kBuiltWithXnnpack);
  Case c;
  c.node(OpType::kRelu, {c.input({4})});
  ASSERT_TRUE(c.finish().ok());
  ScopedEnv off("EDGEQ_XNNPACK", "0");
  EXPECT_FALSE(xnn_float_available());
  std::unique_ptr<PreparedOp> op;
  ASSERT_TRUE(prepare_xnn_float_op(c.g, c.the_node(), OpContext(), &op).ok());
  EXPECT_EQ(op, nullptr);
}

}  // namespace
}  // namespace edgeq
