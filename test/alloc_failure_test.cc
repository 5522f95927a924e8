// Allocation-failure injection over everything an app does through the C API: load an
// int8 model, create a two-thread session, run it; load a float model, calibrate it (on
// one thread), write the int8 file. The Nth allocation is made to fail for
// every N in turn until the whole scenario succeeds, once through each hook:
//  * the aligned allocations (kernels/memory.h: the model copy, arenas, packed weights),
//  * every C++ allocation: this binary replaces the global operator new (below) with
//    one that can be told to fail the Nth call, as a real allocator does when memory
//    runs out (std::bad_alloc).
// Each case must end in EDGEQ_OUT_OF_MEMORY with a message (or in success with the
// right output), leave no output file behind, and, under ASan (tools/sanitize.sh),
// leak nothing. Allocations inside the C libraries (pthreadpool, XNNPACK) use malloc
// and are not injected; the failure of thread creation is tested in robustness_test.cc.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <new>
#include <string>
#include <vector>

#include "edgeq/edgeq.h"
#include "graph/format.h"
#include "kernels/memory.h"
#include "test/test_graphs.h"

// ------------------------------------------------------------------ the operator new hook

// TSan's runtime defines operator new itself (not as a weak symbol, unlike ASan's), so
// a TSan build has no such hook: there the C++ walk skips (the ASan build runs it).
#if defined(__SANITIZE_THREAD__)
#define EDGEQ_NO_NEW_HOOK 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define EDGEQ_NO_NEW_HOOK 1
#endif
#endif

namespace {

std::atomic<int64_t> g_new_countdown{0};  // > 0: the countdown-th next allocation fails
std::atomic<bool> g_new_failed{false};

[[maybe_unused]] void* counted_malloc(size_t bytes, size_t align) {
  if (g_new_countdown.load(std::memory_order_relaxed) > 0 && g_new_countdown.fetch_sub(1) == 1) {
    g_new_failed.store(true);
    return nullptr;
  }
  if (bytes == 0) bytes = 1;
  if (align <= alignof(std::max_align_t)) return std::malloc(bytes);
  void* p = nullptr;
  return posix_memalign(&p, align, bytes) == 0 ? p : nullptr;
}

[[maybe_unused]] void* throwing_new(size_t bytes, size_t align) {
  void* p = counted_malloc(bytes, align);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

}  // namespace

#ifndef EDGEQ_NO_NEW_HOOK
// These replace the global operators, so new and free() do pair here; GCC sees the
// standard operator new at the call sites it inlines into and says otherwise.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(size_t n) { return throwing_new(n, 0); }
void* operator new[](size_t n) { return throwing_new(n, 0); }
void* operator new(size_t n, std::align_val_t a) { return throwing_new(n, static_cast<size_t>(a)); }
void* operator new[](size_t n, std::align_val_t a) { return throwing_new(n, static_cast<size_t>(a)); }
void* operator new(size_t n, const std::nothrow_t&) noexcept { return counted_malloc(n, 0); }
void* operator new[](size_t n, const std::nothrow_t&) noexcept { return counted_malloc(n, 0); }
void* operator new(size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted_malloc(n, static_cast<size_t>(a));
}
void* operator new[](size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted_malloc(n, static_cast<size_t>(a));
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
#endif

namespace edgeq {
namespace {

// A way to fail the Nth allocation: arm(n) (0 disarms) and whether it happened.
struct Hook {
  const char* name;
  std::function<void(int64_t)> arm;
  std::function<bool()> happened;
};

const Hook kAlignedHook = {"aligned_malloc", [](int64_t n) { kern::fail_nth_allocation(n); },
                           [] { return kern::allocation_failure_happened(); }};
const Hook kNewHook = {"operator new",
                       [](int64_t n) {
                         g_new_failed.store(false);
                         g_new_countdown.store(n);
                       },
                       [] { return g_new_failed.load(); }};

std::vector<uint8_t> serialize(const Graph& g) {
  std::vector<uint8_t> bytes;
  EXPECT_TRUE(serialize_graph(g, &bytes).ok());
  return bytes;
}

// What one pass of the scenario gave: the first failing step's status (EDGEQ_OK when
// none failed) and the int8 model's output. Plain arrays: the scenario runs with the
// hook armed, and the test's own bookkeeping must not allocate.
struct Outcome {
  edgeq_status status = EDGEQ_OK;
  const char* step = "";
  char message[512] = {};
  int8_t output[4] = {};
};

class Scenario {
 public:
  Scenario()
      : int8_file_(serialize(testing_graphs::small_net(true))),
        float_file_(serialize(testing_graphs::small_net(false))),
        // One directory a process: ctest runs the tests of this file at the same time.
        dir_(::testing::TempDir() + "/edgeq_alloc_failure." + std::to_string(::getpid())),
        path_(dir_ + "/int8.edgeq") {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directory(dir_);
    for (size_t i = 0; i < x_.size(); ++i) x_[i] = static_cast<int8_t>(i * 29 + 3);
    for (size_t i = 0; i < xf_.size(); ++i) xf_[i] = static_cast<float>(i % 17) / 8.f - 1.f;
  }
  ~Scenario() { std::filesystem::remove_all(dir_); }

  const std::string& dir() const { return dir_; }
  const std::string& path() const { return path_; }

  // Every step, with every handle released whatever happens. Allocates nothing itself.
  void run(Outcome* o) const {
    auto check = [&](const char* step, edgeq_status st) {
      if (o->status == EDGEQ_OK && st != EDGEQ_OK) {
        o->status = st;
        o->step = step;
        std::snprintf(o->message, sizeof o->message, "%s", edgeq_last_error());
      }
      return st == EDGEQ_OK;
    };
    edgeq_session_options so;
    edgeq_session_options_init(&so);
    so.num_threads = 2;

    edgeq_model* model = nullptr;
    edgeq_session* session = nullptr;
    if (check("load", edgeq_model_load_memory(int8_file_.data(), int8_file_.size(), &model)) &&
        check("session", edgeq_session_create(model, &so, &session)) &&
        check("input", edgeq_session_set_input_raw(session, 0, x_.data(), x_.size())) &&
        check("run", edgeq_session_run(session))) {
      check("output", edgeq_session_get_output_raw(session, 0, o->output, sizeof o->output));
    }
    edgeq_session_destroy(session);
    edgeq_model_release(model);
    if (o->status != EDGEQ_OK) return;

    edgeq_model* float_model = nullptr;
    edgeq_calibrator* cal = nullptr;
    const float* inputs[1] = {xf_.data()};
    edgeq_calibration_options co;
    edgeq_calibration_options_init(&co);
    co.method = "histogram";
    if (check("load float", edgeq_model_load_memory(float_file_.data(), float_file_.size(), &float_model)) &&
        // The default options (one thread): the int8 session above already covers a
        // session's pool, and a pool's workers spin at every step of a calibration,
        // which made this walk three times as long.
        check("calibrator", edgeq_calibrator_create(float_model, nullptr, &cal)) &&
        check("batch", edgeq_calibrator_add_batch(cal, inputs, 1)) &&
        check("batch", edgeq_calibrator_add_batch(cal, inputs, 1))) {
      check("write", edgeq_calibrator_write(cal, &co, path_.c_str()));
    }
    edgeq_calibrator_destroy(cal);
    edgeq_model_release(float_model);
  }

 private:
  std::vector<uint8_t> int8_file_, float_file_;
  std::string dir_, path_;
  std::vector<int8_t> x_ = std::vector<int8_t>(8 * 8 * 3);
  std::vector<float> xf_ = std::vector<float>(8 * 8 * 3);
};

// Fails allocation N = 1, 2, ... until the scenario succeeds; returns the N reached.
int64_t walk(const Hook& hook, const Scenario& scenario) {
  Outcome clean;
  scenario.run(&clean);
  EXPECT_EQ(clean.status, EDGEQ_OK) << clean.step << ": " << clean.message;
  std::filesystem::remove(scenario.path());
  const std::vector<int8_t> want(clean.output, clean.output + 4);
  int64_t n = 1;
  for (; n < 100000; ++n) {
    Outcome o;
    hook.arm(n);
    scenario.run(&o);
    const bool failed = hook.happened();
    hook.arm(0);
    const std::vector<int8_t> got(o.output, o.output + 4);
    if (!failed) {
      EXPECT_EQ(o.status, EDGEQ_OK) << o.step << ": " << o.message;
      EXPECT_EQ(got, want);
      std::filesystem::remove(scenario.path());
      break;
    }
    SCOPED_TRACE(std::string(hook.name) + " " + std::to_string(n) + " failed");
    if (o.status == EDGEQ_OK) {
      EXPECT_EQ(got, want);  // a failure absorbed must not change results
      std::filesystem::remove(scenario.path());
    } else {
      EXPECT_EQ(o.status, EDGEQ_OUT_OF_MEMORY) << o.step << ": " << o.message;
      EXPECT_NE(o.message[0], '\0') << o.step;
    }
    // No output file, and no temporary one, is left behind.
    EXPECT_TRUE(std::filesystem::is_empty(scenario.dir())) << o.step;
    if (::testing::Test::HasFailure()) break;
  }
  return n;
}

TEST(AllocationFailure, EveryAlignedAllocationOfLoadRunAndCalibration) {
  const Scenario scenario;
  const int64_t n = walk(kAlignedHook, scenario);
  // At least: the model copy, the arena and each GEMM driver's buffers, twice.
  EXPECT_GE(n, 5);
  std::printf("aligned allocations failed in turn: %lld\n", static_cast<long long>(n - 1));
}

TEST(AllocationFailure, EveryCxxAllocationOfLoadRunAndCalibration) {
#ifdef EDGEQ_NO_NEW_HOOK
  GTEST_SKIP() << "no operator new hook in a TSan build";
#endif
  const Scenario scenario;
  const int64_t n = walk(kNewHook, scenario);
  EXPECT_GE(n, 100);
  std::printf("operator new allocations failed in turn: %lld\n", static_cast<long long>(n - 1));
}

}  // namespace
}  // namespace edgeq
