// The mask kernels (kernels/ref/logical.cc): comparisons, logical ops and Where against
// an element-by-element numpy-broadcasting oracle on random shapes, reductions against
// sums written out, and the casts to and from bool.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "edgeq/edgeq.h"
#include "edgeq/edgeq.hpp"
#include "graph/format.h"
#include "kernels/ref/ref.h"
#include "test/test_graphs.h"

namespace edgeq {
namespace {

using Shape = std::vector<int32_t>;
using ref::LogicalOp;

int64_t count_of(const Shape& s) {
  int64_t n = 1;
  for (int32_t d : s) n *= d;
  return n;
}

// The offset in an input of `shape` (right-aligned, broadcast) of output element i.
int64_t oracle_offset(const Shape& shape, const Shape& out, int64_t i) {
  int64_t off = 0, stride = 1;
  for (int d = static_cast<int>(out.size()) - 1; d >= 0; --d) {
    const int64_t coord = i % out[d];
    i /= out[d];
    const int k = d - static_cast<int>(out.size() - shape.size());
    if (k >= 0) {
      if (shape[k] != 1) off += coord * stride;
      stride *= shape[k];
    }
  }
  return off;
}

// A random output shape of rank 1..6 and an input shape that broadcasts to it: some
// dimensions 1, some leading dimensions dropped.
Shape random_out(std::mt19937* rng) {
  const int rank = 1 + static_cast<int>((*rng)() % 6);
  Shape s(rank);
  for (int32_t& d : s) d = 1 + static_cast<int32_t>((*rng)() % 4);
  return s;
}
Shape broadcast_from(const Shape& out, std::mt19937* rng) {
  Shape s(out.begin() + static_cast<long>((*rng)() % (out.size() + 1) / 2), out.end());
  for (int32_t& d : s)
    if ((*rng)() % 3 == 0) d = 1;
  return s;
}

template <int K>
ref::BroadcastN<K> broadcast(const std::vector<Shape>& in, const Shape& out) {
  const Shape* p[K];
  for (int k = 0; k < K; ++k) p[k] = &in[k];
  ref::BroadcastN<K> bc;
  EXPECT_TRUE(ref::make_broadcast_n<K>(p, out, &bc));
  return bc;
}

TEST(Logical, CompareAndLogicBroadcastLikeNumpy) {
  std::mt19937 rng(31);
  for (int trial = 0; trial < 300; ++trial) {
    const Shape out = random_out(&rng);
    const std::vector<Shape> in = {broadcast_from(out, &rng), broadcast_from(out, &rng)};
    const ref::BroadcastN<2> bc = broadcast<2>(in, out);
    std::vector<int64_t> a(count_of(in[0])), b(count_of(in[1]));
    for (int64_t& v : a) v = static_cast<int64_t>(rng() % 3) - 1;
    for (int64_t& v : b) v = static_cast<int64_t>(rng() % 3) - 1;
    std::vector<uint8_t> ab(a.size()), bb(b.size()), y(count_of(out));
    for (size_t i = 0; i < a.size(); ++i) ab[i] = static_cast<uint8_t>(a[i] + 1);  // bytes 0, 1, 2: 2 reads true
    for (size_t i = 0; i < b.size(); ++i) bb[i] = static_cast<uint8_t>(b[i] + 1);
    for (LogicalOp op : {LogicalOp::kEqual, LogicalOp::kLess, LogicalOp::kGreater}) {
      ref::compare<int64_t>(op, bc, a.data(), b.data(), y.data());
      for (int64_t i = 0; i < count_of(out); ++i) {
        const int64_t va = a[oracle_offset(in[0], out, i)], vb = b[oracle_offset(in[1], out, i)];
        const bool e = op == LogicalOp::kEqual ? va == vb : op == LogicalOp::kLess ? va < vb : va > vb;
        ASSERT_EQ(y[i], e ? 1 : 0) << "trial " << trial << " op " << static_cast<int>(op) << " i " << i;
      }
    }
    for (LogicalOp op : {LogicalOp::kAnd, LogicalOp::kOr, LogicalOp::kXor, LogicalOp::kEqual}) {
      if (op == LogicalOp::kEqual) ref::compare<uint8_t>(op, bc, ab.data(), bb.data(), y.data());
      else ref::logical(op, bc, ab.data(), bb.data(), y.data());
      for (int64_t i = 0; i < count_of(out); ++i) {
        const bool va = ab[oracle_offset(in[0], out, i)] != 0, vb = bb[oracle_offset(in[1], out, i)] != 0;
        const bool e = op == LogicalOp::kAnd ? va && vb : op == LogicalOp::kOr ? va || vb : va != vb;
        ASSERT_EQ(y[i], (op == LogicalOp::kEqual ? va == vb : e) ? 1 : 0) << "trial " << trial;
      }
    }
  }
}

TEST(Logical, NotAndFloatComparisons) {
  const Shape s = {5};
  const ref::BroadcastN<2> bc = broadcast<2>({s, s}, s);
  const uint8_t x[5] = {0, 1, 7, 0, 255};
  uint8_t y[5];
  ref::logical(LogicalOp::kNot, bc, x, x, y);
  EXPECT_EQ(std::vector<uint8_t>(y, y + 5), (std::vector<uint8_t>{1, 0, 0, 1, 0}));
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  const float a[5] = {nan, 1.f, -inf, 0.f, 2.f}, b[5] = {nan, nan, -inf, -0.f, 1.f};
  ref::compare<float>(LogicalOp::kEqual, bc, a, b, y);
  EXPECT_EQ(std::vector<uint8_t>(y, y + 5), (std::vector<uint8_t>{0, 0, 1, 1, 0}));
  ref::compare<float>(LogicalOp::kGreater, bc, a, b, y);
  EXPECT_EQ(std::vector<uint8_t>(y, y + 5), (std::vector<uint8_t>{0, 0, 0, 0, 1}));
}

TEST(Logical, WhereBroadcastsItsThreeInputs) {
  std::mt19937 rng(32);
  for (int trial = 0; trial < 300; ++trial) {
    const Shape out = random_out(&rng);
    const std::vector<Shape> in = {broadcast_from(out, &rng), broadcast_from(out, &rng), broadcast_from(out, &rng)};
    const ref::BroadcastN<3> bc = broadcast<3>(in, out);
    std::vector<uint8_t> c(count_of(in[0]));
    for (uint8_t& v : c) v = static_cast<uint8_t>(rng() % 3);  // 2 reads true
    std::vector<float> x(count_of(in[1])), y(count_of(in[2])), o(count_of(out));
    for (float& v : x) v = static_cast<float>(rng() % 1000);
    for (float& v : y) v = -static_cast<float>(rng() % 1000) - 1.f;
    ref::where(bc, sizeof(float), c.data(), x.data(), y.data(), o.data());
    for (int64_t i = 0; i < count_of(out); ++i) {
      const float e = c[oracle_offset(in[0], out, i)] ? x[oracle_offset(in[1], out, i)] : y[oracle_offset(in[2], out, i)];
      ASSERT_EQ(o[i], e) << "trial " << trial << " i " << i;
    }
  }
}

TEST(Logical, BroadcastRejectsMismatches) {
  const Shape out = {2, 3}, bad = {4}, wide = {1, 2, 3};
  const Shape* p[2] = {&bad, &out};
  ref::BroadcastN<2> bc;
  EXPECT_FALSE(ref::make_broadcast_n<2>(p, out, &bc));
  p[0] = &wide;
  EXPECT_FALSE(ref::make_broadcast_n<2>(p, out, &bc));
}

TEST(Logical, ReduceOverAMiddleBlock) {
  // [2, 3, 4] summed over axis 1: out[o, i] = sum_k x[o, k, i], in index order.
  std::vector<float> x(24);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i) * 0.5f;
  std::vector<float> s(8), m(8);
  ref::reduce_f32(ref::ReduceOp::kSum, 2, 3, 4, x.data(), s.data());
  ref::reduce_f32(ref::ReduceOp::kMean, 2, 3, 4, x.data(), m.data());
  for (int o = 0; o < 2; ++o)
    for (int i = 0; i < 4; ++i) {
      const float e = (x[o * 12 + i] + x[o * 12 + 4 + i]) + x[o * 12 + 8 + i];
      EXPECT_EQ(s[o * 4 + i], e);
      EXPECT_EQ(m[o * 4 + i], e / 3.f);
    }
}

TEST(Logical, ReduceRowsInSixteenLanes) {
  std::mt19937 rng(33);
  for (int64_t count : {1, 5, 16, 37, 512}) {
    std::vector<float> x(static_cast<size_t>(count) * 2);
    for (float& v : x) v = std::uniform_real_distribution<float>(-3.f, 3.f)(rng);
    float got[2];
    ref::reduce_f32(ref::ReduceOp::kMean, 2, count, 1, x.data(), got);
    for (int o = 0; o < 2; ++o) {
      float lane[16] = {};
      for (int64_t k = 0; k < count; ++k) lane[k % 16] += x[o * count + k];
      for (int half = 8; half >= 1; half /= 2)
        for (int l = 0; l < half; ++l) lane[l] += lane[l + half];
      EXPECT_EQ(got[o], lane[0] / static_cast<float>(count)) << count;
    }
  }
}

TEST(Logical, ReduceMaxAndMin) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // [2, 3, 2] over axis 1.
  const float x[12] = {1, -5, 4, 2, -3, 9, nan, 0, 2, 7, 1, -1};
  float mx[4], mn[4];
  ref::reduce_f32(ref::ReduceOp::kMax, 2, 3, 2, x, mx);
  ref::reduce_f32(ref::ReduceOp::kMin, 2, 3, 2, x, mn);
  EXPECT_EQ(mx[0], 4.f);
  EXPECT_EQ(mx[1], 9.f);
  EXPECT_TRUE(std::isnan(mx[2]));
  EXPECT_EQ(mx[3], 7.f);
  EXPECT_EQ(mn[0], -3.f);
  EXPECT_EQ(mn[1], -5.f);
  EXPECT_TRUE(std::isnan(mn[2]));
  EXPECT_EQ(mn[3], -1.f);
}

TEST(Logical, IntegerArithmeticWrapsAndBroadcasts) {
  const Shape a_shape = {2, 3}, b_shape = {3}, out = {2, 3};
  const ref::BroadcastN<2> bc = broadcast<2>({a_shape, b_shape}, out);
  const int64_t big = std::numeric_limits<int64_t>::max();
  const int64_t a[6] = {1, 2, 3, big, -4, 5};
  const int64_t b[3] = {10, 1, -2};
  int64_t y[6];
  ref::binary_int<int64_t>(ref::BinaryOp::kAdd, bc, a, b, y);
  EXPECT_EQ(std::vector<int64_t>(y, y + 6), (std::vector<int64_t>{11, 3, 1, std::numeric_limits<int64_t>::min() + 9, -3, 3}));
  ref::binary_int<int64_t>(ref::BinaryOp::kMul, bc, a, b, y);
  const int64_t wrapped = static_cast<int64_t>(static_cast<uint64_t>(big) * 10u);  // -10 in two's complement
  EXPECT_EQ(std::vector<int64_t>(y, y + 6), (std::vector<int64_t>{10, 2, -6, wrapped, -4, -10}));
  const int32_t a32[6] = {7, 0, -1, 2, 2, 2};
  const int32_t b32[3] = {1, 2, 3};
  int32_t y32[6];
  ref::binary_int<int32_t>(ref::BinaryOp::kSub, bc, a32, b32, y32);
  EXPECT_EQ(std::vector<int32_t>(y32, y32 + 6), (std::vector<int32_t>{6, -2, -4, 1, 0, -1}));
}

// RoBERTa's position ids: cumsum of the non-padding flags along the sequence.
TEST(Logical, CumSumAlongAnAxis) {
  const int32_t flags[8] = {1, 1, 1, 0, 1, 0, 1, 1};  // [2, 4], along axis 1
  int32_t y[8];
  ref::cumsum<int32_t>(2, 4, 1, flags, y);
  EXPECT_EQ(std::vector<int32_t>(y, y + 8), (std::vector<int32_t>{1, 2, 3, 3, 1, 1, 2, 3}));
  ref::cumsum<int32_t>(1, 2, 4, flags, y);  // along axis 0 of [2, 4]
  EXPECT_EQ(std::vector<int32_t>(y, y + 8), (std::vector<int32_t>{1, 1, 1, 0, 2, 1, 2, 1}));
  const float f[4] = {0.5f, 0.25f, -1.f, 1e8f};
  float fy[4];
  ref::cumsum<float>(1, 4, 1, f, fy);
  EXPECT_EQ(std::vector<float>(fy, fy + 4), (std::vector<float>{0.5f, 0.75f, -0.25f, -0.25f + 1e8f}));
}

TEST(Logical, ArgMaxTakesTheFirstLargestAndNaN) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float x[8] = {1, 3, 3, 2, 0, nan, 5, nan};  // [2, 4] along axis 1
  int64_t y[2];
  ref::argmax<float>(2, 4, 1, x, y);
  EXPECT_EQ(y[0], 1);  // the first of the equal largest
  EXPECT_EQ(y[1], 1);  // the first NaN
  const int8_t q[6] = {-5, 7, 7, 100, -128, 127};  // [1, 3, 2] along axis 1: columns (-5, 7, -128), (7, 100, 127)
  int64_t yq[2];
  ref::argmax<int8_t>(1, 3, 2, q, yq);
  EXPECT_EQ(yq[0], 1);
  EXPECT_EQ(yq[1], 2);
}

TEST(Logical, CastsToAndFromBool) {
  const float f[4] = {0.f, -0.f, std::numeric_limits<float>::quiet_NaN(), -2.5f};
  uint8_t b[4];
  ref::cast_to_bool(4, f, b);
  EXPECT_EQ(std::vector<uint8_t>(b, b + 4), (std::vector<uint8_t>{0, 0, 1, 1}));
  const int64_t i[3] = {0, 5, -1};
  ref::cast_to_bool(3, i, b);
  EXPECT_EQ(std::vector<uint8_t>(b, b + 3), (std::vector<uint8_t>{0, 1, 1}));
  const uint8_t m[3] = {0, 1, 9};
  float out[3];
  int32_t out32[3];
  ref::cast_from_bool(3, m, out);
  ref::cast_from_bool(3, m, out32);
  EXPECT_EQ(std::vector<float>(out, out + 3), (std::vector<float>{0.f, 1.f, 1.f}));
  EXPECT_EQ(std::vector<int32_t>(out32, out32 + 3), (std::vector<int32_t>{0, 1, 1}));
}

// A bool padding mask through the C API: y = pad ? -1e4 : x, with the mask given as
// integers (non-zero true), as bytes, and read back as an int64 output.
TEST(Logical, BoolInputThroughTheCApi) {
  using testing_graphs::make_node;
  using testing_graphs::make_tensor;
  Graph g;
  g.producer = "test";
  const int32_t x = g.add_tensor(make_tensor("x", DType::kF32, {2, 3}));
  const int32_t pad = g.add_tensor(make_tensor("pad", DType::kBool, {2, 3}));
  Tensor fill = make_tensor("fill", DType::kF32, {1});
  const float v = -1e4f;
  fill.set_data(std::vector<uint8_t>(reinterpret_cast<const uint8_t*>(&v), reinterpret_cast<const uint8_t*>(&v) + 4));
  const int32_t f = g.add_tensor(fill);
  const int32_t y = g.add_tensor(make_tensor("y", DType::kF32, {2, 3}));
  const int32_t keep = g.add_tensor(make_tensor("keep", DType::kBool, {2, 3}));
  g.nodes.push_back(make_node("mask", OpType::kWhere, {pad, f, x}, {y}));
  g.nodes.push_back(make_node("not", OpType::kNot, {pad}, {keep}));
  g.inputs = {x, pad};
  g.outputs = {y, keep};
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(serialize_graph(g, &bytes).ok());
  api::Model model;
  ASSERT_EQ(model.load(bytes.data(), bytes.size()), EDGEQ_OK);
  api::Session s;
  ASSERT_EQ(s.create(model), EDGEQ_OK);
  EXPECT_EQ(s.input_info(1).dtype, EDGEQ_BOOL);
  EXPECT_EQ(s.input_info(1).byte_size, 6u);
  const float xs[6] = {1, 2, 3, 4, 5, 6};
  const int64_t as_ints[6] = {0, 5, 0, -1, 0, 0};
  const uint8_t as_bytes[6] = {0, 1, 0, 200, 0, 0};
  for (int way = 0; way < 2; ++way) {
    ASSERT_EQ(edgeq_session_set_input_f32(s.get(), 0, xs, 6), EDGEQ_OK);  // every run: the arena reuses inputs
    ASSERT_EQ(way == 0 ? edgeq_session_set_input_s64(s.get(), 1, as_ints, 6)
                       : edgeq_session_set_input_raw(s.get(), 1, as_bytes, 6),
              EDGEQ_OK);
    ASSERT_EQ(s.run(), EDGEQ_OK);
    EXPECT_EQ(s.output_f32(0), (std::vector<float>{1, -1e4f, 3, -1e4f, 5, 6})) << way;
    int64_t k[6];
    ASSERT_EQ(edgeq_session_get_output_s64(s.get(), 1, k, 6), EDGEQ_OK);
    EXPECT_EQ(std::vector<int64_t>(k, k + 6), (std::vector<int64_t>{1, 0, 1, 0, 1, 1})) << way;
  }
  // A bool input takes no float values, and a count must match.
  EXPECT_EQ(edgeq_session_set_input_f32(s.get(), 1, xs, 6), EDGEQ_INVALID_ARGUMENT);
  EXPECT_EQ(edgeq_session_set_input_s64(s.get(), 1, as_ints, 5), EDGEQ_INVALID_ARGUMENT);
}

}  // namespace
}  // namespace edgeq
