// Aligned memory for the kernel drivers and the runtime, and how a driver's init()
// reports running out of it.
//
// Every aligned buffer edgeq allocates (packed weights, zero rows, the session arena,
// the copy of a model loaded from memory) comes from aligned_malloc(), which returns
// null on failure instead of throwing, so every caller checks it and turns it into an
// out-of-memory status. The same function holds a test hook: a countdown, off unless a
// test arms it, that makes the Nth allocation fail, so tests can walk every allocation
// of session creation (test/robustness_test.cc). Its cost when off is one relaxed
// atomic load per allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

namespace edgeq {
namespace kern {

// `bytes` (at least 1) rounded up to a multiple of `align`, a power of two that is a
// multiple of sizeof(void*); null when out of memory. Release with std::free.
uint8_t* aligned_malloc(size_t bytes, size_t align = 64);

// `bytes` of zeroed, page-aligned memory whose pages the system provides on first
// touch (an anonymous mapping): a session's arena costs nothing at creation, its pages
// arrive as the first run writes them. Null when out of memory (the test hook below
// counts it). Release with zeroed_free(p, bytes).
uint8_t* zeroed_alloc(size_t bytes);
void zeroed_free(uint8_t* p, size_t bytes);

struct AlignedFree {
  void operator()(void* p) const { std::free(p); }
};
using AlignedBuffer = std::unique_ptr<uint8_t, AlignedFree>;

inline AlignedBuffer aligned_buffer(size_t bytes, size_t align = 64) {
  return AlignedBuffer(aligned_malloc(bytes, align));
}

// What a kernel driver's init() did: took the parameters (true), or not (false)
// because it declines them (the caller keeps the reference kernel) or because an
// allocation failed (the caller fails with an out-of-memory status).
class InitResult {
 public:
  enum Code : uint8_t { kReady, kDeclined, kOutOfMemory };
  constexpr InitResult(Code code) : code_(code) {}  // implicit: `return InitResult::kDeclined;`
  constexpr Code code() const { return code_; }
  constexpr explicit operator bool() const { return code_ == kReady; }

 private:
  Code code_;
};

// Test hook: after fail_nth_allocation(n), n >= 1, the nth call to aligned_malloc()
// from then on returns null and the others succeed; 0 disarms. Process-wide.
void fail_nth_allocation(int64_t n);
// Whether the armed failure has happened (a walk over every N stops when it has not).
bool allocation_failure_happened();

}  // namespace kern
}  // namespace edgeq
