# The module test: PyTorch twins of the chapter's models, lazy init, device moves,
# safetensors save/load, bad input. Included from tests/CMakeLists.txt.
add_executable(test_modules test_modules.c reference_file.c)
target_compile_options(test_modules PRIVATE -Wall -Wextra -Wpedantic)
target_include_directories(test_modules PRIVATE ${PROJECT_SOURCE_DIR}/examples)
target_compile_definitions(test_modules PRIVATE
  LAMINA_TEST_REFERENCE_DIR="${CMAKE_CURRENT_SOURCE_DIR}/reference"
  LAMINA_TEST_TMP_DIR="${CMAKE_CURRENT_BINARY_DIR}")
target_link_libraries(test_modules PRIVATE lamina PkgConfig::CMOCKA cjson m)
add_test(NAME modules COMMAND test_modules)
if(COMMAND lamina_test_env)
  lamina_test_env(modules)
else()
  set_tests_properties(modules PROPERTIES RUN_SERIAL TRUE ENVIRONMENT
    "POCL_CACHE_DIR=${CMAKE_BINARY_DIR}/pocl-cache;LAMINA_CACHE_DIR=${CMAKE_BINARY_DIR}/lamina-cache")
endif()
