// Direct tests of the optimized indirect-GEMM microkernels (QIgemmUkernel, the contract
// in kernels/kernels.h) of every level this build has and this CPU runs, against
// ref::qconv2d and ref::qfully_connected, bit for bit. Written for the ARM kernels, but
// nothing in it is ARM-specific: it takes each level's QGemmKernel as dispatch
// registers it.
//
// The test is its own packer and driver, written from the contract: it packs the
// weights as packed_bias[NR] + W[ks][round_up(kc, kr) / kr][NR][kr] with the input zero
// point and the kernel's activation offset folded into the bias, pads the epilogue
// arrays to a multiple of NR with the last channel's values, builds the tap-major
// indirection buffer (padding taps point at a zero-point row; rows past mr repeat row
// 0's pointer) and calls the microkernel tile by tile. Every row read by a kernel has
// 64 bytes of garbage after it, as the contract allows, and output rows have guard
// bytes after the nc written ones.
//
// Sweeps: kc below, equal to and above kr and the kernels' 16-byte main step; partial
// mr and nc; 1x1 and KxK convolutions with stride, dilation and padding; both
// requantization schemes with scales that tie often; int8 and uint8 activations;
// per-tensor and per-channel scales; narrow clamps; weights and activations at their
// extremes (-128 x -128 products); biases near INT32_MAX / INT32_MIN (the int32 sum wraps).
//
// EDGEQ_EXPECT_ISA (set by tools/arm_test.sh per emulated CPU) names the level dispatch
// must pick as the best on this CPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
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
namespace {

constexpr size_t kSlack = 64;  // bytes a kernel may read past round_up(kc, kr)
constexpr size_t kGuard = 5;   // output bytes after each row's nc, must stay untouched
constexpr uint8_t kGuardByte = 0xA5;

enum class Fill { kRandom, kExtreme, kWrap };

struct GemmCase {
  ref::ConvShape shape;  // groups 1
  bool fc = false;       // compare with qfully_connected (shape must be 1 x 1 x m, 1x1 kernel)
  bool act_s8 = false;
  ref::Scheme scheme = ref::Scheme::kFp32;
  bool per_channel = false;
  bool tie_scales = false;  // scales 2^-1..2^-4: fp32 and fixed-point ties are frequent
  bool narrow_clamp = false;
  Fill fill = Fill::kRandom;

  std::string describe() const {
    std::ostringstream o;
    const auto& s = shape;
    o << (fc ? "fc" : "conv") << " b" << s.batch << " " << s.in_h << "x" << s.in_w << "x" << s.in_c << " -> " << s.out_h
      << "x" << s.out_w << "x" << s.out_c << " k" << s.kernel_h << "x" << s.kernel_w << " s" << s.stride_h << s.stride_w
      << " d" << s.dilation_h << s.dilation_w << " p" << s.pad_top << s.pad_left << " " << (act_s8 ? "s8" : "u8") << " "
      << (scheme == ref::Scheme::kFp32 ? "fp32" : "fixed") << " " << (per_channel ? "per-channel" : "per-tensor")
      << (tie_scales ? " ties" : "") << (narrow_clamp ? " clamp" : "")
      << (fill == Fill::kExtreme ? " extreme"
          : fill == Fill::kWrap  ? " wrap"
                                 : "");
    return o.str();
  }
};

ref::ConvShape conv_shape(int32_t batch, int32_t in_h, int32_t in_w, int32_t in_c, int32_t out_c, int32_t k,
                          int32_t stride, int32_t dilation, int32_t pad) {
  ref::ConvShape s{};
  s.batch = batch;
  s.in_h = in_h;
  s.in_w = in_w;
  s.in_c = in_c;
  s.out_c = out_c;
  s.kernel_h = s.kernel_w = k;
  s.stride_h = s.stride_w = stride;
  s.dilation_h = s.dilation_w = dilation;
  s.pad_top = s.pad_left = pad;
  s.groups = 1;
  s.out_h = (in_h + 2 * pad - dilation * (k - 1) - 1) / stride + 1;
  s.out_w = (in_w + 2 * pad - dilation * (k - 1) - 1) / stride + 1;
  return s;
}

ref::ConvShape fc_shape(int32_t m, int32_t n, int32_t k) { return conv_shape(1, 1, m, k, n, 1, 1, 1, 0); }

int32_t wrap_i32(int64_t v) { return static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(v))); }

size_t round_up(size_t v, size_t m) { return (v + m - 1) / m * m; }

template <typename T>
::testing::AssertionResult run_case(const QGemmKernel& kernel, const GemmCase& gc, uint32_t seed) {
  const ref::ConvShape& s = gc.shape;
  std::mt19937 rng(seed);
  const int32_t tlo = std::numeric_limits<T>::lowest(), thi = std::numeric_limits<T>::max();
  auto uniform = [&rng](int32_t lo, int32_t hi) { return std::uniform_int_distribution<int32_t>(lo, hi)(rng); };

  const size_t m = static_cast<size_t>(s.batch) * s.out_h * s.out_w;
  const size_t n = static_cast<size_t>(s.out_c);
  const size_t kc = static_cast<size_t>(s.in_c);
  const size_t ks = static_cast<size_t>(s.kernel_h) * s.kernel_w;
  const size_t mr_max = kernel.mr, nr = kernel.nr, kr = kernel.kr;

  // ---- data
  const size_t in_bytes = static_cast<size_t>(s.batch) * s.in_h * s.in_w * kc;
  std::vector<uint8_t> input(in_bytes + kSlack);
  for (auto& b : input) b = static_cast<uint8_t>(uniform(0, 255));  // the slack stays garbage
  std::vector<int8_t> weight(n * ks * kc);
  std::vector<int32_t> bias(n);
  int32_t x_zp = uniform(tlo, thi);
  if (gc.fill == Fill::kExtreme) {
    // Activations at both ends of their type and weights mostly -128: the largest
    // products a kernel forms, whether it multiplies the bytes as they are (-128 x -128,
    // 255 x -128) or flipped (uint8 0 becomes -128).
    x_zp = 0;
    for (size_t i = 0; i < in_bytes; ++i) input[i] = static_cast<uint8_t>(uniform(0, 1) ? thi : tlo);
    for (auto& w : weight) w = static_cast<int8_t>(uniform(0, 7) == 0 ? 127 : -128);
    for (auto& b : bias) b = uniform(-1000, 1000);
  } else {
    for (size_t i = 0; i < in_bytes; ++i) input[i] = static_cast<uint8_t>(static_cast<T>(uniform(tlo, thi)));
    for (auto& w : weight) w = static_cast<int8_t>(uniform(-128, 127));
    for (auto& b : bias) {
      b = gc.fill == Fill::kWrap ? (uniform(0, 1) ? std::numeric_limits<int32_t>::max() - uniform(0, 20000)
                                                  : std::numeric_limits<int32_t>::min() + uniform(0, 20000))
                                 : uniform(-100000, 100000);
    }
  }

  // ---- requantization
  const size_t nscale = gc.per_channel ? n : 1;
  std::vector<float> scale(nscale);
  std::vector<int32_t> multiplier(nscale), exponent(nscale);
  for (size_t c = 0; c < nscale; ++c) {
    const double real = gc.tie_scales ? std::ldexp(1.0, -1 - static_cast<int>(c % 4))
                                      : std::exp2(std::uniform_real_distribution<double>(-14.0, 1.5)(rng));
    scale[c] = static_cast<float>(real);
    ref::quantize_multiplier(real, &multiplier[c], &exponent[c]);
  }
  ref::Requant rq;
  rq.scheme = gc.scheme;
  rq.per_channel = gc.per_channel;
  rq.scale = scale.data();
  rq.multiplier = multiplier.data();
  rq.exponent = exponent.data();
  rq.zero_point = uniform(tlo, thi);
  rq.qmin = tlo;
  rq.qmax = thi;
  if (gc.narrow_clamp) {
    rq.qmin = std::max(tlo, rq.zero_point - uniform(0, 20));
    rq.qmax = std::min(thi, rq.zero_point + uniform(1, 40));
  }

  // ---- reference
  const int32_t w_zp = 0;
  std::vector<T> expected(m * n);
  const T* x = reinterpret_cast<const T*>(input.data());
  if (gc.fc) {
    ref::qfully_connected<T>(static_cast<int32_t>(m), static_cast<int32_t>(n), static_cast<int32_t>(kc), x, x_zp,
                             weight.data(), &w_zp, false, bias.data(), rq, expected.data());
  } else {
    ref::qconv2d<T>(s, x, x_zp, weight.data(), &w_zp, false, bias.data(), rq, expected.data());
  }

  // ---- packing, per the contract
  const int32_t act_offset = gc.act_s8 ? kernel.s8_act_offset : kernel.u8_act_offset;
  const size_t kcp = round_up(kc, kr);
  const size_t blocks = (n + nr - 1) / nr;
  const size_t w_bytes = kernel.wide_weights ? 2 : 1;  // int16 weights for wide_weights kernels
  const size_t block_bytes = nr * sizeof(int32_t) + ks * kcp * nr * w_bytes;
  std::vector<int32_t> packed_storage((blocks * block_bytes + 3) / 4);  // int32-aligned
  uint8_t* packed = reinterpret_cast<uint8_t*>(packed_storage.data());
  for (size_t nb = 0; nb < blocks; ++nb) {
    int32_t* pb = reinterpret_cast<int32_t*>(packed + nb * block_bytes);
    uint8_t* pw = reinterpret_cast<uint8_t*>(pb + nr);
    for (size_t j = 0; j < nr; ++j) {
      const size_t ch = nb * nr + j;
      int64_t sum_w = 0;
      if (ch < n)
        for (size_t i = 0; i < ks * kc; ++i) sum_w += weight[ch * ks * kc + i];
      pb[j] = ch < n ? wrap_i32(static_cast<int64_t>(bias[ch]) - (int64_t{x_zp} + act_offset) * sum_w) : 0;
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
    const size_t src = gc.per_channel ? std::min(ch, n - 1) : 0;
    e_scale[ch] = scale[src];
    e_mult[ch] = multiplier[src];
    e_exp[ch] = exponent[src];
  }
  QuantEpilogue q;
  q.scheme = gc.scheme;
  q.scale = e_scale.data();
  q.multiplier = e_mult.data();
  q.exponent = e_exp.data();
  q.zero_point = rq.zero_point;
  q.qmin = rq.qmin;
  q.qmax = rq.qmax;

  // ---- indirection and calls
  std::vector<uint8_t> zero_row(kcp + kSlack);
  for (size_t i = 0; i < zero_row.size(); ++i) zero_row[i] = i < kc ? static_cast<uint8_t>(x_zp) : 0x5A;
  const size_t c_stride = n + kGuard;
  std::vector<uint8_t> out(m * c_stride, kGuardByte);
  std::vector<const void*> ind(ks * mr_max);
  const QIgemmUkernel ukernel = gc.act_s8 ? kernel.s8 : kernel.u8;
  for (size_t m0 = 0; m0 < m; m0 += mr_max) {
    const size_t mr = std::min(mr_max, m - m0);
    for (size_t t = 0; t < ks; ++t) {
      const int32_t kh = static_cast<int32_t>(t) / s.kernel_w, kw = static_cast<int32_t>(t) % s.kernel_w;
      for (size_t i = 0; i < mr_max; ++i) {
        const size_t p = m0 + (i < mr ? i : 0);
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
    for (size_t n0 = 0; n0 < n; n0 += nr) {
      ukernel(mr, std::min(nr, n - n0), kc, ks, ind.data(), packed + n0 / nr * block_bytes,
              out.data() + m0 * c_stride + n0, c_stride, n0, &q);
    }
  }

  // ---- comparison
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < c_stride; ++j) {
      const uint8_t got = out[i * c_stride + j];
      if (j >= n) {
        if (got != kGuardByte) return ::testing::AssertionFailure() << "row " << i << " written past nc at " << j;
        continue;
      }
      const int32_t g = static_cast<T>(got), e = expected[i * n + j];
      if (g != e) {
        return ::testing::AssertionFailure()
               << "output [" << i << "][" << j << "] = " << g << ", reference " << e << " (x_zp " << x_zp << ", y_zp "
               << rq.zero_point << ", clamp [" << rq.qmin << ", " << rq.qmax << "])";
      }
    }
  }
  return ::testing::AssertionSuccess();
}

// The levels with a GEMM kernel this build has and this CPU runs.
std::vector<Isa> gemm_levels() {
  std::vector<Isa> levels;
  for (size_t i = 1; i < static_cast<size_t>(Isa::kCount); ++i) {
    const Isa isa = static_cast<Isa>(i);
    if (isa_supported(isa) && kernel_set(isa).gemm.u8 != nullptr) levels.push_back(isa);
  }
  return levels;
}

// Runs every case for both activation types, both schemes and both scale layouts on
// every level.
void run_all(const std::vector<GemmCase>& cases) {
  const std::vector<Isa> levels = gemm_levels();
  if (levels.empty()) GTEST_SKIP() << "this build has no optimized GEMM kernel for this CPU";
  uint32_t seed = 1;
  for (Isa isa : levels) {
    const QGemmKernel& k = kernel_set(isa).gemm;
    ASSERT_NE(k.s8, nullptr) << isa_name(isa);
    for (GemmCase gc : cases) {
      for (int variant = 0; variant < 8; ++variant) {
        gc.act_s8 = variant & 1;
        gc.scheme = variant & 2 ? ref::Scheme::kFixedPoint : ref::Scheme::kFp32;
        gc.per_channel = variant & 4;
        ++seed;
        const auto r = gc.act_s8 ? run_case<int8_t>(k, gc, seed) : run_case<uint8_t>(k, gc, seed);
        ASSERT_TRUE(r) << k.name << " (" << isa_name(isa) << "): " << gc.describe() << ", seed " << seed;
      }
    }
  }
}

// kc values around kr (4 or 8) and the 16-k main step, for every m/n edge of the tile.
TEST(IgemmKernels, FullyConnectedEdges) {
  std::vector<GemmCase> cases;
  const int32_t kcs[] = {1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 20, 24, 31, 32, 33, 40, 48, 57};
  const int32_t mns[][2] = {{1, 1}, {1, 3}, {2, 8}, {3, 15}, {4, 16}, {5, 17}, {9, 35}};
  for (int32_t kc : kcs) {
    for (const auto& mn : mns) {
      GemmCase gc;
      gc.fc = true;
      gc.shape = fc_shape(mn[0], mn[1], kc);
      cases.push_back(gc);
    }
  }
  run_all(cases);
}

TEST(IgemmKernels, Convolutions) {
  std::vector<GemmCase> cases;
  GemmCase gc;
  gc.shape = conv_shape(1, 5, 6, 3, 7, 3, 1, 1, 1);  // kc 3 < kr, padding everywhere
  cases.push_back(gc);
  gc.shape = conv_shape(2, 7, 5, 17, 19, 3, 2, 1, 1);  // batch 2, stride 2, kc 17
  cases.push_back(gc);
  gc.shape = conv_shape(1, 8, 8, 8, 16, 3, 1, 2, 2);  // dilation 2
  cases.push_back(gc);
  gc.shape = conv_shape(1, 6, 6, 32, 33, 1, 1, 1, 0);  // 1x1, kc 32
  cases.push_back(gc);
  gc.shape = conv_shape(1, 4, 5, 24, 8, 5, 1, 1, 2);  // 5x5 taps (ks 25), kc 24
  cases.push_back(gc);
  gc.shape = conv_shape(1, 3, 3, 40, 5, 3, 2, 1, 0);  // one output pixel per image
  cases.push_back(gc);
  run_all(cases);
}

TEST(IgemmKernels, RequantizationEdges) {
  std::vector<GemmCase> cases;
  for (int32_t kc : {3, 16, 29}) {
    GemmCase gc;
    gc.fc = true;
    gc.shape = fc_shape(7, 21, kc);
    gc.tie_scales = true;
    cases.push_back(gc);
    gc.tie_scales = false;
    gc.narrow_clamp = true;
    cases.push_back(gc);
    gc.tie_scales = true;
    cases.push_back(gc);
  }
  run_all(cases);
}

TEST(IgemmKernels, ExtremeValues) {
  std::vector<GemmCase> cases;
  for (int32_t kc : {8, 61, 300}) {
    GemmCase gc;
    gc.fc = true;
    gc.shape = fc_shape(5, 19, kc);
    gc.fill = Fill::kExtreme;
    cases.push_back(gc);
    gc.fill = Fill::kWrap;
    cases.push_back(gc);
  }
  GemmCase gc;
  gc.shape = conv_shape(1, 5, 5, 13, 18, 3, 1, 1, 1);
  gc.fill = Fill::kExtreme;
  cases.push_back(gc);
  run_all(cases);
}

// The level dispatch picks as the best must be the one expected for this CPU, and every
// level below a supported one must be supported too.
TEST(IgemmKernels, DispatchPicksTheExpectedLevel) {
  const Isa best = best_isa();
  const char* expected = std::getenv("EDGEQ_EXPECT_ISA");
  if (expected != nullptr && *expected != '\0') {
    Isa want;
    ASSERT_TRUE(parse_isa(expected, &want)) << expected;
    EXPECT_EQ(best, want) << "best " << isa_name(best) << ", supported: " << supported_isa_names();
  }
  ASSERT_TRUE(isa_supported(best));
  if (best == Isa::kNeonDot || best == Isa::kNeonI8mm) {
    EXPECT_TRUE(isa_supported(Isa::kNeon));
  }
  if (best == Isa::kNeonI8mm) {
    EXPECT_TRUE(isa_supported(Isa::kNeonDot));
  }
}

}  // namespace
}  // namespace kern
}  // namespace edgeq
