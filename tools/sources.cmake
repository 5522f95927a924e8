# The edgeq command-line tool (needs the importer for `convert`).
add_library(edgeq_npy STATIC tools/npy.cc)
target_link_libraries(edgeq_npy PUBLIC edgeq_internal)

if(EDGEQ_BUILD_IMPORTER)
  find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp)
  edgeq_require(CLI11_INCLUDE_DIR "CLI11" "libcli11-dev")
  add_executable(edgeq_cli tools/edgeq_main.cc)
  target_include_directories(edgeq_cli PRIVATE ${CLI11_INCLUDE_DIR})
  target_link_libraries(edgeq_cli PRIVATE edgeq_importer edgeq_npy)
  set_target_properties(edgeq_cli PROPERTIES OUTPUT_NAME edgeq)
endif()
