// The scheduler's kernel-driver runs and the creation of a session's thread pool (see
// schedule.h).
//
// Creating the pool: pthreadpool_create() (Debian's 2021 pthreadpool) ignores the
// result of pthread_create() and then waits for every worker to check in, so a thread
// that could not be created (address-space or thread limits) makes it wait forever.
// create_thread_pool() therefore first creates the same number of threads itself, with
// the same default attributes, holds them until all exist and joins them: if one
// cannot be created it returns an error and pthreadpool is never called. glibc keeps
// the stacks of joined threads in its cache and gives them to the next threads of the
// same size, so the pool's threads reuse what the probe just obtained. What remains is
// a race with another thread of the process taking the memory in between.
#include "runtime/schedule.h"

#include <pthread.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "kernels/qconv.h"
#include "kernels/qdwconv.h"
#include "kernels/qmatmul.h"

namespace edgeq {
namespace {

int32_t online_cores() {
  const long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n >= 1 && n <= (1 << 20) ? static_cast<int32_t>(n) : 1;
}

// Threads of the probe wait at the gate until all have been created.
struct Gate {
  std::mutex mutex;
  std::condition_variable opened;
  bool open = false;
};

void* wait_at_gate(void* arg) {
  Gate& gate = *static_cast<Gate*>(arg);
  std::unique_lock<std::mutex> lock(gate.mutex);
  gate.opened.wait(lock, [&] { return gate.open; });
  return nullptr;
}

// Creates `count` threads with default attributes, all alive at once, then joins
// them. 0, or the error of the first pthread_create() that failed.
int probe_threads(size_t count) {
  Gate gate;
  std::vector<pthread_t> threads;
  threads.reserve(count);
  int error = 0;
  for (size_t i = 0; i < count && error == 0; ++i) {
    pthread_t t;
    error = pthread_create(&t, nullptr, &wait_at_gate, &gate);
    if (error == 0) threads.push_back(t);
  }
  {
    std::lock_guard<std::mutex> lock(gate.mutex);
    gate.open = true;
  }
  gate.opened.notify_all();
  for (pthread_t t : threads) pthread_join(t, nullptr);
  return error;
}

}  // namespace

int32_t thread_count(int32_t requested) {
  const int32_t cores = online_cores();
  if (requested == 0) return cores;
  return static_cast<int32_t>(std::min<int64_t>(requested, int64_t{cores} * kMaxThreadsPerCore));
}

Status create_thread_pool(int32_t threads, pthreadpool_t* pool) {
  *pool = nullptr;
  // The caller is worker 0: pthreadpool creates threads - 1.
  if (const int error = probe_threads(static_cast<size_t>(threads) - 1))
    return OutOfMemory("cannot create the " + std::to_string(threads - 1) + " worker threads of a " +
                       std::to_string(threads) + "-thread pool: " + std::strerror(error));
  *pool = pthreadpool_create(static_cast<size_t>(threads));
  if (*pool == nullptr) return OutOfMemory("cannot create a " + std::to_string(threads) + "-thread pool");
  return Status::Ok();
}

void Scheduler::run(kern::QConvOp& op, const void* x, void* y) const {
  op.bind(x, y);
  const kern::QConvOp::Grid g = op.grid();
  const kern::QConvOp& tiles = op;
  if (g.n_outer) {
    tiles_2d(g.n, g.m, g.nr, g.m_step,
             [&](size_t n0, size_t m0, size_t nc, size_t mc) { tiles.run_tile(m0, n0, mc, nc); });
  } else {
    // A task per pixel tile over every column: its pointers are built once (qconv.cc).
    tiles_2d(g.m, g.n, g.m_step, g.n,
             [&](size_t m0, size_t n0, size_t mc, size_t nc) { tiles.run_tile(m0, n0, mc, nc); });
  }
}

void Scheduler::run(kern::QDwConvOp& op, const void* x, void* y) const {
  op.bind(x, y);
  const kern::QDwConvOp& rows = op;
  each(op.rows(), [&](size_t r) { rows.run_rows(r, r + 1); });
}

// Each phase of a run-time-operand product in ranges; the phases in order.
void Scheduler::run(kern::QMatMulOp& op, const void* a, const void* b, void* y) const {
  op.begin(a, b, y);
  const int64_t elements = static_cast<int64_t>(op.elements());
  ranges(static_cast<int64_t>(op.b_parts()), elements,
         [&](int64_t b0, int64_t b1) { op.pack_b(static_cast<size_t>(b0), static_cast<size_t>(b1)); });
  ranges(static_cast<int64_t>(op.a_rows()), elements,
         [&](int64_t r0, int64_t r1) { op.prepare_a(static_cast<size_t>(r0), static_cast<size_t>(r1)); });
  const kern::QMatMulOp& tiles = op;
  ranges(static_cast<int64_t>(op.tiles()), elements,
         [&](int64_t t0, int64_t t1) { tiles.run_tiles(static_cast<size_t>(t0), static_cast<size_t>(t1)); });
}

}  // namespace edgeq
