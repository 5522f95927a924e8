// PackCache (see pack_cache.h): releasing the pages of raw weights once packed.
#include "runtime/pack_cache.h"

#include <sys/mman.h>
#include <unistd.h>

namespace edgeq {

void PackCache::drop_pages(const void* p, size_t n) const {
  const uintptr_t begin = reinterpret_cast<uintptr_t>(p), base = reinterpret_cast<uintptr_t>(map_base_);
  if (map_base_ == nullptr || begin < base || n > map_size_ || begin - base > map_size_ - n) return;
  const long page_size = ::sysconf(_SC_PAGESIZE);
  if (page_size <= 0) return;
  const uintptr_t page = static_cast<uintptr_t>(page_size);
  // Only whole pages inside [p, p + n): a page shared with a neighbouring tensor stays.
  const uintptr_t first = (begin + page - 1) / page * page, last = (begin + n) / page * page;
  if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}

}  // namespace edgeq
