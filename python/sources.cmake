# The Python package `edgeq` (python/edgeq/): the compiled module edgeq._edgeq
# (python/module.cc, pybind11) over the runtime, the importer, the calibrator and the
# bench measurement, assembled with the pure-Python files in ${EDGEQ_PYTHON_DIR}/edgeq.
# The tests import it from there (PYTHONPATH); setup.py builds this target and installs
# the same files with pip.
if(EDGEQ_BUILD_PYTHON)
  set(EDGEQ_PYTHON_DIR ${CMAKE_CURRENT_BINARY_DIR}/python)
  file(GLOB EDGEQ_PYTHON_FILES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/python/edgeq/*.py
       ${CMAKE_CURRENT_SOURCE_DIR}/python/edgeq/*.pyi ${CMAKE_CURRENT_SOURCE_DIR}/python/edgeq/py.typed)
  set(EDGEQ_PYTHON_COPIES)
  foreach(f ${EDGEQ_PYTHON_FILES})
    get_filename_component(name ${f} NAME)
    add_custom_command(OUTPUT ${EDGEQ_PYTHON_DIR}/edgeq/${name}
      COMMAND ${CMAKE_COMMAND} -E copy_if_different ${f} ${EDGEQ_PYTHON_DIR}/edgeq/${name}
      DEPENDS ${f})
    list(APPEND EDGEQ_PYTHON_COPIES ${EDGEQ_PYTHON_DIR}/edgeq/${name})
  endforeach()
  add_custom_target(edgeq_python_files DEPENDS ${EDGEQ_PYTHON_COPIES})

  pybind11_add_module(edgeq_python MODULE python/module.cc)
  set_target_properties(edgeq_python PROPERTIES OUTPUT_NAME _edgeq LIBRARY_OUTPUT_DIRECTORY ${EDGEQ_PYTHON_DIR}/edgeq)
  target_link_libraries(edgeq_python PRIVATE edgeq_importer edgeq_bench)
  add_dependencies(edgeq_python edgeq_python_files)
endif()
