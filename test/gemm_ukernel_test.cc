// The indirect-GEMM microkernels (QIgemmUkernel, kernels/kernels.h) of every level this
// build has and this CPU runs, called directly through GemmTester (test/gemm_tester.h)
// and compared with ref::qconv2d / ref::qfully_connected bit for bit. The same file on
// every architecture: it takes each level's QGemmKernel as dispatch registers it, so on
// x86 it tests the AVX2 / AVX-VNNI / AVX512-VNNI kernels and under qemu the NEON /
// dotprod / i8mm ones.
//
// Every case runs with int8 and uint8 activations, both requantization schemes and
// per-tensor and per-channel parameters. Sweeps: k below, equal to and above kr and the
// kernels' 16-byte main step; single tiles with every mr <= MR and nc <= NR; m and n
// around MR, NR and their multiples; several taps; convolutions with batch, stride,
// dilation and padding; scales that tie often, narrow clamps, special parameters
// (inf, NaN, zero, saturating shifts); weights and activations at their extremes
// (-128 x -128 products); biases near INT32_MAX / INT32_MIN (the int32 sum wraps). The
// single-row functions (u8_row / s8_row) of kernels that have them get the same sweeps
// of m, n and k.
//
// A level's kernel for weights in [-127, 127] (KernelSet::gemm_w127: NEON's smull +
// smlal kernels) runs every sweep too (suffix _w127), on weights that never hold -128
// (extremes: -127); and, with -128 weights, must be seen to fail, which is why
// kernels/gemm_pick.h picks it only for layers without them.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "kernels/gemm_pick.h"
#include "kernels/kernels.h"
#include "test/gemm_tester.h"

namespace edgeq {
namespace kern {
namespace {

class GemmUkernelTest : public ::testing::TestWithParam<GemmCase> {
 protected:
  void SetUp() override {
    if (!isa_supported(isa())) GTEST_SKIP() << isa_name(isa()) << " not supported by this CPU";
    if (kernel().u8 == nullptr)
      GTEST_SKIP() << isa_name(isa()) << " has no GEMM kernel" << (GetParam().w127 ? " for weights in [-127, 127]" : "")
                   << " in this build";
  }
  Isa isa() const { return GetParam().isa; }
  const QGemmKernel& kernel() const { return GetParam().kernel(); }

  // Runs `t` for both activation types, both schemes and both scale layouts; stops at
  // the first failure.
  void test_variants(GemmTester t) {
    for (int variant = 0; variant < 8; ++variant) {
      t.act_s8(variant & 1)
          .scheme(variant & 2 ? ref::Scheme::kFixedPoint : ref::Scheme::kFp32)
          .per_channel(variant & 4)
          .w127(GetParam().w127)
          .seed(++seed_);
      ASSERT_TRUE(t.Test(kernel())) << kernel().name;
    }
  }

  // k values around kr and the 16-byte main step of the kernels (whatever the
  // kernel's kr), and a few long ones.
  std::vector<size_t> k_edges() const {
    const size_t kr = kernel().kr;
    std::set<size_t> ks = {1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 20, 24, 31, 32, 33, 40, 48, 57};
    for (size_t k : {kr - 1, kr, kr + 1, 2 * kr - 1, 2 * kr, 2 * kr + 1, 3 * kr + 3})
      if (k > 0) ks.insert(k);
    return {ks.begin(), ks.end()};
  }

  // (m, n) around one tile, a tile and a bit, and several tiles.
  std::vector<std::pair<size_t, size_t>> mn_edges() const {
    const size_t mr = kernel().mr, nr = kernel().nr;
    std::set<std::pair<size_t, size_t>> mn = {{1, 1}, {1, 3}, {2, 8}, {3, 15}, {4, 16}, {5, 17}, {9, 35}};
    mn.insert({mr, nr});
    mn.insert({mr + 1, nr + 1});
    mn.insert({2 * mr + 1, 2 * nr + 1});
    if (mr > 1) mn.insert({mr - 1, nr - 1});
    return {mn.begin(), mn.end()};
  }

  uint32_t seed_ = 0;
};

// Fully connected (one tap): every k edge for every m / n edge.
TEST_P(GemmUkernelTest, FullyConnectedEdges) {
  for (size_t k : k_edges())
    for (const auto& mn : mn_edges()) {
      test_variants(GemmTester().m(mn.first).n(mn.second).k(k));
      if (HasFatalFailure()) return;
    }
}

// One call per case: every mr <= MR (in steps of 3 for tall tiles), nc of 1, about
// half of NR and NR, k below, at and above kr, three taps; nothing outside the mr x nc
// tile may be written.
TEST_P(GemmUkernelTest, SingleTile) {
  const size_t mr_max = kernel().mr, nr = kernel().nr, kr = kernel().kr;
  for (size_t mr = 1; mr <= mr_max; mr += (mr_max > 4 ? 3 : 1))
    for (size_t nc : {size_t{1}, nr / 2 + 1, nr})
      for (size_t k : {size_t{1}, kr, kr + 3}) {
        test_variants(GemmTester().m(mr).n(nc).k(k).ks(3));
        if (HasFatalFailure()) return;
      }
}

// Long K, a tap or three: across the AMX kernel's 64-byte tile step and 512-byte
// gather chunk (exact, one past, one short) and its in-place path (one tap, rows at one
// stride: whole tiles) beside the gathered one (partial tiles repeat rows); then
// convolutions whose per-tap K is whole tile steps, with rows of 40 and 35 output pixels
// so that groups of 16 pixels lie on one row (loaded in place), cross rows, or reach
// into the padding (gathered).
TEST_P(GemmUkernelTest, LongK) {
  const size_t mr = kernel().mr, nr = kernel().nr;
  for (size_t ks : {1, 3})
    for (size_t k : {63, 64, 65, 100, 511, 512, 513, 1283}) {
      test_variants(GemmTester().m(2 * mr + 3).n(nr + 5).k(k).ks(ks));
      if (HasFatalFailure()) return;
    }
  for (const ref::ConvShape& s : {square_conv_shape(1, 5, 40, 64, 40, 3, 1, 1, 1),
                                  square_conv_shape(1, 6, 70, 128, 33, 3, 2, 1, 1),
                                  square_conv_shape(2, 3, 35, 192, 17, 1, 1, 1, 0)}) {
    test_variants(GemmTester().conv(s));
    if (HasFatalFailure()) return;
  }
}

// Several taps, each with its own rows: ks 2..9 and 25 over partial and whole tiles.
TEST_P(GemmUkernelTest, Taps) {
  const size_t mr = kernel().mr, nr = kernel().nr, kr = kernel().kr;
  for (size_t ks : {2, 3, 4, 9, 25})
    for (size_t k : {size_t{1}, kr + 1, 2 * kr + 5}) {
      test_variants(GemmTester().m(mr + 1).n(nr + 3).k(k).ks(ks));
      if (HasFatalFailure()) return;
    }
}

TEST_P(GemmUkernelTest, Convolutions) {
  const ref::ConvShape shapes[] = {
      square_conv_shape(1, 5, 6, 3, 7, 3, 1, 1, 1),         // kc 3 < kr, padding everywhere
      square_conv_shape(2, 7, 5, 17, 19, 3, 2, 1, 1),       // batch 2, stride 2, kc 17
      square_conv_shape(1, 8, 8, 8, 16, 3, 1, 2, 2),        // dilation 2
      square_conv_shape(1, 6, 6, 32, 33, 1, 1, 1, 0),       // 1x1, kc 32
      square_conv_shape(1, 4, 5, 24, 8, 5, 1, 1, 2),        // 5x5 taps (ks 25), kc 24
      square_conv_shape(1, 3, 3, 40, 5, 3, 2, 1, 0),        // one output pixel per image
      conv_shape(1, 6, 7, 12, 31, 3, 3, 1, 1, 0, 1, 2, 0),  // asymmetric padding
  };
  for (const ref::ConvShape& s : shapes) {
    test_variants(GemmTester().conv(s));
    if (HasFatalFailure()) return;
  }
}

TEST_P(GemmUkernelTest, RequantizationEdges) {
  for (size_t k : {3, 16, 29}) {
    const GemmTester t = GemmTester().m(7).n(21).k(k);
    for (const GemmTester& v : {GemmTester(t).tie_scales(true), GemmTester(t).narrow_clamp(true),
                                GemmTester(t).tie_scales(true).narrow_clamp(true), GemmTester(t).extreme_requant(true),
                                GemmTester(t).extreme_requant(true).narrow_clamp(true)}) {
      test_variants(v);
      if (HasFatalFailure()) return;
    }
  }
  test_variants(GemmTester().conv(square_conv_shape(1, 5, 5, 19, 40, 3, 1, 1, 1)).extreme_requant(true));
}

TEST_P(GemmUkernelTest, ExtremeValues) {
  for (size_t k : {8, 61, 300}) {
    test_variants(GemmTester().m(5).n(19).k(k).fill(GemmTester::Fill::kExtreme));
    if (HasFatalFailure()) return;
    test_variants(GemmTester().m(5).n(19).k(k).fill(GemmTester::Fill::kWrap));
    if (HasFatalFailure()) return;
  }
  test_variants(GemmTester().conv(square_conv_shape(1, 5, 5, 13, 18, 3, 1, 1, 1)).fill(GemmTester::Fill::kExtreme));
}

// The single-row functions, on every row of the m / n / k edges and on taps.
TEST_P(GemmUkernelTest, SingleRowVariant) {
  if (kernel().u8_row == nullptr && kernel().s8_row == nullptr) GTEST_SKIP() << kernel().name << " has none";
  ASSERT_NE(kernel().u8_row, nullptr);
  ASSERT_NE(kernel().s8_row, nullptr);
  for (size_t k : k_edges())
    for (const auto& mn : mn_edges()) {
      test_variants(GemmTester().m(mn.first).n(mn.second).k(k).row_variant(true));
      if (HasFatalFailure()) return;
    }
  for (size_t ks : {3, 9}) test_variants(GemmTester().m(3).n(kernel().nr + 5).k(13).ks(ks).row_variant(true));
  test_variants(GemmTester().m(4).n(19).k(300).fill(GemmTester::Fill::kWrap).row_variant(true));
  test_variants(GemmTester().m(4).n(19).k(61).fill(GemmTester::Fill::kExtreme).row_variant(true));
  test_variants(GemmTester().m(2).n(21).k(29).extreme_requant(true).narrow_clamp(true).row_variant(true));
}

INSTANTIATE_TEST_SUITE_P(Levels, GemmUkernelTest, ::testing::ValuesIn(gemm_cases()), gemm_case_name);

// The kernel for weights in [-127, 127] is registered beside the exact one and named
// by it, is picked for weights without -128 only, and is wrong with -128 weights (two
// (-128) x (-128) products overflow its int16 pair sums): the pick is what keeps the
// level exact.
TEST(GemmW127Kernel, PickedOnlyForWeightsWithoutMinus128) {
  int levels = 0;
  for (Isa isa : arch_levels()) {
    if (!isa_supported(isa)) continue;
    const KernelSet& set = kernel_set(isa);
    if (set.gemm_w127.u8 == nullptr) {
      EXPECT_EQ(set.gemm.w127_name, nullptr) << isa_name(isa);
      continue;
    }
    ++levels;
    EXPECT_TRUE(set.gemm_w127.w127_only);
    EXPECT_FALSE(set.gemm.w127_only);
    ASSERT_NE(set.gemm.w127_name, nullptr);
    EXPECT_STREQ(set.gemm.w127_name, set.gemm_w127.name);
    const int8_t with_min[] = {3, -127, 127, -128, 0}, without_min[] = {3, -127, 127, 0, -1};
    EXPECT_EQ(&gemm_for_weights(set, with_min, 5, 9), &set.gemm) << isa_name(isa);
    EXPECT_EQ(&gemm_for_weights(set, with_min, 3, 9), &set.gemm_w127) << isa_name(isa);  // the -128 is past n
    EXPECT_EQ(&gemm_for_weights(set, without_min, 5, 9), &set.gemm_w127) << isa_name(isa);
    EXPECT_EQ(&gemm_for_weights(set, without_min, 5, 8), &set.gemm) << isa_name(isa);  // k 8: no pairing gain
    EXPECT_TRUE(gemm_layout_takes(set.gemm, false));
    EXPECT_FALSE(gemm_layout_takes(set.gemm, true));
    EXPECT_TRUE(gemm_layout_takes(set.gemm_w127, true));
    EXPECT_FALSE(gemm_layout_takes(set.gemm_w127, false));
    for (bool act_s8 : {false, true}) {
      const GemmTester t = GemmTester().m(5).n(19).k(64).act_s8(act_s8).fill(GemmTester::Fill::kExtreme);
      EXPECT_TRUE(GemmTester(t).w127(true).Test(set.gemm_w127));
      EXPECT_TRUE(GemmTester(t).Test(set.gemm));
      // The raw sums of 16 products (-128) x (-128), activations flipped or not: the
      // exact kernel gives 16 * 16384, the other wraps each pair sum of 32768 in int16.
      const uint32_t nr = set.gemm_w127.nr;
      ASSERT_EQ(set.gemm.nr, nr);  // one block fits both kernels: kc 16 is a multiple of either kr
      std::vector<int32_t> block(nr + nr * 16 / 4, 0);  // bias[NR] = 0, then W[1][NR][16]
      std::memset(block.data() + nr, 0x80, nr * 16);
      std::vector<uint8_t> row(16 + 64, act_s8 ? 0x80 : 0x00);  // -128 as int8, or 0 ^ 0x80
      std::vector<const void*> rows(set.gemm.mr > set.gemm_w127.mr ? set.gemm.mr : set.gemm_w127.mr, row.data());
      QuantEpilogue q;
      q.int32_output = true;
      for (const QGemmKernel* k : {&set.gemm, &set.gemm_w127}) {
        std::vector<int32_t> out(nr, 0);
        (act_s8 ? k->s8 : k->u8)(1, nr, 16, 1, rows.data(), block.data(), out.data(), nr * 4, 0, &q);
        const int32_t want = k == &set.gemm ? 16 * 16384 : -16 * 16384;
        for (uint32_t j = 0; j < nr; ++j) ASSERT_EQ(out[j], want) << k->name << (act_s8 ? " s8" : " u8") << " channel " << j;
      }
    }
  }
#if defined(__arm__) || defined(__aarch64__)
  if (isa_supported(Isa::kNeon)) {
    EXPECT_GE(levels, 1) << "neon registers a kernel for weights in [-127, 127]";
  }
#endif
}

}  // namespace
}  // namespace kern
}  // namespace edgeq
