# Google Benchmark binaries.
add_executable(edgeq_model_bench bench/model_bench.cc)
target_link_libraries(edgeq_model_bench PRIVATE edgeq_internal benchmark::benchmark)
