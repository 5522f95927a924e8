// The float unary kernels (kernels/unary_f32_math.h, MiscKernels::unary_f32) at every
// level the host runs, and on x86 every variant the CPU runs (AVX2 without FMA, FMA3,
// AVX-512F) whichever the levels picked, against the functions computed in double:
//  * every covered op on a dense sweep of [-10, 10] (step 2^-14), a sparse sweep of every
//    float bit pattern (step 65521: all binades, denormals included), and the edges
//    (+-0, denormals, +-FLT_MIN / FLT_MAX, +-inf, NaN, the approximations' break points);
//  * tolerance |y - f(x)| <= abs + rel * |f(x)| + x_rel * |x| per op (kCases below;
//    measured maxima are printed), infinities mapped to the functions' limits exactly,
//    NaN to NaN;
//  * every size 1 .. 3 * 16 + 1 gives each element the value it gets in a long array
//    (tails run the same code) and writes nothing past the end;
//  * the ops the kernel does not cover equal ref::unary_f32 bit for bit.
#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/misc.h"
#include "kernels/ref/ref.h"
#if defined(__x86_64__) || defined(__i386__)
#include "kernels/x86/misc_x86.h"
#endif

namespace edgeq {
namespace {

using kern::Isa;
using ref::UnaryOp;

constexpr double kPi = 3.14159265358979323846;
constexpr float kInf = std::numeric_limits<float>::infinity();

struct Case {
  UnaryOp op;
  float alpha;
  const char* name;
  double abs_tol, rel_tol, x_tol;  // |y - f(x)| <= abs_tol + rel_tol * |f(x)| + x_tol * |x|
};

// ARMv7 NEON flushes denormals to zero: results may be off by 1.13 FLT_MIN times
// max(1, |x|) (mish near x = -88 multiplies x by a flushed exp(x); erf of a denormal x,
// 2/sqrt(pi) x, becomes 0).
#if defined(__arm__)
constexpr double kDenormal = 1.33e-38;
#else
constexpr double kDenormal = 0.0;
#endif

// The bounds sit a little over the maxima measured on AVX2 without FMA, FMA3 and AVX-512F
// (printed by the test; for tanh, erf and gelu_erf also over every float in [0.5, 8),
// where their maxima lie), max |error| / max |error| / |f(x)|: tanh 1.5e-7 / 1.7e-7
// (-m / (2 + m) with one exp; 2.4e-7 on ARMv7), erf 3.8e-7 / 3.8e-7 without FMA,
// 3.5e-7 with, 4.4e-7 on ARMv7 (its division is a refined reciprocal) (one rational:
// worst near erf = 1; relative accuracy near 0), sigmoid 8.9e-8 / 1.7e-7,
// softplus 2.5e-7 relative, mish 2.9e-7 relative, elu 1.6e-7 relative.
// Gelu, erf form: |error| <= 3e-7 |x| (measured 2.5e-7 |x| without FMA, 2.0e-7 |x| with,
// 2.7e-7 |x| on ARMv7): about |x| / 2 times erf's error, absolute, not relative to the
// tiny values of x < -3.
// Gelu, tanh form (x sigmoid(2u)): relative 3e-7 where it is large, 2e-7 absolute where
// tiny (there the rounding of u costs relative accuracy).
const Case kCases[] = {
    {UnaryOp::kTanh, 0.f, "tanh", 2e-7, 2.5e-7, 0},
    {UnaryOp::kErf, 0.f, "erf", 1e-40, 5e-7, 0},
    {UnaryOp::kGelu, 0.f, "gelu_erf", 1e-40, 0, 3e-7},
    {UnaryOp::kGelu, 1.f, "gelu_tanh", 2e-7, 3e-7, 0},
    {UnaryOp::kSigmoid, 0.f, "sigmoid", 1e-40, 4e-7, 0},
    {UnaryOp::kSoftplus, 0.f, "softplus", 1e-40, 4e-7, 0},
    {UnaryOp::kMish, 0.f, "mish", 1e-40, 4e-7, 0},
    {UnaryOp::kElu, 0.7f, "elu", 1e-40, 4e-7, 0},
};

double softplus(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }

// The function in double (ONNX's definitions, graph/op_table.h); limits at infinities.
double exact(UnaryOp op, float alpha, double x) {
  switch (op) {
    case UnaryOp::kTanh:
      return std::tanh(x);
    case UnaryOp::kErf:
      return std::erf(x);
    case UnaryOp::kGelu:
      if (std::isinf(x)) return x < 0 ? 0.0 : x;
      if (alpha == 0.f) return x < 0 ? 0.5 * x * std::erfc(-x / std::sqrt(2.0)) : 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
      // x/2 (1 + tanh(u)) = x / (1 + e^(-2u)): no cancellation for negative x.
      return x / (1.0 + std::exp(-2.0 * std::sqrt(2.0 / kPi) * (x + 0.044715 * x * x * x)));
    case UnaryOp::kSigmoid:
      return x < 0 ? std::exp(x) / (1 + std::exp(x)) : 1.0 / (1.0 + std::exp(-x));
    case UnaryOp::kSoftplus:
      return softplus(x);
    case UnaryOp::kMish:
      if (std::isinf(x)) return x < 0 ? 0.0 : x;
      return x * std::tanh(softplus(x));
    case UnaryOp::kElu:
      return x < 0 ? alpha * std::expm1(x) : x;
    default:
      return 0;
  }
}

struct Variant {
  std::string name;
  kern::UnaryF32Fn fn;
};

// Each level's kernel, and on x86 each 256- / 512-bit variant the CPU runs.
std::vector<Variant> variants() {
  std::vector<Variant> v;
  for (Isa isa : {Isa::kAvx2, Isa::kAvxVnni, Isa::kAvx512Vnni, Isa::kNeon, Isa::kNeonDot, Isa::kNeonI8mm}) {
    if (!kern::isa_supported(isa) || kern::kernel_set(isa).misc.unary_f32 == nullptr) continue;
    v.push_back({std::string(kern::isa_name(isa)) + ":" + kern::kernel_set(isa).misc.names.unary_f32,
                 kern::kernel_set(isa).misc.unary_f32});
  }
#if defined(__x86_64__) || defined(__i386__)
  auto add = [&](void (*fill)(kern::MiscKernels*)) {
    kern::MiscKernels k;
    fill(&k);
    v.push_back({k.names.unary_f32, k.unary_f32});
  };
  if (kern::isa_supported(Isa::kAvx2)) {
    add(kern::add_unary_kernels_avx2);
    if (__builtin_cpu_supports("fma")) add(kern::add_unary_kernels_fma3);
    if (__builtin_cpu_supports("avx512f")) add(kern::add_unary_kernels_avx512);
  }
#endif
  return v;
}

float from_bits(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

std::vector<float> inputs() {
  std::vector<float> x;
  for (int i = -10 * 16384; i <= 10 * 16384; ++i) x.push_back(static_cast<float>(i) / 16384.f);
  for (uint64_t b = 0; b <= 0xffffffffu; b += 65521) x.push_back(from_bits(static_cast<uint32_t>(b)));
  const float edges[] = {0.f,      -0.f,     from_bits(1),   from_bits(0x807fffff), FLT_MIN, -FLT_MIN,
                         FLT_MAX,  -FLT_MAX, kInf,           -kInf,                 0.625f,  -0.625f,
                         1.f,      -1.f,     4.f,            -4.f,                  5.65f,   -5.66f,
                         40.f,     -40.f,    80.f,           -80.f,                 88.f,    -88.f,
                         103.9f,   -103.9f,  -110.f,         20.f,                  -20.f,   1e-20f,
                         -1e-20f,  1e20f,    -1e20f,         0.3465f,               -0.3466f, 9.2f,
                         10.f,     -10.f,    3.92f,          -3.92f,                -44.f,   -30.f};
  for (float e : edges) {
    x.push_back(e);
    x.push_back(std::nextafter(e, kInf));
    x.push_back(std::nextafter(e, -kInf));
  }
  return x;
}

TEST(UnaryF32, MatchesDoublePrecision) {
  const std::vector<Variant> vars = variants();
  if (vars.empty()) GTEST_SKIP() << "no level with a float unary kernel on this host";
  const std::vector<float> x = inputs();
  std::vector<float> y(x.size());
  for (const Variant& var : vars) {
    const kern::UnaryF32Fn fn = var.fn;
    for (const Case& c : kCases) {
      ASSERT_TRUE(kern::unary_f32_kernel_covers(c.op)) << c.name;
      fn(c.op, c.alpha, 0.f, x.size(), x.data(), y.data());
      double max_abs = 0, max_rel = 0, max_x_rel = 0;
      for (size_t i = 0; i < x.size(); ++i) {
        if (std::isnan(x[i])) {
          ASSERT_TRUE(std::isnan(y[i])) << c.name << " x=NaN";
          continue;
        }
        const double e = exact(c.op, c.alpha, x[i]);
        if (std::isinf(e) || std::isinf(x[i])) {
          ASSERT_EQ(y[i], static_cast<float>(e)) << var.name << " " << c.name << " x=" << x[i];
          continue;
        }
        const double err = std::fabs(static_cast<double>(y[i]) - e);
        const double ax = std::fabs(static_cast<double>(x[i]));
        ASSERT_LE(err, c.abs_tol + kDenormal * std::max(1.0, ax) + c.rel_tol * std::fabs(e) + c.x_tol * ax)
            << var.name << " " << c.name << " x=" << x[i] << " (" << std::hexfloat << x[i]
            << std::defaultfloat << ") y=" << y[i] << " expected " << e;
        max_abs = std::max(max_abs, err);
        if (std::fabs(e) > 1e-30) max_rel = std::max(max_rel, err / std::fabs(e));
        if (ax > 1e-30) max_x_rel = std::max(max_x_rel, err / ax);
      }
      std::printf("%-32s %-10s max abs error %.3g, relative (|f| > 1e-30) %.3g", var.name.c_str(), c.name, max_abs,
                  max_rel);
      if (c.x_tol > 0) std::printf(", / |x| %.3g", max_x_rel);
      std::printf(" over %zu inputs\n", x.size());
    }
  }
}

TEST(UnaryF32, Limits) {
  for (const Variant& var : variants()) {
    const kern::UnaryF32Fn fn = var.fn;
    auto f = [&](UnaryOp op, float alpha, float x) {
      float y = 0;
      fn(op, alpha, 0.f, 1, &x, &y);
      return y;
    };
    EXPECT_EQ(f(UnaryOp::kTanh, 0, kInf), 1.f);
    EXPECT_EQ(f(UnaryOp::kTanh, 0, -kInf), -1.f);
    EXPECT_EQ(f(UnaryOp::kErf, 0, kInf), 1.f);
    EXPECT_EQ(f(UnaryOp::kErf, 0, -kInf), -1.f);
    EXPECT_TRUE(std::signbit(f(UnaryOp::kTanh, 0, -0.f)));
    EXPECT_TRUE(std::signbit(f(UnaryOp::kErf, 0, -0.f)));
    for (float alpha : {0.f, 1.f}) {
      EXPECT_EQ(f(UnaryOp::kGelu, alpha, kInf), kInf);
      EXPECT_EQ(f(UnaryOp::kGelu, alpha, -kInf), 0.f);
      EXPECT_EQ(f(UnaryOp::kGelu, alpha, 1e30f), 1e30f);
      EXPECT_EQ(f(UnaryOp::kGelu, alpha, -1e30f), 0.f);
    }
    EXPECT_EQ(f(UnaryOp::kSigmoid, 0, kInf), 1.f);
    EXPECT_EQ(f(UnaryOp::kSigmoid, 0, -kInf), 0.f);
    EXPECT_EQ(f(UnaryOp::kSoftplus, 0, kInf), kInf);
    EXPECT_EQ(f(UnaryOp::kSoftplus, 0, -kInf), 0.f);
    EXPECT_EQ(f(UnaryOp::kMish, 0, kInf), kInf);
    EXPECT_EQ(f(UnaryOp::kMish, 0, -kInf), 0.f);
    EXPECT_EQ(f(UnaryOp::kElu, 0.5f, -kInf), -0.5f);
    EXPECT_EQ(f(UnaryOp::kElu, 0.5f, kInf), kInf);
    for (const Case& c : kCases) EXPECT_TRUE(std::isnan(f(c.op, c.alpha, std::nanf("")))) << c.name;
  }
}

// Each element's value does not depend on its position or the call's size; nothing is
// written past the end.
TEST(UnaryF32, TailsAndSizes) {
  constexpr size_t kMaxWidth = 16;
  std::vector<float> x(3 * kMaxWidth + 1);
  for (size_t i = 0; i < x.size(); ++i) x[i] = -6.f + 0.37f * static_cast<float>(i);
  x[5] = std::nanf("");
  x[7] = -kInf;
  for (const Variant& var : variants()) {
    const kern::UnaryF32Fn fn = var.fn;
    for (const Case& c : kCases) {
      std::vector<float> whole(x.size());
      fn(c.op, c.alpha, 0.f, x.size(), x.data(), whole.data());
      for (size_t n = 1; n <= x.size(); ++n) {
        for (size_t start : {size_t{0}, size_t{1}}) {
          if (start + n > x.size()) continue;
          std::vector<float> out(n + 4, 123.f);
          fn(c.op, c.alpha, 0.f, n, x.data() + start, out.data());
          for (size_t i = 0; i < n; ++i) {
            if (std::isnan(whole[start + i])) {
              ASSERT_TRUE(std::isnan(out[i]));
            } else {
              ASSERT_EQ(out[i], whole[start + i]) << var.name << " " << c.name << " n=" << n;
            }
          }
          for (size_t i = n; i < n + 4; ++i) ASSERT_EQ(out[i], 123.f) << "wrote past the end, n=" << n;
        }
      }
    }
  }
}

TEST(UnaryF32, UncoveredOpsAreTheReference) {
  std::vector<float> x;
  for (int i = -800; i <= 800; ++i) x.push_back(static_cast<float>(i) / 64.f);
  x.push_back(std::nanf(""));
  x.push_back(kInf);
  x.push_back(-kInf);
  for (const Variant& var : variants()) {
    const kern::UnaryF32Fn fn = var.fn;
    for (UnaryOp op : {UnaryOp::kRelu, UnaryOp::kClip, UnaryOp::kLeakyRelu, UnaryOp::kHardSigmoid, UnaryOp::kHardSwish}) {
      EXPECT_FALSE(kern::unary_f32_kernel_covers(op));
      std::vector<float> y(x.size()), r(x.size());
      fn(op, 0.2f, 0.5f, x.size(), x.data(), y.data());
      ref::unary_f32(op, 0.2f, 0.5f, x.size(), x.data(), r.data());
      EXPECT_EQ(0, std::memcmp(y.data(), r.data(), y.size() * sizeof(float))) << static_cast<int>(op);
    }
  }
}

}  // namespace
}  // namespace edgeq
