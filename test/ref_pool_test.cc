// Tests of the reference pooling kernels.
//
// The naive side materializes the padding: a padded copy of the input with a
// validity mask, then windows read it without bounds checks. Shapes cover 1x1
// images, kernels larger than the image, strides larger than the kernel, dilation,
// bottom/right overhang and windows with no in-image tap, each with and without
// count_include_pad, for float, int8 and uint8.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
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

const float kInf = std::numeric_limits<float>::infinity();

struct PoolCase {
  int32_t batch, in_h, in_w, channels;
  int32_t kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w;
  int32_t pad_top, pad_left, pad_bottom, pad_right;
};

const PoolCase kPoolCases[] = {
    // batch in_h in_w ch  kh kw  sh sw  dh dw  pt pl pb pr
    {1, 1, 1, 3, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},   // 1x1 image
    {1, 1, 1, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},   // 1x1 image, padded 3x3 window
    {2, 6, 6, 7, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0},   // 2x2 stride 2, batch 2
    {1, 7, 5, 13, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},  // 3x3 stride 2, odd sizes
    {1, 2, 3, 4, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2},   // kernel larger than the image
    {1, 9, 9, 3, 2, 2, 3, 4, 1, 1, 0, 0, 0, 0},   // stride larger than the kernel
    {1, 8, 8, 2, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2},   // dilation 2
    {1, 5, 5, 3, 2, 2, 2, 2, 1, 1, 0, 0, 1, 1},   // bottom/right overhang
    {1, 1, 1, 2, 2, 2, 1, 1, 3, 3, 1, 1, 2, 2},   // a window with no in-image tap
    {3, 4, 6, 1, 3, 2, 1, 2, 1, 1, 1, 0, 1, 1},   // one channel, batch 3
};

PoolShape make_pool_shape(const PoolCase& c, bool count_include_pad) {
  PoolShape s;
  s.batch = c.batch;
  s.in_h = c.in_h;
  s.in_w = c.in_w;
  s.channels = c.channels;
  s.kernel_h = c.kernel_h;
  s.kernel_w = c.kernel_w;
  s.stride_h = c.stride_h;
  s.stride_w = c.stride_w;
  s.dilation_h = c.dilation_h;
  s.dilation_w = c.dilation_w;
  s.pad_top = c.pad_top;
  s.pad_left = c.pad_left;
  s.count_include_pad = count_include_pad;
  s.out_h =
      (c.in_h + c.pad_top + c.pad_bottom - c.dilation_h * (c.kernel_h - 1) - 1) / c.stride_h + 1;
  s.out_w =
      (c.in_w + c.pad_left + c.pad_right - c.dilation_w * (c.kernel_w - 1) - 1) / c.stride_w + 1;
  return s;
}

// Each output's in-image tap values, gathered through a padded copy of the input.
template <typename T>
std::vector<std::vector<T>> naive_windows(const PoolShape& s, const std::vector<T>& in) {
  const int hp = std::max(s.pad_top + s.in_h,
                          (s.out_h - 1) * s.stride_h + (s.kernel_h - 1) * s.dilation_h + 1);
  const int wp = std::max(s.pad_left + s.in_w,
                          (s.out_w - 1) * s.stride_w + (s.kernel_w - 1) * s.dilation_w + 1);
  std::vector<T> padded(static_cast<size_t>(s.batch) * hp * wp * s.channels);
  std::vector<bool> valid(padded.size(), false);
  for (int n = 0; n < s.batch; ++n)
    for (int h = 0; h < s.in_h; ++h)
      for (int w = 0; w < s.in_w; ++w)
        for (int c = 0; c < s.channels; ++c) {
          const size_t p =
              ((static_cast<size_t>(n) * hp + h + s.pad_top) * wp + w + s.pad_left) * s.channels +
              c;
          padded[p] = in[((static_cast<size_t>(n) * s.in_h + h) * s.in_w + w) * s.channels + c];
          valid[p] = true;
        }
  std::vector<std::vector<T>> windows;
  for (int n = 0; n < s.batch; ++n)
    for (int oh = 0; oh < s.out_h; ++oh)
      for (int ow = 0; ow < s.out_w; ++ow)
        for (int c = 0; c < s.channels; ++c) {
          std::vector<T> taps;
          for (int kh = 0; kh < s.kernel_h; ++kh)
            for (int kw = 0; kw < s.kernel_w; ++kw) {
              const int y = oh * s.stride_h + kh * s.dilation_h;
              const int x = ow * s.stride_w + kw * s.dilation_w;
              const size_t p = ((static_cast<size_t>(n) * hp + y) * wp + x) * s.channels + c;
              if (valid[p]) taps.push_back(padded[p]);
            }
          windows.push_back(taps);
        }
  return windows;
}

TEST(RefPoolF32, MatchesNaive) {
  std::mt19937 rng(300);
  bool saw_empty_window = false;
  for (const PoolCase& c : kPoolCases) {
    for (bool include_pad : {false, true}) {
      const PoolShape s = make_pool_shape(c, include_pad);
      const std::vector<float> in = random_floats(
          &rng, static_cast<size_t>(s.batch) * s.in_h * s.in_w * s.channels, -3.f, 3.f);
      const auto windows = naive_windows(s, in);
      for (int clamp = 0; clamp < 2; ++clamp) {
        const float lo = clamp ? -0.5f : -kInf, hi = clamp ? 1.f : kInf;
        std::vector<float> max_out(windows.size()), avg_out(windows.size());
        maxpool_f32(s, in.data(), lo, hi, max_out.data());
        avgpool_f32(s, in.data(), lo, hi, avg_out.data());
        for (size_t i = 0; i < windows.size(); ++i) {
          const auto& taps = windows[i];
          float m = std::numeric_limits<float>::lowest();
          double sum = 0;
          for (float v : taps) {
            m = std::max(m, v);
            sum += v;
          }
          const int cnt = include_pad ? s.kernel_h * s.kernel_w : static_cast<int>(taps.size());
          const double avg = cnt == 0 ? 0.0 : sum / cnt;
          saw_empty_window |= taps.empty();
          ASSERT_EQ(max_out[i], std::min(std::max(m, lo), hi)) << i;
          ASSERT_NEAR(avg_out[i], std::min<double>(std::max<double>(avg, lo), hi), 1e-6) << i;
        }
      }
    }
  }
  EXPECT_TRUE(saw_empty_window);
}

template <typename T>
void check_qpool(uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> log_scale(-2.f, 0.f);
  for (const PoolCase& c : kPoolCases) {
    for (bool include_pad : {false, true}) {
      const PoolShape s = make_pool_shape(c, include_pad);
      const std::vector<T> in = random_ints<T>(
          &rng, static_cast<size_t>(s.batch) * s.in_h * s.in_w * s.channels, tmin<T>(), tmax<T>());
      const auto windows = naive_windows(s, in);
      for (int variant = 0; variant < 4; ++variant) {
        PoolQParams p;
        p.in_scale = std::pow(10.f, log_scale(rng));
        p.in_zero_point = random_ints<int32_t>(&rng, 1, tmin<T>(), tmax<T>())[0];
        // Variant 0: equal in/out params (max pool is then a clamped copy).
        p.out_scale = variant == 0 ? p.in_scale : std::pow(10.f, log_scale(rng));
        p.out_zero_point =
            variant == 0 ? p.in_zero_point : random_ints<int32_t>(&rng, 1, tmin<T>(), tmax<T>())[0];
        p.qmin = variant == 2 ? p.out_zero_point : tmin<T>();
        p.qmax = variant == 3 ? std::min(tmax<T>(), p.out_zero_point + 30) : tmax<T>();
        std::vector<T> max_out(windows.size()), avg_out(windows.size());
        qmaxpool(s, in.data(), p, max_out.data());
        qavgpool(s, in.data(), p, avg_out.data());
        for (size_t i = 0; i < windows.size(); ++i) {
          const auto& taps = windows[i];
          int32_t m = tmin<T>();
          float fsum = 0.f;
          for (T v : taps) {
            m = std::max<int32_t>(m, v);
            fsum += p.in_scale * static_cast<float>(static_cast<int32_t>(v) - p.in_zero_point);
          }
          int32_t expect_max;
          if (variant == 0) {
            expect_max = std::min(std::max(m, p.qmin), p.qmax);
          } else {
            const float real = p.in_scale * static_cast<float>(m - p.in_zero_point);
            expect_max = naive_quantize(real, p.out_scale, p.out_zero_point, p.qmin, p.qmax);
          }
          ASSERT_EQ(static_cast<int32_t>(max_out[i]), expect_max) << i << " variant " << variant;
          const int cnt = include_pad ? s.kernel_h * s.kernel_w : static_cast<int>(taps.size());
          int32_t expect_avg;
          if (cnt == 0) {
            expect_avg = std::min(std::max(p.out_zero_point, p.qmin), p.qmax);
          } else {
            const float v = fsum / static_cast<float>(cnt) / p.out_scale +
                            static_cast<float>(p.out_zero_point);
            const double r = std::nearbyint(static_cast<double>(v));
            expect_avg = static_cast<int32_t>(std::min<double>(std::max<double>(r, p.qmin), p.qmax));
          }
          ASSERT_EQ(static_cast<int32_t>(avg_out[i]), expect_avg) << i << " variant " << variant;
        }
      }
    }
  }
}

TEST(RefQPool, Int8MatchesNaive) { check_qpool<int8_t>(301); }
TEST(RefQPool, Uint8MatchesNaive) { check_qpool<uint8_t>(302); }

TEST(RefQPool, AverageExactValues) {
  // One 2x2 window, unit scales: the average rounds half to even.
  PoolShape s{1, 2, 2, 1, 1, 1, 2, 2, 1, 1, 1, 1, 0, 0, false};
  const PoolQParams unit{1.f, 1.f, 0, 0, -128, 127};
  auto avg = [&](int8_t a, int8_t b, int8_t c, int8_t d, const PoolQParams& p) {
    const int8_t in[4] = {a, b, c, d};
    int8_t out;
    qavgpool(s, in, p, &out);
    return static_cast<int>(out);
  };
  EXPECT_EQ(avg(1, 2, 3, 5, unit), 3);       // 2.75
  EXPECT_EQ(avg(1, 2, 3, 4, unit), 2);       // 2.5 -> 2
  EXPECT_EQ(avg(1, 2, 4, 7, unit), 4);       // 3.5 -> 4
  EXPECT_EQ(avg(-1, -2, -3, -4, unit), -2);  // -2.5 -> -2
  EXPECT_EQ(avg(-1, -2, -4, -7, unit), -4);  // -3.5 -> -4
  // The zero point is added before rounding: 2.5 + 1 = 3.5 -> 4 (not round(2.5) + 1 = 3).
  const PoolQParams odd_zp{1.f, 1.f, 0, 1, -128, 127};
  EXPECT_EQ(avg(1, 2, 3, 4, odd_zp), 4);
  EXPECT_EQ(avg(1, 2, 4, 7, odd_zp), 4);  // 3.5 + 1 = 4.5 -> 4
  EXPECT_EQ(avg(127, 127, 127, 127, unit), 127);
  const PoolQParams shifted{1.f, 0.5f, 10, -20, -128, 127};  // (q - 10) / 0.5 - 20
  EXPECT_EQ(avg(11, 12, 13, 14, shifted), -15);              // 2.5 * 2 - 20
  EXPECT_EQ(avg(127, 127, 127, 127, shifted), 127);          // saturates
  EXPECT_EQ(avg(-128, -128, -128, -128, shifted), -128);

  // A 2x2 image of fours under 3x3 windows with padding 1: 4 valid taps each.
  PoolShape p3{1, 2, 2, 1, 2, 2, 3, 3, 1, 1, 1, 1, 1, 1, false};
  const int8_t fours[4] = {4, 4, 4, 4};
  int8_t out[4];
  qavgpool(p3, fours, unit, out);
  for (int8_t v : out) EXPECT_EQ(v, 4);
  p3.count_include_pad = true;  // 16 / 9 = 1.78
  qavgpool(p3, fours, unit, out);
  for (int8_t v : out) EXPECT_EQ(v, 2);
  float f_fours[4] = {4, 4, 4, 4}, f_out[4];
  avgpool_f32(p3, f_fours, -kInf, kInf, f_out);
  for (float v : f_out) EXPECT_FLOAT_EQ(v, 16.f / 9.f);
}

TEST(RefQPool, EmptyWindow) {
  // 1x1 image; the window's taps (-1 and +2 in each direction) are all outside.
  PoolShape s{1, 1, 1, 1, 1, 1, 2, 2, 1, 1, 3, 3, 1, 1, false};
  const uint8_t in = 200;
  const PoolQParams p{0.5f, 0.25f, 100, 7, 0, 255};
  uint8_t out;
  qmaxpool(s, &in, p, &out);  // lowest value 0: (0 - 100) * 0.5 / 0.25 + 7 -> saturates
  EXPECT_EQ(out, 0);
  qavgpool(s, &in, p, &out);
  EXPECT_EQ(out, 7);
  s.count_include_pad = true;
  qavgpool(s, &in, p, &out);
  EXPECT_EQ(out, 7);
  float fin = 5.f, fout;
  maxpool_f32(s, &fin, -kInf, kInf, &fout);
  EXPECT_EQ(fout, std::numeric_limits<float>::lowest());
  maxpool_f32(s, &fin, 0.f, 6.f, &fout);
  EXPECT_EQ(fout, 0.f);
  avgpool_f32(s, &fin, -kInf, kInf, &fout);
  EXPECT_EQ(fout, 0.f);
}

TEST(RefPoolF32, InfinitiesAndNaN) {
  // One 1x3 window: a NaN tap anywhere gives NaN, whatever the clamp; infinities win.
  PoolShape s{1, 1, 3, 1, 1, 1, 1, 3, 1, 1, 1, 1, 0, 0, false};
  const float nan = std::numeric_limits<float>::quiet_NaN();
  float out;
  for (const auto& in : {std::array<float, 3>{-kInf, nan, -kInf}, std::array<float, 3>{nan, 1.f, kInf},
                         std::array<float, 3>{1.f, kInf, nan}}) {
    maxpool_f32(s, in.data(), -kInf, kInf, &out);
    EXPECT_TRUE(std::isnan(out));
    maxpool_f32(s, in.data(), 0.f, 6.f, &out);
    EXPECT_TRUE(std::isnan(out));
  }
  const float in2[3] = {1.f, -kInf, kInf};
  maxpool_f32(s, in2, -kInf, kInf, &out);
  EXPECT_EQ(out, kInf);
  maxpool_f32(s, in2, -kInf, 6.f, &out);
  EXPECT_EQ(out, 6.f);
}

template <typename T>
void check_global(uint32_t seed) {
  std::mt19937 rng(seed);
  const int32_t dims[][3] = {{1, 1, 1}, {2, 49, 13}, {1, 7, 64}, {3, 100, 5}};
  for (const auto& d : dims) {
    const int32_t batch = d[0], hw = d[1], ch = d[2];
    const std::vector<T> in =
        random_ints<T>(&rng, static_cast<size_t>(batch) * hw * ch, tmin<T>(), tmax<T>());
    const PoolQParams p{0.02f, 0.015f, tmin<T>() + 90, tmin<T>() + 140, tmin<T>(), tmax<T>()};
    std::vector<T> out(static_cast<size_t>(batch) * ch);
    qglobal_avgpool(batch, hw, ch, in.data(), p, out.data());
    std::vector<float> fin(in.size()), fout(out.size());
    for (size_t i = 0; i < in.size(); ++i) fin[i] = static_cast<float>(in[i]);
    global_avgpool_f32(batch, hw, ch, fin.data(), -kInf, kInf, fout.data());
    for (int n = 0; n < batch; ++n) {
      for (int c = 0; c < ch; ++c) {
        int64_t acc = 0;
        double sum = 0;
        for (int i = 0; i < hw; ++i) {
          acc += static_cast<int32_t>(in[(static_cast<size_t>(n) * hw + i) * ch + c]) -
                 p.in_zero_point;
          sum += in[(static_cast<size_t>(n) * hw + i) * ch + c];
        }
        const float scale = p.in_scale / (p.out_scale * static_cast<float>(hw));
        ASSERT_EQ(
            static_cast<int32_t>(out[n * ch + c]),
            naive_requant_fp32(static_cast<int32_t>(acc), scale, p.out_zero_point, p.qmin, p.qmax));
        ASSERT_NEAR(fout[n * ch + c], sum / hw, 1e-4);
      }
    }
  }
}

TEST(RefGlobalAvgPool, Int8) { check_global<int8_t>(303); }
TEST(RefGlobalAvgPool, Uint8) { check_global<uint8_t>(304); }

}  // namespace
}  // namespace ref
}  // namespace edgeq
