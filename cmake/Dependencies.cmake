# Finds edgeq's dependencies, all from Debian packages. A missing one stops the
# configuration with the name of the package that provides it.

function(edgeq_require found what package)
  if(NOT ${found})
    message(FATAL_ERROR "edgeq: ${what} not found. Install it with: apt-get install ${package}")
  endif()
endfunction()

find_package(PkgConfig)
edgeq_require(PKG_CONFIG_FOUND "pkg-config" "pkg-config")

# cpuinfo (CPU detection for kernel dispatch)
pkg_check_modules(CPUINFO IMPORTED_TARGET libcpuinfo)
edgeq_require(CPUINFO_FOUND "cpuinfo" "libcpuinfo-dev")

# pthreadpool (Debian ships no pkg-config file for it)
find_path(PTHREADPOOL_INCLUDE_DIR pthreadpool.h)
find_library(PTHREADPOOL_LIBRARY pthreadpool)
if(PTHREADPOOL_INCLUDE_DIR AND PTHREADPOOL_LIBRARY)
  add_library(edgeq_dep_pthreadpool INTERFACE)
  target_include_directories(edgeq_dep_pthreadpool INTERFACE ${PTHREADPOOL_INCLUDE_DIR})
  target_link_libraries(edgeq_dep_pthreadpool INTERFACE ${PTHREADPOOL_LIBRARY} Threads::Threads)
  set(PTHREADPOOL_FOUND TRUE)
endif()
find_package(Threads REQUIRED)
edgeq_require(PTHREADPOOL_FOUND "pthreadpool" "libpthreadpool-dev")

# XNNPACK (float path and benchmark peer); optional
option(EDGEQ_USE_XNNPACK "Use XNNPACK for the float path where it is found" ON)
if(EDGEQ_USE_XNNPACK)
  find_path(XNNPACK_INCLUDE_DIR xnnpack.h)
  find_library(XNNPACK_LIBRARY XNNPACK)
  if(XNNPACK_INCLUDE_DIR AND XNNPACK_LIBRARY)
    set(EDGEQ_HAVE_XNNPACK TRUE)
  else()
    message(STATUS "edgeq: XNNPACK not found (apt-get install libxnnpack-dev); float path uses reference kernels")
  endif()
endif()

# FlatBuffers (the .edgeq file format): headers and the flatc compiler
find_path(FLATBUFFERS_INCLUDE_DIR flatbuffers/flatbuffers.h)
edgeq_require(FLATBUFFERS_INCLUDE_DIR "FlatBuffers headers" "libflatbuffers-dev")
find_program(FLATC_EXECUTABLE flatc)
edgeq_require(FLATC_EXECUTABLE "flatc" "flatbuffers-compiler")

# ONNX + protobuf: importer only; off by default in cross builds (convert on the host)
if(CMAKE_CROSSCOMPILING)
  option(EDGEQ_BUILD_IMPORTER "Build the ONNX importer (needs ONNX and protobuf)" OFF)
else()
  option(EDGEQ_BUILD_IMPORTER "Build the ONNX importer (needs ONNX and protobuf)" ON)
endif()
if(EDGEQ_BUILD_IMPORTER)
  find_package(Protobuf QUIET)
  edgeq_require(Protobuf_FOUND "protobuf" "libprotobuf-dev")
  find_path(ONNX_INCLUDE_DIR onnx/onnx-ml.pb.h)
  find_library(ONNX_PROTO_LIBRARY onnx_proto)
  if(ONNX_INCLUDE_DIR AND ONNX_PROTO_LIBRARY)
    set(ONNX_FOUND TRUE)
    add_library(edgeq_dep_onnx INTERFACE)
    target_include_directories(edgeq_dep_onnx INTERFACE ${ONNX_INCLUDE_DIR})
    target_compile_definitions(edgeq_dep_onnx INTERFACE ONNX_NAMESPACE=onnx ONNX_ML=1)
    target_link_libraries(edgeq_dep_onnx INTERFACE ${ONNX_PROTO_LIBRARY} protobuf::libprotobuf)
  endif()
  edgeq_require(ONNX_FOUND "ONNX" "libonnx-dev")
endif()

option(EDGEQ_BUILD_TESTS "Build the tests" ON)
# The edgeq tool (tools/): every command with the importer, the ones that work on
# .edgeq files without it (cross builds).
option(EDGEQ_BUILD_CLI "Build the edgeq command-line tool" ON)

# nlohmann-json (header only): `edgeq bench --json` and the tests
if(EDGEQ_BUILD_CLI OR EDGEQ_BUILD_TESTS)
  find_path(NLOHMANN_JSON_INCLUDE_DIR nlohmann/json.hpp)
  edgeq_require(NLOHMANN_JSON_INCLUDE_DIR "nlohmann-json" "nlohmann-json3-dev")
endif()

if(EDGEQ_BUILD_TESTS)
  find_package(GTest QUIET)
  edgeq_require(GTest_FOUND "GoogleTest" "libgtest-dev")
endif()

option(EDGEQ_BUILD_BENCHMARKS "Build the benchmarks" ON)
if(EDGEQ_BUILD_BENCHMARKS)
  find_package(benchmark QUIET)
  edgeq_require(benchmark_FOUND "Google Benchmark" "libbenchmark-dev")
endif()

# The Python package (python/): pybind11 over the runtime, importer and calibrator. On
# by default where the importer is built (not in cross builds). The interpreter is
# Debian's /usr/bin/python3 (the one apt's python3-numpy, python3-torch and pybind11
# serve), not another python3 that may come first on PATH; -DPython3_EXECUTABLE=...
# chooses another.
set(EDGEQ_PYTHON_DEFAULT OFF)
if(EDGEQ_BUILD_IMPORTER AND NOT CMAKE_CROSSCOMPILING)
  set(EDGEQ_PYTHON_DEFAULT ON)
endif()
option(EDGEQ_BUILD_PYTHON "Build the Python package (needs pybind11 and the importer)" ${EDGEQ_PYTHON_DEFAULT})
if(EDGEQ_BUILD_PYTHON)
  if(NOT EDGEQ_BUILD_IMPORTER)
    message(FATAL_ERROR "edgeq: EDGEQ_BUILD_PYTHON needs EDGEQ_BUILD_IMPORTER")
  endif()
  if(NOT Python3_EXECUTABLE AND EXISTS /usr/bin/python3)
    set(Python3_EXECUTABLE /usr/bin/python3 CACHE FILEPATH "The Python the edgeq package is built for and tested with")
  endif()
  find_package(Python3 COMPONENTS Interpreter Development.Module QUIET)
  edgeq_require(Python3_FOUND "Python 3 and its headers" "python3-dev")
  find_package(pybind11 CONFIG QUIET)
  edgeq_require(pybind11_FOUND "pybind11" "pybind11-dev")
  find_path(NLOHMANN_JSON_INCLUDE_DIR nlohmann/json.hpp)  # edgeq.bench() reads the bench JSON
  edgeq_require(NLOHMANN_JSON_INCLUDE_DIR "nlohmann-json" "nlohmann-json3-dev")
endif()
