# Sanitizer and fuzzing builds (tools/sanitize.sh runs them in CI; docs/reliability.md).
#
#   EDGEQ_SANITIZE=address,undefined   every target built and linked with these
#                                      sanitizers, and any report is fatal
#                                      (-fno-sanitize-recover); "thread" for TSan.
#   EDGEQ_FUZZ=ON                      the libFuzzer targets in fuzz/ (clang only);
#                                      every target is built with coverage
#                                      instrumentation, the fuzzers link libFuzzer.
set(EDGEQ_SANITIZE "" CACHE STRING "Sanitizers for every target, e.g. address,undefined or thread")
option(EDGEQ_FUZZ "Build the libFuzzer targets in fuzz/ (needs clang)" OFF)

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
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
