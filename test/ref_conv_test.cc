// Tests of the reference convolution and fully connected kernels.
//
// The naive side of each comparison materializes the padding: it copies the input
// into a larger buffer filled with the input zero point (or 0.0 for float) and then
// convolves without any bounds checks, iterating group by group. It accumulates
// exactly in int64 and requantizes with the naive formulas of ref_test_util.h.
// Shapes sweep 1x1 images, odd channel counts, K = 1, kernels larger than the
// image, strides larger than the kernel, dilation, batch > 1, groups and
// depthwise with multiplier 2, for both activation types and both schemes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "kernels/ref/ref.h"
#include "test/ref_test_util.h"

namespace edgeq {
namespace ref {
namespace {

using namespace testing_util;  // NOLINT(build/namespaces)

struct ConvCase {
  int32_t batch, in_h, in_w, in_c, out_c;
  int32_t kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w;
  int32_t pad_top, pad_left, pad_bottom, pad_right;
  int32_t groups;
};

ConvShape make_shape(const ConvCase& c) {
  ConvShape s;
  s.batch = c.batch;
  s.in_h = c.in_h;
  s.in_w = c.in_w;
  s.in_c = c.in_c;
  s.out_c = c.out_c;
  s.kernel_h = c.kernel_h;
  s.kernel_w = c.kernel_w;
  s.stride_h = c.stride_h;
  s.stride_w = c.stride_w;
  s.dilation_h = c.dilation_h;
  s.dilation_w = c.dilation_w;
  s.pad_top = c.pad_top;
  s.pad_left = c.pad_left;
  s.groups = c.groups;
  s.out_h =
      (c.in_h + c.pad_top + c.pad_bottom - c.dilation_h * (c.kernel_h - 1) - 1) / c.stride_h + 1;
  s.out_w =
      (c.in_w + c.pad_left + c.pad_right - c.dilation_w * (c.kernel_w - 1) - 1) / c.stride_w + 1;
  return s;
}

const ConvCase kCases[] = {
    // batch in_h in_w in_c out_c  kh kw  sh sw  dh dw  pt pl pb pr  groups
    {1, 1, 1, 3, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1},     // 1x1 image
    {1, 1, 1, 7, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},     // 1x1 image, 3x3 kernel
    {2, 5, 6, 13, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},    // odd channels, batch 2
    {1, 4, 4, 1, 3, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1},     // K = 1
    {1, 2, 3, 4, 6, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 1},     // kernel larger than image
    {1, 9, 10, 5, 7, 2, 1, 3, 4, 1, 1, 0, 0, 0, 0, 1},    // stride > kernel
    {1, 9, 8, 6, 5, 3, 2, 1, 2, 2, 3, 2, 1, 2, 3, 1},     // dilation
    {3, 6, 5, 9, 6, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1, 3},     // batch 3, 3 groups
    {2, 7, 7, 5, 10, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 5},    // depthwise, multiplier 2
    {1, 8, 9, 17, 17, 3, 3, 2, 2, 2, 2, 2, 2, 1, 2, 17},  // depthwise, stride+dilation
    {1, 5, 5, 3, 4, 3, 3, 2, 2, 1, 1, 0, 1, 2, 0, 1},     // asymmetric padding
    {1, 4, 5, 6, 10, 2, 3, 1, 2, 1, 1, 0, 1, 1, 1, 2},    // 2 groups, 3 in / 5 out each
    {1, 5, 5, 33, 17, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, 1},   // 33 channels, strided 1x1
    {1, 2, 2, 3, 2, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 1},     // windows entirely in padding
    {2, 3, 11, 16, 32, 1, 7, 1, 3, 1, 1, 0, 3, 0, 3, 1},  // 1xK kernel
    {1, 6, 6, 8, 16, 3, 3, 1, 1, 3, 3, 3, 3, 3, 3, 8},    // grouped, dilation 3
};

// Input laid out in a padded buffer, pad cells = fill.
template <typename T>
std::vector<T> pad_input(const ConvShape& s, const std::vector<T>& in, T fill, int32_t* hp,
                         int32_t* wp) {
  *hp = std::max(s.pad_top + s.in_h,
                 (s.out_h - 1) * s.stride_h + (s.kernel_h - 1) * s.dilation_h + 1);
  *wp = std::max(s.pad_left + s.in_w,
                 (s.out_w - 1) * s.stride_w + (s.kernel_w - 1) * s.dilation_w + 1);
  std::vector<T> padded(static_cast<size_t>(s.batch) * *hp * *wp * s.in_c, fill);
  for (int n = 0; n < s.batch; ++n)
    for (int h = 0; h < s.in_h; ++h)
      for (int w = 0; w < s.in_w; ++w)
        for (int c = 0; c < s.in_c; ++c)
          padded[((static_cast<size_t>(n) * *hp + h + s.pad_top) * *wp + w + s.pad_left) * s.in_c +
                 c] = in[((static_cast<size_t>(n) * s.in_h + h) * s.in_w + w) * s.in_c + c];
  return padded;
}

// Exact accumulators of the quantized convolution, NHWC order.
template <typename T>
std::vector<int64_t> naive_qconv_acc(const ConvShape& s, const std::vector<T>& in, int32_t zx,
                                     const std::vector<int8_t>& w, const std::vector<int32_t>& wz,
                                     bool wz_per_channel, const int32_t* bias) {
  int32_t hp, wp;
  const std::vector<T> padded = pad_input(s, in, static_cast<T>(zx), &hp, &wp);
  const int32_t cin_g = s.in_c / s.groups, cout_g = s.out_c / s.groups;
  std::vector<int64_t> acc(static_cast<size_t>(s.batch) * s.out_h * s.out_w * s.out_c);
  for (int n = 0; n < s.batch; ++n)
    for (int g = 0; g < s.groups; ++g)
      for (int j = 0; j < cout_g; ++j) {
        const int oc = g * cout_g + j;
        const int64_t z = wz[wz_per_channel ? oc : 0];
        for (int oh = 0; oh < s.out_h; ++oh)
          for (int ow = 0; ow < s.out_w; ++ow) {
            int64_t sum = bias ? bias[oc] : 0;
            for (int kh = 0; kh < s.kernel_h; ++kh)
              for (int kw = 0; kw < s.kernel_w; ++kw)
                for (int i = 0; i < cin_g; ++i) {
                  const int y = oh * s.stride_h + kh * s.dilation_h;
                  const int x = ow * s.stride_w + kw * s.dilation_w;
                  const int64_t xv =
                      padded[((static_cast<size_t>(n) * hp + y) * wp + x) * s.in_c + g * cin_g + i];
                  const int64_t wv =
                      w[((static_cast<size_t>(oc) * s.kernel_h + kh) * s.kernel_w + kw) * cin_g +
                        i];
                  sum += (xv - zx) * (wv - z);
                }
            acc[((static_cast<size_t>(n) * s.out_h + oh) * s.out_w + ow) * s.out_c + oc] = sum;
          }
      }
  return acc;
}

std::vector<double> naive_conv_f32(const ConvShape& s, const std::vector<float>& in,
                                   const std::vector<float>& w, const float* bias) {
  int32_t hp, wp;
  const std::vector<float> padded = pad_input(s, in, 0.f, &hp, &wp);
  const int32_t cin_g = s.in_c / s.groups, cout_g = s.out_c / s.groups;
  std::vector<double> out(static_cast<size_t>(s.batch) * s.out_h * s.out_w * s.out_c);
  for (int n = 0; n < s.batch; ++n)
    for (int g = 0; g < s.groups; ++g)
      for (int j = 0; j < cout_g; ++j) {
        const int oc = g * cout_g + j;
        for (int oh = 0; oh < s.out_h; ++oh)
          for (int ow = 0; ow < s.out_w; ++ow) {
            double sum = bias ? bias[oc] : 0.0;
            for (int kh = 0; kh < s.kernel_h; ++kh)
              for (int kw = 0; kw < s.kernel_w; ++kw)
                for (int i = 0; i < cin_g; ++i) {
                  const int y = oh * s.stride_h + kh * s.dilation_h;
                  const int x = ow * s.stride_w + kw * s.dilation_w;
                  sum += static_cast<double>(
                             padded[((static_cast<size_t>(n) * hp + y) * wp + x) * s.in_c +
                                    g * cin_g + i]) *
                         w[((static_cast<size_t>(oc) * s.kernel_h + kh) * s.kernel_w + kw) * cin_g +
                           i];
                }
            out[((static_cast<size_t>(n) * s.out_h + oh) * s.out_w + ow) * s.out_c + oc] = sum;
          }
      }
  return out;
}

// The naive requantization of one accumulator under rq.
int32_t naive_requant(int64_t acc, const Requant& rq, int c) {
  EXPECT_GE(acc, std::numeric_limits<int32_t>::min());
  EXPECT_LE(acc, std::numeric_limits<int32_t>::max());
  const int i = rq.per_channel ? c : 0;
  if (rq.scheme == Scheme::kFixedPoint) {
    return naive_requant_fixed(static_cast<int32_t>(acc), rq.multiplier[i], rq.exponent[i],
                               rq.zero_point, rq.qmin, rq.qmax);
  }
  return naive_requant_fp32(static_cast<int32_t>(acc), rq.scale[i], rq.zero_point, rq.qmin,
                            rq.qmax);
}

// Requantization parameters for `channels` channels with scales that spread an
// accumulator of `terms` products over the output range.
struct RqStorage {
  std::vector<float> scale;
  std::vector<int32_t> multiplier, exponent;
  Requant rq;
};
RqStorage make_requant(std::mt19937* rng, int channels, int terms, Scheme scheme, bool per_channel,
                       int32_t zp, int32_t qmin, int32_t qmax) {
  RqStorage r;
  std::uniform_real_distribution<float> factor(0.3f, 3.f);
  const int count = per_channel ? channels : 1;
  for (int c = 0; c < count; ++c) {
    const float scale = factor(*rng) * 0.009f / std::sqrt(static_cast<float>(std::max(terms, 1)));
    int32_t m, e;
    quantize_multiplier(scale, &m, &e);
    r.scale.push_back(scale);
    r.multiplier.push_back(m);
    r.exponent.push_back(e);
  }
  r.rq.scheme = scheme;
  r.rq.per_channel = per_channel;
  r.rq.scale = r.scale.data();
  r.rq.multiplier = r.multiplier.data();
  r.rq.exponent = r.exponent.data();
  r.rq.zero_point = zp;
  r.rq.qmin = qmin;
  r.rq.qmax = qmax;
  return r;
}

template <typename T>
void check_qconv(uint32_t seed) {
  std::mt19937 rng(seed);
  int configs = 0;
  for (const ConvCase& c : kCases) {
    const ConvShape s = make_shape(c);
    ASSERT_GT(s.out_h, 0);
    ASSERT_GT(s.out_w, 0);
    const int32_t cin_g = s.in_c / s.groups;
    const std::vector<T> in = random_ints<T>(
        &rng, static_cast<size_t>(s.batch) * s.in_h * s.in_w * s.in_c, tmin<T>(), tmax<T>());
    const std::vector<int8_t> w = random_ints<int8_t>(
        &rng, static_cast<size_t>(s.out_c) * s.kernel_h * s.kernel_w * cin_g, -128, 127);
    const std::vector<int32_t> bias = random_ints<int32_t>(&rng, s.out_c, -20000, 20000);
    int distinct_outputs = 0;  // over all variants of this shape
    std::vector<bool> seen(256, false);
    for (int variant = 0; variant < 8; ++variant) {
      const bool wz_per_channel = variant & 1;
      const bool per_channel_rq = variant & 2;
      const Scheme scheme = variant & 4 ? Scheme::kFixedPoint : Scheme::kFp32;
      const bool with_bias = variant != 3;
      const int32_t zx = random_ints<int32_t>(&rng, 1, tmin<T>(), tmax<T>())[0];
      const std::vector<int32_t> wz =
          random_ints<int32_t>(&rng, wz_per_channel ? s.out_c : 1, variant == 0 ? 0 : -12, 12);
      const int32_t zy = random_ints<int32_t>(&rng, 1, tmin<T>(), tmax<T>())[0];
      // Some variants narrow the output range like a fused activation.
      const int32_t qmin = variant == 5 ? zy : tmin<T>();
      const int32_t qmax = variant == 6 ? std::min(tmax<T>(), zy + 40) : tmax<T>();
      RqStorage r = make_requant(&rng, s.out_c, s.kernel_h * s.kernel_w * cin_g, scheme,
                                 per_channel_rq, zy, qmin, qmax);
      const int32_t* b = with_bias ? bias.data() : nullptr;
      std::vector<T> out(static_cast<size_t>(s.batch) * s.out_h * s.out_w * s.out_c);
      qconv2d(s, in.data(), zx, w.data(), wz.data(), wz_per_channel, b, r.rq, out.data());
      const std::vector<int64_t> acc = naive_qconv_acc(s, in, zx, w, wz, wz_per_channel, b);
      for (size_t i = 0; i < out.size(); ++i) {
        const int oc = static_cast<int>(i % s.out_c);
        ASSERT_EQ(static_cast<int32_t>(out[i]), naive_requant(acc[i], r.rq, oc))
            << "case in " << c.in_h << "x" << c.in_w << "x" << c.in_c << " out_c " << c.out_c
            << " groups " << c.groups << " variant " << variant << " index " << i;
        const int byte = static_cast<uint8_t>(out[i]);
        if (!seen[byte]) {
          seen[byte] = true;
          ++distinct_outputs;
        }
      }
      // Guard against degenerate scales that would make the comparison vacuous.
      ++configs;
    }
    // Guard against degenerate scales that would make the comparison vacuous.
    EXPECT_GE(distinct_outputs, 16) << "in " << c.in_h << "x" << c.in_w << "x" << c.in_c;
  }
  EXPECT_EQ(configs, 8 * static_cast<int>(sizeof(kCases) / sizeof(kCases[0])));
}

TEST(RefQConv2d, Int8MatchesNaive) { check_qconv<int8_t>(100); }
TEST(RefQConv2d, Uint8MatchesNaive) { check_qconv<uint8_t>(101); }

// A hand-computed convolution: 3x3 image 1..9, 2x2 kernel of ones.
TEST(RefQConv2d, HandComputed) {
  ConvShape s{1, 3, 3, 1, 2, 2, 1, 2, 2, 1, 1, 1, 1, 0, 0, 1};
  int8_t in[9];
  for (int i = 0; i < 9; ++i) in[i] = static_cast<int8_t>(i + 1 + 5);  // input zero point 5
  const int8_t w[4] = {1, 1, 1, 1};
  const int32_t wz = 0;
  const float scale = 1.f;
  Requant rq;
  rq.scale = &scale;
  int8_t out[4];
  qconv2d(s, in, 5, w, &wz, false, nullptr, rq, out);
  EXPECT_EQ(out[0], 12);
  EXPECT_EQ(out[1], 16);
  EXPECT_EQ(out[2], 24);
  EXPECT_EQ(out[3], 28);
  // Pad 1 on top/left: the corner sees only x[0][0]; padding counts as zero point.
  s.pad_top = s.pad_left = 1;
  s.out_h = s.out_w = 3;
  int8_t out3[9];
  const int32_t bias = -2;
  qconv2d(s, in, 5, w, &wz, false, &bias, rq, out3);
  const int8_t expected[9] = {-1, 1, 3, 3, 10, 14, 9, 22, 26};
  for (int i = 0; i < 9; ++i) EXPECT_EQ(out3[i], expected[i]) << i;
  // Weight zero point 1 turns the kernel of ones into zeros: only the bias remains.
  const int32_t wz1 = 1;
  qconv2d(s, in, 5, w, &wz1, false, &bias, rq, out3);
  for (int i = 0; i < 9; ++i) EXPECT_EQ(out3[i], -2) << i;
}

// Depthwise with multiplier 2 by hand: output channel c reads input channel c / 2.
TEST(RefQConv2d, DepthwiseMultiplierChannelMapping) {
  ConvShape s{1, 1, 1, 2, 1, 1, 4, 1, 1, 1, 1, 1, 1, 0, 0, 2};
  const uint8_t in[2] = {10, 20};
  const int8_t w[4] = {1, 2, 3, 4};
  const int32_t wz = 0;
  const float scale = 1.f;
  Requant rq;
  rq.scale = &scale;
  rq.qmin = 0;
  rq.qmax = 255;
  uint8_t out[4];
  qconv2d(s, in, 0, w, &wz, false, nullptr, rq, out);
  EXPECT_EQ(out[0], 10);
  EXPECT_EQ(out[1], 20);
  EXPECT_EQ(out[2], 60);
  EXPECT_EQ(out[3], 80);
}

// Dynamic FC, worked by hand: row {-1, 0, 0.5, 1.5} -> s = 2.5/255, z = 102,
// q = {0, 102, 153, 255}, so with weights {1, 1, 1, 1} acc = -102 + 0 + 51 + 153 = 102 and
// with {2, 0, 0, -1} acc = -204 - 153 = -357; y = acc * (s * w_scale) + bias. An all-zero
// row gives 0 + bias.
TEST(RefDynamicFullyConnected, HandComputed) {
  const float x[8] = {-1.f, 0.f, 0.5f, 1.5f, 0.f, 0.f, 0.f, 0.f};
  const int8_t w[8] = {1, 1, 1, 1, 2, 0, 0, -1};
  const float w_scale[2] = {0.5f, 0.25f}, bias[2] = {0.125f, -1.f};
  float y[4];
  uint8_t row[4];
  const float inf = std::numeric_limits<float>::infinity();
  ref::dynamic_fully_connected(2, 2, 4, x, w, w_scale, true, bias, -inf, inf, row, y);
  const float s = 2.5f / 255.f;
  EXPECT_FLOAT_EQ(y[0], 102.f * (s * 0.5f) + 0.125f);
  EXPECT_FLOAT_EQ(y[1], -357.f * (s * 0.25f) - 1.f);
  EXPECT_FLOAT_EQ(y[2], 0.125f);
  EXPECT_FLOAT_EQ(y[3], -1.f);
  // Per-tensor weight scale and a fused clamp.
  ref::dynamic_fully_connected(2, 2, 4, x, w, w_scale, false, nullptr, -0.5f, 0.1f, row, y);
  EXPECT_FLOAT_EQ(y[0], 0.1f);
  EXPECT_FLOAT_EQ(y[1], std::max(-0.5f, -357.f * (s * 0.5f)));
  EXPECT_FLOAT_EQ(y[2], 0.f);
}

TEST(RefConv2dF32, MatchesNaive) {
  std::mt19937 rng(102);
  for (const ConvCase& c : kCases) {
    const ConvShape s = make_shape(c);
    const int32_t cin_g = s.in_c / s.groups;
    const std::vector<float> in =
        random_floats(&rng, static_cast<size_t>(s.batch) * s.in_h * s.in_w * s.in_c, -2.f, 2.f);
    const std::vector<float> w = random_floats(
        &rng, static_cast<size_t>(s.out_c) * s.kernel_h * s.kernel_w * cin_g, -1.f, 1.f);
    const std::vector<float> bias = random_floats(&rng, s.out_c, -1.f, 1.f);
    for (int variant = 0; variant < 3; ++variant) {
      const float* b = variant == 1 ? nullptr : bias.data();
      const float lo = variant == 2 ? -0.5f : -std::numeric_limits<float>::infinity();
      const float hi = variant == 2 ? 1.5f : std::numeric_limits<float>::infinity();
      std::vector<float> out(static_cast<size_t>(s.batch) * s.out_h * s.out_w * s.out_c);
      conv2d_f32(s, in.data(), w.data(), b, lo, hi, out.data());
      const std::vector<double> expect = naive_conv_f32(s, in, w, b);
      for (size_t i = 0; i < out.size(); ++i) {
        const double e = std::min<double>(std::max<double>(expect[i], lo), hi);
        ASSERT_NEAR(out[i], e, 1e-5 * (1.0 + std::fabs(e))) << i;
        ASSERT_GE(out[i], lo);
        ASSERT_LE(out[i], hi);
      }
    }
  }
}

// With power-of-two scales every float step is exact, so dequantize -> float conv ->
// quantize must equal the quantized kernel bit for bit (fp32 scheme).
TEST(RefQConv2d, EqualsFloatConvWithExactScales) {
  std::mt19937 rng(103);
  for (const ConvCase& c : kCases) {
    const ConvShape s = make_shape(c);
    const int32_t cin_g = s.in_c / s.groups;
    const size_t in_n = static_cast<size_t>(s.batch) * s.in_h * s.in_w * s.in_c;
    const size_t w_n = static_cast<size_t>(s.out_c) * s.kernel_h * s.kernel_w * cin_g;
    const size_t out_n = static_cast<size_t>(s.batch) * s.out_h * s.out_w * s.out_c;
    const std::vector<int8_t> in = random_ints<int8_t>(&rng, in_n, -128, 127);
    const std::vector<int8_t> w = random_ints<int8_t>(&rng, w_n, -127, 127);
    const std::vector<int32_t> bias = random_ints<int32_t>(&rng, s.out_c, -3000, 3000);
    const float s_in = 1.f / 16, s_out = 8.f;
    const int32_t zx = 3, zy = -7;
    std::vector<float> s_w(s.out_c), rq_scale(s.out_c), w_f(w_n), b_f(s.out_c), in_f(in_n);
    std::vector<int32_t> wz(s.out_c);
    for (int oc = 0; oc < s.out_c; ++oc) {
      s_w[oc] = std::ldexp(1.f, -(oc % 4) - 2);
      wz[oc] = oc % 3 - 1;
      rq_scale[oc] = (s_in * s_w[oc]) / s_out;
      b_f[oc] = static_cast<float>(bias[oc]) * (s_in * s_w[oc]);
    }
    for (size_t i = 0; i < w_n; ++i) {
      const int oc = static_cast<int>(i / (w_n / s.out_c));
      w_f[i] = static_cast<float>(w[i] - wz[oc]) * s_w[oc];
    }
    dequantize(in_n, in.data(), s_in, zx, in_f.data());
    std::vector<float> out_f(out_n);
    conv2d_f32(s, in_f.data(), w_f.data(), b_f.data(), -1e30f, 1e30f, out_f.data());
    std::vector<int8_t> expected(out_n);
    quantize(out_n, out_f.data(), s_out, zy, expected.data());
    Requant rq;
    rq.per_channel = true;
    rq.scale = rq_scale.data();
    rq.zero_point = zy;
    std::vector<int8_t> out(out_n);
    qconv2d(s, in.data(), zx, w.data(), wz.data(), true, bias.data(), rq, out.data());
    for (size_t i = 0; i < out_n; ++i) ASSERT_EQ(out[i], expected[i]) << i;
  }
}

// ---------------------------------------------------------------- fully connected

template <typename T>
void check_qfc(uint32_t seed) {
  std::mt19937 rng(seed);
  const int32_t shapes[][3] = {{1, 1, 1},   {1, 5, 1},   {3, 1, 7},   {2, 9, 13},
                               {4, 17, 33}, {1, 3, 256}, {5, 16, 16}, {7, 31, 100}};
  for (const auto& mnk : shapes) {
    const int32_t m = mnk[0], n = mnk[1], k = mnk[2];
    const std::vector<T> x = random_ints<T>(&rng, static_cast<size_t>(m) * k, tmin<T>(), tmax<T>());
    const std::vector<int8_t> w = random_ints<int8_t>(&rng, static_cast<size_t>(n) * k, -128, 127);
    const std::vector<int32_t> bias = random_ints<int32_t>(&rng, n, -5000, 5000);
    for (int variant = 0; variant < 8; ++variant) {
      const bool wz_per_channel = variant & 1;
      const Scheme scheme = variant & 4 ? Scheme::kFixedPoint : Scheme::kFp32;
      const int32_t zx = random_ints<int32_t>(&rng, 1, tmin<T>(), tmax<T>())[0];
      const std::vector<int32_t> wz = random_ints<int32_t>(&rng, wz_per_channel ? n : 1, -5, 5);
      const int32_t zy = random_ints<int32_t>(&rng, 1, tmin<T>(), tmax<T>())[0];
      RqStorage r = make_requant(&rng, n, k, scheme, variant & 2, zy, tmin<T>(), tmax<T>());
      const int32_t* b = variant == 2 ? nullptr : bias.data();
      std::vector<T> out(static_cast<size_t>(m) * n);
      qfully_connected(m, n, k, x.data(), zx, w.data(), wz.data(), wz_per_channel, b, r.rq,
                       out.data());
      for (int i = 0; i < m; ++i) {
        for (int j = 0; j < n; ++j) {
          int64_t acc = b ? b[j] : 0;
          for (int p = 0; p < k; ++p) {
            acc += (static_cast<int64_t>(x[i * k + p]) - zx) *
                   (static_cast<int64_t>(w[j * k + p]) - wz[wz_per_channel ? j : 0]);
          }
          ASSERT_EQ(static_cast<int32_t>(out[i * n + j]), naive_requant(acc, r.rq, j))
              << m << "x" << n << "x" << k << " variant " << variant;
        }
      }
      // The same numbers as a 1x1 convolution over an m x 1 image.
      ConvShape s{m, 1, 1, k, 1, 1, n, 1, 1, 1, 1, 1, 1, 0, 0, 1};
      std::vector<T> conv_out(out.size());
      qconv2d(s, x.data(), zx, w.data(), wz.data(), wz_per_channel, b, r.rq, conv_out.data());
      ASSERT_EQ(conv_out, out);
    }
  }
}

TEST(RefQFullyConnected, Int8MatchesNaive) { check_qfc<int8_t>(104); }
TEST(RefQFullyConnected, Uint8MatchesNaive) { check_qfc<uint8_t>(105); }

// An exact sum beyond int32 wraps modulo 2^32 (as an int32 SIMD accumulator would).
TEST(RefQFullyConnected, AccumulatorWrapsModulo2To32) {
  const int32_t k = 40000;
  std::vector<int8_t> x(k, 127), w(k, -128);
  const int32_t wz = 127;
  const float scale = 1.f / 16777216;  // 2^-24
  Requant rq;
  rq.scale = &scale;
  int8_t out;
  // Exact sum: 40000 * 255 * -255 = -2601000000; wrapped: 1693967296; * 2^-24 = 100.97.
  qfully_connected(1, 1, k, x.data(), -128, w.data(), &wz, false, nullptr, rq, &out);
  EXPECT_EQ(out, 101);
}

TEST(RefFullyConnectedF32, MatchesNaive) {
  std::mt19937 rng(106);
  const int32_t shapes[][3] = {{1, 1, 1}, {2, 9, 13}, {4, 17, 33}, {3, 5, 100}};
  for (const auto& mnk : shapes) {
    const int32_t m = mnk[0], n = mnk[1], k = mnk[2];
    const std::vector<float> x = random_floats(&rng, static_cast<size_t>(m) * k, -2.f, 2.f);
    const std::vector<float> w = random_floats(&rng, static_cast<size_t>(n) * k, -1.f, 1.f);
    const std::vector<float> bias = random_floats(&rng, n, -1.f, 1.f);
    std::vector<float> out(static_cast<size_t>(m) * n), clamped(out.size());
    fully_connected_f32(m, n, k, x.data(), w.data(), bias.data(), -1e30f, 1e30f, out.data());
    fully_connected_f32(m, n, k, x.data(), w.data(), nullptr, 0.f, 1.f, clamped.data());
    for (int i = 0; i < m; ++i) {
      for (int j = 0; j < n; ++j) {
        double acc = 0.0;
        for (int p = 0; p < k; ++p) acc += static_cast<double>(x[i * k + p]) * w[j * k + p];
        ASSERT_NEAR(out[i * n + j], acc + bias[j], 1e-5 * (1.0 + std::fabs(acc)));
        ASSERT_NEAR(clamped[i * n + j], std::min(std::max(acc, 0.0), 1.0), 1e-5);
      }
    }
  }
}

}  // namespace
}  // namespace ref
}  // namespace edgeq
