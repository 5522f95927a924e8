# libFuzzer targets (EDGEQ_FUZZ=ON, clang; cmake/Sanitizers.cmake). Each fuzz/NAME_fuzzer.cc
# becomes edgeq_fuzz_NAME; its seed corpus is fuzz/corpus/NAME (fuzz/make_corpus.sh).
# tools/sanitize.sh runs each for a fixed number of runs under ASan + UBSan.
set(EDGEQ_FUZZERS load npy stats calibrate)
if(EDGEQ_BUILD_IMPORTER)
  list(APPEND EDGEQ_FUZZERS onnx)
endif()
# Coverage instrumentation where the fuzzers' inputs go: the fuzz targets and the
# libraries they link. The other targets of the build (tests, the tool) do without it:
# it tripled the suites' compile time.
foreach(lib edgeq_runtime edgeq_npy edgeq_importer)
  if(TARGET ${lib})
    target_compile_options(${lib} PRIVATE -fsanitize=fuzzer-no-link)
  endif()
endforeach()
foreach(name ${EDGEQ_FUZZERS})
  add_executable(edgeq_fuzz_${name} fuzz/${name}_fuzzer.cc)
  target_compile_options(edgeq_fuzz_${name} PRIVATE -fsanitize=fuzzer-no-link)
  target_link_libraries(edgeq_fuzz_${name} PRIVATE edgeq_internal)
  target_link_options(edgeq_fuzz_${name} PRIVATE -fsanitize=fuzzer)
endforeach()
target_link_libraries(edgeq_fuzz_npy PRIVATE edgeq_npy)
if(TARGET edgeq_fuzz_onnx)
  target_link_libraries(edgeq_fuzz_onnx PRIVATE edgeq_importer)
endif()
