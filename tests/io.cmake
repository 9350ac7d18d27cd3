# The IDX reader: values, sizes that overflow, headers that claim more than the file holds.
# Included from tests/CMakeLists.txt.
add_executable(test_idx test_idx.c)
target_compile_options(test_idx PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes)
target_compile_definitions(test_idx PRIVATE LAMINA_TEST_TMP_DIR="${CMAKE_CURRENT_BINARY_DIR}")
target_link_libraries(test_idx PRIVATE lamina PkgConfig::CMOCKA ZLIB::ZLIB)
add_test(NAME idx COMMAND test_idx)
lamina_test_env(idx)
