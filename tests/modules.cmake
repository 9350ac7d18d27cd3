# The module tests: PyTorch twins of the chapter's models, lazy init, device moves, bad
# input (test_modules); safetensors save/load, bad and malformed files (test_state_dict); the
# public state_dict API: in memory, non-strict, prefixes, lazy loads, safetensors (test_state_dict_api).
# Included from tests/CMakeLists.txt.
foreach(name modules state_dict state_dict_api)
  add_executable(test_${name} test_${name}.c reference_file.c test_util.c)
  target_compile_options(test_${name} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes)
  target_include_directories(test_${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR} ${PROJECT_SOURCE_DIR}/examples)
  target_compile_definitions(test_${name} PRIVATE
    LAMINA_TEST_REFERENCE_DIR="${CMAKE_CURRENT_SOURCE_DIR}/reference"
    LAMINA_TEST_TMP_DIR="${CMAKE_CURRENT_BINARY_DIR}")
  target_link_libraries(test_${name} PRIVATE lamina PkgConfig::CMOCKA cjson m)
  add_test(NAME ${name} COMMAND test_${name})
  if(COMMAND lamina_test_env)
    lamina_test_env(${name})
  else()
    set_tests_properties(${name} PROPERTIES RUN_SERIAL TRUE ENVIRONMENT
      "POCL_CACHE_DIR=${CMAKE_BINARY_DIR}/cache/pocl;LAMINA_CACHE_DIR=${CMAKE_BINARY_DIR}/cache/lamina")
  endif()
endforeach()
