# The convolutional-network tests: ops against PyTorch references, gradcheck, f16, dropout
# and bad input (test_cnn_ops); modules, BatchNorm, the ResNet's state_dict both ways and
# its allocations (test_cnn_modules). Included from tests/CMakeLists.txt.
foreach(name cnn_ops cnn_modules)
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/test_${name}.c)
    lamina_add_test(${name} test_${name}.c reference_file.c)
    target_include_directories(test_${name} PRIVATE ${PROJECT_SOURCE_DIR}/examples)
    target_compile_options(test_${name} PRIVATE -Wshadow -Wstrict-prototypes)
    target_compile_definitions(test_${name} PRIVATE LAMINA_TEST_REFERENCE_DIR="${CMAKE_CURRENT_SOURCE_DIR}/reference"
                               LAMINA_TEST_TMP_DIR="${CMAKE_CURRENT_BINARY_DIR}"
                               LAMINA_TEST_DATA_DIR="${PROJECT_SOURCE_DIR}/data")
    target_link_libraries(test_${name} PRIVATE cjson)
  endif()
endforeach()
# One image per im2col chunk: the chunk loops (the host's parallel one, OpenCL's in order) on
# the reference cases, whose batches fit one chunk by default; lamina's own host kernels, not
# oneDNN's (which cnn_ops runs where it is built in).
if(TARGET test_cnn_ops)
  add_test(NAME cnn_ops_chunks COMMAND test_cnn_ops)
  set_tests_properties(cnn_ops_chunks PROPERTIES RUN_SERIAL TRUE
    ENVIRONMENT "LAMINA_CONV_CHUNK=1;LAMINA_DNNL=0;POCL_CACHE_DIR=${LAMINA_TEST_CACHE}/pocl;LAMINA_CACHE_DIR=${LAMINA_TEST_CACHE}/lamina")
endif()
