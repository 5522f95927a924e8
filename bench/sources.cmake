# Google Benchmark binaries.
add_executable(edgeq_model_bench bench/model_bench.cc)
target_link_libraries(edgeq_model_bench PRIVATE edgeq_internal benchmark::benchmark)

# Kernel benchmarks: peak MAC rate per ISA level (x86 and ARM), the int8 convolution
# engine on real layer shapes, and XNNPACK's int8 operators on the same shapes (XNNPACK
# is linked into this benchmark only). The peak loops (bench/peak.h) are the target architecture's, each ISA level in its
# own file with that level's flags, like the kernels (kernels/arm/arm.cmake).
set(EDGEQ_PEAK_SOURCES)
if(EDGEQ_ARCH STREQUAL "x86")
  list(APPEND EDGEQ_PEAK_SOURCES bench/peak_x86.cc)
elseif(EDGEQ_ARCH STREQUAL "arm")
  list(APPEND EDGEQ_PEAK_SOURCES bench/peak_arm_neon.cc)
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
    list(APPEND EDGEQ_PEAK_SOURCES bench/peak_arm_dot.cc bench/peak_arm_i8mm.cc)
    set_source_files_properties(bench/peak_arm_dot.cc PROPERTIES COMPILE_OPTIONS "-march=armv8.2-a+dotprod")
    set_source_files_properties(bench/peak_arm_i8mm.cc PROPERTIES COMPILE_OPTIONS "-march=armv8.2-a+i8mm")
  else()
    set_source_files_properties(bench/peak_arm_neon.cc PROPERTIES COMPILE_OPTIONS "-mfpu=neon")
  endif()
endif()
# Float multiply-add peaks (bench/peak_f32.cc): per-function targets on x86.
if(EDGEQ_ARCH STREQUAL "x86" OR EDGEQ_ARCH STREQUAL "arm")
  list(APPEND EDGEQ_PEAK_SOURCES bench/peak_f32.cc)
  if(EDGEQ_ARCH STREQUAL "arm" AND NOT CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
    set_source_files_properties(bench/peak_f32.cc PROPERTIES COMPILE_OPTIONS "-mfpu=neon")
  endif()
endif()
add_executable(edgeq_kernels_bench bench/kernels_bench.cc ${EDGEQ_PEAK_SOURCES})
target_include_directories(edgeq_kernels_bench PRIVATE ${PTHREADPOOL_INCLUDE_DIR})
target_link_libraries(edgeq_kernels_bench PRIVATE edgeq_internal benchmark::benchmark)
if(EDGEQ_HAVE_XNNPACK)
  target_include_directories(edgeq_kernels_bench PRIVATE ${XNNPACK_INCLUDE_DIR})
  target_link_libraries(edgeq_kernels_bench PRIVATE ${XNNPACK_LIBRARY})
  target_compile_definitions(edgeq_kernels_bench PRIVATE EDGEQ_BENCH_XNNPACK=1)
endif()

# Depthwise convolution and misc kernels per ISA level, with XNNPACK's depthwise
# convolution side by side when XNNPACK is found.
add_executable(edgeq_misc_bench bench/misc_bench.cc)
target_link_libraries(edgeq_misc_bench PRIVATE edgeq_internal benchmark::benchmark)
target_include_directories(edgeq_misc_bench PRIVATE ${PTHREADPOOL_INCLUDE_DIR})
if(EDGEQ_HAVE_XNNPACK)
  target_include_directories(edgeq_misc_bench PRIVATE ${XNNPACK_INCLUDE_DIR})
  target_link_libraries(edgeq_misc_bench PRIVATE ${XNNPACK_LIBRARY} ${PTHREADPOOL_LIBRARY} ${CPUINFO_LINK_LIBRARIES})
  target_compile_definitions(edgeq_misc_bench PRIVATE EDGEQ_HAVE_XNNPACK)
endif()
# Layer norm and softmax kernels of transformer encoders (bench/norm_bench.cc).
add_executable(edgeq_norm_bench bench/norm_bench.cc)
target_link_libraries(edgeq_norm_bench PRIVATE edgeq_internal benchmark::benchmark)
if(EDGEQ_HAVE_XNNPACK)  # XNNPACK's float softmax side by side
  target_include_directories(edgeq_norm_bench PRIVATE ${XNNPACK_INCLUDE_DIR} ${PTHREADPOOL_INCLUDE_DIR})
  target_link_libraries(edgeq_norm_bench PRIVATE ${XNNPACK_LIBRARY} ${PTHREADPOOL_LIBRARY} ${CPUINFO_LINK_LIBRARIES})
  target_compile_definitions(edgeq_norm_bench PRIVATE EDGEQ_HAVE_XNNPACK)
endif()

# The soak benchmark (docs/reliability.md): a million inferences, the resident set sampled.
add_executable(edgeq_soak bench/soak.cc)
target_link_libraries(edgeq_soak PRIVATE edgeq_runtime)

# Float fully connected layers: edgeq's float GEMM kernels beside XNNPACK's (bench/float_fc_bench.cc).
add_executable(edgeq_float_fc_bench bench/float_fc_bench.cc)
target_link_libraries(edgeq_float_fc_bench PRIVATE edgeq_internal benchmark::benchmark)
if(EDGEQ_HAVE_XNNPACK)
  target_include_directories(edgeq_float_fc_bench PRIVATE ${XNNPACK_INCLUDE_DIR} ${PTHREADPOOL_INCLUDE_DIR})
  target_link_libraries(edgeq_float_fc_bench PRIVATE ${XNNPACK_LIBRARY} ${PTHREADPOOL_LIBRARY} ${CPUINFO_LINK_LIBRARIES})
  target_compile_definitions(edgeq_float_fc_bench PRIVATE EDGEQ_HAVE_XNNPACK)
endif()
