// The indirect-GEMM driver's cache blocking (kernels/gemm_blocking.h) derived from a
// few cache configurations: a 32 KiB L1 / 1 MiB L2 Xeon core, a 48 KiB / 1 MiB Zen 5
// core and a 32 KiB / 256 KiB older core, on ResNet layers; the budgets it promises
// (a chunk's weights in half the L1, a group's accumulators in a quarter) over a sweep
// of shapes; and the layers it leaves unblocked. The blocked path itself is checked
// against the reference in qconv_test.cc (CacheBlockedLayers).
#include "kernels/gemm_blocking.h"

#include <gtest/gtest.h>

#include <string>

namespace edgeq {
namespace kern {
namespace {

constexpr size_t kKiB = 1024;
constexpr CacheSizes kXeon{32 * kKiB, 1024 * kKiB};
constexpr CacheSizes kZen5{48 * kKiB, 1024 * kKiB};
constexpr CacheSizes kOld{32 * kKiB, 256 * kKiB};

// The shapes of the x86 kernels' registrations (kernels/x86/gemm_ukernels.h).
QGemmKernel kernel_shape(uint32_t mr, uint32_t nr, uint32_t kr, bool wide) {
  QGemmKernel k;
  k.mr = mr;
  k.nr = nr;
  k.kr = kr;
  k.wide_weights = wide;
  k.acc_input = true;
  return k;
}

const QGemmKernel kVnni512 = kernel_shape(8, 32, 4, false);
const QGemmKernel kVnni256 = kernel_shape(6, 16, 4, false);
const QGemmKernel kAvx2 = kernel_shape(3, 8, 8, true);

void expect_blocking(const ConvBlocking& got, size_t taps, size_t k, size_t tiles, const std::string& what) {
  EXPECT_EQ(got.chunk_taps, taps) << what;
  EXPECT_EQ(got.chunk_k, k) << what;
  EXPECT_EQ(got.tiles_per_task, tiles) << what;
}

TEST(GemmBlocking, ResNetLayersOnThreeCores) {
  // ResNet-18 layer 4, 3x3 512 -> 512 on 7x7 (49 pixels: 7 tiles of 8): a tap's 16 KiB
  // of weights fit every chunk budget; the 256 KiB L2 bounds the group by its
  // activations (8 x 9 x 512 bytes a tile) to 3 tiles.
  expect_blocking(conv_blocking(kZen5, 49, 512, 9, kVnni512), 1, 512, 7, "l4 Zen 5");
  expect_blocking(conv_blocking(kXeon, 49, 512, 9, kVnni512), 1, 512, 7, "l4 Xeon");
  expect_blocking(conv_blocking(kOld, 49, 512, 9, kVnni512), 1, 512, 3, "l4 old");
  // ResNet-18 layer 3, 3x3 256 -> 256 on 14x14 (25 tiles): 3 taps (24 KiB) per chunk
  // on the 48 KiB L1, 2 on 32 KiB (5 chunks: 2, 2, 2, 2, 1); groups of at most 12 or 8
  // accumulator tiles, spread evenly (25 = 9 + 9 + 7, 7 + 7 + 7 + 4).
  expect_blocking(conv_blocking(kZen5, 196, 256, 9, kVnni512), 3, 256, 9, "l3 Zen 5");
  expect_blocking(conv_blocking(kXeon, 196, 256, 9, kVnni512), 2, 256, 7, "l3 Xeon");
  expect_blocking(conv_blocking(kOld, 196, 256, 9, kVnni512), 2, 256, 7, "l3 old");
  // ResNet-18 layer 1, 3x3 64 -> 64: its 18 KiB block fits half of a 48 KiB L1, not of
  // a 32 KiB one (then 2 chunks of 5 and 4 taps, groups of 8 tiles).
  expect_blocking(conv_blocking(kZen5, 3136, 64, 9, kVnni512), 0, 0, 0, "l1 Zen 5");
  expect_blocking(conv_blocking(kXeon, 3136, 64, 9, kVnni512), 5, 64, 8, "l1 Xeon");
  // ResNet-50 layer 4, 1x1 2048 -> 512 on 7x7: one tap of 64 KiB, sliced in 3 slices of
  // at most 768 channels (24 KiB): 684, 684, 680.
  expect_blocking(conv_blocking(kZen5, 49, 2048, 1, kVnni512), 1, 684, 7, "r50 1x1 Zen 5");
  // The same on 32 KiB: at most 512 channels a slice, 4 slices of 512.
  expect_blocking(conv_blocking(kXeon, 49, 2048, 1, kVnni512), 1, 512, 7, "r50 1x1 Xeon");
}

TEST(GemmBlocking, UnblockedLayers) {
  // A kernel that cannot start from int32 accumulators.
  QGemmKernel plain = kVnni512;
  plain.acc_input = false;
  expect_blocking(conv_blocking(kZen5, 49, 512, 9, plain), 0, 0, 0, "no acc_input");
  // One pixel tile: no group shares a chunk.
  expect_blocking(conv_blocking(kZen5, 8, 512, 9, kVnni512), 0, 0, 0, "one tile");
  // A fully connected layer on one row.
  expect_blocking(conv_blocking(kZen5, 1, 1024, 1, kVnni512), 0, 0, 0, "fc");
  // A network's first layer: 7x7 taps of 3 channels (6 KiB a block).
  expect_blocking(conv_blocking(kOld, 12544, 3, 49, kVnni512), 0, 0, 0, "stem");
  // An L1 too small for two accumulator tiles.
  expect_blocking(conv_blocking(CacheSizes{4 * kKiB, 64 * kKiB}, 196, 256, 9, kVnni512), 0, 0, 0, "tiny L1");
}

// Over a sweep of shapes, kernels and caches: whatever is blocked keeps the budgets and
// covers K.
TEST(GemmBlocking, BudgetsHold) {
  for (const CacheSizes& c : {kXeon, kZen5, kOld, CacheSizes{16 * kKiB, 128 * kKiB}})
    for (const QGemmKernel* k : {&kVnni512, &kVnni256, &kAvx2})
      for (size_t m : {1, 9, 49, 196, 784, 3136})
        for (size_t kc : {3, 16, 64, 100, 256, 512, 1024, 2048, 4001})
          for (size_t ks : {1, 9, 25}) {
            const ConvBlocking b = conv_blocking(c, m, kc, ks, *k);
            const std::string what = "l1 " + std::to_string(c.l1d) + " mr " + std::to_string(k->mr) + " m " +
                                     std::to_string(m) + " kc " + std::to_string(kc) + " ks " + std::to_string(ks);
            const size_t col = k->nr * (k->wide_weights ? 2 : 1);
            const size_t kc_r = (kc + k->kr - 1) / k->kr * k->kr;
            if (b.tiles_per_task == 0) {
              const size_t tiles = (m + k->mr - 1) / k->mr;
              // Unblocked: the block fits, or no two tiles could share a chunk.
              EXPECT_TRUE(ks * kc_r * col <= c.l1d / 2 || tiles < 2 ||
                          c.l1d / 4 < 2 * k->mr * k->nr * sizeof(int32_t) || c.l2 / 2 < 2 * k->mr * ks * kc_r)
                  << what;
              continue;
            }
            EXPECT_GE(b.tiles_per_task, 2u) << what;
            EXPECT_LE(b.tiles_per_task * k->mr * k->nr * sizeof(int32_t), c.l1d / 4) << what;
            EXPECT_LE(b.tiles_per_task * k->mr * k->nr, kMaxGroupAcc) << what;
            EXPECT_LE(b.tiles_per_task, (m + k->mr - 1) / k->mr) << what;
            EXPECT_GE(b.chunk_taps, 1u) << what;
            EXPECT_LE(b.chunk_taps, ks) << what;
            if (b.chunk_k == kc) {
              EXPECT_LE(b.chunk_taps * kc_r * col, c.l1d / 2) << what;
              EXPECT_LT(b.chunk_taps, ks) << what;  // more than one chunk
            } else {
              EXPECT_EQ(b.chunk_taps, 1u) << what;
              EXPECT_EQ(b.chunk_k % k->kr, 0u) << what;
              EXPECT_LT(b.chunk_k, kc) << what;
              EXPECT_LE(b.chunk_k * col, c.l1d / 2) << what;
            }
          }
}

TEST(GemmBlocking, HostCaches) {
  const CacheSizes c = host_cache_sizes();
  EXPECT_GT(c.l1d, 0u);
  EXPECT_GE(c.l2, c.l1d);
}

}  // namespace
}  // namespace kern
}  // namespace edgeq
