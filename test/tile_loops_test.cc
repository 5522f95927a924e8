// The int32-tile products' loops (kernels.h RangeF32Fn, TileFinishF32Fn, SumU8Fn) of
// every level this CPU runs that has its own, against the scalar definitions written
// out here (ref::internal::finite_range, clamp_f32), bit for bit: sizes 0 to 80 (every
// tail of 8- and 16-lane loops), NaN, infinities, signed zeros, denormals, sums that
// wrap modulo 2^32, and clamps at, inside and outside the values.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/ref/internal.h"

namespace edgeq {
namespace kern {
namespace {

std::vector<Isa> levels_with_loops() {
  std::vector<Isa> out;
  for (size_t i = 1; i < static_cast<size_t>(Isa::kCount); ++i) {
    const Isa isa = static_cast<Isa>(i);
    if (isa_supported(isa) && kernel_set(isa).gemm.range_f32 != nullptr) out.push_back(isa);
  }
  return out;
}

uint32_t bits_of(float v) {
  uint32_t b;
  std::memcpy(&b, &v, sizeof(b));
  return b;
}

// Floats with every special value mixed in at random places.
std::vector<float> special_floats(size_t n, std::mt19937& rng, int kind) {
  std::normal_distribution<float> nd(0.f, 3.f);
  std::vector<float> v(n);
  for (float& x : v) x = nd(rng);
  const float specials[] = {0.f, -0.f, std::numeric_limits<float>::denorm_min(), -1e-40f,
                            std::numeric_limits<float>::max(), -std::numeric_limits<float>::max(),
                            std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::quiet_NaN()};
  if (n == 0 || kind == 0) return v;
  const size_t count = kind == 1 ? 4 : 1;  // kind 1: finite specials; 2: one NaN/inf
  for (size_t c = 0; c < count; ++c) {
    const size_t at = rng() % n;
    v[at] = kind == 1 ? specials[rng() % 6] : specials[6 + rng() % 3];
  }
  return v;
}

TEST(TileLoops, RangeEqualsFiniteRange) {
  std::mt19937 rng(11);
  for (Isa isa : levels_with_loops()) {
    const QGemmKernel& k = kernel_set(isa).gemm;
    for (size_t n = 0; n <= 80; ++n) {
      for (int kind = 0; kind < 3; ++kind) {
        const std::vector<float> x = special_floats(n, rng, kind);
        float lo = 1.f, hi = -1.f, want_lo, want_hi;
        const bool want = ref::internal::finite_range(n, x.data(), 1, &want_lo, &want_hi);
        const bool got = k.range_f32(n, x.data(), &lo, &hi);
        EXPECT_EQ(got, want) << isa_name(isa) << " n " << n << " kind " << kind;
        EXPECT_EQ(bits_of(lo), bits_of(want_lo)) << isa_name(isa) << " n " << n << " kind " << kind;
        EXPECT_EQ(bits_of(hi), bits_of(want_hi)) << isa_name(isa) << " n " << n << " kind " << kind;
      }
    }
    // All negative (hi stays +0) and all positive (lo stays +0), with -0 present.
    std::vector<float> neg(37, -2.f), pos(37, 2.f);
    neg[5] = -0.f;
    pos[9] = -0.f;
    float lo, hi;
    EXPECT_TRUE(k.range_f32(neg.size(), neg.data(), &lo, &hi));
    EXPECT_EQ(bits_of(hi), bits_of(0.f)) << isa_name(isa);
    EXPECT_EQ(lo, -2.f);
    EXPECT_TRUE(k.range_f32(pos.size(), pos.data(), &lo, &hi));
    EXPECT_EQ(bits_of(lo), bits_of(0.f)) << isa_name(isa);
  }
}

// A tile of mc rows: the column terms are shared, every row has its own z, r and rs;
// the rows sit at a stride wider than the tile, and nothing between them is touched.
TEST(TileLoops, FinishEqualsScalarDefinition) {
  std::mt19937 rng(12);
  std::uniform_int_distribution<int32_t> any_i32(std::numeric_limits<int32_t>::min(),
                                                 std::numeric_limits<int32_t>::max());
  std::uniform_real_distribution<float> scale(1e-4f, 1e-1f);
  for (Isa isa : levels_with_loops()) {
    const QGemmKernel& k = kernel_set(isa).gemm;
    for (size_t mc : {size_t{1}, size_t{3}, size_t{32}}) {
      for (size_t n = 0; n <= 80; ++n) {
        for (int variant = 0; variant < 6; ++variant) {
          const size_t acc_stride = n + 3, out_stride = n + 5;
          std::vector<int32_t> acc(mc * acc_stride);
          std::vector<uint32_t> colsum(n), z(mc), r(mc);
          std::vector<float> cs(n), bias(n), rs(mc), got(mc * out_stride, 7.f), want(mc * out_stride, 7.f);
          for (size_t j = 0; j < n; ++j) {
            colsum[j] = variant < 2 ? rng() % 30000 : static_cast<uint32_t>(any_i32(rng));
            cs[j] = scale(rng);
            bias[j] = variant == 3 ? -0.f : static_cast<float>(static_cast<int32_t>(rng() % 2001) - 1000) * 0.01f;
          }
          for (size_t i = 0; i < mc; ++i) {
            // variant 0, 1: small sums; others: anything (the int32 sum wraps).
            for (size_t j = 0; j < n; ++j)
              acc[i * acc_stride + j] = variant < 2 ? static_cast<int32_t>(rng() % 200001) - 100000 : any_i32(rng);
            z[i] = variant == 0 ? 0u : rng() % 256;
            r[i] = variant < 2 ? rng() % 1000 : rng();
            rs[i] = variant == 5 && i % 2 == 0 ? std::numeric_limits<float>::infinity() : scale(rng);
          }
          float lo = -INFINITY, hi = INFINITY;
          if (variant == 2) lo = 0.f;               // ReLU
          if (variant == 4) lo = -0.5f, hi = 0.5f;  // a narrow clamp
          if (variant == 5) lo = 0.f, hi = 6.f;     // infinities and NaN (0 * inf) clamped
          const float* b = variant == 1 ? nullptr : bias.data();
          for (size_t i = 0; i < mc; ++i) {
            for (size_t j = 0; j < n; ++j) {
              const int32_t v =
                  static_cast<int32_t>(static_cast<uint32_t>(acc[i * acc_stride + j]) - z[i] * colsum[j] + r[i]);
              float o = static_cast<float>(v) * (rs[i] * cs[j]);
              if (b != nullptr) o += b[j];
              want[i * out_stride + j] = ref::internal::clamp_f32(o, lo, hi);
            }
          }
          k.finish_f32(mc, n, acc.data(), acc_stride, colsum.data(), z.data(), r.data(), rs.data(), cs.data(), b, lo,
                       hi, got.data(), out_stride);
          for (size_t j = 0; j < got.size(); ++j)  // the elements between rows stay untouched
            ASSERT_EQ(bits_of(got[j]), bits_of(want[j]))
                << isa_name(isa) << " mc " << mc << " n " << n << " variant " << variant << " at " << j;
        }
      }
    }
  }
}

TEST(TileLoops, SumU8) {
  std::mt19937 rng(13);
  for (Isa isa : levels_with_loops()) {
    const QGemmKernel& k = kernel_set(isa).gemm;
    for (size_t n : {size_t{0}, size_t{1}, size_t{31}, size_t{32}, size_t{33}, size_t{63}, size_t{64},
                     size_t{65}, size_t{200}, size_t{3072}, size_t{70000}}) {
      std::vector<uint8_t> x(n);
      for (uint8_t& v : x) v = static_cast<uint8_t>(n == 70000 ? 255 : rng());
      uint32_t want = 0;
      for (uint8_t v : x) want += v;
      EXPECT_EQ(k.sum_u8(n, x.data()), want) << isa_name(isa) << " n " << n;
    }
  }
}

// x86 levels carry their own loops; ARM levels take qmatmul.cc's portable ones (which
// the compiler vectorizes with NEON), tested through the products in matmul_test.cc.
TEST(TileLoops, WhichLevelsHaveThem) {
  for (size_t i = 1; i < static_cast<size_t>(Isa::kCount); ++i) {
    const Isa isa = static_cast<Isa>(i);
    if (!isa_supported(isa)) continue;
    const QGemmKernel& k = kernel_set(isa).gemm;
    const bool x86 = isa == Isa::kAvx2 || isa == Isa::kAvxVnni || isa == Isa::kAvx512Vnni || isa == Isa::kAmx;
    EXPECT_EQ(k.range_f32 != nullptr, x86) << isa_name(isa);
    EXPECT_EQ(k.finish_f32 != nullptr, x86) << isa_name(isa);
    EXPECT_EQ(k.sum_u8 != nullptr, x86) << isa_name(isa);
  }
}

}  // namespace
}  // namespace kern
}  // namespace edgeq
