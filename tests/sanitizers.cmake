# The sanitizer and fuzzing jobs as ctest tests (label "sanitizer"; `ctest -LE sanitizer`
# leaves them out). Each builds its own tree under this build directory with the script
# that also runs it by hand; ci/README.md gives their time budgets.
#   asan                      ci/sanitize.sh: gcc ASan + UBSan over the cmocka tests on cpu
#   tsan_build, tsan_*        ci/tsan.sh: clang TSan, two threads with their own models and two
#                             on one shared model, on cpu and on the first OpenCL device
#   fuzz                      ci/fuzz.sh: each libFuzzer harness for 20 s
# Included from tests/CMakeLists.txt; not in the sanitizer builds themselves.
if(LAMINA_SANITIZE OR LAMINA_TSAN OR LAMINA_FUZZ)
  return()
endif()
set(root ${PROJECT_SOURCE_DIR})
set(sanitizer_tests asan fuzz tsan_build)
add_test(NAME asan COMMAND bash ${root}/ci/sanitize.sh --build ${CMAKE_BINARY_DIR}/asan)
add_test(NAME fuzz COMMAND bash ${root}/ci/fuzz.sh --build ${CMAKE_BINARY_DIR}/fuzz --seconds 20)
add_test(NAME tsan_build COMMAND bash ${root}/ci/tsan.sh --build ${CMAKE_BINARY_DIR}/tsan --build-only)
set_tests_properties(tsan_build PROPERTIES FIXTURES_SETUP tsan)
foreach(kind own shared)
  foreach(dev cpu opencl)
    set(name tsan_${kind}_${dev})
    add_test(NAME ${name} COMMAND bash ${root}/ci/tsan.sh --build ${CMAKE_BINARY_DIR}/tsan --run ${kind} ${dev})
    set_tests_properties(${name} PROPERTIES FIXTURES_REQUIRED tsan TIMEOUT 300)
    list(APPEND sanitizer_tests ${name})
  endforeach()
endforeach()
foreach(t ${sanitizer_tests})
  lamina_test_env(${t})   # the suite's kernel caches: no cold POCL compiles under a sanitizer
endforeach()
set_tests_properties(${sanitizer_tests} PROPERTIES LABELS sanitizer SKIP_RETURN_CODE 77)
set_tests_properties(asan fuzz PROPERTIES TIMEOUT 900)
set_tests_properties(tsan_build PROPERTIES TIMEOUT 600)
