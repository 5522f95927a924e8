# Loader, session, memory planner, executor and the C API.
set(EDGEQ_RUNTIME_SOURCES
  runtime/planner.cc
  runtime/ops.cc
  runtime/session.cc
  runtime/c_api.cc
)
# The float path on XNNPACK (runtime/xnn_float.h), or its stand-in that handles no node.
# CMakeLists.txt adds XNNPACK's headers, library and EDGEQ_HAVE_XNNPACK=1 to the runtime.
if(EDGEQ_HAVE_XNNPACK)
  list(APPEND EDGEQ_RUNTIME_SOURCES runtime/xnn_float.cc)
else()
  list(APPEND EDGEQ_RUNTIME_SOURCES runtime/xnn_float_none.cc)
endif()
