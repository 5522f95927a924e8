# Loader, session, memory planner, executor and the C API.
set(EDGEQ_RUNTIME_SOURCES
  runtime/planner.cc
  runtime/ops.cc
  runtime/session.cc
  runtime/c_api.cc
)
