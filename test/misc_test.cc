// The misc kernels (kernels/misc.h, MiscKernels) of every level the host runs,
// against the kernels/ref functions they replace, byte for byte.
//
// Sweeps: binary add/sub/mul/div with same shapes, scalar and per-channel broadcasts
// (either side) and mixed broadcasts, every row length up to 50, both schemes,
// int8/uint8, clamps, extreme scales (products and quotients that overflow to inf,
// inf - inf = NaN; scales near the smallest normal float) and zero points, exact halves
// for round half to even, fixed-point shifts beyond 31 either way; max/average pools
// over kernels, strides, padding (windows entirely in padding), dilation,
// count_include_pad, every channel count up to 70 and tiny scales; global average pool;
// lookup over every byte and every length up to 130; concat of short and long runs;
// quantize and dequantize over every length up to 130 with NaN, infinite, huge,
// denormal and exact-half inputs, zero, denormal, huge, infinite and NaN scales, and
// zero points up to the int32 limits.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/ref/ref.h"

namespace edgeq {
namespace {

using kern::Isa;

std::vector<Isa> misc_levels() {
  std::vector<Isa> v;
  for (Isa isa : {Isa::kAvx2, Isa::kAvxVnni, Isa::kAvx512Vnni, Isa::kNeon, Isa::kNeonDot, Isa::kNeonI8mm}) {
    if (kern::isa_supported(isa)) v.push_back(isa);
  }
  return v;
}

class MiscTest : public ::testing::Test {
 public:
  void SetUp() override {
    levels_ = misc_levels();
    if (levels_.empty()) GTEST_SKIP() << "no optimized level on this host";
  }
  std::vector<Isa> levels_;
  std::mt19937 rng_{99};
  int32_t uni(int32_t lo, int32_t hi) { return std::uniform_int_distribution<int32_t>(lo, hi)(rng_); }
  float log_uniform(float lo_exp, float hi_exp) {
    return std::exp2(std::uniform_real_distribution<float>(lo_exp, hi_exp)(rng_));
  }
  template <typename T>
  std::vector<T> bytes(size_t n) {
    std::vector<T> v(n);
    for (auto& x : v) x = static_cast<T>(uni(0, 255));
    return v;
  }
};

template <typename T>
kern::QBinaryFn<T> binary_fn(const kern::MiscKernels& m) {
  if constexpr (std::is_same<T, int8_t>::value) {
    return m.qbinary_s8;
  } else {
    return m.qbinary_u8;
  }
}

// One broadcast case: shapes of a, b and out (numpy rules).
struct Shapes {
  std::vector<int32_t> a, b, out;
};

int64_t count(const std::vector<int32_t>& s) {
  int64_t n = 1;
  for (int32_t d : s) n *= d;
  return n;
}

// The level's binary kernel against ref::qbinary on one case (n outputs).
template <typename T>
::testing::AssertionResult binary_matches(Isa isa, ref::BinaryOp op, const ref::Broadcast& bc, const T* a, const T* b,
                                          const ref::BinaryQParams& p, size_t n) {
  std::vector<T> want(n), got(n + 1, static_cast<T>(0x5A));
  ref::qbinary(op, bc, a, b, p, want.data());
  binary_fn<T>(kern::kernel_set(isa).misc)(op, bc, a, b, p, got.data());
  if (got[n] != static_cast<T>(0x5A)) return ::testing::AssertionFailure() << "wrote past the end";
  for (size_t i = 0; i < n; ++i) {
    if (got[i] != want[i]) {
      return ::testing::AssertionFailure()
             << kern::isa_name(isa) << " op " << int(op) << " scheme " << int(p.scheme) << " element " << i << " of "
             << n << ": " << int(got[i]) << " instead of " << int(want[i]) << "; scales " << p.a_scale << " "
             << p.b_scale << " " << p.out_scale << " zps " << p.a_zero_point << " " << p.b_zero_point << " "
             << p.out_zero_point << " clamp " << p.qmin << ".." << p.qmax;
    }
  }
  return ::testing::AssertionSuccess();
}

template <typename T>
void check_binary(MiscTest* t, Isa isa, const Shapes& sh, uint32_t seed) {
  auto fn = binary_fn<T>(kern::kernel_set(isa).misc);
  if (fn == nullptr) return;
  std::mt19937 rng(seed);
  auto uni = [&](int32_t lo, int32_t hi) { return std::uniform_int_distribution<int32_t>(lo, hi)(rng); };
  ref::Broadcast bc;
  ASSERT_TRUE(ref::make_broadcast(sh.a.data(), static_cast<int>(sh.a.size()), sh.b.data(),
                                  static_cast<int>(sh.b.size()), sh.out.data(), static_cast<int>(sh.out.size()), &bc));
  std::vector<T> a(static_cast<size_t>(count(sh.a))), b(static_cast<size_t>(count(sh.b)));
  for (auto& x : a) x = static_cast<T>(uni(0, 255));
  for (auto& x : b) x = static_cast<T>(uni(0, 255));
  const size_t n = static_cast<size_t>(count(sh.out));
  const int32_t lo = std::numeric_limits<T>::lowest(), hi = std::numeric_limits<T>::max();
  for (int variant = 0; variant < 16; ++variant) {
    const ref::BinaryOp op = static_cast<ref::BinaryOp>(variant % 4);
    ref::BinaryQParams p;
    p.scheme = (variant / 4) % 2 ? ref::Scheme::kFixedPoint : ref::Scheme::kFp32;
    const bool extreme = variant >= 8;
    auto scale = [&]() {
      const float e = static_cast<float>(uni(-200, 40)) / 10.f;
      if (extreme && uni(0, 2) == 0) return uni(0, 1) ? 1e-30f : 3e37f;
      return std::exp2(e);
    };
    p.a_scale = scale();
    p.b_scale = scale();
    p.out_scale = scale();
    p.a_zero_point = uni(lo, hi);
    p.b_zero_point = uni(lo, hi);
    p.out_zero_point = uni(lo, hi);
    if (extreme && uni(0, 1)) p.a_zero_point = uni(0, 1) ? lo : hi;
    p.qmin = lo;
    p.qmax = hi;
    if (uni(0, 2) == 0) {
      p.qmin = uni(lo, (lo + hi) / 2);
      p.qmax = uni(p.qmin, hi);
    }
    ASSERT_TRUE(binary_matches(isa, op, bc, a.data(), b.data(), p, n));
  }
  (void)t;
}

TEST_F(MiscTest, BinaryBroadcasts) {
  std::vector<Shapes> shapes;
  for (int32_t n : {1, 7, 8, 15, 16, 17, 33, 100, 1000}) shapes.push_back({{n}, {n}, {n}});
  for (int32_t c : {1, 3, 17, 24, 100}) {
    shapes.push_back({{2, 3, 5, c}, {2, 3, 5, c}, {2, 3, 5, c}});  // same shape
    shapes.push_back({{2, 3, 5, c}, {c}, {2, 3, 5, c}});           // per-channel
    shapes.push_back({{c}, {2, 3, 5, c}, {2, 3, 5, c}});
    shapes.push_back({{2, 3, 5, c}, {1}, {2, 3, 5, c}});  // scalar
    shapes.push_back({{}, {2, 3, 5, c}, {2, 3, 5, c}});
    shapes.push_back({{2, 3, 5, c}, {2, 1, 1, c}, {2, 3, 5, c}});
    shapes.push_back({{2, 1, 5, 1}, {1, 3, 1, c}, {2, 3, 5, c}});  // both broadcast
    shapes.push_back({{c, 1}, {1, c}, {c, c}});
  }
  shapes.push_back({{1}, {1}, {1}});
  shapes.push_back({{0, 4}, {4}, {0, 4}});
  uint32_t seed = 1;
  for (Isa isa : levels_) {
    for (const Shapes& s : shapes) {
      check_binary<int8_t>(this, isa, s, seed++);
      check_binary<uint8_t>(this, isa, s, seed++);
    }
  }
}

// Every pair of input bytes, fp32 scheme, on scales whose quotients often fall on exact
// ties (powers of two, and 3 * 2^k, whose results end in .5 for many pairs) or near
// them (0.1, 0.3: the quotients of decimal scales), and on extreme scales (2^-61 to
// 2^60, products that overflow to infinity): the level's kernel rounds as the reference.
// Division meets every divisor, zero (x / 0 saturates, 0 / 0 gives the zero point) too.
TEST_F(MiscTest, BinaryEveryBytePair) {
  const int32_t shape[1] = {256 * 256};
  ref::Broadcast bc;
  ASSERT_TRUE(ref::make_broadcast(shape, 1, shape, 1, shape, 1, &bc));
  std::vector<uint8_t> a(256 * 256), b(256 * 256);
  for (int i = 0; i < 256 * 256; ++i) {
    a[i] = static_cast<uint8_t>(i >> 8);
    b[i] = static_cast<uint8_t>(i & 255);
  }
  const float scales[][3] = {{0.5f, 0.25f, 1.f},        {0.125f, 0.125f, 0.5f},  {0.75f, 0.25f, 1.5f},
                             {0.1f, 0.3f, 0.2f},         {0.3f, 0.1f, 0.7f},      {0.02f, 0.05f, 0.1f},
                             {1.f, 1.f, 0x1p-60f},       {1.f, 1.f, 0x1p60f},     {0x1p40f, 0x1p40f, 0x1p60f},
                             {0x1p-61f, 0x1p-61f, 0x1p-61f}, {3e37f, 3e37f, 0x1p-20f}};
  for (Isa isa : levels_) {
    const kern::MiscKernels& m = kern::kernel_set(isa).misc;
    for (const auto& sc : scales) {
      for (ref::BinaryOp op : {ref::BinaryOp::kAdd, ref::BinaryOp::kSub, ref::BinaryOp::kMul, ref::BinaryOp::kDiv}) {
        for (int zp : {0, 128, 37}) {
          ref::BinaryQParams p{sc[0], sc[1], sc[2], zp, 255 - zp, zp / 2, 0, 255, ref::Scheme::kFp32};
          std::vector<uint8_t> want(a.size()), got(a.size());
          ref::qbinary(op, bc, a.data(), b.data(), p, want.data());
          m.qbinary_u8(op, bc, a.data(), b.data(), p, got.data());
          ASSERT_EQ(got, want) << kern::isa_name(isa) << " op " << int(op) << " scales " << sc[0] << " " << sc[1]
                               << " " << sc[2] << " zp " << zp;
          // The same bytes as int8, with a clamp inside the type.
          p = ref::BinaryQParams{sc[0], sc[1], sc[2], zp - 128, 127 - zp, -zp / 3, -100, 90, ref::Scheme::kFp32};
          const int8_t* sa = reinterpret_cast<const int8_t*>(a.data());
          const int8_t* sb = reinterpret_cast<const int8_t*>(b.data());
          std::vector<int8_t> want8(a.size()), got8(a.size());
          ref::qbinary(op, bc, sa, sb, p, want8.data());
          m.qbinary_s8(op, bc, sa, sb, p, got8.data());
          ASSERT_EQ(got8, want8) << kern::isa_name(isa) << " int8 op " << int(op) << " scales " << sc[0] << " "
                                 << sc[1] << " " << sc[2] << " zp " << zp;
        }
      }
    }
  }
}

// Fixed-point add with every zero point the vector path accepts at its limits, and
// beyond them (the reference then runs).
TEST_F(MiscTest, BinaryZeroPointLimits) {
  for (Isa isa : levels_) {
    auto fn = kern::kernel_set(isa).misc.qbinary_u8;
    if (fn == nullptr) continue;
    const int32_t shape[1] = {300};
    ref::Broadcast bc;
    ASSERT_TRUE(ref::make_broadcast(shape, 1, shape, 1, shape, 1, &bc));
    std::vector<uint8_t> a = bytes<uint8_t>(300), b = bytes<uint8_t>(300), want(300), got(300);
    for (int32_t zp : {-1024, 1024, -1025, 5000, -(1 << 24), 1 << 25}) {
      for (ref::Scheme scheme : {ref::Scheme::kFp32, ref::Scheme::kFixedPoint}) {
        for (ref::BinaryOp op : {ref::BinaryOp::kAdd, ref::BinaryOp::kSub, ref::BinaryOp::kMul, ref::BinaryOp::kDiv}) {
          const ref::BinaryQParams p{0.5f, 0.25f, 0.125f, zp, -zp, zp / 3, 0, 255, scheme};
          ref::qbinary(op, bc, a.data(), b.data(), p, want.data());
          fn(op, bc, a.data(), b.data(), p, got.data());
          ASSERT_EQ(got, want) << kern::isa_name(isa) << " zp " << zp << " scheme " << int(scheme);
        }
      }
    }
  }
}

// Every level that runs here has all of its misc kernels: the sweeps below skip
// null ones, so a level that lost a kernel would otherwise pass unnoticed.
TEST_F(MiscTest, EveryLevelHasKernels) {
  for (Isa isa : levels_) {
    const kern::MiscKernels& m = kern::kernel_set(isa).misc;
    EXPECT_TRUE(m.qbinary_s8 && m.qbinary_u8 && m.qmaxpool_s8 && m.qmaxpool_u8 && m.qavgpool_s8 && m.qavgpool_u8 &&
                m.qglobal_avgpool_s8 && m.qglobal_avgpool_u8 && m.lookup_s8 && m.lookup_u8 && m.concat &&
                m.quantize_s8 && m.quantize_u8 && m.dequantize_s8 && m.dequantize_u8 && m.transpose && m.slice && m.pad &&
                m.split && m.pad_mode && m.resize_nearest && m.resize_linear_f32)
        << kern::isa_name(isa);
  }
}

// Contiguous rows and rows against a repeated element, every length up to three
// vectors of 16 (each tail) plus a few, with random parameters.
TEST_F(MiscTest, BinaryEveryTail) {
  uint32_t seed = 7;
  for (Isa isa : levels_) {
    for (int32_t n = 1; n <= 50; ++n) {
      for (const Shapes& s : {Shapes{{n}, {n}, {n}}, Shapes{{n}, {1}, {n}}, Shapes{{1}, {n}, {n}}}) {
        check_binary<int8_t>(this, isa, s, seed++);
        check_binary<uint8_t>(this, isa, s, seed++);
      }
    }
  }
}

// Scales that are powers of two (and three halves of them) make many exact halves:
// round half to even must pick the even neighbour on both signs, also after adding the
// output zero point (its limits: 2^24 the vector paths take, beyond it the reference).
TEST_F(MiscTest, BinaryRoundingTies) {
  const int32_t shape[1] = {256};
  ref::Broadcast bc;
  ASSERT_TRUE(ref::make_broadcast(shape, 1, shape, 1, shape, 1, &bc));
  std::vector<int8_t> a(256), b(256);
  for (int i = 0; i < 256; ++i) {
    a[i] = static_cast<int8_t>(i);
    b[i] = static_cast<int8_t>(i * 37 + 11);
  }
  for (Isa isa : levels_) {
    for (float sa : {0.5f, 0.25f, 1.5f, 0.75f, 3.0f}) {
      for (float sy : {1.0f, 0.5f, 2.0f, 4.0f, 0.375f}) {
        for (int32_t zy : {0, 1, -7, 100, 1 << 24, -(1 << 24), (1 << 24) + 1}) {
          for (ref::BinaryOp op : {ref::BinaryOp::kAdd, ref::BinaryOp::kSub, ref::BinaryOp::kMul}) {
            const ref::BinaryQParams p{sa, 0.5f, sy, 3, -5, zy, -128, 127, ref::Scheme::kFp32};
            ASSERT_TRUE(binary_matches(isa, op, bc, a.data(), b.data(), p, 256));
          }
        }
      }
    }
  }
}

// Scales around the smallest normal float (2^-126): denormal intermediates, which a
// vector unit that flushes them to zero (ARMv7 NEON) must not run, and large ratios.
TEST_F(MiscTest, BinaryTinyScales) {
  const int32_t shape[1] = {300};
  ref::Broadcast bc;
  ASSERT_TRUE(ref::make_broadcast(shape, 1, shape, 1, shape, 1, &bc));
  std::vector<uint8_t> a = bytes<uint8_t>(300), b = bytes<uint8_t>(300);
  const float kScales[] = {0x1.8p-126f, 0x1p-126f, 0x1p-127f, 0x1p-149f, 0x1p-125f, 0x1p-124f, 0x1.8p-124f, 0x1p-100f,
                           0x1p-60f,    0.5f};
  for (Isa isa : levels_) {
    for (float sa : kScales) {
      for (float sb : kScales) {
        for (float sy : kScales) {
          for (ref::BinaryOp op : {ref::BinaryOp::kAdd, ref::BinaryOp::kSub, ref::BinaryOp::kMul}) {
            const ref::BinaryQParams p{sa, sb, sy, 128, 127, 120, 0, 255, ref::Scheme::kFp32};
            ASSERT_TRUE(binary_matches(isa, op, bc, a.data(), b.data(), p, 300));
          }
        }
      }
    }
  }
}

// Fixed point over output scales from 2^-45 to 2^45: multipliers whose exponent asks
// for left shifts of 32 and more (saturation) and right shifts beyond 31.
TEST_F(MiscTest, BinaryFixedPointShifts) {
  const int32_t shape[1] = {257};
  ref::Broadcast bc;
  ASSERT_TRUE(ref::make_broadcast(shape, 1, shape, 1, shape, 1, &bc));
  std::vector<int8_t> a = bytes<int8_t>(257), b = bytes<int8_t>(257);
  for (Isa isa : levels_) {
    for (int e = -45; e <= 45; ++e) {
      for (float sa : {1.0f, 0.3f, 1e-3f}) {
        const float sy = std::ldexp(0.7f, e);
        for (ref::BinaryOp op : {ref::BinaryOp::kAdd, ref::BinaryOp::kSub, ref::BinaryOp::kMul}) {
          const ref::BinaryQParams p{sa, 0.02f, sy, -3, 9, uni(-128, 127), -128, 127, ref::Scheme::kFixedPoint};
          ASSERT_TRUE(binary_matches(isa, op, bc, a.data(), b.data(), p, 257)) << "out scale 0.7 * 2^" << e;
        }
      }
    }
  }
}

template <typename T>
void check_pools(MiscTest* t, Isa isa, std::mt19937* rng) {
  auto uni = [&](int32_t lo, int32_t hi) { return std::uniform_int_distribution<int32_t>(lo, hi)(*rng); };
  const kern::MiscKernels& m = kern::kernel_set(isa).misc;
  kern::QPoolFn<T> maxpool, avgpool;
  if constexpr (std::is_same<T, int8_t>::value) {
    maxpool = m.qmaxpool_s8;
    avgpool = m.qavgpool_s8;
  } else {
    maxpool = m.qmaxpool_u8;
    avgpool = m.qavgpool_u8;
  }
  const int32_t lo = std::numeric_limits<T>::lowest(), hi = std::numeric_limits<T>::max();
  for (int i = 0; i < 120; ++i) {
    ref::PoolShape s;
    s.batch = uni(1, 2);
    s.channels = std::vector<int32_t>{1, 3, 15, 17, 32, 33, 100}[uni(0, 6)];
    s.kernel_h = uni(1, 4);
    s.kernel_w = uni(1, 4);
    s.stride_h = uni(1, 3);
    s.stride_w = uni(1, 3);
    s.dilation_h = uni(0, 3) ? 1 : 2;
    s.dilation_w = uni(0, 3) ? 1 : 2;
    s.in_h = uni(1, 9);
    s.in_w = uni(1, 9);
    s.pad_top = uni(0, 4);
    s.pad_left = uni(0, 4);
    const int32_t pb = uni(0, 4), pr = uni(0, 4);
    const int32_t eh = (s.kernel_h - 1) * s.dilation_h + 1, ew = (s.kernel_w - 1) * s.dilation_w + 1;
    if (s.in_h + s.pad_top + pb < eh || s.in_w + s.pad_left + pr < ew) continue;
    s.out_h = (s.in_h + s.pad_top + pb - eh) / s.stride_h + 1;
    s.out_w = (s.in_w + s.pad_left + pr - ew) / s.stride_w + 1;
    s.count_include_pad = uni(0, 1);
    std::vector<T> x(static_cast<size_t>(s.batch) * s.in_h * s.in_w * s.channels);
    for (auto& v : x) v = static_cast<T>(uni(0, 255));
    ref::PoolQParams p;
    p.in_scale = std::exp2(static_cast<float>(uni(-100, 20)) / 10.f);
    p.out_scale = uni(0, 2) == 0 ? p.in_scale : std::exp2(static_cast<float>(uni(-100, 20)) / 10.f);
    if (uni(0, 9) == 0) p.out_scale = 1e-38f;  // overflows to inf
    if (uni(0, 9) == 0) p.in_scale = 3e37f;    // sums of +-inf: NaN
    p.in_zero_point = uni(lo, hi);
    p.out_zero_point = uni(0, 2) == 0 ? p.in_zero_point : uni(lo, hi);
    p.qmin = lo;
    p.qmax = hi;
    if (uni(0, 2) == 0) {
      p.qmin = uni(lo, (lo + hi) / 2);
      p.qmax = uni(p.qmin, hi);
    }
    const size_t n = static_cast<size_t>(s.batch) * s.out_h * s.out_w * s.channels;
    for (int kind = 0; kind < 2; ++kind) {
      kern::QPoolFn<T> fn = kind == 0 ? maxpool : avgpool;
      if (fn == nullptr) continue;
      std::vector<T> want(n), got(n + 1, static_cast<T>(0x5A));
      if (kind == 0) {
        ref::qmaxpool(s, x.data(), p, want.data());
      } else {
        ref::qavgpool(s, x.data(), p, want.data());
      }
      fn(s, x.data(), p, got.data());
      ASSERT_EQ(got[n], static_cast<T>(0x5A)) << "wrote past the end";
      for (size_t j = 0; j < n; ++j) {
        ASSERT_EQ(int(got[j]), int(want[j]))
            << kern::isa_name(isa) << (kind ? " avg" : " max") << " case " << i << " element " << j << " k "
            << s.kernel_h << "x" << s.kernel_w << " c " << s.channels << " include_pad " << s.count_include_pad;
      }
    }
  }
  (void)t;
}

TEST_F(MiscTest, Pools) {
  for (Isa isa : levels_) {
    check_pools<int8_t>(this, isa, &rng_);
    check_pools<uint8_t>(this, isa, &rng_);
  }
}

// Max and average pool of one level against the reference on input x.
template <typename T>
::testing::AssertionResult pools_match(Isa isa, const ref::PoolShape& s, const T* x, const ref::PoolQParams& p) {
  const kern::MiscKernels& m = kern::kernel_set(isa).misc;
  kern::QPoolFn<T> fns[2];
  if constexpr (std::is_same<T, int8_t>::value) {
    fns[0] = m.qmaxpool_s8;
    fns[1] = m.qavgpool_s8;
  } else {
    fns[0] = m.qmaxpool_u8;
    fns[1] = m.qavgpool_u8;
  }
  const size_t n = static_cast<size_t>(s.batch) * s.out_h * s.out_w * s.channels;
  for (int kind = 0; kind < 2; ++kind) {
    std::vector<T> want(n), got(n + 1, static_cast<T>(0x5A));
    (kind == 0 ? ref::qmaxpool<T> : ref::qavgpool<T>)(s, x, p, want.data());
    fns[kind](s, x, p, got.data());
    if (got[n] != static_cast<T>(0x5A)) return ::testing::AssertionFailure() << "wrote past the end";
    for (size_t i = 0; i < n; ++i) {
      if (got[i] != want[i]) {
        return ::testing::AssertionFailure() << kern::isa_name(isa) << (kind ? " avg" : " max") << " element " << i
                                             << ": " << int(got[i]) << " instead of " << int(want[i]) << "; c "
                                             << s.channels << " scales " << p.in_scale << " " << p.out_scale;
      }
    }
  }
  return ::testing::AssertionSuccess();
}

// Every channel count up to 70 (each tail of the 16- and 32-channel blocks), and in
// and out scales around the smallest normal float (2^-126) and 2^-100: denormal
// products, sums and quotients, which a vector unit that flushes them to zero (ARMv7
// NEON) must not produce where they change a result.
TEST_F(MiscTest, PoolsChannelsAndTinyScales) {
  const float kIn[] = {0.02f, 0x1p-100f, 0x1p-101f, 0x1p-126f, 0x1.8p-126f, 0x1p-127f};
  const float kOut[] = {0.3f, 0x1p-124f, 0x1p-126f, 0x1p-127f, 0x1p-140f, 0x1p-110f};
  for (Isa isa : levels_) {
    for (int32_t c = 1; c <= 70; ++c) {
      const ref::PoolShape s{1, 4, 5, c, 4, 5, 3, 3, 1, 1, 1, 1, 1, 1, c % 2 == 0};
      const std::vector<uint8_t> x = bytes<uint8_t>(static_cast<size_t>(4 * 5 * c));
      const float in_scale = kIn[c % 6], out_scale = kOut[(c / 6) % 6];
      const int32_t in_zp = uni(0, 255);
      for (const ref::PoolQParams& p : {ref::PoolQParams{in_scale, out_scale, in_zp, uni(0, 255), 0, 255},
                                        ref::PoolQParams{in_scale, in_scale, in_zp, in_zp, uni(0, 60), uni(200, 255)}}) {
        ASSERT_TRUE(pools_match(isa, s, x.data(), p));
        // int8: the same bytes, zero points and clamp shifted into the signed range
        const ref::PoolQParams ps{p.in_scale,   p.out_scale,  p.in_zero_point - 128, p.out_zero_point - 128,
                                  p.qmin - 128, p.qmax - 128};
        ASSERT_TRUE(pools_match(isa, s, reinterpret_cast<const int8_t*>(x.data()), ps));
      }
    }
  }
}

TEST_F(MiscTest, GlobalAveragePool) {
  for (Isa isa : levels_) {
    const kern::MiscKernels& m = kern::kernel_set(isa).misc;
    if (m.qglobal_avgpool_s8 == nullptr || m.qglobal_avgpool_u8 == nullptr) continue;  // the reference runs
    for (int i = 0; i < 150; ++i) {
      const int32_t batch = uni(1, 2), hw = std::vector<int32_t>{0, 1, 4, 49, 100}[uni(0, 4)];
      const int32_t c = uni(0, 3) ? uni(1, 40) : std::vector<int32_t>{1, 3, 15, 16, 17, 33, 1280}[uni(0, 6)];
      ref::PoolQParams p;
      p.in_scale = log_uniform(-10, 2);
      p.out_scale = uni(0, 5) ? log_uniform(-10, 2) : 1e-38f;
      const bool s8 = uni(0, 1);
      const int32_t lo = s8 ? -128 : 0, hi = s8 ? 127 : 255;
      p.in_zero_point = uni(lo, hi);
      p.out_zero_point = uni(lo, hi);
      p.qmin = uni(0, 1) ? lo : uni(lo, 0);
      p.qmax = uni(0, 1) ? hi : uni(p.qmin, hi);
      const size_t n = static_cast<size_t>(batch) * hw * c;
      if (s8) {
        std::vector<int8_t> x = bytes<int8_t>(n), want(batch * c), got(batch * c);
        ref::qglobal_avgpool(batch, hw, c, x.data(), p, want.data());
        m.qglobal_avgpool_s8(batch, hw, c, x.data(), p, got.data());
        ASSERT_EQ(got, want) << kern::isa_name(isa) << " hw " << hw << " c " << c;
      } else {
        std::vector<uint8_t> x = bytes<uint8_t>(n), want(batch * c), got(batch * c);
        ref::qglobal_avgpool(batch, hw, c, x.data(), p, want.data());
        m.qglobal_avgpool_u8(batch, hw, c, x.data(), p, got.data());
        ASSERT_EQ(got, want) << kern::isa_name(isa) << " hw " << hw << " c " << c;
      }
    }
  }
}

TEST_F(MiscTest, Lookup) {
  for (Isa isa : levels_) {
    const kern::MiscKernels& m = kern::kernel_set(isa).misc;
    if (m.lookup_s8 == nullptr || m.lookup_u8 == nullptr) continue;  // the reference runs
    std::vector<size_t> lengths = {256, 1000};
    for (size_t n = 0; n <= 130; ++n) lengths.push_back(n);  // every tail of 16, 32 and 64
    for (size_t n : lengths) {
      for (int rep = 0; rep < 3; ++rep) {
        std::vector<uint8_t> table = bytes<uint8_t>(256), x = bytes<uint8_t>(n);
        if (n >= 256) {
          for (size_t i = 0; i < 256; ++i) x[i] = static_cast<uint8_t>(i);  // every index
        }
        std::vector<uint8_t> want(n), got(n + 1, 0x5A);
        ref::lookup(n, x.data(), table.data(), want.data());
        m.lookup_u8(n, x.data(), table.data(), got.data());
        ASSERT_EQ(got[n], 0x5A);
        got.pop_back();
        ASSERT_EQ(got, want) << kern::isa_name(isa) << " n " << n;
        std::vector<int8_t> ws(n), gs(n);
        ref::lookup(n, reinterpret_cast<const int8_t*>(x.data()), reinterpret_cast<const int8_t*>(table.data()),
                    ws.data());
        m.lookup_s8(n, reinterpret_cast<const int8_t*>(x.data()), reinterpret_cast<const int8_t*>(table.data()),
                    gs.data());
        ASSERT_EQ(gs, ws) << kern::isa_name(isa) << " n " << n;
      }
    }
  }
}

// Scales and zero points for the conversion sweeps: ordinary ones, and every extreme
// the reference defines (docs/reliability.md: NaN quantizes to the zero point, +-inf
// and huge values saturate).
struct ConvertParams {
  float scale;
  int32_t zero_point;
};

std::vector<ConvertParams> convert_params(MiscTest* t, int32_t lo, int32_t hi) {
  std::vector<ConvertParams> v;
  for (int i = 0; i < 12; ++i) v.push_back({t->log_uniform(-20.f, 4.f), t->uni(lo, hi)});
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  for (float s : {1.f, 0.5f, 1e-30f, 3e37f, 1e-40f, 0.f, -0.25f, inf, nan, std::numeric_limits<float>::max()}) {
    v.push_back({s, t->uni(lo, hi)});
  }
  for (int32_t z : {lo, hi, 1 << 24, -(1 << 24), (1 << 24) + 1, -(1 << 24) - 1, 1 << 30,
                    std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()}) {
    v.push_back({0.1f, z});
  }
  return v;
}

template <typename T>
kern::QuantizeFn<T> quantize_fn(const kern::MiscKernels& m) {
  if constexpr (std::is_same<T, int8_t>::value) {
    return m.quantize_s8;
  } else {
    return m.quantize_u8;
  }
}
template <typename T>
kern::DequantizeFn<T> dequantize_fn(const kern::MiscKernels& m) {
  if constexpr (std::is_same<T, int8_t>::value) {
    return m.dequantize_s8;
  } else {
    return m.dequantize_u8;
  }
}

template <typename T>
void check_quantize(MiscTest* t, Isa isa) {
  const kern::QuantizeFn<T> fn = quantize_fn<T>(kern::kernel_set(isa).misc);
  if (fn == nullptr) return;  // the reference runs
  const int32_t lo = std::numeric_limits<T>::lowest(), hi = std::numeric_limits<T>::max();
  std::vector<size_t> lengths = {300, 1000};
  for (size_t n = 0; n <= 130; ++n) lengths.push_back(n);
  const float special[] = {std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::quiet_NaN(),
                           std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                           3e38f, -3e38f, 1e-45f, -1e-45f, 0.f, -0.f, 2147483648.f, -2147483904.f, 1e12f};
  for (const ConvertParams& p : convert_params(t, lo, hi)) {
    for (size_t n : lengths) {
      std::vector<float> x(n);
      for (size_t i = 0; i < n; ++i) {
        const int kind = t->uni(0, 9);
        if (kind == 0) {
          x[i] = special[t->uni(0, static_cast<int32_t>(sizeof(special) / sizeof(special[0])) - 1)];
        } else if (kind <= 3) {  // exact halves of the scale: round half to even decides
          x[i] = (static_cast<float>(t->uni(-300, 300)) + 0.5f) * p.scale;
        } else {
          x[i] = static_cast<float>(t->uni(-200000, 200000)) / 1000.f * (std::isfinite(p.scale) ? p.scale : 1.f);
        }
      }
      std::vector<T> want(n), got(n + 1, static_cast<T>(0x5A));
      ref::quantize(n, x.data(), p.scale, p.zero_point, want.data());
      fn(n, x.data(), p.scale, p.zero_point, got.data());
      ASSERT_EQ(got[n], static_cast<T>(0x5A)) << "wrote past the end";
      for (size_t i = 0; i < n; ++i) {
        ASSERT_EQ(int(got[i]), int(want[i])) << kern::isa_name(isa) << " n " << n << " element " << i << " x " << x[i]
                                             << " scale " << p.scale << " zp " << p.zero_point;
      }
    }
  }
}

template <typename T>
void check_dequantize(MiscTest* t, Isa isa) {
  const kern::DequantizeFn<T> fn = dequantize_fn<T>(kern::kernel_set(isa).misc);
  if (fn == nullptr) return;  // the reference runs
  const int32_t lo = std::numeric_limits<T>::lowest(), hi = std::numeric_limits<T>::max();
  std::vector<size_t> lengths = {300, 1000};
  for (size_t n = 0; n <= 130; ++n) lengths.push_back(n);
  for (const ConvertParams& p : convert_params(t, lo, hi)) {
    for (size_t n : lengths) {
      const std::vector<T> x = t->bytes<T>(n);
      std::vector<float> want(n), got(n + 1, 42.f);
      ref::dequantize(n, x.data(), p.scale, p.zero_point, want.data());
      fn(n, x.data(), p.scale, p.zero_point, got.data());
      ASSERT_EQ(got[n], 42.f) << "wrote past the end";
      for (size_t i = 0; i < n; ++i) {  // the bits: NaN payloads and the sign of zero too
        uint32_t g, w;
        std::memcpy(&g, &got[i], 4);
        std::memcpy(&w, &want[i], 4);
        ASSERT_EQ(g, w) << kern::isa_name(isa) << " n " << n << " element " << i << " q " << int(x[i]) << " scale "
                        << p.scale << " zp " << p.zero_point << ": " << got[i] << " instead of " << want[i];
      }
    }
  }
}

TEST_F(MiscTest, Quantize) {
  for (Isa isa : levels_) {
    check_quantize<int8_t>(this, isa);
    check_quantize<uint8_t>(this, isa);
  }
}

// The AVX-512 kernel quantizes without dividing (kernels/x86/quantize_avx512.cc): its
// quotient must be the division's on every value, most of all next to the ties that
// round half to even decides. For scales across the range it takes and at its edges:
// the float nearest each tie (n + 1/2) * s and its neighbours up to 4 ulps away, and
// random floats of every binade. EDGEQ_EXHAUSTIVE=1 adds every one of the 2^32 floats
// for 12 scales (the edges of the range, 1/255, 0.1, 1, 3 and four random ones), int8
// and uint8 (about half an hour of one core).
template <typename T>
void check_quantize_ties(MiscTest* t, Isa isa, bool exhaustive) {
  const kern::QuantizeFn<T> fn = quantize_fn<T>(kern::kernel_set(isa).misc);
  if (fn == nullptr) return;
  std::vector<float> scales = {0x1p-60f, std::nextafter(0x1p-60f, 0.f), 0x1p60f, std::nextafter(0x1p60f, INFINITY),
                               1.f / 255.f, 0.1f, 1.f, 3.f, 6.f / 255.f, 0x1.fffffep-1f, 0x1.000002p0f};
  for (int i = 0; i < 40; ++i) scales.push_back(t->log_uniform(-60.f, 60.f));
  for (int i = 0; i < 40; ++i) scales.push_back(t->log_uniform(-12.f, 2.f));
  std::vector<float> x;
  for (float s : scales) {
    x.clear();
    for (int n = -400; n <= 400; ++n) {
      float v = (static_cast<float>(n) + 0.5f) * s;
      for (int u = 0; u < 4; ++u) v = std::nextafter(v, -INFINITY);
      for (int u = 0; u <= 8; ++u, v = std::nextafter(v, INFINITY)) x.push_back(v);
    }
    for (int e = -149; e < 128; ++e) {
      for (int i = 0; i < 16; ++i) {
        const float m = std::ldexp(1.f + static_cast<float>(t->uni(0, (1 << 23) - 1)) * 0x1p-23f, e);
        x.push_back(t->uni(0, 1) != 0 ? m : -m);
      }
    }
    const int32_t zp = t->uni(std::numeric_limits<T>::lowest(), std::numeric_limits<T>::max());
    std::vector<T> want(x.size()), got(x.size());
    ref::quantize(x.size(), x.data(), s, zp, want.data());
    fn(x.size(), x.data(), s, zp, got.data());
    for (size_t i = 0; i < x.size(); ++i)
      ASSERT_EQ(int(got[i]), int(want[i])) << kern::isa_name(isa) << " x " << x[i] << " scale " << s << " zp " << zp;
  }
  if (!exhaustive) return;
  x.resize(size_t{1} << 24);
  std::vector<T> want(x.size()), got(x.size());
  for (size_t k = 0; k < 12; ++k) {
    const float s = k < 8 ? scales[k] : scales[11 + (k - 8) * 20];
    for (uint64_t base = 0; base < (uint64_t{1} << 32); base += x.size()) {
      for (size_t i = 0; i < x.size(); ++i) {
        const uint32_t bits = static_cast<uint32_t>(base + i);
        std::memcpy(&x[i], &bits, 4);
      }
      ref::quantize(x.size(), x.data(), s, 0, want.data());
      fn(x.size(), x.data(), s, 0, got.data());
      ASSERT_EQ(got, want) << kern::isa_name(isa) << " scale " << s << " from bits " << base;
    }
  }
}

TEST_F(MiscTest, QuantizeTiesEqualTheDivision) {
  const char* env = std::getenv("EDGEQ_EXHAUSTIVE");
  const bool exhaustive = env != nullptr && std::string(env) == "1";
  for (Isa isa : levels_) {
    check_quantize_ties<int8_t>(this, isa, exhaustive);
    check_quantize_ties<uint8_t>(this, isa, exhaustive);
  }
}

TEST_F(MiscTest, Dequantize) {
  for (Isa isa : levels_) {
    check_dequantize<int8_t>(this, isa);
    check_dequantize<uint8_t>(this, isa);
  }
}

// A data-movement kernel against its reference on n output bytes: ref(want) and
// kernel(got), got one byte longer with a sentinel: the same bytes, none past the end.
template <typename Ref, typename Kernel>
::testing::AssertionResult moves_like_ref(size_t n, const Ref& ref, const Kernel& kernel) {
  std::vector<uint8_t> want(n), got(n + 1, 0x5A);
  ref(want.data());
  kernel(got.data());
  if (got[n] != 0x5A) return ::testing::AssertionFailure() << "wrote past the end";
  for (size_t i = 0; i < n; ++i)
    if (got[i] != want[i])
      return ::testing::AssertionFailure() << "byte " << i << " of " << n << ": " << int(got[i]) << " instead of "
                                           << int(want[i]);
  return ::testing::AssertionSuccess();
}

// The channels-last permutation and its inverse (every channel count up to 40, 1-, 2-
// and 4-byte elements, ranks 3 to 5) and other permutations (the reference's path)
// against ref::transpose.
TEST_F(MiscTest, Transpose) {
  for (Isa isa : levels_) {
    const kern::TransposeFn fn = kern::kernel_set(isa).misc.transpose;
    if (fn == nullptr) continue;
    for (int i = 0; i < 200; ++i) {
      const int rank = uni(3, 5);
      std::vector<int32_t> shape(rank), perm(rank);
      shape[0] = uni(1, 3);
      shape[1] = i < 80 ? i % 40 + 1 : uni(1, 70);
      for (int d = 2; d < rank; ++d) shape[d] = uni(1, 13);
      for (int d = 0; d < rank; ++d) perm[d] = d == 0 ? 0 : d == rank - 1 ? 1 : d + 1;  // channels-last
      if (i % 5 == 3) {  // its inverse, channels-first: the channel count is the last dimension
        std::swap(shape[1], shape[rank - 1]);
        for (int d = 0; d < rank; ++d) perm[d] = d == 0 ? 0 : d == 1 ? rank - 1 : d - 1;
      }
      if (i % 5 == 4) std::shuffle(perm.begin(), perm.end(), rng_);  // mostly neither
      const size_t elem = std::vector<size_t>{1, 4, 2}[i % 3];
      const size_t bytes_n = static_cast<size_t>(count(shape)) * elem;
      const std::vector<uint8_t> x = this->bytes<uint8_t>(bytes_n);
      ASSERT_TRUE(moves_like_ref(
          bytes_n, [&](uint8_t* o) { ref::transpose(rank, shape.data(), perm.data(), elem, x.data(), o); },
          [&](uint8_t* o) { fn(rank, shape.data(), perm.data(), elem, x.data(), o); }))
          << kern::isa_name(isa) << " case " << i;
    }
  }
}

// The layout change at an image model's input, three byte planes interleaved (16
// pixels a register on x86 and ARM): pixel counts around the vector width and a full
// 224 x 224 image, batches of 1 and 2, against ref::transpose.
TEST_F(MiscTest, TransposeRgbBytesToChannelsLast) {
  for (Isa isa : levels_) {
    const kern::TransposeFn fn = kern::kernel_set(isa).misc.transpose;
    if (fn == nullptr) continue;
    for (int32_t w : {1, 5, 15, 16, 17, 31, 32, 48, 224}) {
      for (int32_t batch : {1, 2}) {
        const int32_t shape[4] = {batch, 3, w == 224 ? 224 : 3, w}, perm[4] = {0, 2, 3, 1};
        const size_t n = static_cast<size_t>(batch) * 3 * static_cast<size_t>(shape[2]) * static_cast<size_t>(w);
        const std::vector<uint8_t> x = this->bytes<uint8_t>(n);
        ASSERT_TRUE(moves_like_ref(
            n, [&](uint8_t* o) { ref::transpose(4, shape, perm, 1, x.data(), o); },
            [&](uint8_t* o) { fn(4, shape, perm, 1, x.data(), o); }))
            << kern::isa_name(isa) << " width " << w << " batch " << batch;
      }
    }
  }
}

// Transposes that keep the innermost rows (ShuffleNet's channel shuffle, transposes
// with size-1 dimensions) move runs of bytes, and those that collapse to a batched
// matrix transpose move it tile by tile: against ref::transpose, and the collapsed
// transpose (kern::collapse_transpose) moves the same bytes as the original.
TEST_F(MiscTest, TransposeRuns) {
  for (int i = 0; i < 300; ++i) {
    const int rank = uni(1, 6);
    std::vector<int32_t> shape(rank), perm(rank);
    for (int d = 0; d < rank; ++d) shape[d] = uni(0, 3) == 0 ? 1 : uni(1, 7);
    for (int d = 0; d < rank; ++d) perm[d] = d;
    std::shuffle(perm.begin(), perm.end() - (i % 2 == 0 ? 1 : 0), rng_);  // even i: the last stays last
    if (i % 4 == 1 && rank >= 2) {  // a matrix transpose of the last two, size-1 dimensions around
      for (int d = 0; d < rank; ++d) perm[d] = d;
      std::swap(perm[rank - 1], perm[rank - 2]);
    }
    const size_t elem = std::vector<size_t>{1, 2, 4, 8}[(i / 2) % 4];
    const size_t bytes_n = static_cast<size_t>(count(shape)) * elem;
    const std::vector<uint8_t> x = this->bytes<uint8_t>(bytes_n);
    std::vector<uint8_t> want(bytes_n), collapsed(bytes_n);
    ref::transpose(rank, shape.data(), perm.data(), elem, x.data(), want.data());
    int32_t cs[ref::kMaxDims], cp[ref::kMaxDims];
    const int r = kern::collapse_transpose(rank, shape.data(), perm.data(), cs, cp);
    ASSERT_LE(r, rank);
    ref::transpose(r, cs, cp, elem, x.data(), collapsed.data());
    ASSERT_EQ(collapsed, want) << "case " << i << ": the collapsed transpose differs";
    if (i % 2 == 0 && shape[rank - 1] > 1) {  // (a last dimension of 1 is dropped)
      EXPECT_TRUE(kern::transpose_kernel_covers(rank, shape.data(), perm.data(), elem)) << i;
    }
    for (Isa isa : levels_) {
      const kern::TransposeFn fn = kern::kernel_set(isa).misc.transpose;
      if (fn == nullptr) continue;
      std::vector<uint8_t> got(bytes_n + 1, 0x5A);
      fn(rank, shape.data(), perm.data(), elem, x.data(), got.data());
      ASSERT_EQ(got[bytes_n], 0x5A) << "wrote past the end";
      got.pop_back();
      ASSERT_EQ(got, want) << kern::isa_name(isa) << " case " << i;
    }
  }
  // Any permutation of 1-, 2-, 4- and 8-byte elements is covered (strided blocks where it
  // collapses to neither form); other element sizes only keep their innermost rows.
  const int32_t shape[] = {2, 3, 4, 5}, rotate[] = {2, 0, 3, 1}, swap_last[] = {0, 1, 3, 2}, keep[] = {1, 0, 2, 3};
  for (size_t elem : {1, 2, 4, 8}) {
    EXPECT_TRUE(kern::transpose_kernel_covers(4, shape, rotate, elem));
    EXPECT_TRUE(kern::transpose_kernel_covers(4, shape, swap_last, elem));
  }
  EXPECT_FALSE(kern::transpose_kernel_covers(4, shape, rotate, 3));
  EXPECT_TRUE(kern::transpose_kernel_covers(4, shape, keep, 3));
}

// A pixel shuffle (PyTorch's PixelShuffle, ONNX DepthToSpace CRD) on an NHWC tensor:
// [N, H, W, C, r, r] -> [N, H, r, W, r, C], whose innermost dimension moves, through the
// strided blocks, against the reference.
TEST_F(MiscTest, TransposePixelShuffleBlocks) {
  const int32_t shape[] = {2, 5, 7, 3, 2, 2}, perm[] = {0, 1, 4, 2, 5, 3};
  for (size_t elem : {1, 2, 4, 8}) {
    const size_t n = static_cast<size_t>(count(std::vector<int32_t>(shape, shape + 6))) * elem;
    const std::vector<uint8_t> x = this->bytes<uint8_t>(n);
    std::vector<uint8_t> want(n);
    ref::transpose(6, shape, perm, elem, x.data(), want.data());
    for (Isa isa : levels_) {
      const kern::TransposeFn fn = kern::kernel_set(isa).misc.transpose;
      if (fn == nullptr) continue;
      std::vector<uint8_t> got(n, 0);
      fn(6, shape, perm, elem, x.data(), got.data());
      EXPECT_EQ(got, want) << kern::isa_name(isa) << " elem " << elem;
    }
  }
}

// Slices of ranks 1 to 5 against ref::slice: whole inner dimensions (one long run),
// partial ones with step 1 (a run a row), steps above 1 and negative steps (an element
// a run), empty outputs, 1-, 2- and 4-byte elements.
TEST_F(MiscTest, Slice) {
  for (Isa isa : levels_) {
    const kern::SliceFn fn = kern::kernel_set(isa).misc.slice;
    if (fn == nullptr) continue;
    for (int i = 0; i < 400; ++i) {
      const int rank = uni(1, 5);
      std::vector<int32_t> in(rank), out(rank), starts(rank), steps(rank);
      for (int d = 0; d < rank; ++d) {
        in[d] = uni(1, 9);
        const int kind = uni(0, 4);  // whole, step 1 partial, step > 1, negative step, empty
        if (kind == 0 || (kind == 4 && i % 7 != 0)) {
          starts[d] = 0, steps[d] = 1, out[d] = in[d];
        } else if (kind == 1) {
          starts[d] = uni(0, in[d] - 1), steps[d] = 1, out[d] = uni(1, in[d] - starts[d]);
        } else if (kind == 2) {
          steps[d] = uni(2, 3), starts[d] = uni(0, in[d] - 1), out[d] = (in[d] - 1 - starts[d]) / steps[d] + 1;
        } else if (kind == 3) {
          steps[d] = -uni(1, 2), starts[d] = uni(0, in[d] - 1), out[d] = starts[d] / -steps[d] + 1;
        } else {
          starts[d] = 0, steps[d] = 1, out[d] = 0;
        }
      }
      const size_t elem = std::vector<size_t>{1, 4, 2}[i % 3];
      const std::vector<uint8_t> x = this->bytes<uint8_t>(static_cast<size_t>(count(in)) * elem);
      const size_t bytes_n = static_cast<size_t>(count(out)) * elem;
      ASSERT_TRUE(moves_like_ref(
          bytes_n,
          [&](uint8_t* o) { ref::slice(rank, in.data(), out.data(), starts.data(), steps.data(), elem, x.data(), o); },
          [&](uint8_t* o) { fn(rank, in.data(), out.data(), starts.data(), steps.data(), elem, x.data(), o); }))
          << kern::isa_name(isa) << " case " << i;
    }
  }
}

// Constant pads of ranks 1 to 5 against ref::pad: no padding, padding on the inner or
// the outer dimensions only, on every one, zero-sized inputs, 1-, 2-, 4- and 8-byte
// elements, fill elements of equal and of different bytes.
TEST_F(MiscTest, Pad) {
  for (Isa isa : levels_) {
    const kern::PadFn fn = kern::kernel_set(isa).misc.pad;
    if (fn == nullptr) continue;
    for (int i = 0; i < 400; ++i) {
      const int rank = uni(1, 5);
      std::vector<int32_t> in(rank), pads(2 * rank);
      const int where = uni(0, 3);  // none, inner dims, outer dims, anywhere
      for (int d = 0; d < rank; ++d) {
        in[d] = i % 23 == 0 && d == 0 ? 0 : uni(1, 7);
        const bool padded = where == 3 || (where == 1 && d >= rank / 2) || (where == 2 && d < rank / 2);
        pads[d] = padded ? uni(0, 3) : 0;
        pads[rank + d] = padded ? uni(0, 3) : 0;
      }
      std::vector<int32_t> out(rank);
      for (int d = 0; d < rank; ++d) out[d] = in[d] + pads[d] + pads[rank + d];
      const size_t elem = std::vector<size_t>{1, 4, 2, 8}[i % 4];
      uint8_t fill[8];
      for (size_t b = 0; b < 8; ++b) fill[b] = static_cast<uint8_t>(i % 3 == 0 ? 0x7B : uni(0, 255));
      const std::vector<uint8_t> x = this->bytes<uint8_t>(static_cast<size_t>(count(in)) * elem);
      const size_t bytes_n = static_cast<size_t>(count(out)) * elem;
      ASSERT_TRUE(moves_like_ref(
          bytes_n, [&](uint8_t* o) { ref::pad(rank, in.data(), pads.data(), elem, fill, x.data(), o); },
          [&](uint8_t* o) { fn(rank, in.data(), pads.data(), elem, fill, x.data(), o); }))
          << kern::isa_name(isa) << " case " << i;
    }
  }
}

// Reflect and edge padding (every rank to 5, pads on inner, outer or any dimensions;
// reflect pads below the dimension, as the op requires) against ref::pad_mode.
TEST_F(MiscTest, PadMode) {
  for (Isa isa : levels_) {
    const kern::PadModeFn fn = kern::kernel_set(isa).misc.pad_mode;
    ASSERT_NE(fn, nullptr) << kern::isa_name(isa);
    for (int i = 0; i < 600; ++i) {
      const bool reflect = i % 2 == 0;
      const int rank = uni(1, 5);
      std::vector<int32_t> in(rank), pads(2 * rank);
      const int where = uni(0, 3);  // none, inner dims, outer dims, anywhere
      for (int d = 0; d < rank; ++d) {
        in[d] = uni(1, 7);
        const bool padded = where == 3 || (where == 1 && d >= rank / 2) || (where == 2 && d < rank / 2);
        const int32_t most = reflect ? in[d] - 1 : 4;
        pads[d] = padded ? uni(0, std::min(most, 4)) : 0;
        pads[rank + d] = padded ? uni(0, std::min(most, 4)) : 0;
      }
      std::vector<int32_t> out(rank);
      for (int d = 0; d < rank; ++d) out[d] = in[d] + pads[d] + pads[rank + d];
      const size_t elem = std::vector<size_t>{1, 4, 2, 8, 3}[i % 5];
      const std::vector<uint8_t> x = this->bytes<uint8_t>(static_cast<size_t>(count(in)) * elem);
      const size_t bytes_n = static_cast<size_t>(count(out)) * elem;
      ASSERT_TRUE(moves_like_ref(
          bytes_n, [&](uint8_t* o) { ref::pad_mode(reflect, rank, in.data(), pads.data(), elem, x.data(), o); },
          [&](uint8_t* o) { fn(reflect, rank, in.data(), pads.data(), elem, x.data(), o); }))
          << kern::isa_name(isa) << " case " << i;
    }
  }
}

// Nearest resizes by index tables (integer factors and arbitrary maps, pixels of 1 to 70
// bytes) against ref::resize_nearest_indexed, and the integer factors against
// ref::resize_nearest.
TEST_F(MiscTest, ResizeNearest) {
  for (Isa isa : levels_) {
    const kern::ResizeIndexedFn fn = kern::kernel_set(isa).misc.resize_nearest;
    ASSERT_NE(fn, nullptr) << kern::isa_name(isa);
    for (int i = 0; i < 200; ++i) {
      const int32_t batch = uni(1, 2), in_h = uni(1, 6), in_w = uni(1, 6), channels = uni(1, 70);
      const bool factors = i % 2 == 0;
      const int32_t sh = uni(1, 3), sw = uni(1, 3);
      const int32_t out_h = factors ? in_h * sh : uni(1, 12), out_w = factors ? in_w * sw : uni(1, 12);
      std::vector<int32_t> rows(out_h), cols(out_w);
      for (int32_t r = 0; r < out_h; ++r) rows[r] = factors ? r / sh : uni(0, in_h - 1);
      for (int32_t c = 0; c < out_w; ++c) cols[c] = factors ? c / sw : uni(0, in_w - 1);
      const size_t pixel = static_cast<size_t>(channels);
      const std::vector<uint8_t> x = this->bytes<uint8_t>(static_cast<size_t>(batch * in_h * in_w) * pixel);
      const size_t bytes_n = static_cast<size_t>(batch * out_h * out_w) * pixel;
      const auto kernel = [&](uint8_t* o) {
        fn(batch, in_h, in_w, out_h, out_w, pixel, rows.data(), cols.data(), x.data(), o);
      };
      ASSERT_TRUE(moves_like_ref(
          bytes_n,
          [&](uint8_t* o) {
            ref::resize_nearest_indexed(batch, in_h, in_w, out_h, out_w, pixel, rows.data(), cols.data(), x.data(), o);
          },
          kernel))
          << kern::isa_name(isa) << " case " << i;
      if (factors) {
        ASSERT_TRUE(moves_like_ref(
            bytes_n,
            [&](uint8_t* o) { ref::resize_nearest(batch, in_h, in_w, channels, sh, sw, 1, x.data(), o); }, kernel))
            << kern::isa_name(isa) << " factors, case " << i;
      }
    }
  }
}

// Bilinear resizes (every coordinate mode, up and down, given scales or out / in, 1 to
// 40 channels, row ranges) equal ref::resize_linear_f32 bit for bit.
TEST_F(MiscTest, ResizeLinear) {
  for (Isa isa : levels_) {
    const kern::ResizeLinearF32Fn fn = kern::kernel_set(isa).misc.resize_linear_f32;
    ASSERT_NE(fn, nullptr) << kern::isa_name(isa);
    for (int i = 0; i < 120; ++i) {
      const auto mode = static_cast<ref::ResizeCoord>(i % 4);
      const int32_t batch = uni(1, 2), in_h = uni(1, 7), in_w = uni(1, 7), c = uni(1, 40);
      const int32_t out_h = uni(1, 15), out_w = uni(1, 15);
      const float sh = i % 3 == 0 ? static_cast<float>(uni(3, 30)) / 10.f : 0.f;
      const float sw = i % 3 == 0 ? static_cast<float>(uni(3, 30)) / 10.f : 0.f;
      std::vector<float> x(static_cast<size_t>(batch * in_h * in_w * c));
      for (float& v : x) v = static_cast<float>(uni(-1000, 1000)) / 37.f;
      const size_t n = static_cast<size_t>(batch * out_h * out_w * c);
      std::vector<float> want(n, -7.f), got(n, -7.f);
      const int64_t rows = int64_t{batch} * out_h, r0 = uni(0, static_cast<int32_t>(rows) - 1);
      const int64_t r1 = uni(static_cast<int32_t>(r0) + 1, static_cast<int32_t>(rows));
      ref::resize_linear_f32(mode, batch, in_h, in_w, c, out_h, out_w, r0, r1, x.data(), want.data(), sh, sw);
      fn(mode, batch, in_h, in_w, c, out_h, out_w, r0, r1, x.data(), got.data(), sh, sw);
      ASSERT_EQ(std::memcmp(got.data(), want.data(), n * sizeof(float)), 0) << kern::isa_name(isa) << " case " << i;
    }
  }
}

// Splits along any axis into 1 to 4 parts (empty ones too) against ref::split.
TEST_F(MiscTest, Split) {
  for (Isa isa : levels_) {
    const kern::SplitFn fn = kern::kernel_set(isa).misc.split;
    ASSERT_NE(fn, nullptr) << kern::isa_name(isa);
    for (int i = 0; i < 80; ++i) {
      const int parts = uni(1, 4);
      const int64_t outer = uni(1, 5), inner = uni(1, 9);
      const size_t elem = std::vector<size_t>{1, 2, 4}[uni(0, 2)];
      std::vector<int32_t> axis(parts);
      int32_t total = 0;
      for (int k = 0; k < parts; ++k) total += axis[k] = uni(0, 1) ? uni(0, 4) : uni(5, 40);
      const std::vector<uint8_t> x = bytes<uint8_t>(static_cast<size_t>(outer * total * inner) * elem);
      std::vector<std::vector<uint8_t>> want(parts), got(parts);
      std::vector<void*> want_p(parts), got_p(parts);
      for (int k = 0; k < parts; ++k) {
        const size_t n = static_cast<size_t>(outer * axis[k] * inner) * elem;
        want[k].assign(n, 0);
        got[k].assign(n + 1, 0x5A);
        want_p[k] = want[k].data();
        got_p[k] = got[k].data();
      }
      ref::split(outer, inner, total, parts, axis.data(), x.data(), elem, want_p.data());
      fn(outer, inner, total, parts, axis.data(), x.data(), elem, got_p.data());
      for (int k = 0; k < parts; ++k) {
        ASSERT_EQ(got[k].back(), 0x5A) << "part " << k << " written past its end";
        got[k].pop_back();
        ASSERT_EQ(got[k], want[k]) << kern::isa_name(isa) << " case " << i << " part " << k;
      }
    }
  }
}

TEST_F(MiscTest, Concat) {
  for (Isa isa : levels_) {
    const kern::ConcatFn fn = kern::kernel_set(isa).misc.concat;
    if (fn == nullptr) continue;
    for (int i = 0; i < 80; ++i) {
      const int count = uni(1, 4);
      const int64_t outer = uni(1, 5), inner = uni(1, 9);
      const size_t elem = std::vector<size_t>{1, 2, 4}[uni(0, 2)];
      std::vector<int32_t> axis(count);
      std::vector<std::vector<uint8_t>> in(count);
      std::vector<const void*> ptrs(count);
      int64_t total = 0;
      for (int k = 0; k < count; ++k) {
        axis[k] = uni(0, 1) ? uni(0, 4) : uni(5, 40);
        in[k] = bytes<uint8_t>(static_cast<size_t>(outer * axis[k] * inner) * elem);
        ptrs[k] = in[k].data();
        total += axis[k];
      }
      const size_t out_bytes = static_cast<size_t>(outer * total * inner) * elem;
      std::vector<uint8_t> want(out_bytes), got(out_bytes + 1, 0x5A);
      ref::concat(outer, inner, count, axis.data(), ptrs.data(), elem, want.data());
      fn(outer, inner, count, axis.data(), ptrs.data(), elem, got.data());
      ASSERT_EQ(got[out_bytes], 0x5A);
      got.pop_back();
      ASSERT_EQ(got, want) << kern::isa_name(isa) << " case " << i;
    }
  }
}

}  // namespace
}  // namespace edgeq
