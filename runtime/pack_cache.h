// The packed weights of a model, shared by all its sessions.
//
// A session's ops need the weights of conv / fully connected / depthwise nodes packed
// for the kernel layout of the session's level. Those bytes depend only on the node and
// on the layout (named by the kernel that reads it), never on the session, so the model
// keeps one copy per (node, layout): the first session that needs it packs it, under
// the cache's lock, and every later session on any thread takes a shared_ptr to it.
// A pre-packed file (graph/format.h, PackedWeights) provides the bytes in place and
// packing copies nothing.
//
// After packing a node from weights read in place from a mapped file, the cache tells
// the kernel that it may drop those pages (MADV_DONTNEED on a read-only private file
// mapping: a later read, by a session on the reference level say, faults them back in
// from the file), so the raw weights do not stay resident beside their packed copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "graph/status.h"

namespace edgeq {

class PackCache {
 public:
  PackCache() = default;
  PackCache(const PackCache&) = delete;
  PackCache& operator=(const PackCache&) = delete;

  // The entry of node `node` for layout `key`: on first use make(&value, &heap_bytes)
  // builds it (a null value: the layout declines the node, remembered too). An error
  // from make() is returned and nothing is kept, so a later call tries again.
  template <typename T, typename Make>
  Status get(int32_t node, const std::string& key, Make&& make, std::shared_ptr<const T>* out) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find({node, key});
    if (it == entries_.end()) {
      std::shared_ptr<const T> value;
      size_t bytes = 0;
      EDGEQ_RETURN_IF_ERROR(make(&value, &bytes));
      it = entries_.emplace(std::make_pair(node, key), Entry{std::shared_ptr<const void>(value, value.get()), bytes})
               .first;
      heap_bytes_ += bytes;
      if (value) ++builds_;
    }
    *out = std::static_pointer_cast<const T>(it->second.value);
    return Status::Ok();
  }

  // The mapped file whose pages drop_pages() may release (none: a model in memory).
  void set_mapping(const uint8_t* base, size_t size) {
    map_base_ = base;
    map_size_ = size;
  }
  // Releases the whole pages of [p, p + n) when they lie in the mapping.
  void drop_pages(const void* p, size_t n) const;

  // Heap bytes of all entries; entries holding packed data (each built once).
  size_t heap_bytes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return heap_bytes_;
  }
  size_t builds() const {
    std::lock_guard<std::mutex> lock(mu_);
    return builds_;
  }

 private:
  struct Entry {
    std::shared_ptr<const void> value;
    size_t bytes;
  };
  mutable std::mutex mu_;
  std::map<std::pair<int32_t, std::string>, Entry> entries_;
  size_t heap_bytes_ = 0, builds_ = 0;
  const uint8_t* map_base_ = nullptr;
  size_t map_size_ = 0;
};

}  // namespace edgeq
