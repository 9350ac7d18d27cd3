# Every lamina kernel under Oclgrind, the OpenCL device simulator, with its race, bounds and
# uninitialised-value checks, on the GPU code paths at tiny sizes: ci/oclgrind.sh runs the op
# harness, oclgrind_kernels (what the harness leaves out) and lamina-info --selftest, fails
# on any report in a lam_* kernel and on any kernel of cl/ that did not run, and lists
# CLBlast's reports. Own caches: Oclgrind's builds of the kernels. Skipped (77) where
# oclgrind is not installed. Label oclgrind; budget in ci/oclgrind.sh's header.
add_executable(oclgrind_kernels ${CMAKE_CURRENT_LIST_DIR}/oclgrind_kernels.c)
target_compile_options(oclgrind_kernels PRIVATE -Wall -Wextra -Wpedantic)
target_link_libraries(oclgrind_kernels PRIVATE lamina m)

set(LAMINA_OCLGRIND_CACHE ${CMAKE_CURRENT_BINARY_DIR}/cache-oclgrind)
file(MAKE_DIRECTORY ${LAMINA_OCLGRIND_CACHE}/pocl ${LAMINA_OCLGRIND_CACHE}/lamina)
add_test(NAME oclgrind COMMAND bash ${PROJECT_SOURCE_DIR}/ci/oclgrind.sh ${CMAKE_BINARY_DIR})
set_tests_properties(oclgrind PROPERTIES RUN_SERIAL TRUE LABELS oclgrind TIMEOUT 300 SKIP_RETURN_CODE 77
  ENVIRONMENT "POCL_CACHE_DIR=${LAMINA_OCLGRIND_CACHE}/pocl;LAMINA_CACHE_DIR=${LAMINA_OCLGRIND_CACHE}/lamina")
