# The training infrastructure: schedules, parameter groups, clipping and checkpoints against
# PyTorch (test_training), and datasets (test_data). Included from tests/CMakeLists.txt.
foreach(name training data)
  add_executable(test_${name} test_${name}.c reference_file.c test_util.c)
  target_compile_options(test_${name} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes)
  target_include_directories(test_${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_compile_definitions(test_${name} PRIVATE
    LAMINA_TEST_REFERENCE_DIR="${CMAKE_CURRENT_SOURCE_DIR}/reference"
    LAMINA_TEST_DATA_DIR="${PROJECT_SOURCE_DIR}/data"
    LAMINA_TEST_TMP_DIR="${CMAKE_CURRENT_BINARY_DIR}")
  target_link_libraries(test_${name} PRIVATE lamina PkgConfig::CMOCKA cjson m)
  add_test(NAME ${name} COMMAND test_${name})
  lamina_test_env(${name})
endforeach()
