// What the C API's translation units share: the handles behind the opaque C types,
// and the conversions every entry point uses (Status -> edgeq_status with the message
// kept as the thread's last error; exceptions caught at the boundary). The runtime's
// C API (runtime/c_api.cc) and the calibrator's (quant/calibrator_c_api.cc) include it;
// it depends on nothing above runtime/.
#pragma once

#include <exception>
#include <memory>
#include <new>
#include <string>

#include "edgeq/edgeq.h"
#include "graph/status.h"
#include "runtime/session.h"

struct edgeq_model {
  std::shared_ptr<const edgeq::Model> model;
};

struct edgeq_session {
  std::unique_ptr<edgeq::Session> session;
};

namespace edgeq {
namespace capi {

// The calling thread's last error message (edgeq_last_error()).
std::string& last_error();
// OK, or the status's code with its message recorded as the last error.
edgeq_status to_c(const Status& s);
// `code` with `message` recorded as the last error.
edgeq_status fail(edgeq_status code, const char* message);
// Checks and converts C session options (null: the defaults).
edgeq_status session_options(const edgeq_session_options* options, SessionOptions* out);

// Runs f, turning exceptions (allocation failures in std containers) into statuses.
template <typename F>
edgeq_status guarded(F&& f) {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    return fail(EDGEQ_OUT_OF_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return fail(EDGEQ_INTERNAL, e.what());
  } catch (...) {
    return fail(EDGEQ_INTERNAL, "unknown internal error");
  }
}

}  // namespace capi
}  // namespace edgeq
