// The misc kernels (kernels/misc.h, MiscKernels) of every level the host runs,
// against the kernels/ref functions they replace, byte for byte.
//
// Sweeps: binary add/sub/mul/div with same shapes, scalar and per-channel broadcasts
// (either side) and mixed broadcasts, lengths around the vector width, both schemes,
// int8/uint8, clamps, extreme scales (products and quotients that overflow to inf,
// inf - inf = NaN) and zero points; max/average pools over kernels, strides, padding
// (windows entirely in padding), dilation, count_include_pad and odd channel counts;
// global average pool; lookup over every byte; concat of short and long runs.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
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
 protected:
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
    std::vector<T> want(n), got(n + 1, static_cast<T>(0x5A));
    ref::qbinary(op, bc, a.data(), b.data(), p, want.data());
    fn(op, bc, a.data(), b.data(), p, got.data());
    ASSERT_EQ(got[n], static_cast<T>(0x5A)) << "wrote past the end";
    for (size_t i = 0; i < n; ++i) {
      ASSERT_EQ(int(got[i]), int(want[i]))
          << kern::isa_name(isa) << " op " << int(op) << " scheme " << int(p.scheme) << " element " << i << " of " << n
          << " scales " << p.a_scale << " " << p.b_scale << " " << p.out_scale << " zps " << p.a_zero_point << " "
          << p.b_zero_point << " " << p.out_zero_point << " clamp " << p.qmin << ".." << p.qmax;
    }
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
        for (ref::BinaryOp op : {ref::BinaryOp::kAdd, ref::BinaryOp::kSub, ref::BinaryOp::kMul}) {
          const ref::BinaryQParams p{0.5f, 0.25f, 0.125f, zp, -zp, zp / 3, 0, 255, scheme};
          ref::qbinary(op, bc, a.data(), b.data(), p, want.data());
          fn(op, bc, a.data(), b.data(), p, got.data());
          ASSERT_EQ(got, want) << kern::isa_name(isa) << " zp " << zp << " scheme " << int(scheme);
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

TEST_F(MiscTest, GlobalAveragePool) {
  for (Isa isa : levels_) {
    const kern::MiscKernels& m = kern::kernel_set(isa).misc;
    if (m.qglobal_avgpool_s8 == nullptr || m.qglobal_avgpool_u8 == nullptr) continue;  // the reference runs
    for (int i = 0; i < 60; ++i) {
      const int32_t batch = uni(1, 2), hw = std::vector<int32_t>{0, 1, 4, 49, 100}[uni(0, 4)];
      const int32_t c = std::vector<int32_t>{1, 3, 15, 16, 17, 33, 1280}[uni(0, 6)];
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
    for (size_t n : {size_t{0}, size_t{1}, size_t{31}, size_t{32}, size_t{33}, size_t{256}, size_t{1000}}) {
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
