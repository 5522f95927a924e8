# Kernels: the scalar reference (the oracle), run-time dispatch, and the optimized
# kernels of the target architecture, each ISA in its own files with its own flags.
set(EDGEQ_KERNEL_SOURCES
  kernels/ref/requant.cc
  kernels/ref/conv.cc
  kernels/ref/elementwise.cc
  kernels/ref/pool.cc
  kernels/ref/data.cc
  kernels/ref/gather.cc
  kernels/ref/scatter.cc
  kernels/ref/grid_sample.cc
  kernels/ref/logical.cc
  kernels/ref/recurrent.cc
  kernels/ref/norm.cc
  kernels/ref/matmul.cc
  kernels/dispatch.cc
  kernels/memory.cc
  kernels/qconv.cc
  kernels/qdwconv.cc
  kernels/pack_layout.cc
  kernels/qmatmul.cc
  kernels/ref/qgemm_float.cc
  kernels/gemm_pick.cc
  kernels/fmatmul.cc
  kernels/dw_pack_layout.cc
  kernels/gemm_blocking.cc
  kernels/ffc.cc
  kernels/fdwconv.cc
)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  set(EDGEQ_ARCH x86)
  include(kernels/x86/gemm.cmake)
  include(kernels/x86/misc.cmake)
  include(kernels/x86/fgemm.cmake)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|armv7.*|arm)$" AND EXISTS ${CMAKE_CURRENT_LIST_DIR}/arm/arm.cmake)
  set(EDGEQ_ARCH arm)
  include(kernels/arm/arm.cmake)
else()
  set(EDGEQ_ARCH generic)
  list(APPEND EDGEQ_KERNEL_SOURCES kernels/generic_register.cc)
endif()
message(STATUS "edgeq: optimized kernels for ${EDGEQ_ARCH}")
# The run-time-operand GEMM driver's quantize and finish loops vectorize at -O3 (same
# results: no fast-math).
set_source_files_properties(kernels/qmatmul.cc PROPERTIES COMPILE_OPTIONS "-O3")
# The convolution driver's per-tile pointer loop (qconv.cc, add_offsets) likewise.
set_source_files_properties(kernels/qconv.cc PROPERTIES COMPILE_OPTIONS "-O3")
# Sanitizer builds (cmake/Sanitizers.cmake): the kernels at their own optimization level,
# after every other flag of theirs.
if(EDGEQ_SANITIZE AND EDGEQ_SANITIZE_KERNEL_OPT)
  set_property(SOURCE ${EDGEQ_KERNEL_SOURCES} APPEND PROPERTY COMPILE_OPTIONS ${EDGEQ_SANITIZE_KERNEL_OPT})
endif()
