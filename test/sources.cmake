# Tests, all run by ctest:
#  * edgeq_tests: GoogleTest suites (kernels, importer, format, planner, runtime, the
#    committed models against ONNX Runtime goldens), each test registered separately;
#  * make_torchvision_models + torchvision_vs_onnxruntime: regenerates the int8 and
#    float MobileNetV2 / ResNet-18 with PyTorch, runs ONNX Runtime on them, and
#    compares edgeq's outputs (needs tools/setup_ort.sh run into EDGEQ_ORT_DIR);
#  * make_zoo_models + zoo_vs_onnxruntime: the small variants of the model zoo
#    (tools/make_zoo.py --tiny, 3x32x32), compared with ONNX Runtime at every level, and
#    no int8 node on the reference kernels at any SIMD level;
#  * export_vs_onnxruntime: `edgeq export-onnx` on the committed models, the quantized op
#    graphs and the torchvision models, run by edgeq and by ONNX Runtime;
#  * cli: the edgeq tool's commands and its errors on bad input;
#  * python, python_pip_install: the Python package (pytest) and its `pip install .`.
# Builds without the importer (cross builds, tools/arm_test.sh) have only the suites
# that need no ONNX file; cross builds run them through CMAKE_CROSSCOMPILING_EMULATOR.
include(GoogleTest)

file(GLOB EDGEQ_TEST_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/test/*_test.cc)
# Suites that convert ONNX files need the importer; builds without it (cross builds)
# leave them out.
set(EDGEQ_IMPORTER_TEST_SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test/importer_test.cc
                                ${CMAKE_CURRENT_SOURCE_DIR}/test/model_test.cc
                                ${CMAKE_CURRENT_SOURCE_DIR}/test/export_test.cc
                                ${CMAKE_CURRENT_SOURCE_DIR}/test/transformer_import_test.cc
                                ${CMAKE_CURRENT_SOURCE_DIR}/test/qdq_float_out_import_test.cc)
if(NOT EDGEQ_BUILD_IMPORTER)
  list(REMOVE_ITEM EDGEQ_TEST_SOURCES ${EDGEQ_IMPORTER_TEST_SOURCES})
endif()
# EDGEQ_TEST_SUITES (a list of names: "runtime;pack" for test/runtime_test.cc and
# test/pack_test.cc) builds edgeq_tests of those suites only; tools/sanitize.sh gives
# its TSan build the suites that start threads.
set(EDGEQ_TEST_SUITES "" CACHE STRING "Build edgeq_tests of only these test/<name>_test.cc suites (empty: all)")
if(EDGEQ_TEST_SUITES)
  set(_edgeq_wanted)
  foreach(_suite IN LISTS EDGEQ_TEST_SUITES)
    set(_file ${CMAKE_CURRENT_SOURCE_DIR}/test/${_suite}_test.cc)
    if(NOT EXISTS ${_file})
      message(FATAL_ERROR "EDGEQ_TEST_SUITES: there is no test/${_suite}_test.cc")
    elseif(_file IN_LIST EDGEQ_TEST_SOURCES)
      list(APPEND _edgeq_wanted ${_file})
    else()
      message(STATUS "EDGEQ_TEST_SUITES: ${_suite} is not in this build (it needs the importer)")
    endif()
  endforeach()
  set(EDGEQ_TEST_SOURCES ${_edgeq_wanted})
endif()
add_executable(edgeq_tests ${EDGEQ_TEST_SOURCES})
target_include_directories(edgeq_tests PRIVATE ${NLOHMANN_JSON_INCLUDE_DIR})
target_link_libraries(edgeq_tests PRIVATE edgeq_internal edgeq_npy GTest::gtest GTest::gtest_main)
if(EDGEQ_BUILD_IMPORTER)
  target_link_libraries(edgeq_tests PRIVATE edgeq_importer)
endif()
target_compile_definitions(edgeq_tests PRIVATE EDGEQ_SOURCE_DIR="${CMAKE_CURRENT_SOURCE_DIR}")
if(CMAKE_CROSSCOMPILING)
  # Cross builds run their tests under qemu-user (CMAKE_CROSSCOMPILING_EMULATOR): tests
  # that need a native process (re-executing the binary, kernel resource limits) skip.
  target_compile_definitions(edgeq_tests PRIVATE EDGEQ_TESTS_CROSS_BUILD=1)
endif()
if(EDGEQ_HAVE_XNNPACK)
  # test/xnn_float_test.cc then requires the float path to be on XNNPACK.
  target_compile_definitions(edgeq_tests PRIVATE EDGEQ_HAVE_XNNPACK=1)
endif()
# The suites are most of every build (CI makes five: host, two ARM, ASan, TSan).
# GoogleTest and the standard headers every suite includes are precompiled once per
# build. In native optimized builds the suites are compiled at -O0 (with line tables
# only, GCC/clang -g1, in RelWithDebInfo): with the precompiled header that takes their
# compile time from 286 to 156 CPU seconds against -O1 without it, and the unit tests
# run no slower (the code they test is the libraries', built with the build type's own
# flags). Cross builds keep -O1: under qemu the suites' own loops at -O0 took 1.6x the
# CPU time (108.7 against 67.2 s for the MiscTest, QuantStats and DwConvTest suites at
# -cpu max). Sanitizer builds have their own flags (tools/sanitize.sh). A Debug build
# keeps -O0 -g.
if(CMAKE_CROSSCOMPILING)
  set(EDGEQ_TEST_OPT -O1)
else()
  set(EDGEQ_TEST_OPT -O0)
endif()
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options(edgeq_tests PRIVATE $<$<CONFIG:RelWithDebInfo,Release,MinSizeRel>:${EDGEQ_TEST_OPT}>
                                             $<$<CONFIG:RelWithDebInfo>:-g1>)
endif()
target_precompile_headers(edgeq_tests PRIVATE <gtest/gtest.h> <algorithm> <cmath> <cstdint>
                          <cstring> <limits> <memory> <random> <string> <vector>)
gtest_discover_tests(edgeq_tests DISCOVERY_TIMEOUT 60 PROPERTIES LABELS unit)

# The model tests need the importer, PyTorch and ONNX Runtime on the machine that runs
# them: not in builds without the importer, nor in cross builds.
if(EDGEQ_BUILD_IMPORTER AND NOT CMAKE_CROSSCOMPILING)
  # Debian's python3 (with python3-torch), not another python3 that may come first on PATH.
  find_program(EDGEQ_SYSTEM_PYTHON python3 PATHS /usr/bin NO_DEFAULT_PATH)
  if(NOT EDGEQ_SYSTEM_PYTHON)
    find_program(EDGEQ_SYSTEM_PYTHON python3)
  endif()
  # COST (about the seconds each takes on 2 cores): with -j, ctest starts the long tests
  # first, beside the unit tests, instead of last with a core idle at the end (a fresh
  # build has no measured costs; the torchvision models head the export test's chain).
  set(EDGEQ_MODEL_DIR ${CMAKE_CURRENT_BINARY_DIR}/models)
  set(EDGEQ_ORT_DIR_DEFAULT ${CMAKE_CURRENT_BINARY_DIR}/ort)
  add_test(NAME make_torchvision_models
    COMMAND ${EDGEQ_SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/tools/make_models.py
            --out ${EDGEQ_MODEL_DIR} --only big --ort-dir ${EDGEQ_ORT_DIR_DEFAULT})
  set_tests_properties(make_torchvision_models PROPERTIES FIXTURES_SETUP torchvision LABELS e2e TIMEOUT 1500 COST 120)
  add_test(NAME torchvision_vs_onnxruntime COMMAND edgeq_tests --gtest_filter=GeneratedModels/*)
  set_tests_properties(torchvision_vs_onnxruntime PROPERTIES FIXTURES_REQUIRED torchvision LABELS e2e TIMEOUT 900
    ENVIRONMENT EDGEQ_MODEL_DIR=${EDGEQ_MODEL_DIR})
  set(EDGEQ_ZOO_DIR ${CMAKE_CURRENT_BINARY_DIR}/zoo_tiny)
  add_test(NAME make_zoo_models
    COMMAND ${EDGEQ_SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/tools/make_zoo.py
            --out ${EDGEQ_ZOO_DIR} --tiny --ort-dir ${EDGEQ_ORT_DIR_DEFAULT})
  set_tests_properties(make_zoo_models PROPERTIES FIXTURES_SETUP zoo LABELS e2e TIMEOUT 1500 COST 70)
  add_test(NAME zoo_vs_onnxruntime COMMAND edgeq_tests --gtest_filter=ZooModels/*)
  set_tests_properties(zoo_vs_onnxruntime PROPERTIES FIXTURES_REQUIRED zoo LABELS e2e TIMEOUT 600
    ENVIRONMENT EDGEQ_ZOO_DIR=${EDGEQ_ZOO_DIR})
endif()

# The tests of the edgeq tool convert ONNX files: they need the importer in the tool.
# (A tool without it is checked by tools/arm_test.sh, on files converted on the host.)
if(TARGET edgeq_cli AND EDGEQ_BUILD_IMPORTER)
  set(EDGEQ_CLI_CONVERTS TRUE)
endif()

if(EDGEQ_CLI_CONVERTS)
  add_test(NAME export_vs_onnxruntime
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test/export_ort_test.sh $<TARGET_FILE:edgeq_cli> $<TARGET_FILE:edgeq_tests>
            ${CMAKE_CURRENT_SOURCE_DIR}/test/data ${EDGEQ_MODEL_DIR} ${EDGEQ_ORT_DIR_DEFAULT}
            ${CMAKE_CURRENT_BINARY_DIR}/export_ort_test)
  set_tests_properties(export_vs_onnxruntime PROPERTIES FIXTURES_REQUIRED torchvision LABELS e2e TIMEOUT 900 COST 80)
endif()

# Calibration on real data: Fashion-MNIST (Debian's dataset-fashion-mnist), both committed
# float CNNs, every method, per-channel and per-tensor; int8 must stay within 0.3 / 0.5
# points of float and at least match PyTorch's own post-training quantization. The ViT:
# every method with and without --full-int8 (0.5 points), dynamic per row and per tensor
# (0.3 points), at least PyTorch's dynamic quantization.
if(EDGEQ_CLI_CONVERTS)
  add_test(NAME fmnist_accuracy
    COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/tools/fmnist/accuracy.py --edgeq $<TARGET_FILE:edgeq_cli>
            --work ${CMAKE_CURRENT_BINARY_DIR}/fmnist --check)
  set_tests_properties(fmnist_accuracy PROPERTIES LABELS e2e TIMEOUT 900 COST 95)
endif()

if(EDGEQ_CLI_CONVERTS)
  add_test(NAME cli COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test/cli_test.sh $<TARGET_FILE:edgeq_cli>
                             ${CMAKE_CURRENT_SOURCE_DIR}/test/data ${CMAKE_CURRENT_BINARY_DIR}/cli_test)
  set_tests_properties(cli PROPERTIES LABELS cli TIMEOUT 300)
endif()

if(EDGEQ_CLI_CONVERTS)
  add_test(NAME install_and_link
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test/install_test.sh ${CMAKE_CURRENT_BINARY_DIR}
            ${CMAKE_CURRENT_SOURCE_DIR} $<TARGET_FILE:edgeq_cli> ${CMAKE_CURRENT_BINARY_DIR}/install_test)
  set_tests_properties(install_and_link PROPERTIES LABELS install TIMEOUT 600)
endif()

# The Python package (python/, built into build/python): pytest over every call, checked
# against the edgeq tool on the same files (test/python/), and `pip install .` into a
# virtual environment (test/python/pip_install_test.sh). The interpreter is the one the
# module was built for (Python3_EXECUTABLE: Debian's, with python3-pytest and PyTorch).
if(EDGEQ_BUILD_PYTHON AND EDGEQ_CLI_CONVERTS)
  add_test(NAME python
    COMMAND ${Python3_EXECUTABLE} -m pytest -q -p no:cacheprovider ${CMAKE_CURRENT_SOURCE_DIR}/test/python)
  set_tests_properties(python PROPERTIES LABELS python TIMEOUT 600
    ENVIRONMENT "PYTHONPATH=${EDGEQ_PYTHON_DIR};EDGEQ_CLI=$<TARGET_FILE:edgeq_cli>;EDGEQ_TEST_WORK=${CMAKE_CURRENT_BINARY_DIR}/python_test;OMP_NUM_THREADS=1")
  add_test(NAME python_pip_install
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test/python/pip_install_test.sh ${CMAKE_CURRENT_SOURCE_DIR}
            ${CMAKE_CURRENT_BINARY_DIR} ${Python3_EXECUTABLE} ${CMAKE_CURRENT_BINARY_DIR}/pip_install_test)
  set_tests_properties(python_pip_install PROPERTIES LABELS python TIMEOUT 600)
endif()
