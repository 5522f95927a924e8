// Cache blocking of the indirect-GEMM driver (kernels/qconv.h), derived from the
// CPU's cache sizes instead of constants tuned on one machine.
//
// A layer whose packed weights of one NR-channel block (taps x round_up(kc, kr) x NR
// bytes) exceed half the L1 data cache streams them from L2 for every pixel tile. Such
// a layer is blocked: its K (taps x input channels) is split into chunks of at most
// half the L1 (whole taps, or a slice of one tap's channels when a single tap is
// larger), and a task runs every chunk over a group of pixel tiles, keeping their
// int32 accumulators (a quarter of the L1) between chunks, so each chunk's weights are
// loaded from L2 once per group instead of once per tile. The group's gathered
// activations are bounded by half the L2 (they are read again for every channel
// block). Tasks are channel-block-major, so each thread works on a contiguous range of
// channel blocks and keeps those weights in its own L2.
//
// host_cache_sizes() reads cpuinfo once: the L1 data cache of processor 0 and its
// share of the L2 (the L2 size times the logical processors sharing the L1, over those
// sharing the L2, so a cluster-shared L2 is divided among its cores). Where cpuinfo
// reports nothing (virtual machines hiding CPUID leaves 4 and 0x8000001D, Debian's
// cpuinfo on new cores), x86 reads CPUID 0x80000005 (AMD's L1d) and 0x80000006 (the
// L2, AMD and Intel); what is still unknown is kFallbackCaches: 32 KiB L1 and 256 KiB
// L2, the smallest of the cores this project runs on.
//
// Sessions block only when EDGEQ_GEMM_BLOCKING=1 (blocking_enabled()): on AMD Zen 5
// (48 KiB L1, 1 MiB L2) the blocked driver measured 5-10% below the unblocked one on
// ResNet-18's and ResNet-50's layers (its L2 feeds the kernels' weight stream at full
// rate, and the chunks cost an int32 round trip and the pointer sharing across channel
// blocks), so it stays opt-in until a CPU shows a gain (`edgeq_kernels_bench`
// <layer>/<level>_blocked beside <layer>/<level>). Tests and benchmarks pass caches
// explicitly (QConvOp::init).
#pragma once

#include <cstddef>

#include "kernels/kernels.h"

namespace edgeq {
namespace kern {

struct CacheSizes {
  size_t l1d = 0;  // bytes of L1 data cache per core
  size_t l2 = 0;   // bytes of L2 per core (its share of a shared L2)
};

constexpr CacheSizes kFallbackCaches{32 * 1024, 256 * 1024};

// The host's cache sizes (cpuinfo, CPUID; kFallbackCaches for what neither reports).
CacheSizes host_cache_sizes();

// Whether sessions block layers (EDGEQ_GEMM_BLOCKING=1; see the file comment).
bool blocking_enabled();

// Largest number of pixel tiles of a group (the accumulators live on the stack of the
// task: at most kMaxGroupAcc int32).
constexpr size_t kMaxGroupAcc = 4096;

// How QConvOp runs a layer. tiles_per_task == 0: unblocked (whole K per kernel call).
// Else K is split into chunks of chunk_taps whole taps (chunk_k == kc), or, when one
// tap's weights exceed the chunk budget, into slices of chunk_k input channels of one
// tap (chunk_taps == 1, chunk_k a multiple of kr); a task runs every chunk over up to
// tiles_per_task pixel tiles of mr rows.
struct ConvBlocking {
  size_t chunk_taps = 0;
  size_t chunk_k = 0;
  size_t tiles_per_task = 0;
};

// The blocking of a layer of m output pixels, kc input channels per tap and ks taps
// (one group) on `kernel` for caches `c` (see the file comment). Unblocked when the
// kernel lacks acc_input, a block's weights fit half the L1, or fewer than two pixel
// tiles would share a chunk.
ConvBlocking conv_blocking(const CacheSizes& c, size_t m, size_t kc, size_t ks, const QGemmKernel& kernel);

}  // namespace kern
}  // namespace edgeq
