// Aligned allocations and the allocation-failure test hook (see memory.h).
#include "kernels/memory.h"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cstdint>

namespace edgeq {
namespace kern {
namespace {

std::atomic<int64_t> g_countdown{0};  // > 0: the allocation that reaches 0 fails
std::atomic<bool> g_failed{false};

}  // namespace

uint8_t* aligned_malloc(size_t bytes, size_t align) {
  if (g_countdown.load(std::memory_order_relaxed) > 0 && g_countdown.fetch_sub(1) == 1) {
    g_failed.store(true);
    return nullptr;
  }
  bytes = std::max<size_t>(bytes, 1);
  if (bytes > SIZE_MAX - align) return nullptr;
  return static_cast<uint8_t*>(std::aligned_alloc(align, (bytes + align - 1) / align * align));
}

uint8_t* zeroed_alloc(size_t bytes) {
  if (g_countdown.load(std::memory_order_relaxed) > 0 && g_countdown.fetch_sub(1) == 1) {
    g_failed.store(true);
    return nullptr;
  }
  void* p = ::mmap(nullptr, std::max<size_t>(bytes, 1), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : static_cast<uint8_t*>(p);
}

void zeroed_free(uint8_t* p, size_t bytes) {
  if (p != nullptr) ::munmap(p, std::max<size_t>(bytes, 1));
}

void fail_nth_allocation(int64_t n) {
  g_failed.store(false);
  g_countdown.store(n > 0 ? n : 0);
}

bool allocation_failure_happened() { return g_failed.load(); }

}  // namespace kern
}  // namespace edgeq
