// Cache blocking of the indirect-GEMM driver from the CPU's cache sizes (see
// gemm_blocking.h).
#include "kernels/gemm_blocking.h"

#include <cpuinfo.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace edgeq {
namespace kern {
namespace {

size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }

// CPUID's extended cache leaves: 0x80000005 ECX[31:24] the L1d in KiB (AMD; Intel
// reserves the leaf: 0), 0x80000006 ECX[31:16] the per-core L2 in KiB (AMD and Intel).
// 0 where not reported.
void cpuid_caches(size_t* l1d, size_t* l2) {
  *l1d = *l2 = 0;
#if defined(__x86_64__) || defined(__i386__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(0x80000000u, &eax, &ebx, &ecx, &edx) == 0) return;
  const unsigned max_leaf = eax;
  if (max_leaf >= 0x80000005u && __get_cpuid(0x80000005u, &eax, &ebx, &ecx, &edx) != 0)
    *l1d = size_t{(ecx >> 24) & 0xffu} * 1024;
  if (max_leaf >= 0x80000006u && __get_cpuid(0x80000006u, &eax, &ebx, &ecx, &edx) != 0)
    *l2 = size_t{(ecx >> 16) & 0xffffu} * 1024;
#endif
}

CacheSizes read_caches() {
  CacheSizes c{0, 0};
  if (cpuinfo_initialize()) {
    const cpuinfo_cache* l1 = cpuinfo_get_l1d_cache(0);
    const cpuinfo_cache* l2 = cpuinfo_get_l2_cache(0);
    if (l1 != nullptr && l1->size > 0) c.l1d = l1->size;
    if (l2 != nullptr && l2->size > 0) {
      const size_t per_l1 = l1 != nullptr && l1->processor_count > 0 ? l1->processor_count : 1;
      const size_t per_l2 = l2->processor_count > 0 ? l2->processor_count : 1;
      c.l2 = l2->size / std::max<size_t>(per_l2 / per_l1, 1);
    }
  }
  size_t l1d = 0, l2 = 0;
  if (c.l1d == 0 || c.l2 == 0) cpuid_caches(&l1d, &l2);
  if (c.l1d == 0) c.l1d = l1d != 0 ? l1d : kFallbackCaches.l1d;
  if (c.l2 == 0) c.l2 = l2 != 0 ? l2 : kFallbackCaches.l2;
  c.l2 = std::max(c.l2, c.l1d);
  return c;
}

}  // namespace

CacheSizes host_cache_sizes() {
  static const CacheSizes caches = read_caches();
  return caches;
}

bool blocking_enabled() {
  static const bool enabled = [] {
    const char* env = std::getenv("EDGEQ_GEMM_BLOCKING");
    return env != nullptr && std::strcmp(env, "1") == 0;
  }();
  return enabled;
}

ConvBlocking conv_blocking(const CacheSizes& c, size_t m, size_t kc, size_t ks, const QGemmKernel& kernel) {
  const ConvBlocking none;
  if (!kernel.acc_input || kernel.mr == 0 || kernel.nr == 0 || kernel.kr == 0 || kc == 0 || ks == 0) return none;
  const size_t mr = kernel.mr, nr = kernel.nr, kr = kernel.kr;
  const size_t kc_r = ceil_div(kc, kr) * kr;
  const size_t col_bytes = nr * (kernel.wide_weights ? 2 : 1);  // weight bytes per input channel of a block
  const size_t tap_bytes = kc_r * col_bytes;
  const size_t chunk_budget = c.l1d / 2;
  if (ks * tap_bytes <= chunk_budget) return none;

  // Pixel tiles per task: their accumulators in a quarter of the L1 (and the stack
  // buffer), their gathered activations in half the L2; spread evenly over the groups.
  const size_t tiles = ceil_div(m, mr);
  const size_t acc_tile = mr * nr * sizeof(int32_t);
  size_t group = std::min({c.l1d / 4 / acc_tile, kMaxGroupAcc / (mr * nr), c.l2 / 2 / (mr * ks * kc_r), tiles});
  if (group < 2) return none;
  group = ceil_div(tiles, ceil_div(tiles, group));

  ConvBlocking b;
  b.tiles_per_task = group;
  if (tap_bytes <= chunk_budget) {
    const size_t chunks = ceil_div(ks, chunk_budget / tap_bytes);
    b.chunk_taps = ceil_div(ks, chunks);  // as even as whole taps allow
    b.chunk_k = kc;
  } else {
    const size_t max_k = std::max(chunk_budget / col_bytes / kr, size_t{1}) * kr;
    const size_t slices = ceil_div(kc_r, max_k);
    b.chunk_taps = 1;
    b.chunk_k = ceil_div(ceil_div(kc_r, slices), kr) * kr;
  }
  return b;
}

}  // namespace kern
}  // namespace edgeq
