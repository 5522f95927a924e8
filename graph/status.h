// A status for fallible, non-hot-path work (loading, validation, import, session
// creation): ok, or an error code with a message that names the tensor or node.
// Kernels never return one; everything they need is checked before they run.
#pragma once

#include <string>
#include <utility>

namespace edgeq {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument = 1,  // bad argument from the caller (null pointer, wrong shape, ...)
  kInvalidModel = 2,     // the model file is malformed or inconsistent
  kUnsupported = 3,      // valid but not supported (op, attribute, dtype, ISA)
  kIoError = 4,          // file could not be opened, read or written
  kOutOfMemory = 5,
  kInternal = 6,
};

class Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return Status(); }
  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return Status(StatusCode::kInvalidArgument, std::move(m)); }
inline Status InvalidModel(std::string m) { return Status(StatusCode::kInvalidModel, std::move(m)); }
inline Status Unsupported(std::string m) { return Status(StatusCode::kUnsupported, std::move(m)); }
inline Status IoError(std::string m) { return Status(StatusCode::kIoError, std::move(m)); }
inline Status OutOfMemory(std::string m) { return Status(StatusCode::kOutOfMemory, std::move(m)); }

#define EDGEQ_RETURN_IF_ERROR(expr)        \
  do {                                     \
    ::edgeq::Status _st = (expr);          \
    if (!_st.ok()) return _st;             \
  } while (0)

}  // namespace edgeq
