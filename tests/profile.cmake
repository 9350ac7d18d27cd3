# The profiler test (test_profile: table, trace, off, threads), and the environment
# switches end to end: LAMINA_PROFILE=1 LAMINA_TRACE=path on a small workload prints the
# table at exit (profile_env) and writes a trace that test_profile then checks
# (profile_env_trace). Included from tests/CMakeLists.txt; needs cmocka and cJSON.
find_package(Threads REQUIRED)
add_executable(test_profile test_profile.c test_util.c)
target_compile_options(test_profile PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes)
target_include_directories(test_profile PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
target_compile_definitions(test_profile PRIVATE LAMINA_TEST_TMP_DIR="${CMAKE_CURRENT_BINARY_DIR}")
target_link_libraries(test_profile PRIVATE lamina PkgConfig::CMOCKA cjson m Threads::Threads)
add_test(NAME profile COMMAND test_profile)
lamina_test_env(profile)

set(LAMINA_ENV_TRACE ${CMAKE_CURRENT_BINARY_DIR}/profile_env_trace.json)
add_test(NAME profile_env COMMAND test_profile --workload)
lamina_test_env(profile_env)
set_property(TEST profile_env APPEND PROPERTY ENVIRONMENT "LAMINA_PROFILE=1;LAMINA_TRACE=${LAMINA_ENV_TRACE}")
set_tests_properties(profile_env PROPERTIES FIXTURES_SETUP profile_env_trace
  PASS_REGULAR_EXPRESSION "lamina profile: .*lam_matmul .*total .*trace written to")   # any device (ci/gpu.sh runs one)
add_test(NAME profile_env_trace COMMAND test_profile --check-trace ${LAMINA_ENV_TRACE})
lamina_test_env(profile_env_trace)
set_tests_properties(profile_env_trace PROPERTIES FIXTURES_REQUIRED profile_env_trace)
