# Graph IR, .edgeq reading/writing and validation, complete-or-absent file writes:
# part of the runtime library.
set(EDGEQ_GRAPH_CORE_SOURCES
  graph/ir.cc
  graph/format.cc
  graph/shape.cc
  graph/ir_util.cc
  graph/unary_island.cc
  graph/write_file.cc
)
# ONNX importer: a separate library, the only code that needs ONNX and protobuf.
file(GLOB EDGEQ_IMPORTER_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/graph/onnx/*.cc)
