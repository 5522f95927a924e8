// The depthwise convolution driver (kernels/qdwconv.h) on every depthwise kernel the
// host runs, against ref::qconv2d with groups == channels, byte for byte.
//
// Sweeps: channel counts around every tile width (1, 3, 15, 17, 33, 64, 65, 100),
// the specialised windows (3x3, 5x5; strides 1 and 2) and generic ones (1x1, 2x3,
// 7x7, 4x1, 3x5...), dilation, asymmetric padding (including windows entirely in
// padding), batch 2, both schemes, int8 and uint8, per-tensor and per-channel,
// narrow clamps, extreme scales, multipliers, exponents, biases that wrap int32, and
// weights of -128; the fixed 3- and 5-wide windows at every output width from 1 to 12.
// Layers without a -128 weight (w127: half of the fixed-window cases) take the NEON
// direct kernel's narrow variant on AArch64, at its int16 bound.
// Threaded runs (2 and 3 threads) must equal the inline run.
#include <gtest/gtest.h>
#include <pthreadpool.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/qdwconv.h"
#include "runtime/schedule.h"
#include "kernels/ref/ref.h"

namespace edgeq {
namespace {

using kern::Isa;

// Every depthwise kernel of every level the host runs.
std::vector<const kern::DwKernel*> dw_kernels() {
  std::vector<const kern::DwKernel*> v;
  for (Isa isa : {Isa::kAvx2, Isa::kAvxVnni, Isa::kAvx512Vnni, Isa::kNeon, Isa::kNeonDot, Isa::kNeonI8mm}) {
    if (!kern::isa_supported(isa)) continue;
    for (const kern::DwKernel& k : kern::kernel_set(isa).dw.kernel) {
      if (k.u8 != nullptr) v.push_back(&k);
    }
  }
  return v;
}

struct DwCase {
  int32_t batch = 1, in_h = 5, in_w = 6, c = 3;
  int32_t kh = 3, kw = 3, sh = 1, sw = 1, dh = 1, dw = 1;
  int32_t pt = 1, pl = 1, pb = 1, pr = 1;
  bool s8 = true;
  bool fixed = false;
  bool per_channel = false;
  bool extreme = false;  // saturating scales / exponents, wrapping biases
  bool narrow = false;   // a narrow clamp range
  bool w127 = false;     // weights in [-127, 127] (DwArgs::w127), many at +-127, and extreme inputs
  uint32_t seed = 1;

  std::string str() const {
    char buf[256];
    std::snprintf(buf, sizeof(buf), "n%d %dx%dx%d k%dx%d s%d,%d d%d,%d pad %d,%d,%d,%d %s %s %s%s%s%s seed %u", batch,
                  in_h, in_w, c, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, s8 ? "s8" : "u8", fixed ? "fixed" : "fp32",
                  per_channel ? "per-channel" : "per-tensor", extreme ? " extreme" : "", narrow ? " narrow" : "", w127 ? " w127" : "", seed);
    return buf;
  }
};

struct Prepared {
  ref::ConvShape shape;
  std::vector<uint8_t> x;
  std::vector<int8_t> w;
  std::vector<int32_t> bias;
  std::vector<float> scale;
  std::vector<int32_t> mult, expo;
  int32_t x_zp = 0;
  ref::Requant rq;
};

Prepared prepare(const DwCase& k) {
  std::mt19937 rng(k.seed);
  auto uni = [&](int32_t lo, int32_t hi) { return std::uniform_int_distribution<int32_t>(lo, hi)(rng); };
  Prepared p;
  ref::ConvShape& s = p.shape;
  s.batch = k.batch;
  s.in_h = k.in_h;
  s.in_w = k.in_w;
  s.in_c = s.out_c = s.groups = k.c;
  s.kernel_h = k.kh;
  s.kernel_w = k.kw;
  s.stride_h = k.sh;
  s.stride_w = k.sw;
  s.dilation_h = k.dh;
  s.dilation_w = k.dw;
  s.pad_top = k.pt;
  s.pad_left = k.pl;
  s.out_h = (k.in_h + k.pt + k.pb - ((k.kh - 1) * k.dh + 1)) / k.sh + 1;
  s.out_w = (k.in_w + k.pl + k.pr - ((k.kw - 1) * k.dw + 1)) / k.sw + 1;
  const int32_t lo = k.s8 ? -128 : 0, hi = k.s8 ? 127 : 255;
  p.x.resize(static_cast<size_t>(k.batch) * k.in_h * k.in_w * k.c);
  for (auto& v : p.x) v = static_cast<uint8_t>(uni(lo, hi));
  p.w.resize(static_cast<size_t>(k.c) * k.kh * k.kw);
  if (k.w127) {
    // The narrow NEON kernel's int16 pair sums at their bound: |(-128) x (-127)| twice.
    for (auto& v : p.x) v = static_cast<uint8_t>(uni(0, 2) == 0 ? (uni(0, 1) ? lo : hi) : uni(lo, hi));
    for (auto& v : p.w) v = static_cast<int8_t>(uni(0, 2) == 0 ? (uni(0, 1) ? -127 : 127) : uni(-127, 127));
  } else {
    for (auto& v : p.w) v = static_cast<int8_t>(uni(0, 9) == 0 ? -128 : uni(-128, 127));
  }
  p.bias.resize(static_cast<size_t>(k.c));
  for (auto& v : p.bias) {
    v = uni(-100000, 100000);
    if (k.extreme && uni(0, 3) == 0) v = uni(0, 1) ? INT32_MAX - uni(0, 1000) : INT32_MIN + uni(0, 1000);
  }
  p.x_zp = uni(lo, hi);
  const size_t nq = k.per_channel ? static_cast<size_t>(k.c) : 1;
  for (size_t i = 0; i < nq; ++i) {
    float sc = std::exp2(static_cast<float>(uni(-170, -20)) / 10.f);  // ~1e-5 .. 0.25
    if (k.extreme && uni(0, 2) == 0) sc = uni(0, 1) ? 1e-12f : std::exp2(static_cast<float>(uni(0, 40)));
    p.scale.push_back(sc);
    int32_t m, e;
    ref::quantize_multiplier(sc, &m, &e);
    if (k.extreme && uni(0, 2) == 0) {
      m = uni(0, 1) ? uni(INT32_MIN + 1, INT32_MAX) : uni(0, 1000);
      e = uni(-31, 40);
    }
    p.mult.push_back(m);
    p.expo.push_back(e);
  }
  ref::Requant& rq = p.rq;
  rq.scheme = k.fixed ? ref::Scheme::kFixedPoint : ref::Scheme::kFp32;
  rq.per_channel = k.per_channel;
  rq.scale = p.scale.data();
  rq.multiplier = p.mult.data();
  rq.exponent = p.expo.data();
  rq.zero_point = uni(lo, hi);
  rq.qmin = lo;
  rq.qmax = hi;
  if (k.narrow) {
    rq.qmin = uni(lo, (lo + hi) / 2);
    rq.qmax = uni(rq.qmin, hi);
  }
  return p;
}

template <typename T>
std::vector<uint8_t> run_ref(const Prepared& p) {
  const ref::ConvShape& s = p.shape;
  std::vector<uint8_t> y(static_cast<size_t>(s.batch) * s.out_h * s.out_w * s.out_c);
  const int32_t wzp = 0;
  ref::qconv2d<T>(s, reinterpret_cast<const T*>(p.x.data()), p.x_zp, p.w.data(), &wzp, false, p.bias.data(), p.rq,
                  reinterpret_cast<T*>(y.data()));
  return y;
}

void check_case(const DwCase& k, const kern::DwKernel* dk, const std::vector<pthreadpool_t>& pools) {
  const Prepared p = prepare(k);
  const std::vector<uint8_t> want = k.s8 ? run_ref<int8_t>(p) : run_ref<uint8_t>(p);
  kern::QDwConvParams params;
  params.shape = p.shape;
  params.act_s8 = k.s8;
  params.x_zero_point = p.x_zp;
  params.weight = p.w.data();
  params.bias = p.bias.data();
  params.rq = p.rq;
  kern::QDwConvOp op;
  ASSERT_TRUE(op.init(params, *dk)) << dk->name << " " << k.str();
  for (pthreadpool_t pool : pools) {
    std::vector<uint8_t> got(want.size(), 0xA5);
    Scheduler(pool).run(op, p.x.data(), got.data());
    size_t bad = 0;
    while (bad < got.size() && got[bad] == want[bad]) ++bad;
    ASSERT_EQ(bad, got.size()) << dk->name << " " << k.str() << " threads "
                               << (pool ? pthreadpool_get_threads_count(pool) : 0) << ": first mismatch at byte " << bad
                               << " (channel " << bad % k.c << "): got " << int(got[bad]) << " want " << int(want[bad]);
  }
}

class DwConvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kernels_ = dw_kernels();
    if (kernels_.empty()) GTEST_SKIP() << "no depthwise kernel on this host";
    pool2_ = pthreadpool_create(2);
    pool3_ = pthreadpool_create(3);
  }
  void TearDown() override {
    if (pool2_) pthreadpool_destroy(pool2_);
    if (pool3_) pthreadpool_destroy(pool3_);
  }
  std::vector<const kern::DwKernel*> kernels_;
  pthreadpool_t pool2_ = nullptr, pool3_ = nullptr;
};

// Every specialised and generic window on every channel count, both types and
// schemes, single-threaded.
TEST_F(DwConvTest, WindowsAndChannels) {
  struct W {
    int32_t kh, kw, sh, sw, dh, dw;
  };
  const W windows[] = {{3, 3, 1, 1, 1, 1}, {3, 3, 2, 2, 1, 1}, {5, 5, 1, 1, 1, 1}, {5, 5, 2, 2, 1, 1},
                       {3, 3, 1, 1, 2, 2}, {3, 3, 2, 1, 1, 1}, {1, 1, 1, 1, 1, 1}, {2, 3, 1, 2, 1, 1},
                       {7, 7, 1, 1, 1, 1}, {4, 1, 3, 1, 1, 1}, {3, 5, 1, 3, 2, 1}, {6, 2, 2, 2, 1, 3}};
  uint32_t seed = 1;
  for (const kern::DwKernel* dk : kernels_) {
    for (int32_t c : {1, 3, 15, 17, 33, 64, 65, 100}) {
      for (const W& w : windows) {
        for (int variant = 0; variant < 4; ++variant) {
          DwCase k;
          k.c = c;
          k.kh = w.kh;
          k.kw = w.kw;
          k.sh = w.sh;
          k.sw = w.sw;
          k.dh = w.dh;
          k.dw = w.dw;
          k.in_h = 7;
          k.in_w = 9;
          k.pt = k.pb = ((w.kh - 1) * w.dh) / 2;
          k.pl = k.pr = ((w.kw - 1) * w.dw) / 2;
          k.s8 = variant & 1;
          k.fixed = variant & 2;
          k.per_channel = (c + variant) % 2;
          k.seed = seed++;
          check_case(k, dk, {nullptr});
        }
      }
    }
  }
}

// Random shapes: padding (asymmetric, and wider than the window), dilation, batch 2,
// clamps, extreme requantization; inline, 2 and 3 threads.
TEST_F(DwConvTest, RandomSweepThreaded) {
  std::mt19937 rng(2024);
  auto uni = [&](int32_t lo, int32_t hi) { return std::uniform_int_distribution<int32_t>(lo, hi)(rng); };
  const int32_t channels[] = {1, 3, 15, 16, 17, 32, 33, 48, 100};
  for (const kern::DwKernel* dk : kernels_) {
    for (int i = 0; i < 150; ++i) {
      DwCase k;
      k.batch = uni(1, 2);
      k.c = channels[uni(0, 8)];
      k.kh = uni(1, 5);
      k.kw = uni(1, 5);
      if (uni(0, 1)) k.kh = k.kw = uni(0, 1) ? 3 : 5;
      k.sh = uni(1, 3);
      k.sw = uni(1, 3);
      k.dh = uni(0, 3) ? 1 : uni(2, 3);
      k.dw = uni(0, 3) ? 1 : uni(2, 3);
      k.in_h = uni(1, 12);
      k.in_w = uni(1, 20);
      k.pt = uni(0, 4);
      k.pb = uni(0, 4);
      k.pl = uni(0, 4);
      k.pr = uni(0, 4);
      if ((k.in_h + k.pt + k.pb - ((k.kh - 1) * k.dh + 1)) < 0 ||
          (k.in_w + k.pl + k.pr - ((k.kw - 1) * k.dw + 1)) < 0) {
        continue;
      }
      k.s8 = uni(0, 1);
      k.fixed = uni(0, 1);
      k.per_channel = uni(0, 1);
      k.extreme = uni(0, 3) == 0;
      k.narrow = uni(0, 3) == 0;
      k.seed = static_cast<uint32_t>(1000 + i);
      // Threaded runs on a quarter of the cases (thread pools are slow on a loaded host).
      if (i % 4 == 0) {
        check_case(k, dk, {nullptr, pool2_, pool3_});
      } else {
        check_case(k, dk, {nullptr});
      }
    }
  }
}

// MobileNetV2-like layers (larger rows, multiples of 16 channels), threaded.
TEST_F(DwConvTest, MobileNetLayers) {
  struct L {
    int32_t hw, c, stride;
  };
  const L layers[] = {{28, 32, 1}, {28, 96, 2}, {14, 144, 1}, {14, 144, 2}, {7, 960, 1}, {9, 576, 2}};
  uint32_t seed = 500;
  for (const kern::DwKernel* dk : kernels_) {
    for (const L& l : layers) {
      for (int variant = 0; variant < 4; ++variant) {
        DwCase k;
        k.in_h = k.in_w = l.hw;
        k.c = l.c;
        k.sh = k.sw = l.stride;
        k.pt = k.pl = 1;
        k.pb = k.pr = l.stride == 1 ? 1 : 0;
        k.s8 = variant & 1;
        k.fixed = variant & 2;
        k.per_channel = true;
        k.narrow = variant == 0;
        k.w127 = variant == 1 || variant == 2;
        k.seed = seed++;
        check_case(k, dk, {nullptr, pool3_});
      }
    }
  }
}

// The fixed 3- and 5-wide windows (weights in registers on ARM, dw_rows.h) with every
// output width from 1, kernel heights around the width (square windows, whose
// single-row last group the NEON and dotprod kernels treat apart, and others), both
// strides, dilation, uneven padding and channel counts around the 8/16/32 tiles.
TEST_F(DwConvTest, FixedWindowsEveryWidth) {
  const int32_t channels[] = {1, 7, 8, 9, 16, 17, 24, 31, 33, 48};
  uint32_t seed = 7000;
  for (const kern::DwKernel* dk : kernels_) {
    int n = 0;
    for (int32_t kw : {3, 5}) {
      for (int32_t kh : {kw - 1, kw, kw + 1}) {
        for (int32_t sw : {1, 2}) {
          for (int32_t out_w = 1; out_w <= 12; ++out_w, ++n) {
            DwCase k;
            k.c = channels[n % 10];
            k.kh = kh;
            k.kw = kw;
            k.sh = 1 + n % 2;
            k.sw = sw;
            k.dw = n % 5 == 4 ? 2 : 1;
            k.pt = n % 3;
            k.pb = (n + 1) % 3;
            k.pl = n % (kw + 1);
            k.pr = (n / 2) % kw;
            // in_w giving out_w output columns: (in_w + pl + pr - span) / sw + 1 = out_w.
            const int32_t span = (kw - 1) * k.dw + 1;
            k.in_w = (out_w - 1) * sw + span - k.pl - k.pr;
            if (k.in_w < 1) {  // more padding than a window: none on the right
              k.pr = 0;
              k.in_w = (out_w - 1) * sw + span - k.pl;
              if (k.in_w < 1) k.pl = 0, k.in_w = (out_w - 1) * sw + span;
            }
            ASSERT_EQ((k.in_w + k.pl + k.pr - span) / sw + 1, out_w);
            k.in_h = kh + n % 3;
            k.s8 = n & 1;
            k.fixed = n & 2;
            k.per_channel = n & 4;
            k.narrow = n % 7 == 0;
            k.extreme = n % 11 == 0;
            k.w127 = n % 4 < 2;
            k.seed = seed++;
            check_case(k, dk, {nullptr});
          }
        }
      }
    }
  }
}

// Long rows for the AArch64 direct kernel (kernels/arm/dw_direct_neon.h): its fast
// pixel range between the row's ends, with padding up to beyond a window, dilation,
// and channel counts whose last 8-channel half is partial, full or absent (a
// partial half's reads near the row's end go through a copy).
TEST_F(DwConvTest, FixedWindowsLongRows) {
  const int32_t channels[] = {2, 5, 12, 20, 23, 40};
  uint32_t seed = 9000;
  for (const kern::DwKernel* dk : kernels_) {
    int count = 0;
    for (int32_t kw : {3, 5}) {
      for (int32_t sw : {1, 2}) {
        for (int32_t dw : {1, 3}) {
          for (int32_t pl : {0, 1, 4, 7}) {
            const int n = count++;
            DwCase k;
            k.c = channels[n % 6];
            k.kh = kw;
            k.kw = kw;
            k.sw = sw;
            k.dw = dw;
            k.pl = pl;
            k.pr = (n + 2) % 5;
            k.pt = k.pb = 1;
            k.in_w = 24 + n % 9;
            k.in_h = 4;
            k.s8 = n & 1;
            k.fixed = n & 2;
            k.per_channel = !(n & 4);
            k.w127 = n % 4 < 2;
            k.seed = seed++;
            if ((k.in_w + k.pl + k.pr - ((kw - 1) * dw + 1)) < 0) continue;
            check_case(k, dk, {nullptr});
          }
        }
      }
    }
  }
}

// What init refuses: not depthwise, weight zero point ranges the epilogue cannot
// reproduce, x_zp outside the activation type.
TEST_F(DwConvTest, InitRefuses) {
  const Prepared p = prepare(DwCase());
  kern::QDwConvParams params;
  params.shape = p.shape;
  params.act_s8 = true;
  params.x_zero_point = p.x_zp;
  params.weight = p.w.data();
  params.bias = p.bias.data();
  params.rq = p.rq;
  for (const kern::DwKernel* dk : kernels_) {
    const kern::DwKernel& dw = *dk;
    kern::QDwConvOp op;
    EXPECT_TRUE(op.init(params, dw));
    kern::QDwConvParams bad = params;
    bad.shape.groups = 1;
    EXPECT_FALSE(op.init(bad, dw));
    bad = params;
    bad.x_zero_point = 200;
    EXPECT_FALSE(op.init(bad, dw));
    bad = params;
    bad.rq.zero_point = 1 << 25;
    EXPECT_FALSE(op.init(bad, dw));
    std::vector<float> inf_scale = {INFINITY};
    bad = params;
    bad.rq.per_channel = false;
    bad.rq.scale = inf_scale.data();
    EXPECT_FALSE(op.init(bad, dw));
  }
}

// A level's set picks the kernel with the least tiles * tile_cost, the widest on a tie.
TEST_F(DwConvTest, SetPicksCheapest) {
  const Prepared p = prepare(DwCase());
  for (Isa isa : {Isa::kAvx2, Isa::kAvxVnni, Isa::kAvx512Vnni, Isa::kNeon, Isa::kNeonDot, Isa::kNeonI8mm}) {
    if (!kern::isa_supported(isa)) continue;
    const kern::DwKernels& set = kern::kernel_set(isa).dw;
    for (int32_t c : {3, 32, 64, 96, 144, 960}) {
      const kern::DwKernel* want = nullptr;
      uint32_t want_cost = 0;
      for (const kern::DwKernel& k : set.kernel) {
        if (k.u8 == nullptr) continue;
        const uint32_t cost = (c + k.tile - 1) / k.tile * k.tile_cost;
        if (want == nullptr || cost < want_cost) want = &k, want_cost = cost;
      }
      kern::QDwConvParams params;
      params.shape = p.shape;
      params.shape.in_c = params.shape.out_c = params.shape.groups = c;
      params.act_s8 = true;
      std::vector<int8_t> w(static_cast<size_t>(c) * 9, 1);
      params.weight = w.data();
      params.rq = p.rq;
      params.rq.per_channel = false;
      kern::QDwConvOp op;
      ASSERT_TRUE(op.init(params, set));
      EXPECT_STREQ(op.kernel_name(), want->name) << c;
    }
  }
}

}  // namespace
}  // namespace edgeq
