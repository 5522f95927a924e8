# The edgeq command-line tool. With the importer it has every command; without it
# (cross builds: no ONNX or protobuf on the device) it has those that work on .edgeq
# files (info, run, eval, bench, calibrate, quant-report), and `convert` and
# `export-onnx` answer with an error that says to convert on a host.
# NPY files and datasets (NPY files or image directories) for the CLI and tests.
if(EDGEQ_BUILD_CLI OR EDGEQ_BUILD_TESTS OR EDGEQ_FUZZ)
  find_path(STB_INCLUDE_DIR stb/stb_image.h)
  find_library(STB_LIBRARY stb)
  edgeq_require(STB_LIBRARY "stb_image" "libstb-dev")
  add_library(edgeq_npy STATIC tools/npy.cc tools/dataset.cc tools/input_data.cc)
  target_include_directories(edgeq_npy PRIVATE ${STB_INCLUDE_DIR})
  target_link_libraries(edgeq_npy PUBLIC edgeq_internal PRIVATE ${STB_LIBRARY})
endif()

# Whole-model measurement (tools/bench_measure.h): `edgeq bench` and the Python module.
if(EDGEQ_BUILD_CLI OR EDGEQ_BUILD_PYTHON)
  add_library(edgeq_bench STATIC tools/bench_measure.cc)
  target_include_directories(edgeq_bench PRIVATE ${NLOHMANN_JSON_INCLUDE_DIR})
  target_link_libraries(edgeq_bench PUBLIC edgeq_internal)
endif()

if(EDGEQ_BUILD_CLI)
  find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp)
  edgeq_require(CLI11_INCLUDE_DIR "CLI11" "libcli11-dev")
  add_executable(edgeq_cli tools/edgeq_main.cc tools/cli.cc tools/run_cmd.cc tools/quant_cmd.cc tools/bench_cmd.cc)
  target_link_libraries(edgeq_cli PRIVATE edgeq_bench)
  target_include_directories(edgeq_cli PRIVATE ${CLI11_INCLUDE_DIR} ${NLOHMANN_JSON_INCLUDE_DIR})
  target_link_libraries(edgeq_cli PRIVATE edgeq_npy)
  if(EDGEQ_BUILD_IMPORTER)
    target_sources(edgeq_cli PRIVATE tools/export_cmd.cc)
    target_compile_definitions(edgeq_cli PRIVATE EDGEQ_HAVE_IMPORTER=1)
    target_link_libraries(edgeq_cli PRIVATE edgeq_importer)
  endif()
  # Every command's file includes CLI11, whose inline code each compiles again (about 8 s
  # of the 12-15 s of each at -O2): the files are compiled in two batches instead.
  set_target_properties(edgeq_cli PROPERTIES OUTPUT_NAME edgeq UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 3)
endif()

# The start-up probe: load + session creation stopped at a chosen step, for counting
# their instructions under qemu (tools/arm_startup_count.sh).
if(EDGEQ_BUILD_CLI)
  add_executable(edgeq_startup_probe tools/startup_probe.c)
  target_link_libraries(edgeq_startup_probe PRIVATE edgeq_runtime)
endif()
