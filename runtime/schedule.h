// The scheduler: the one place that splits work over a session's thread pool.
//
// Kernels and the kernel drivers (kernels/qconv.h, kernels/qdwconv.h) are thread-free:
// they compute a range of rows or one output tile on the calling thread, as
// pthreadpool's documented serial equivalents of its parallelize calls. The ops of the
// runtime (runtime/ops/) say how an op's work divides; the Scheduler decides how it
// runs: on the caller when the session has one thread or the work is small, else over
// the pool. Every split cuts only work whose parts are independent, so results never
// depend on the thread count.
#pragma once

#include <pthreadpool.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "graph/status.h"

// ThreadSanitizer and the pool. pthreadpool is a C library built without TSan, and it
// hands work to its threads through atomics and futexes that TSan does not see, so
// every write of the caller read by a task on a worker looks like a race (84 such
// reports). pool_sync states the pool's documented contract to TSan instead:
// everything the caller did before a parallelize call happens before each task, and
// each task happens before the call returns. Tasks of one call get no order between
// them, so races between tasks (the ones a split could cause) are still reported.
// Without TSan these compile to nothing.
#if defined(__SANITIZE_THREAD__)
#define EDGEQ_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define EDGEQ_TSAN 1
#endif
#endif
#ifdef EDGEQ_TSAN
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
#endif

namespace edgeq {
namespace pool_sync {
// The caller, before a parallelize call / each task, first and last / the caller,
// after it; `token` identifies the call (any address unique to it).
inline void publish(void* token) {
#ifdef EDGEQ_TSAN
  __tsan_release(token);
#endif
  (void)token;
}
inline void task_begin(void* token) {
#ifdef EDGEQ_TSAN
  __tsan_acquire(token);
#endif
  (void)token;
}
inline void task_end(void* token) {
#ifdef EDGEQ_TSAN
  __tsan_release(static_cast<char*>(token) + 1);
#endif
  (void)token;
}
inline void join(void* token) {
#ifdef EDGEQ_TSAN
  __tsan_acquire(static_cast<char*>(token) + 1);
#endif
  (void)token;
}
}  // namespace pool_sync

namespace kern {
class QConvOp;
class QDwConvOp;
class QMatMulOp;
}  // namespace kern

// A session runs at most this many threads per online core (see thread_count()).
constexpr int32_t kMaxThreadsPerCore = 4;

// The threads a session asking for `requested` (0: one per core) runs: at most
// kMaxThreadsPerCore per online core. More threads than cores only take turns on them:
// results never depend on the count, so a cap changes speed, never results, and keeps
// a large request from exhausting the machine's threads.
int32_t thread_count(int32_t requested);

// A pool of `threads` (> 1) threads, the caller counting as one. Fails with an
// out-of-memory status, instead of hanging, when the threads cannot be created
// (schedule.cc says why this needs care).
Status create_thread_pool(int32_t threads, pthreadpool_t* pool);

class Scheduler {
 public:
  // Below this many output elements a ranges() split runs on the caller: a pool
  // dispatch would cost more than it saves.
  static constexpr int64_t kMinParallelElements = int64_t{1} << 15;

  Scheduler() = default;  // runs everything on the caller
  explicit Scheduler(pthreadpool_t pool) : pool_(pool) {}

  // The pool (null: none), for libraries that take one themselves (XNNPACK).
  pthreadpool_t pool() const { return pool_; }
  size_t threads() const { return pool_ != nullptr ? pthreadpool_get_threads_count(pool_) : 1; }

  // fn(begin, end) on consecutive ranges covering [0, n): about four ranges a thread,
  // or once on the caller when there is no pool, n < 2 or the op writes fewer than
  // kMinParallelElements `elements`.
  template <typename Fn>
  void ranges(int64_t n, int64_t elements, Fn&& fn) const {
    const int64_t threads = static_cast<int64_t>(this->threads());
    if (threads <= 1 || n < 2 || elements < kMinParallelElements) {
      fn(int64_t{0}, n);
      return;
    }
    struct Ctx {
      std::remove_reference_t<Fn>* fn;
      int64_t n, count;
    } ctx{&fn, n, std::min<int64_t>(n, 4 * threads)};
    pool_sync::publish(&ctx);
    pthreadpool_parallelize_1d(
        pool_,
        [](void* p, size_t i) {
          pool_sync::task_begin(p);
          const Ctx& c = *static_cast<const Ctx*>(p);
          const int64_t t = static_cast<int64_t>(i);
          (*c.fn)(c.n * t / c.count, c.n * (t + 1) / c.count);
          pool_sync::task_end(p);
        },
        &ctx, static_cast<size_t>(ctx.count), 0);
    pool_sync::join(&ctx);
  }

  // fn(i) for every i in [0, n), one task each.
  template <typename Fn>
  void each(size_t n, Fn&& fn) const {
    if (pool_ == nullptr) {
      for (size_t i = 0; i < n; ++i) fn(i);
      return;
    }
    pool_sync::publish(&fn);
    pthreadpool_parallelize_1d(
        pool_,
        [](void* p, size_t i) {
          pool_sync::task_begin(p);
          (*static_cast<std::remove_reference_t<Fn>*>(p))(i);
          pool_sync::task_end(p);
        },
        &fn, n, 0);
    pool_sync::join(&fn);
  }

  // fn(slot, t) for every task t in [0, tasks), the tasks taken in order by at most
  // threads() workers as each finishes its last; `slot` (< threads()) is the worker's,
  // for a scratch of its own that no other task uses meanwhile. On the caller (slot 0)
  // when there is no pool, tasks < 2 or the op does fewer than kMinParallelElements
  // `macs` (multiply-accumulates, or output elements for an op without any).
  template <typename Fn>
  void slots(size_t tasks, int64_t macs, Fn&& fn) const {
    const size_t workers = std::min(threads(), tasks);
    if (workers <= 1 || macs < kMinParallelElements) {
      for (size_t t = 0; t < tasks; ++t) fn(size_t{0}, t);
      return;
    }
    std::atomic<size_t> next{0};
    each(workers, [&](size_t slot) {
      for (size_t t = next.fetch_add(1, std::memory_order_relaxed); t < tasks;
           t = next.fetch_add(1, std::memory_order_relaxed))
        fn(slot, t);
    });
  }

  // fn(i0, j0, ni, nj) for every tile of [0, range_i) x [0, range_j) in tiles of
  // tile_i x tile_j (the last ones shorter), i the outer loop.
  template <typename Fn>
  void tiles_2d(size_t range_i, size_t range_j, size_t tile_i, size_t tile_j, Fn&& fn) const {
    pool_sync::publish(&fn);
    pthreadpool_parallelize_2d_tile_2d(
        pool_,
        [](void* p, size_t i0, size_t j0, size_t ni, size_t nj) {
          pool_sync::task_begin(p);
          (*static_cast<std::remove_reference_t<Fn>*>(p))(i0, j0, ni, nj);
          pool_sync::task_end(p);
        },
        &fn, range_i, range_j, tile_i, tile_j, 0);
    pool_sync::join(&fn);
  }

  // The kernel drivers: every output tile of a convolution / fully connected layer,
  // every output row of a depthwise convolution.
  void run(kern::QConvOp& op, const void* x, void* y) const;
  void run(kern::QDwConvOp& op, const void* x, void* y) const;
  // The phases of a product with a run-time right operand (kernels/qmatmul.h).
  void run(kern::QMatMulOp& op, const void* a, const void* b, void* y) const;

 private:
  pthreadpool_t pool_ = nullptr;
};

}  // namespace edgeq
