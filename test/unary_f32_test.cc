// The float unary kernels (kernels/unary_f32_math.h, MiscKernels::unary_f32) at every
// level the host runs, against the functions computed in double:
//  * every covered op on a dense sweep of [-10, 10] (step 2^-9), a sparse sweep of every
//    float bit pattern (step 65521: all binades, denormals included), and the edges
//    (+-0, denormals, +-FLT_MIN / FLT_MAX, +-inf, NaN, the approximations' break points);
//  * tolerance |y - f(x)| <= abs + rel * |f(x)| per op (kTolerance below; measured
//    maxima are printed), infinities mapped to the functions' limits exactly, NaN to NaN;
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
#include <vector>

#include "kernels/kernels.h"
#include "kernels/misc.h"
#include "kernels/ref/ref.h"

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
  double abs_tol, rel_tol;  // |y - f(x)| <= abs_tol + rel_tol * |f(x)|
};

// ARMv7 NEON flushes denormals to zero: results may be off by FLT_MIN times max(1, |x|)
// (mish near x = -88 multiplies x by a flushed exp(x)).
#if defined(__arm__)
constexpr double kDenormal = 1.2e-38;
#else
constexpr double kDenormal = 0.0;
#endif

// The bounds sit a little over the maxima measured on AVX2 (printed by the test), max
// |error| / max |error| / |f(x)|: tanh 6.2e-8 / 1.1e-7, erf 1.1e-7 / 1.7e-7, sigmoid
// 8.8e-8 / 1.5e-7, softplus 2.0e-7 relative, mish 2.6e-7 relative, elu 1.6e-7 relative.
// Gelu: relative 3e-7 where it is large, absolute 2e-7 where it is tiny (x < -5.7 gives 0).
const Case kCases[] = {
    {UnaryOp::kTanh, 0.f, "tanh", 2e-7, 2.5e-7},
    {UnaryOp::kErf, 0.f, "erf", 2e-7, 2.5e-7},
    {UnaryOp::kGelu, 0.f, "gelu_erf", 2e-7, 3e-7},
    {UnaryOp::kGelu, 1.f, "gelu_tanh", 2e-7, 3e-7},
    {UnaryOp::kSigmoid, 0.f, "sigmoid", 1e-40, 4e-7},
    {UnaryOp::kSoftplus, 0.f, "softplus", 1e-40, 4e-7},
    {UnaryOp::kMish, 0.f, "mish", 1e-40, 4e-7},
    {UnaryOp::kElu, 0.7f, "elu", 1e-40, 4e-7},
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
      return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / kPi) * (x + 0.044715 * x * x * x)));
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

std::vector<Isa> levels() {
  std::vector<Isa> v;
  for (Isa isa : {Isa::kAvx2, Isa::kAvxVnni, Isa::kAvx512Vnni, Isa::kNeon, Isa::kNeonDot, Isa::kNeonI8mm}) {
    if (kern::isa_supported(isa) && kern::kernel_set(isa).misc.unary_f32 != nullptr) v.push_back(isa);
  }
  return v;
}

float from_bits(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

std::vector<float> inputs() {
  std::vector<float> x;
  for (int i = -10 * 512; i <= 10 * 512; ++i) x.push_back(static_cast<float>(i) / 512.f);
  for (uint64_t b = 0; b <= 0xffffffffu; b += 65521) x.push_back(from_bits(static_cast<uint32_t>(b)));
  const float edges[] = {0.f,      -0.f,     from_bits(1),   from_bits(0x807fffff), FLT_MIN, -FLT_MIN,
                         FLT_MAX,  -FLT_MAX, kInf,           -kInf,                 0.625f,  -0.625f,
                         1.f,      -1.f,     4.f,            -4.f,                  5.65f,   -5.66f,
                         40.f,     -40.f,    80.f,           -80.f,                 88.f,    -88.f,
                         103.9f,   -103.9f,  -110.f,         20.f,                  -20.f,   1e-20f,
                         -1e-20f,  1e20f,    -1e20f,         0.3465f,               -0.3466f, 9.2f};
  for (float e : edges) {
    x.push_back(e);
    x.push_back(std::nextafter(e, kInf));
    x.push_back(std::nextafter(e, -kInf));
  }
  return x;
}

TEST(UnaryF32, MatchesDoublePrecision) {
  const std::vector<Isa> isas = levels();
  if (isas.empty()) GTEST_SKIP() << "no level with a float unary kernel on this host";
  const std::vector<float> x = inputs();
  std::vector<float> y(x.size());
  for (Isa isa : isas) {
    const kern::UnaryF32Fn fn = kern::kernel_set(isa).misc.unary_f32;
    for (const Case& c : kCases) {
      ASSERT_TRUE(kern::unary_f32_kernel_covers(c.op)) << c.name;
      fn(c.op, c.alpha, 0.f, x.size(), x.data(), y.data());
      double max_abs = 0, max_rel = 0;
      for (size_t i = 0; i < x.size(); ++i) {
        if (std::isnan(x[i])) {
          ASSERT_TRUE(std::isnan(y[i])) << c.name << " x=NaN";
          continue;
        }
        const double e = exact(c.op, c.alpha, x[i]);
        if (std::isinf(e) || std::isinf(x[i])) {
          ASSERT_EQ(y[i], static_cast<float>(e)) << kern::isa_name(isa) << " " << c.name << " x=" << x[i];
          continue;
        }
        const double err = std::fabs(static_cast<double>(y[i]) - e);
        ASSERT_LE(err, c.abs_tol + kDenormal * std::max(1.0, std::fabs(static_cast<double>(x[i]))) + c.rel_tol * std::fabs(e))
            << kern::isa_name(isa) << " " << c.name << " x=" << x[i] << " (" << std::hexfloat << x[i]
            << std::defaultfloat << ") y=" << y[i] << " expected " << e;
        max_abs = std::max(max_abs, err);
        if (std::fabs(e) > 1e-30) max_rel = std::max(max_rel, err / std::fabs(e));
      }
      std::printf("%s %-10s max abs error %.3g, max relative error (|f| > 1e-30) %.3g over %zu inputs\n",
                  kern::isa_name(isa), c.name, max_abs, max_rel, x.size());
    }
  }
}

TEST(UnaryF32, Limits) {
  for (Isa isa : levels()) {
    const kern::UnaryF32Fn fn = kern::kernel_set(isa).misc.unary_f32;
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
  for (Isa isa : levels()) {
    const kern::UnaryF32Fn fn = kern::kernel_set(isa).misc.unary_f32;
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
              ASSERT_EQ(out[i], whole[start + i]) << kern::isa_name(isa) << " " << c.name << " n=" << n;
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
  for (Isa isa : levels()) {
    const kern::UnaryF32Fn fn = kern::kernel_set(isa).misc.unary_f32;
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
