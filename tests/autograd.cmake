# The autograd test: gradcheck table, PyTorch references, sharing, control flow, memory.
# Included from tests/CMakeLists.txt; needs cmocka and cJSON (the reference reader).
add_executable(test_autograd test_autograd.c reference_file.c test_util.c)
target_compile_options(test_autograd PRIVATE -Wall -Wextra -Wpedantic)
target_compile_definitions(test_autograd PRIVATE LAMINA_TEST_REFERENCE_DIR="${CMAKE_CURRENT_SOURCE_DIR}/reference")
target_link_libraries(test_autograd PRIVATE lamina PkgConfig::CMOCKA cjson m)
add_test(NAME autograd COMMAND test_autograd)
