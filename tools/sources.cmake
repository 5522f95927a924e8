# The edgeq command-line tool (needs the importer for `convert`).
# NPY files and datasets (NPY files or image directories) for the CLI and tests.
find_path(STB_INCLUDE_DIR stb/stb_image.h)
find_library(STB_LIBRARY stb)
edgeq_require(STB_LIBRARY "stb_image" "libstb-dev")
add_library(edgeq_npy STATIC tools/npy.cc tools/dataset.cc)
target_include_directories(edgeq_npy PRIVATE ${STB_INCLUDE_DIR})
target_link_libraries(edgeq_npy PUBLIC edgeq_internal PRIVATE ${STB_LIBRARY})

if(EDGEQ_BUILD_IMPORTER)
  find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp)
  edgeq_require(CLI11_INCLUDE_DIR "CLI11" "libcli11-dev")
  add_executable(edgeq_cli tools/edgeq_main.cc tools/cli.cc tools/run_cmd.cc tools/quant_cmd.cc tools/bench_cmd.cc
    tools/export_cmd.cc)
  target_include_directories(edgeq_cli PRIVATE ${CLI11_INCLUDE_DIR} ${NLOHMANN_JSON_INCLUDE_DIR})
  target_link_libraries(edgeq_cli PRIVATE edgeq_importer edgeq_npy)
  set_target_properties(edgeq_cli PROPERTIES OUTPUT_NAME edgeq)
endif()
