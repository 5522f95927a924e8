# Sanitizer and fuzzing builds (tools/sanitize.sh runs them in CI; docs/reliability.md).
#
#   EDGEQ_SANITIZE=address,undefined   every target built and linked with these
#                                      sanitizers, and any report is fatal
#                                      (-fno-sanitize-recover); "thread" for TSan.
#   EDGEQ_FUZZ=ON                      the libFuzzer targets in fuzz/ (clang only);
#                                      they and the libraries they link are built
#                                      with coverage instrumentation (fuzz/sources.cmake),
#                                      and link libFuzzer.
#   EDGEQ_SANITIZE_KERNEL_OPT=-O1      an optimization flag for the kernel sources
#                                      only (kernels/sources.cmake): tools/sanitize.sh
#                                      builds the rest at -O0, which clang compiles
#                                      with ASan + UBSan in a third to a half of -O1's
#                                      time, and keeps the kernels, where the unit
#                                      tests spend their time, at -O1.
set(EDGEQ_SANITIZE "" CACHE STRING "Sanitizers for every target, e.g. address,undefined or thread")
option(EDGEQ_FUZZ "Build the libFuzzer targets in fuzz/ (needs clang)" OFF)
set(EDGEQ_SANITIZE_KERNEL_OPT "" CACHE STRING "Optimization flag for the kernel sources in sanitizer builds, e.g. -O1")

if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  # The x86 kernel files pass GCC-only warning flags (kernels/x86/*.cmake).
  add_compile_options(-Wno-unknown-warning-option)
endif()

if(EDGEQ_SANITIZE)
  add_compile_options(-fsanitize=${EDGEQ_SANITIZE} -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${EDGEQ_SANITIZE})
endif()

if(EDGEQ_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "edgeq: EDGEQ_FUZZ needs clang (libFuzzer): configure with CC=clang CXX=clang++")
  endif()
endif()
