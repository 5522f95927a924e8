// The indirect-GEMM driver (QConvOp, kernels/qconv.h) on every level of this build's
// architecture that the host runs, against the scalar reference, bit for bit. The
// microkernels themselves are tested directly in gemm_ukernel_test.cc.
//
// Sweeps: k (in_c x taps) below, equal to and above the kernels' k block; partial tiles
// in m and n; 1x1, 3x3, 5x5, 7x7 kernels; strides, dilation, asymmetric padding;
// batch 2; fully connected; clamps; fp32 and fixed-point requantization with ties,
// saturating and extreme parameters; int8 and uint8 activations; per-tensor and
// per-channel; weights including -128 (for the exact kernels; the kernels for weights
// in [-127, 127], suffix _w127, get -127 where the others get -128); extreme zero points; bias null and non-null;
// a second input buffer (the tile pointers follow it); tiles whose windows lie inside
// the input beside tiles at the borders and tiles straddling output rows (the two ways
// a tile's pointers are built); 2 and 3 threads equal to 1; grouped convolutions
// (groups below, equal to and above the tile sizes, channel multipliers, 1x1 and
// spatial), and the kernel size beyond which a tile's pointers do not fit the stack;
// cache-blocked layers (kernels/gemm_blocking.h, forced with small caches): K split in
// whole taps and in channel slices of one tap, pixel groups with partial and
// single-row tiles, partial channel blocks, 1 to 3 threads.
#include "kernels/qconv.h"

#include <gtest/gtest.h>
#include <pthreadpool.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "runtime/schedule.h"
#include "test/gemm_tester.h"

namespace edgeq {
namespace kern {
namespace {

constexpr size_t kSlack = 128;  // input read slack given to the kernels (>= kr + 64)

// One convolution problem and its operands.
struct Problem {
  ref::ConvShape shape{};
  bool fc = false;  // compare with ref::qfully_connected instead of ref::qconv2d
  bool act_s8 = false;
  int32_t x_zp = 0;
  std::vector<uint8_t> x;  // input bytes + kSlack
  std::vector<int8_t> w;
  std::vector<int32_t> bias;  // empty: null
  RequantData rq;

  size_t in_bytes() const { return static_cast<size_t>(shape.batch) * shape.in_h * shape.in_w * shape.in_c; }
  size_t out_bytes() const { return static_cast<size_t>(shape.batch) * shape.out_h * shape.out_w * shape.out_c; }
  QConvParams params() const {
    QConvParams p;
    p.shape = shape;
    p.act_s8 = act_s8;
    p.x_zero_point = x_zp;
    p.weight = w.data();
    p.bias = bias.empty() ? nullptr : bias.data();
    p.rq = rq.rq;
    return p;
  }
  std::vector<uint8_t> reference() const {
    std::vector<uint8_t> y(out_bytes());
    const int32_t w_zp = 0;
    const int32_t* b = bias.empty() ? nullptr : bias.data();
    if (fc) {
      const int32_t m = shape.in_w, n = shape.out_c, k = shape.in_c;
      if (act_s8) {
        ref::qfully_connected<int8_t>(m, n, k, reinterpret_cast<const int8_t*>(x.data()), x_zp, w.data(), &w_zp, false,
                                      b, rq.rq, reinterpret_cast<int8_t*>(y.data()));
      } else {
        ref::qfully_connected<uint8_t>(m, n, k, x.data(), x_zp, w.data(), &w_zp, false, b, rq.rq, y.data());
      }
    } else if (act_s8) {
      ref::qconv2d<int8_t>(shape, reinterpret_cast<const int8_t*>(x.data()), x_zp, w.data(), &w_zp, false, b, rq.rq,
                           reinterpret_cast<int8_t*>(y.data()));
    } else {
      ref::qconv2d<uint8_t>(shape, x.data(), x_zp, w.data(), &w_zp, false, b, rq.rq, y.data());
    }
    return y;
  }
};

// Settings swept for every shape.
struct Variant {
  bool act_s8;
  ref::Scheme scheme;
  bool per_channel;
  bool bias;
  bool clamp;  // a narrow [qmin, qmax] instead of the type's range
  Extremes extremes;
};

std::vector<Variant> all_variants() {
  std::vector<Variant> v;
  for (int s8 = 0; s8 < 2; ++s8)
    for (int fixed = 0; fixed < 2; ++fixed)
      for (int pc = 0; pc < 2; ++pc)
        for (int bias = 0; bias < 2; ++bias)
          for (int clamp = 0; clamp < 2; ++clamp)
            v.push_back({s8 != 0, fixed ? ref::Scheme::kFixedPoint : ref::Scheme::kFp32, pc != 0, bias != 0, clamp != 0,
                         (pc != 0 && bias != 0) ? Extremes::kSome : Extremes::kNone});
  return v;
}

// w127: weights in [-127, 127] (for the kernels valid only there), -127 in place of -128.
Problem make_problem(const ref::ConvShape& shape, const Variant& v, std::mt19937& rng, bool w127) {
  Problem p;
  p.shape = shape;
  p.act_s8 = v.act_s8;
  const int32_t lo = v.act_s8 ? -128 : 0, hi = v.act_s8 ? 127 : 255;
  const int32_t w_min = w127 ? -127 : -128;
  std::uniform_int_distribution<int32_t> byte(0, 255), type_value(lo, hi), weight(w_min, 127);
  p.x.resize(p.in_bytes() + kSlack);
  for (uint8_t& b : p.x) b = static_cast<uint8_t>(byte(rng));
  const int32_t zp_choices[] = {lo, hi, type_value(rng), type_value(rng)};
  p.x_zp = zp_choices[rng() % 4];
  const size_t k = static_cast<size_t>(shape.kernel_h) * shape.kernel_w * (shape.in_c / shape.groups);
  p.w.resize(static_cast<size_t>(shape.out_c) * k);
  for (size_t i = 0; i < p.w.size(); ++i) {
    const uint32_t r = rng() % 16;  // some runs of the extremes, -128 included
    p.w[i] = static_cast<int8_t>(r == 0 ? w_min : r == 1 ? 127 : weight(rng));
  }
  if (!p.w.empty() && shape.out_c > 1) {  // one channel entirely -128: the largest |sum|
    for (size_t i = 0; i < k; ++i) p.w[k + i] = static_cast<int8_t>(w_min);
  }
  if (v.bias) {
    std::uniform_int_distribution<int32_t> b(-100000, 100000);
    p.bias.resize(static_cast<size_t>(shape.out_c));
    for (int32_t& x : p.bias) x = b(rng);
    p.bias[0] = std::numeric_limits<int32_t>::max();  // wraps with any positive sum
  }
  std::uniform_int_distribution<int32_t> zp_dist(lo, hi);
  const int32_t y_zp = zp_dist(rng);
  int32_t qmin = lo, qmax = hi;
  if (v.clamp) {
    qmin = std::min(std::max(y_zp - 5, lo), hi);
    qmax = std::min(qmin + 60, hi);
  }
  // Typical |acc| ~ sqrt(k) * 74 * 74; map it to about +-100, spread per channel.
  const double typical = 100.0 / (std::sqrt(static_cast<double>(k)) * 74.0 * 74.0);
  std::uniform_real_distribution<double> spread(0.5, 2.0);
  p.rq = make_requant(
      v.scheme, v.per_channel, shape.out_c, [&](size_t) { return typical * spread(rng); }, y_zp, qmin, qmax,
      v.extremes);
  return p;
}

std::string describe(const ref::ConvShape& s, const Variant& v) {
  char buf[320];
  std::snprintf(buf, sizeof(buf),
                "batch %d in %dx%dx%d out %dx%dx%d groups %d kernel %dx%d stride %d dil %d pad %d,%d | %s %s %s bias %d "
                "clamp "
                "%d extremes %d",
                s.batch, s.in_h, s.in_w, s.in_c, s.out_h, s.out_w, s.out_c, s.groups, s.kernel_h, s.kernel_w, s.stride_h,
                s.dilation_h, s.pad_top, s.pad_left, v.act_s8 ? "s8" : "u8",
                v.scheme == ref::Scheme::kFp32 ? "fp32" : "fixed", v.per_channel ? "per-channel" : "per-tensor", v.bias,
                v.clamp, v.extremes == Extremes::kSome);
  return buf;
}

// Runs `p` through QConvOp on `isa` and compares with the reference; the output
// buffer has guard bytes that must stay untouched.
// `caches`: the cache sizes the driver's blocking derives from (null: the host's).
void expect_equal_to_reference(const QGemmKernel& kernel, const Problem& p, pthreadpool_t pool,
                               const std::string& what, const CacheSizes* caches = nullptr) {
  QConvOp op;
  ASSERT_TRUE(op.init(p.params(), kernel, caches)) << what;
  EXPECT_GT(op.packed_bytes(), 0u);
  const std::vector<uint8_t> want = p.reference();
  constexpr size_t kGuard = 64;
  std::vector<uint8_t> got(p.out_bytes() + kGuard, 0xA5);
  Scheduler(pool).run(op, p.x.data(), got.data());
  for (size_t i = 0; i < want.size(); ++i) {
    if (got[i] != want[i]) {
      const size_t c = i % p.shape.out_c;
      ADD_FAILURE() << kernel.name << " " << what << ": output " << i << " (pixel " << i / p.shape.out_c
                    << ", channel " << c << ") is " << int(got[i]) << ", reference " << int(want[i]);
      return;
    }
  }
  for (size_t i = want.size(); i < got.size(); ++i) ASSERT_EQ(got[i], 0xA5) << what << ": wrote past the output";
  // A second input buffer: the tiles' pointers must follow the new pointer.
  Problem q = p;
  std::mt19937 rng(7);
  for (uint8_t& b : q.x) b = static_cast<uint8_t>(rng());
  std::vector<uint8_t> got2(p.out_bytes());
  Scheduler(pool).run(op, q.x.data(), got2.data());
  ASSERT_EQ(got2, q.reference()) << kernel.name << " " << what << " (second input)";
}

class QConvTest : public ::testing::TestWithParam<GemmCase> {
 protected:
  void SetUp() override {
    if (!isa_supported(GetParam().isa)) GTEST_SKIP() << isa_name(GetParam().isa) << " not supported by this CPU";
    if (kernel().u8 == nullptr) GTEST_SKIP() << isa_name(GetParam().isa) << " has no such GEMM kernel";
  }
  const QGemmKernel& kernel() const { return GetParam().kernel(); }
  Problem make_problem(const ref::ConvShape& shape, const Variant& v, std::mt19937& rng) const {
    return kern::make_problem(shape, v, rng, GetParam().w127);
  }
  void sweep(const std::vector<ref::ConvShape>& shapes, uint32_t seed) {
    std::mt19937 rng(seed);
    for (const ref::ConvShape& s : shapes)
      for (const Variant& v : all_variants()) {
        const Problem p = make_problem(s, v, rng);
        expect_equal_to_reference(kernel(), p, nullptr, describe(s, v));
        if (HasFailure()) return;
      }
  }
};

// k = in_c around the k block (kr), n around nr, m around mr, on 1x1 convolutions.
TEST_P(QConvTest, PointwiseKAndTileEdges) {
  const QGemmKernel& k = kernel();
  const int32_t kr = static_cast<int32_t>(k.kr), nr = static_cast<int32_t>(k.nr), mr = static_cast<int32_t>(k.mr);
  std::vector<ref::ConvShape> shapes;
  for (int32_t in_c : {1, kr - 1, kr, kr + 1, 2 * kr + 3, 64})
    for (int32_t out_c : {1, nr - 1, nr, nr + 1, 2 * nr + 5})
      shapes.push_back(conv_shape(1, 1, mr * 2 + 1, std::max(in_c, 1), out_c, 1, 1, 1, 1, 0, 0, 0, 0));
  shapes.push_back(conv_shape(1, 3, 3, 16, 24, 1, 1, 1, 1, 0, 0, 0, 0));
  shapes.push_back(conv_shape(1, 1, mr - 1, 5, nr + 3, 1, 1, 1, 1, 0, 0, 0, 0));
  sweep(shapes, 1);
}

TEST_P(QConvTest, SpatialKernels) {
  std::vector<ref::ConvShape> shapes = {
      conv_shape(1, 7, 7, 8, 17, 3, 3, 1, 1, 1, 1, 1, 1),    // 3x3 same
      conv_shape(1, 9, 8, 5, 33, 3, 3, 2, 1, 1, 1, 1, 1),    // 3x3 stride 2
      conv_shape(1, 8, 8, 3, 20, 5, 5, 1, 1, 2, 2, 2, 2),    // 5x5
      conv_shape(1, 15, 13, 3, 64, 7, 7, 2, 1, 3, 3, 3, 3),  // conv1-like 7x7 / 2, in_c 3
      conv_shape(1, 9, 9, 7, 9, 3, 3, 1, 2, 2, 2, 2, 2),     // dilation 2
      conv_shape(1, 6, 7, 12, 31, 3, 3, 1, 1, 0, 1, 2, 0),   // asymmetric padding
      conv_shape(2, 5, 6, 9, 40, 3, 3, 1, 1, 1, 1, 1, 1),    // batch 2
      conv_shape(2, 8, 8, 16, 12, 1, 1, 2, 1, 0, 0, 0, 0),   // 1x1 stride 2 (downsample)
      conv_shape(1, 4, 4, 33, 7, 3, 3, 1, 1, 0, 0, 0, 0),    // valid, k above the block
      conv_shape(1, 3, 3, 2, 5, 3, 3, 1, 1, 1, 1, 1, 1),     // everything tiny
  };
  sweep(shapes, 2);
}

// Larger images, whose inner tiles have every window inside the input (their pointers
// are one add each, qconv.cc) beside border tiles; output widths that are not a
// multiple of mr, so tiles straddle rows; 7x7 / 2 on 3 channels (the stem of ResNets).
TEST_P(QConvTest, InnerAndBorderTiles) {
  const int32_t mr = static_cast<int32_t>(kernel().mr);
  std::vector<ref::ConvShape> shapes = {
      conv_shape(1, 40, 37, 3, 20, 7, 7, 2, 1, 3, 3, 2, 3),            // stem-like, out 19 x 19
      conv_shape(1, 12, 4 * mr + 2, 8, 17, 3, 3, 1, 1, 1, 1, 1, 1),     // 3x3 same, rows of 4 mr + 2
      conv_shape(1, 11, 3 * mr, 5, 9, 3, 3, 1, 1, 0, 0, 0, 0),          // valid: only the last rows' tiles border
      conv_shape(2, 13, 2 * mr + 5, 6, 7, 3, 5, 1, 2, 2, 4, 2, 4),       // dilation 2, batch 2, 3x5
      conv_shape(1, 9, 5 * mr + 1, 4, 33, 1, 1, 2, 1, 0, 0, 0, 0),       // 1x1 stride 2
  };
  sweep(shapes, 9);
}

TEST_P(QConvTest, FullyConnected) {
  std::mt19937 rng(3);
  for (int32_t m : {1, 3, 9})
    for (int32_t k : {1, 7, 64, 300})
      for (int32_t n : {1, 13, 40, 100}) {
        ref::ConvShape s = conv_shape(1, 1, m, k, n, 1, 1, 1, 1, 0, 0, 0, 0);
        for (const Variant& v : all_variants()) {
          if (v.clamp) continue;
          Problem p = make_problem(s, v, rng);
          p.fc = true;
          expect_equal_to_reference(kernel(), p, nullptr, "fc " + describe(s, v));
          if (HasFailure()) return;
        }
      }
}

// Input zero points outside the activation type: fine without padding (the bias
// absorbs them, accumulators wrap), refused with padding (the zero buffer cannot hold
// them) so that the caller keeps the reference kernel. Extreme output zero points.
TEST_P(QConvTest, ExtremeZeroPoints) {
  std::mt19937 rng(4);
  const ref::ConvShape valid = conv_shape(1, 5, 5, 19, 21, 3, 3, 1, 1, 0, 0, 0, 0);
  const ref::ConvShape padded = conv_shape(1, 5, 5, 19, 21, 3, 3, 1, 1, 1, 1, 1, 1);
  for (const Variant& v : all_variants()) {
    for (int32_t x_zp : {-(1 << 30), 1000, INT32_MAX, INT32_MIN}) {
      Problem p = make_problem(valid, v, rng);
      p.x_zp = x_zp;
      expect_equal_to_reference(kernel(), p, nullptr, "x_zp " + std::to_string(x_zp) + " " + describe(valid, v));
      Problem q = make_problem(padded, v, rng);
      q.x_zp = x_zp;
      QConvOp op;
      EXPECT_FALSE(op.init(q.params(), kernel()));
    }
    // Output zero points far outside the type (the clamp still applies).
    for (int32_t y_zp : {-100000, 100000, (1 << 24) - 300}) {
      Problem p = make_problem(valid, v, rng);
      p.rq.rq.zero_point = y_zp;
      expect_equal_to_reference(kernel(), p, nullptr, "y_zp " + std::to_string(y_zp) + " " + describe(valid, v));
    }
    if (HasFailure()) return;
  }
  // Output zero points beyond 2^24 from the clamp: exact in the fixed-point scheme,
  // refused in the fp32 scheme (its float clamp bounds would not be exact).
  for (int32_t y_zp : {INT32_MIN, INT32_MAX, -(1 << 30)}) {
    for (ref::Scheme scheme : {ref::Scheme::kFp32, ref::Scheme::kFixedPoint}) {
      Variant v{false, scheme, true, true, false, Extremes::kSome};
      Problem p = make_problem(valid, v, rng);
      p.rq.rq.zero_point = y_zp;
      if (scheme == ref::Scheme::kFixedPoint) {
        expect_equal_to_reference(kernel(), p, nullptr, "fixed y_zp " + std::to_string(y_zp));
      } else {
        QConvOp op;
        EXPECT_FALSE(op.init(p.params(), kernel()));
      }
    }
  }
}

ref::ConvShape grouped(ref::ConvShape s, int32_t groups) {
  s.groups = groups;
  return s;
}

// Grouped convolutions: per-group channels below, at and above nr (blocks never
// straddle groups), per-group k below, at and above kr, channel multipliers
// (in_c / groups = 1), 1x1 (channel-shuffle networks) and spatial kernels.
TEST_P(QConvTest, GroupedConvolutions) {
  const int32_t nr = static_cast<int32_t>(kernel().nr), kr = static_cast<int32_t>(kernel().kr);
  std::vector<ref::ConvShape> shapes = {
      grouped(conv_shape(1, 4, 4, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1), 2),
      grouped(conv_shape(1, 9, 8, 16, 32, 3, 3, 2, 1, 1, 1, 1, 1), 4),           // 8 channels a group, stride 2
      grouped(conv_shape(1, 5, 6, 3 * kr, 3 * (nr + 1), 3, 3, 1, 1, 1, 1, 1, 1), 3),  // two blocks a group
      grouped(conv_shape(1, 6, 6, 5, 10, 3, 3, 1, 1, 1, 1, 1, 1), 5),             // channel multiplier 2
      grouped(conv_shape(1, 7, 7, 64, 64, 3, 3, 1, 1, 1, 1, 1, 1), 8),            // RegNet-like, 8 a group
      grouped(conv_shape(1, 5, 5, 24, 48, 1, 1, 1, 1, 0, 0, 0, 0), 3),            // 1x1 grouped
      grouped(conv_shape(2, 8, 9, 6, 9, 5, 5, 1, 2, 4, 4, 4, 4), 3),              // batch 2, 5x5, dilation 2
      grouped(conv_shape(1, 3, 4, 2 * (kr + 1), 2 * (2 * nr - 1), 3, 3, 1, 1, 0, 1, 2, 0), 2),  // odd k and n
  };
  sweep(shapes, 5);
}

// Patch embeddings (stride = kernel, ViT's 16x16 / 16 on 3 channels) run with the
// window's columns folded into the channels; shapes that must not fold (input width
// not a multiple of the window, padding, dilation, groups) beside them.
TEST_P(QConvTest, PatchifyConvolutions) {
  const ref::ConvShape vit = conv_shape(1, 32, 48, 3, 40, 16, 16, 16, 1, 0, 0, 0, 0);
  const ref::ConvShape folded = fold_window_columns(vit);
  EXPECT_EQ(folded.kernel_w, 1);
  EXPECT_EQ(folded.in_c, 48);
  EXPECT_EQ(folded.in_w, 3);
  EXPECT_EQ(folded.stride_w, 1);
  EXPECT_EQ(folded.out_w, 3);
  const ref::ConvShape odd_width = conv_shape(1, 8, 18, 5, 9, 4, 4, 4, 1, 0, 0, 0, 0);  // 2 columns left over
  EXPECT_EQ(fold_window_columns(odd_width).kernel_w, 4);
  const ref::ConvShape padded = conv_shape(1, 8, 8, 3, 9, 2, 2, 2, 1, 1, 1, 1, 1);
  EXPECT_EQ(fold_window_columns(padded).kernel_w, 2);
  const std::vector<ref::ConvShape> shapes = {
      vit,
      conv_shape(2, 12, 24, 7, 33, 4, 4, 4, 1, 0, 0, 0, 0),  // batch 2, 28 channels folded
      conv_shape(1, 9, 20, 3, 17, 3, 2, 2, 1, 0, 0, 0, 0),   // 3x2, stride 2 (stride_h 2 too)
      odd_width,
      padded,
      conv_shape(1, 8, 16, 4, 8, 2, 2, 2, 2, 0, 0, 0, 0),    // dilation 2: not folded
      grouped(conv_shape(1, 8, 16, 4, 8, 2, 2, 2, 1, 0, 0, 0, 0), 2),  // groups: not folded
  };
  sweep(shapes, 12);
}

// Convolutions over at most kr channels run with their window rows folded into taps
// of kernel_w * in_c bytes over a padded copy of the input (fold_window_rows): image
// stems, left and right padding, strides below and above the width, dilated rows,
// batches, and the shapes that must not fold.
TEST_P(QConvTest, WindowRowFolds) {
  const int32_t kr = static_cast<int32_t>(kernel().kr);
  const ref::ConvShape stem = conv_shape(1, 30, 29, 3, 16, 7, 7, 2, 1, 3, 3, 3, 3);  // ResNet's, 30x29
  const WindowRowFold f = fold_window_rows(stem, kernel().kr);
  if (kr >= 3) {
    ASSERT_TRUE(f.active);
    EXPECT_EQ(f.shape.kernel_w, 1);
    EXPECT_EQ(f.shape.in_c, 21);
    EXPECT_EQ(f.shape.in_w, stem.out_w);
    EXPECT_EQ(f.shape.stride_w, 1);
    EXPECT_EQ(f.shape.pad_left, 0);
    // out_w 15: windows 0 and 1 start left of the input, 13 and 14 end right of it
    // (window x covers columns 2x - 3 to 2x + 3 of 0 to 28).
    EXPECT_EQ(f.inside_begin, 2u);
    EXPECT_EQ(f.inside_end, 13u);
    EXPECT_EQ(f.edge_windows, 4u);
  }
  EXPECT_FALSE(fold_window_rows(conv_shape(1, 8, 8, kr + 1, 8, 5, 5, 1, 1, 2, 2, 2, 2), kernel().kr).active);
  EXPECT_FALSE(fold_window_rows(conv_shape(1, 12, 12, 2, 8, 5, 5, 1, 2, 4, 4, 4, 4), kernel().kr).active);
  EXPECT_FALSE(fold_window_rows(grouped(conv_shape(1, 8, 8, 2, 8, 5, 5, 1, 1, 2, 2, 2, 2), 2), kernel().kr).active);
  EXPECT_FALSE(fold_window_rows(conv_shape(1, 8, 8, 2, 8, 3, 3, 1, 1, 1, 1, 1, 1), kernel().kr).active);
  ref::ConvShape dilated_rows = conv_shape(1, 13, 11, 2, 9, 3, 5, 1, 1, 2, 2, 2, 2);
  dilated_rows.dilation_h = 2;
  dilated_rows.out_h = 13;  // (13 + 2 + 2 - 5) / 1 + 1
  const std::vector<ref::ConvShape> shapes = {
      stem,
      conv_shape(2, 17, 23, 3, 40, 5, 5, 2, 1, 2, 2, 2, 2),   // 5x5 stride 2, odd width, batch 2
      conv_shape(1, 9, 31, 1, 8, 5, 5, 1, 1, 2, 2, 2, 2),     // one channel, stride 1
      conv_shape(1, 6, 19, kr, 33, 3, 5, 1, 1, 0, 0, 0, 0),   // kr channels, no padding
      conv_shape(1, 7, 20, 2, 12, 3, 6, 2, 1, 0, 0, 1, 2),    // right padding only
      conv_shape(1, 10, 36, 3, 16, 5, 5, 6, 1, 1, 1, 1, 1),   // stride above the width: gaps
      conv_shape(1, 4, 3, 2, 8, 3, 5, 1, 1, 1, 2, 1, 2),      // every window crosses an edge
      conv_shape(1, 5, 4, 3, 70, 5, 5, 1, 1, 2, 2, 2, 2),     // few pixels: channel blocks outer
      dilated_rows,
      conv_shape(1, 8, 16, kr + 1, 8, 5, 5, 1, 1, 2, 2, 2, 2),  // more channels: not folded
      conv_shape(1, 9, 14, 3, 8, 3, 3, 2, 1, 1, 1, 1, 1),       // 3x3: not folded
  };
  sweep(shapes, 14);
}

// The pointers of one tile live on the stack: kernels of more than
// kQConvMaxTilePointers / mr taps are declined (the caller keeps the reference),
// grouped or not; the largest that fits runs.
TEST_P(QConvTest, DeclinesKernelsWithTooManyTaps) {
  std::mt19937 rng(8);
  const int32_t taps = static_cast<int32_t>(kQConvMaxTilePointers / kernel().mr);
  // More channels than kr: the window's rows are not folded (fold_window_rows).
  const int32_t in_c = 2 * (static_cast<int32_t>(kernel().kr) + 1);
  for (int32_t groups : {1, 2}) {
    const ref::ConvShape fits = grouped(conv_shape(1, 2, taps + 1, in_c, 4, 1, taps, 1, 1, 0, 0, 0, 0), groups);
    const ref::ConvShape too_big =
        grouped(conv_shape(1, 2, taps + 1, in_c, 4, 1, taps + 1, 1, 1, 0, 0, 0, 0), groups);
    Problem p = make_problem(too_big, all_variants()[0], rng);
    QConvOp op;
    EXPECT_FALSE(op.init(p.params(), kernel())) << groups << " groups";
    EXPECT_EQ(op.packed_bytes(), 0u);
    expect_equal_to_reference(kernel(), make_problem(fits, all_variants()[0], rng), nullptr,
                              "1x" + std::to_string(taps) + ", " + std::to_string(groups) + " groups");
  }
}

// 2 and 3 threads equal 1 thread (and the reference), on shapes with many tiles in
// both pixel-outer and channel-outer order.
TEST_P(QConvTest, ThreadsEqualOneThread) {
  std::mt19937 rng(6);
  const std::vector<ref::ConvShape> shapes = {
      conv_shape(2, 13, 11, 24, 70, 3, 3, 1, 1, 1, 1, 1, 1),  // many pixels: pixel tiles outer
      conv_shape(1, 3, 3, 40, 200, 3, 3, 1, 1, 1, 1, 1, 1),   // few pixels: channel blocks outer
      grouped(conv_shape(1, 10, 10, 48, 96, 3, 3, 1, 1, 1, 1, 1, 1), 6),  // grouped
      conv_shape(1, 30, 29, 3, 16, 7, 7, 2, 1, 3, 3, 3, 3),                // stem-like, inner tiles
  };
  for (size_t threads : {2, 3}) {
    pthreadpool_t pool = pthreadpool_create(threads);
    ASSERT_NE(pool, nullptr);
    for (const ref::ConvShape& s : shapes) {
      for (const Variant& v : {Variant{false, ref::Scheme::kFp32, true, true, true, Extremes::kNone},
                               Variant{true, ref::Scheme::kFixedPoint, false, false, false, Extremes::kNone}}) {
        const Problem p = make_problem(s, v, rng);
        QConvOp op;
        ASSERT_TRUE(op.init(p.params(), kernel()));
        std::vector<uint8_t> one(p.out_bytes()), many(p.out_bytes());
        op.run(p.x.data(), one.data());
        Scheduler(pool).run(op, p.x.data(), many.data());
        EXPECT_EQ(one, many) << threads << " threads, " << describe(s, v);
        expect_equal_to_reference(kernel(), p, pool, std::to_string(threads) + " threads " + describe(s, v));
      }
    }
    pthreadpool_destroy(pool);
  }
}

// Blocked layers (kernels/gemm_blocking.h) on caches small enough to block small
// shapes: each shape must really be blocked (a task runs a group of pixel tiles) and
// equal the reference, serially and on 2 and 3 threads.
TEST_P(QConvTest, CacheBlockedLayers) {
  if (!kernel().acc_input) GTEST_SKIP() << kernel().name << " cannot continue from int32 accumulators";
  // 8 KiB of L1 and 256 KiB of L2 for a tile of 256 accumulators (the AVX512-VNNI
  // kernel's 8 x 32), scaled for larger tiles so that a group holds two tiles or more:
  // the L1 by the tile's growth, the L2 by its square (a tile's gathered rows grow
  // with mr, and the shapes' K below with the L1).
  const size_t scale = std::max<size_t>(1, kernel().mr * kernel().nr / 256);
  const CacheSizes small{8 * 1024 * scale, 256 * 1024 * scale * scale};
  const size_t col = kernel().nr * (kernel().wide_weights ? 2 : 1);  // weight bytes per input channel of a block
  // Input channels whose one tap fits a chunk (K split in whole taps), and whose one
  // tap does not (channel slices, two to three of them).
  const int32_t taps_kc = static_cast<int32_t>(small.l1d / 2 / col / 3);
  const int32_t slice_kc = static_cast<int32_t>(small.l1d / 2 / col * 5 / 2 + 3);
  const int32_t rows = 6 * static_cast<int32_t>(std::max<size_t>(1, kernel().mr / 8));  // 4 tiles or more
  const std::vector<ref::ConvShape> shapes = {
      conv_shape(1, 7, 7, taps_kc, 70, 3, 3, 1, 1, 1, 1, 1, 1),           // 49 pixels, taps split
      conv_shape(1, 14, 14, taps_kc + 1, 40, 3, 3, 2, 1, 1, 1, 1, 1),     // stride 2, border tiles
      conv_shape(2, 5, 6, slice_kc, 33, 1, 1, 1, 1, 0, 0, 0, 0),          // 1x1, channel slices, batch 2
      conv_shape(1, rows, 5, slice_kc, 17, 3, 3, 1, 1, 1, 1, 1, 1),       // 3x3, channel slices of each tap
      conv_shape(1, 9, 9, taps_kc, 2 * static_cast<int32_t>(kernel().nr), 5, 5, 1, 2, 4, 3, 4, 5),  // dilation
      // 3 channels: window rows folded (16 taps of 33 bytes), the taps split.
      conv_shape(1, 20, 24, 3, 2 * static_cast<int32_t>(kernel().nr), 16, 11, 2, 1, 5, 5, 5, 5),
  };
  std::mt19937 rng(12);
  std::vector<Variant> variants = all_variants();
  for (const ref::ConvShape& shape : shapes) {
    QConvOp probe;
    const Problem first = make_problem(shape, variants[0], rng);
    ASSERT_TRUE(probe.init(first.params(), kernel(), &small));
    const QConvOp::Grid g = probe.grid();
    EXPECT_GT(g.m_step, g.mr) << describe(shape, variants[0]) << ": not blocked";
    EXPECT_TRUE(g.n_outer);
    for (size_t i = 0; i < variants.size(); i += 3) {
      const Problem p = make_problem(shape, variants[i], rng);
      expect_equal_to_reference(kernel(), p, nullptr, "blocked " + describe(shape, variants[i]), &small);
      if (HasFailure()) return;
    }
  }
  for (size_t threads : {2, 3}) {
    pthreadpool_t pool = pthreadpool_create(threads);
    ASSERT_NE(pool, nullptr);
    for (const ref::ConvShape& shape : shapes) {
      const Problem p = make_problem(shape, variants[5], rng);
      expect_equal_to_reference(kernel(), p, pool, std::to_string(threads) + " threads blocked " + describe(shape, variants[5]),
                                &small);
    }
    pthreadpool_destroy(pool);
  }
}

INSTANTIATE_TEST_SUITE_P(Levels, QConvTest, ::testing::ValuesIn(gemm_cases()), gemm_case_name);

}  // namespace
}  // namespace kern
}  // namespace edgeq
