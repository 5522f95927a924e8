// GemmTester: runs one indirect-GEMM microkernel (QIgemmUkernel, the contract in
// kernels/kernels.h) on a problem it makes and compares every output byte with the
// scalar reference (kernels/ref), in the manner of XNNPACK's gemm-microkernel-tester:
//
//   ASSERT_TRUE(GemmTester().m(3).n(17).k(9).ks(3).act_s8(true).scheme(ref::Scheme::kFixedPoint)
//                   .per_channel(true).Test(kernel_set(isa).gemm));
//
// The problem is a convolution, so that the reference is ref::qconv2d:
//  * m(), n(), k(), ks(): m output rows of n channels, k input bytes per row and tap, ks
//    taps: a 1 x (m * ks) input read by a 1 x ks window at stride ks, so that every
//    (tap, row) pair has its own k bytes. With one tap it is a fully connected layer,
//    checked against ref::qfully_connected.
//  * conv(shape): a whole convolution (batch, strides, dilation, padding): m is
//    batch * out_h * out_w, n out_c, k in_c, ks kernel_h * kernel_w. Taps in the padding
//    read a row of input zero points, as the driver's zero buffer.
// m and n may exceed the kernel's MR and NR: the tester is the driver then, one call per
// MR x NR tile (tiles of one row through the single-row function when row_variant(true)
// and the kernel has one: then every row is its own call).
//
// The tester is its own packer, written from the contract rather than from
// kernels/qconv.cc, so that a packer and a kernel that agreed on a wrong layout fail:
// packed_bias[NR] then W[ks][round_up(k, kr) / kr][NR][kr] per NR-channel block (int16
// for wide_weights kernels), zero past k and past n, the input zero point and the
// kernel's activation offset folded into the bias modulo 2^32; epilogue arrays padded to
// a multiple of NR with the last channel's values; ks * MR tap-major row pointers per
// call, rows past mr repeating valid rows. Every row may be read 64 bytes past
// round_up(k, kr) and what lies there is garbage (the next pixel, or random bytes).
// Tiles are called last first, every output row has NR + 3 guard bytes after its n
// channels and the buffer MR guard rows after the last: a store past nc or past mr overwrites
// a finished tile or a guard byte, and the comparison sees it.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/ref/ref.h"

namespace edgeq {
namespace kern {

// The optimized levels of this build's architecture, for suites parameterized by level
// (a level the CPU lacks is skipped by the suite).
inline std::vector<Isa> arch_levels() {
#if defined(__aarch64__)
  return {Isa::kNeon, Isa::kNeonDot, Isa::kNeonI8mm};
#elif defined(__arm__)
  return {Isa::kNeon};  // ARMv7: no dotprod or i8mm build
#else
  return {Isa::kAvx2, Isa::kAvxVnni, Isa::kAvx512Vnni, Isa::kAmx};
#endif
}

// A level's exact GEMM kernel, or (w127) its kernel for weights in [-127, 127]
// (KernelSet::gemm_w127; suites skip the levels that have none), for suites
// parameterized by kernel: every level of arch_levels() twice.
struct GemmCase {
  Isa isa;
  bool w127;
  const QGemmKernel& kernel() const { return w127 ? kernel_set(isa).gemm_w127 : kernel_set(isa).gemm; }
};

inline std::vector<GemmCase> gemm_cases() {
  std::vector<GemmCase> out;
  for (Isa isa : arch_levels()) {
    out.push_back({isa, false});
    out.push_back({isa, true});
  }
  return out;
}

// The case's test name: the level's, with _w127 for the kernel for weights in [-127, 127].
inline std::string gemm_case_name(const ::testing::TestParamInfo<GemmCase>& info) {
  return std::string(isa_name(info.param.isa)) + (info.param.w127 ? "_w127" : "");
}

// A convolution shape (groups 1); out_h and out_w follow from the others.
inline ref::ConvShape conv_shape(int32_t batch, int32_t in_h, int32_t in_w, int32_t in_c, int32_t out_c, int32_t kh,
                                 int32_t kw, int32_t stride, int32_t dilation, int32_t pad_top, int32_t pad_left,
                                 int32_t pad_bottom, int32_t pad_right) {
  ref::ConvShape s{};
  s.batch = batch;
  s.in_h = in_h;
  s.in_w = in_w;
  s.in_c = in_c;
  s.out_c = out_c;
  s.kernel_h = kh;
  s.kernel_w = kw;
  s.stride_h = s.stride_w = stride;
  s.dilation_h = s.dilation_w = dilation;
  s.pad_top = pad_top;
  s.pad_left = pad_left;
  s.out_h = (in_h + pad_top + pad_bottom - dilation * (kh - 1) - 1) / stride + 1;
  s.out_w = (in_w + pad_left + pad_right - dilation * (kw - 1) - 1) / stride + 1;
  s.groups = 1;
  return s;
}

// A k x k window with the same padding on every side.
inline ref::ConvShape square_conv_shape(int32_t batch, int32_t in_h, int32_t in_w, int32_t in_c, int32_t out_c,
                                        int32_t k, int32_t stride, int32_t dilation, int32_t pad) {
  return conv_shape(batch, in_h, in_w, in_c, out_c, k, k, stride, dilation, pad, pad, pad, pad);
}

// Requantization parameters and the storage ref::Requant points into.
struct RequantData {
  ref::Requant rq;
  std::vector<float> scale;
  std::vector<int32_t> multiplier, exponent;
};

enum class Extremes { kNone, kSome };

// One parameter per channel (per_channel) or one in all, from real(c), the real
// multiplier of channel c. kSome replaces every third channel's with a special one:
// ties, saturating, zero, huge, inf, NaN and negative scales (fp32); shifts that
// saturate, INT32_MIN, very small and zero multipliers (fixed point).
template <typename RealFn>
RequantData make_requant(ref::Scheme scheme, bool per_channel, int32_t out_c, RealFn real, int32_t zp, int32_t qmin,
                         int32_t qmax, Extremes extremes) {
  RequantData d;
  const size_t count = per_channel ? static_cast<size_t>(out_c) : 1;
  for (size_t c = 0; c < count; ++c) {
    const double r = real(c);
    if (scheme == ref::Scheme::kFp32) {
      float s = static_cast<float>(r);
      if (extremes == Extremes::kSome) {
        const float special[] = {0.5f,
                                 0.25f,
                                 1.0f,
                                 3e9f,
                                 1e-30f,
                                 0.0f,
                                 std::numeric_limits<float>::infinity(),
                                 std::numeric_limits<float>::quiet_NaN(),
                                 -s};
        if (c % 3 == 1) s = special[(c / 3) % (sizeof(special) / sizeof(special[0]))];
      }
      d.scale.push_back(s);
    } else {
      int32_t m = 0, e = 0;
      ref::quantize_multiplier(r, &m, &e);
      if (extremes == Extremes::kSome && c % 3 == 1) {
        const int32_t special[][2] = {{m, 5},   {m, 31},  {m, 40},      {INT32_MIN, 3}, {INT32_MIN, 0},   {m, -31},
                                      {m, -32}, {m, -45}, {1 << 30, 1}, {INT32_MAX, 0}, {-(1 << 30), -2}, {0, 0}};
        const size_t i = (c / 3) % (sizeof(special) / sizeof(special[0]));
        m = special[i][0];
        e = special[i][1];
      }
      d.multiplier.push_back(m);
      d.exponent.push_back(e);
    }
  }
  d.rq.scheme = scheme;
  d.rq.per_channel = per_channel;
  d.rq.scale = d.scale.empty() ? nullptr : d.scale.data();
  d.rq.multiplier = d.multiplier.empty() ? nullptr : d.multiplier.data();
  d.rq.exponent = d.exponent.empty() ? nullptr : d.exponent.data();
  d.rq.zero_point = zp;
  d.rq.qmin = qmin;
  d.rq.qmax = qmax;
  return d;
}

class GemmTester {
 public:
  // What the operands hold besides uniform random values.
  enum class Fill {
    kRandom,
    // Activations at both ends of their type and weights mostly -128: the largest
    // products a kernel forms, whether it multiplies the bytes as they are (-128 x -128,
    // 255 x -128) or flipped (uint8 0 becomes -128). Input zero point 0.
    kExtreme,
    // Biases within 20000 of INT32_MAX or INT32_MIN: the int32 sums wrap.
    kWrap,
  };

  GemmTester& m(size_t v) { return set(&m_, v); }
  GemmTester& n(size_t v) { return set(&n_, v); }
  GemmTester& k(size_t v) { return set(&k_, v); }
  GemmTester& ks(size_t v) { return set(&ks_, v); }
  // A whole convolution instead of m, n, k, ks.
  GemmTester& conv(const ref::ConvShape& s) {
    shape_ = s;
    conv_ = true;
    return *this;
  }
  GemmTester& act_s8(bool v) { return set(&act_s8_, v); }
  GemmTester& scheme(ref::Scheme v) { return set(&scheme_, v); }
  GemmTester& per_channel(bool v) { return set(&per_channel_, v); }
  // Scales 2^-1 .. 2^-4: fp32 and fixed-point rounding ties are frequent.
  GemmTester& tie_scales(bool v) { return set(&tie_scales_, v); }
  // Special parameters on every third channel (make_requant's Extremes::kSome).
  GemmTester& extreme_requant(bool v) { return set(&extreme_requant_, v); }
  // [qmin, qmax] a few dozen values around the output zero point instead of the type's range.
  GemmTester& narrow_clamp(bool v) { return set(&narrow_clamp_, v); }
  GemmTester& fill(Fill v) { return set(&fill_, v); }
  // Weights in [-127, 127], as kernels with w127_only need (kExtreme: mostly -127).
  GemmTester& w127(bool v) { return set(&w127_, v); }
  // Runs the kernel's single-row function (u8_row / s8_row), one call per row.
  GemmTester& row_variant(bool v) { return set(&row_variant_, v); }
  GemmTester& seed(uint32_t v) { return set(&seed_, v); }

  ref::ConvShape shape() const {
    if (conv_) return shape_;
    const int32_t m = static_cast<int32_t>(m_), ks = static_cast<int32_t>(ks_);
    return conv_shape(1, 1, m * ks, static_cast<int32_t>(k_), static_cast<int32_t>(n_), 1, ks, ks, 1, 0, 0, 0, 0);
  }

  std::string describe() const {
    const ref::ConvShape s = shape();
    std::ostringstream o;
    if (conv_) {
      o << "conv b" << s.batch << " " << s.in_h << "x" << s.in_w << "x" << s.in_c << " -> " << s.out_h << "x" << s.out_w
        << "x" << s.out_c << " k" << s.kernel_h << "x" << s.kernel_w << " s" << s.stride_h << " d" << s.dilation_h
        << " p" << s.pad_top << "," << s.pad_left;
    } else {
      o << "m " << m_ << " n " << n_ << " k " << k_ << " ks " << ks_;
    }
    o << (act_s8_ ? " s8" : " u8") << (scheme_ == ref::Scheme::kFp32 ? " fp32" : " fixed")
      << (per_channel_ ? " per-channel" : " per-tensor") << (tie_scales_ ? " ties" : "")
      << (extreme_requant_ ? " extreme-requant" : "") << (narrow_clamp_ ? " clamp" : "")
      << (fill_ == Fill::kExtreme ? " extreme"
          : fill_ == Fill::kWrap  ? " wrap"
                                  : "")
      << (w127_ ? " w127" : "") << (row_variant_ ? " row-variant" : "") << " seed " << seed_;
    return o.str();
  }

  ::testing::AssertionResult Test(const QGemmKernel& kernel) const {
    ::testing::AssertionResult r = act_s8_ ? Run<int8_t>(kernel) : Run<uint8_t>(kernel);
    if (r) return r;
    return ::testing::AssertionFailure() << (kernel.name != nullptr ? kernel.name : "(unnamed kernel)") << ", "
                                         << describe() << ": " << r.message();
  }

 private:
  template <typename V>
  GemmTester& set(V* field, V v) {
    *field = v;
    return *this;
  }

  static constexpr size_t kReadSlack = 64;  // bytes a kernel may read past round_up(kc, kr)
  static constexpr uint8_t kGuardByte = 0xA5;

  static size_t round_up(size_t v, size_t m) { return (v + m - 1) / m * m; }

  template <typename T>
  ::testing::AssertionResult Run(const QGemmKernel& kernel) const {
    const QIgemmUkernel main_fn = act_s8_ ? kernel.s8 : kernel.u8;
    const QIgemmUkernel row_fn = act_s8_ ? kernel.s8_row : kernel.u8_row;
    if (main_fn == nullptr) return ::testing::AssertionFailure() << "no function for this activation type";
    if (row_variant_ && row_fn == nullptr) return ::testing::AssertionFailure() << "no single-row function";
    if (kernel.mr == 0 || kernel.nr == 0 || kernel.kr == 0) return ::testing::AssertionFailure() << "no tile";

    const ref::ConvShape s = shape();
    std::mt19937 rng(seed_);
    const int32_t tlo = std::numeric_limits<T>::lowest(), thi = std::numeric_limits<T>::max();
    auto uniform = [&rng](int32_t lo, int32_t hi) { return std::uniform_int_distribution<int32_t>(lo, hi)(rng); };

    const size_t m = static_cast<size_t>(s.batch) * s.out_h * s.out_w;
    const size_t n = static_cast<size_t>(s.out_c);
    const size_t kc = static_cast<size_t>(s.in_c);
    const size_t ks = static_cast<size_t>(s.kernel_h) * s.kernel_w;
    const size_t mr_max = kernel.mr, nr = kernel.nr, kr = kernel.kr;
    const size_t kcp = round_up(kc, kr);

    // ---- operands
    const size_t in_bytes = static_cast<size_t>(s.batch) * s.in_h * s.in_w * kc;
    std::vector<uint8_t> input(in_bytes + kcp - kc + kReadSlack);
    for (auto& b : input) b = static_cast<uint8_t>(uniform(0, 255));  // what lies past the input stays garbage
    std::vector<int8_t> weight(n * ks * kc);                          // [n][ks][kc]
    std::vector<int32_t> bias(n);
    int32_t x_zp = uniform(tlo, thi);
    const int32_t w_lo = w127_ ? -127 : -128;
    if (fill_ == Fill::kExtreme) {
      x_zp = 0;
      for (size_t i = 0; i < in_bytes; ++i) input[i] = static_cast<uint8_t>(uniform(0, 1) ? thi : tlo);
      for (auto& w : weight) w = static_cast<int8_t>(uniform(0, 7) == 0 ? 127 : w_lo);
      for (auto& b : bias) b = uniform(-1000, 1000);
    } else {
      for (size_t i = 0; i < in_bytes; ++i) input[i] = static_cast<uint8_t>(static_cast<T>(uniform(tlo, thi)));
      for (auto& w : weight) w = static_cast<int8_t>(uniform(w_lo, 127));
      for (auto& b : bias) {
        b = fill_ == Fill::kWrap ? (uniform(0, 1) ? std::numeric_limits<int32_t>::max() - uniform(0, 20000)
                                                  : std::numeric_limits<int32_t>::min() + uniform(0, 20000))
                                 : uniform(-100000, 100000);
      }
    }

    // ---- requantization
    const int32_t y_zp = uniform(tlo, thi);
    int32_t qmin = tlo, qmax = thi;
    if (narrow_clamp_) {
      qmin = std::max(tlo, y_zp - uniform(0, 20));
      qmax = std::min(thi, y_zp + uniform(1, 40));
    }
    auto real = [&](size_t c) {
      return tie_scales_ ? std::ldexp(1.0, -1 - static_cast<int>(c % 4))
                         : std::exp2(std::uniform_real_distribution<double>(-14.0, 1.5)(rng));
    };
    const RequantData rd = make_requant(scheme_, per_channel_, static_cast<int32_t>(n), real, y_zp, qmin, qmax,
                                        extreme_requant_ ? Extremes::kSome : Extremes::kNone);

    // ---- reference
    const int32_t w_zp = 0;
    std::vector<T> expected(m * n);
    const T* x = reinterpret_cast<const T*>(input.data());
    if (!conv_ && ks == 1) {
      ref::qfully_connected<T>(static_cast<int32_t>(m), static_cast<int32_t>(n), static_cast<int32_t>(kc), x, x_zp,
                               weight.data(), &w_zp, false, bias.data(), rd.rq, expected.data());
    } else {
      ref::qconv2d<T>(s, x, x_zp, weight.data(), &w_zp, false, bias.data(), rd.rq, expected.data());
    }

    // ---- packing, per the contract
    const int32_t act_offset = act_s8_ ? kernel.s8_act_offset : kernel.u8_act_offset;
    const size_t blocks = (n + nr - 1) / nr;
    const size_t w_bytes = kernel.wide_weights ? 2 : 1;
    const size_t block_bytes = nr * sizeof(int32_t) + ks * kcp * nr * w_bytes;
    std::vector<int32_t> packed_storage((blocks * block_bytes + 3) / 4);  // int32-aligned
    uint8_t* packed = reinterpret_cast<uint8_t*>(packed_storage.data());
    for (size_t nb = 0; nb < blocks; ++nb) {
      int32_t* pb = reinterpret_cast<int32_t*>(packed + nb * block_bytes);
      uint8_t* pw = reinterpret_cast<uint8_t*>(pb + nr);
      for (size_t j = 0; j < nr && nb * nr + j < n; ++j) {  // channels past n: bias 0
        const size_t ch = nb * nr + j;
        int64_t sum_w = 0;
        for (size_t i = 0; i < ks * kc; ++i) sum_w += weight[ch * ks * kc + i];
        const int64_t folded = int64_t{bias[ch]} - (int64_t{x_zp} + act_offset) * sum_w;
        pb[j] = static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(folded)));  // mod 2^32
      }
      for (size_t t = 0; t < ks; ++t)
        for (size_t kb = 0; kb < kcp / kr; ++kb)
          for (size_t j = 0; j < nr; ++j)
            for (size_t kk = 0; kk < kr; ++kk) {
              const size_t ch = nb * nr + j, k = kb * kr + kk;
              const int16_t v = ch < n && k < kc ? weight[(ch * ks + t) * kc + k] : 0;
              std::memcpy(pw, &v, w_bytes);  // little endian: the low byte is the int8 value
              pw += w_bytes;
            }
    }
    const size_t npad = blocks * nr;
    std::vector<float> e_scale(npad);
    std::vector<int32_t> e_mult(npad), e_exp(npad);
    for (size_t ch = 0; ch < npad; ++ch) {
      const size_t src = per_channel_ ? std::min(ch, n - 1) : 0;
      if (scheme_ == ref::Scheme::kFp32) {
        e_scale[ch] = rd.scale[src];
      } else {
        e_mult[ch] = rd.multiplier[src];
        e_exp[ch] = rd.exponent[src];
      }
    }
    QuantEpilogue q;
    q.scheme = scheme_;
    q.scale = e_scale.data();
    q.multiplier = e_mult.data();
    q.exponent = e_exp.data();
    q.zero_point = y_zp;
    q.qmin = qmin;
    q.qmax = qmax;

    // ---- indirection and calls, last tile first
    std::vector<uint8_t> zero_row(kcp + kReadSlack);
    for (size_t i = 0; i < zero_row.size(); ++i) zero_row[i] = i < kc ? static_cast<uint8_t>(x_zp) : 0x5A;
    // NR + 3 guard bytes after each row's n channels, and MR guard rows after the last.
    const size_t c_stride = n + nr + 3;
    std::vector<uint8_t> out((m + mr_max) * c_stride, kGuardByte);
    const size_t tile_rows = row_variant_ ? 1 : mr_max;
    const QIgemmUkernel fn = row_variant_ ? row_fn : main_fn;
    std::vector<const void*> ind(ks * mr_max);
    const size_t m_tiles = (m + tile_rows - 1) / tile_rows;
    for (size_t mt = m_tiles; mt-- > 0;) {
      const size_t m0 = mt * tile_rows, mr = std::min(tile_rows, m - m0);
      for (size_t t = 0; t < ks; ++t) {
        const int32_t kh = static_cast<int32_t>(t) / s.kernel_w, kw = static_cast<int32_t>(t) % s.kernel_w;
        for (size_t i = 0; i < mr_max; ++i) {
          const size_t p = m0 + i % mr;  // rows past mr repeat valid rows
          const int32_t b = static_cast<int32_t>(p / (s.out_h * s.out_w));
          const int32_t oh = static_cast<int32_t>(p / s.out_w % s.out_h), ow = static_cast<int32_t>(p % s.out_w);
          const int32_t ih = oh * s.stride_h - s.pad_top + kh * s.dilation_h;
          const int32_t iw = ow * s.stride_w - s.pad_left + kw * s.dilation_w;
          const bool inside = ih >= 0 && ih < s.in_h && iw >= 0 && iw < s.in_w;
          ind[t * mr_max + i] =
              inside
                  ? static_cast<const void*>(input.data() + ((static_cast<size_t>(b) * s.in_h + ih) * s.in_w + iw) * kc)
                  : zero_row.data();
        }
      }
      for (size_t nb = blocks; nb-- > 0;) {
        const size_t n0 = nb * nr;
        fn(mr, std::min(nr, n - n0), kc, ks, ind.data(), packed + nb * block_bytes, out.data() + m0 * c_stride + n0,
           c_stride, n0, &q);
      }
    }

    // ---- comparison
    for (size_t i = 0; i < m + mr_max; ++i) {
      for (size_t j = 0; j < c_stride; ++j) {
        const uint8_t got = out[i * c_stride + j];
        if (i >= m || j >= n) {
          if (got != kGuardByte)
            return ::testing::AssertionFailure() << "wrote outside the output: row " << i << ", byte " << j;
          continue;
        }
        const int32_t g = static_cast<T>(got), e = expected[i * n + j];
        if (g != e) {
          return ::testing::AssertionFailure()
                 << "output [" << i << "][" << j << "] = " << g << ", reference " << e << " (x_zp " << x_zp << ", y_zp "
                 << y_zp << ", clamp [" << qmin << ", " << qmax << "])";
        }
      }
    }
    return ::testing::AssertionSuccess();
  }

  size_t m_ = 1, n_ = 1, k_ = 1, ks_ = 1;
  ref::ConvShape shape_{};
  bool conv_ = false;
  bool act_s8_ = false;
  ref::Scheme scheme_ = ref::Scheme::kFp32;
  bool per_channel_ = false;
  bool tie_scales_ = false;
  bool extreme_requant_ = false;
  bool narrow_clamp_ = false;
  Fill fill_ = Fill::kRandom;
  bool row_variant_ = false;
  bool w127_ = false;
  uint32_t seed_ = 1;
};

}  // namespace kern
}  // namespace edgeq
