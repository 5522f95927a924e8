# Loader, session, memory planner, scheduler, the op layer (one file per op family)
# and the C API.
set(EDGEQ_RUNTIME_SOURCES
  runtime/planner.cc
  runtime/schedule.cc
  runtime/session.cc
  runtime/view_fold.cc
  runtime/pack_cache.cc
  runtime/c_api.cc
  runtime/ops/registry.cc
  runtime/ops/gemm.cc
  runtime/ops/depthwise.cc
  runtime/ops/elementwise.cc
  runtime/ops/pool.cc
  runtime/ops/movement.cc
  runtime/ops/quantize.cc
  runtime/ops/matmul.cc
  runtime/ops/layer_norm.cc
  runtime/ops/gather.cc
  runtime/ops/logical.cc
  runtime/ops/qgemm_float.cc
  runtime/ops/dynamic_conv.cc
  runtime/ops/float_fc.cc
  runtime/ops/float_dw.cc
  runtime/ops/recurrent.cc
)
# The float path on XNNPACK (runtime/ops/float_xnn.h), or its stand-in that handles no
# node. CMakeLists.txt adds XNNPACK's headers, library and EDGEQ_HAVE_XNNPACK=1 to the runtime.
if(EDGEQ_HAVE_XNNPACK)
  list(APPEND EDGEQ_RUNTIME_SOURCES runtime/ops/float_xnn.cc)
else()
  list(APPEND EDGEQ_RUNTIME_SOURCES runtime/ops/float_xnn_none.cc)
endif()
