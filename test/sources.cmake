# GoogleTest suites, one binary, each test registered with ctest.
include(GoogleTest)
file(GLOB EDGEQ_TEST_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/test/*_test.cc)
add_executable(edgeq_tests ${EDGEQ_TEST_SOURCES})
target_link_libraries(edgeq_tests PRIVATE edgeq_importer edgeq_npy GTest::gtest GTest::gtest_main)
target_compile_definitions(edgeq_tests PRIVATE
  EDGEQ_SOURCE_DIR="${CMAKE_CURRENT_SOURCE_DIR}" EDGEQ_BINARY_DIR="${CMAKE_CURRENT_BINARY_DIR}")
gtest_discover_tests(edgeq_tests DISCOVERY_TIMEOUT 60 PROPERTIES LABELS unit)
