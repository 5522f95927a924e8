# libFuzzer targets (EDGEQ_FUZZ=ON, clang; cmake/Sanitizers.cmake). Each fuzz/NAME_fuzzer.cc
# becomes edgeq_fuzz_NAME; its seed corpus is fuzz/corpus/NAME (fuzz/make_corpus.sh).
# tools/sanitize.sh runs each for a fixed number of runs under ASan + UBSan.
set(EDGEQ_FUZZERS load npy stats calibrate)
if(EDGEQ_BUILD_IMPORTER)
  list(APPEND EDGEQ_FUZZERS onnx)
endif()
foreach(name ${EDGEQ_FUZZERS})
  add_executable(edgeq_fuzz_${name} fuzz/${name}_fuzzer.cc)
  target_link_libraries(edgeq_fuzz_${name} PRIVATE edgeq_internal)
  target_link_options(edgeq_fuzz_${name} PRIVATE -fsanitize=fuzzer)
endforeach()
target_link_libraries(edgeq_fuzz_npy PRIVATE edgeq_npy)
if(TARGET edgeq_fuzz_onnx)
  target_link_libraries(edgeq_fuzz_onnx PRIVATE edgeq_importer)
endif()
