// ScopedEnv: sets (or, with a null value, unsets) an environment variable for a scope
// and restores what was there before, for tests of switches read from the
// environment (EDGEQ_XNNPACK, EDGEQ_GEMM_BLOCKING, ...).
#pragma once

#include <cstdlib>
#include <string>

namespace edgeq {
namespace testing_env {

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    const char* old = std::getenv(name);
    had_ = old != nullptr;
    if (had_) old_ = old;
    if (value != nullptr)
      setenv(name, value, 1);
    else
      unsetenv(name);
  }
  ~ScopedEnv() {
    if (had_)
      setenv(name_, old_.c_str(), 1);
    else
      unsetenv(name_);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  bool had_ = false;
  std::string old_;
};

}  // namespace testing_env
}  // namespace edgeq
