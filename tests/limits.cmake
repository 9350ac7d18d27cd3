# Device limits (src/backend/opencl/cl_limits.c) on POCL, lowered with lamina's override
# switches: the op harness with tree kernels of 4 work-items, 64 bytes of local memory and
# OpenCL C 1.1, so every kernel's small-device fallback runs; a work-group limit of 1 runs
# (slower); no local memory and OpenCL C 1.0 are refused with the limit named. Label limits.
set(LAMINA_LIMITS_CACHE ${CMAKE_CURRENT_BINARY_DIR}/cache-limits)
file(MAKE_DIRECTORY ${LAMINA_LIMITS_CACHE}/pocl ${LAMINA_LIMITS_CACHE}/lamina)
set(LAMINA_LIMITS_ENV "POCL_CACHE_DIR=${LAMINA_LIMITS_CACHE}/pocl" "LAMINA_CACHE_DIR=${LAMINA_LIMITS_CACHE}/lamina"
  "LAMINA_TEST_DEVICES=opencl:portable:0" "LAMINA_CL_TREE=1")

add_test(NAME ops_small_limits COMMAND test_ops)
set_tests_properties(ops_small_limits PROPERTIES RUN_SERIAL TRUE LABELS limits TIMEOUT 300
  ENVIRONMENT "${LAMINA_LIMITS_ENV};LAMINA_CL_MAX_WG=4;LAMINA_CL_LOCAL_MEM=64;LAMINA_CL_C_VERSION=1.1")

add_test(NAME limits_work_group_1 COMMAND lamina-info --selftest)
set_tests_properties(limits_work_group_1 PROPERTIES LABELS limits TIMEOUT 120
  ENVIRONMENT "${LAMINA_LIMITS_ENV};LAMINA_CL_MAX_WG=1"
  PASS_REGULAR_EXPRESSION "work-group 1 \\(lamina uses 1\\).*selftest: 2 of 2 devices passed")

add_test(NAME limits_no_local_memory COMMAND lamina-info --selftest)
set_tests_properties(limits_no_local_memory PROPERTIES LABELS limits TIMEOUT 60
  ENVIRONMENT "${LAMINA_LIMITS_ENV};LAMINA_CL_LOCAL_MEM=0"
  PASS_REGULAR_EXPRESSION "refused: lam_device_at: opencl:[0-9]+:0: local memory 0 bytes: lamina's work-group kernels need at least 12")

add_test(NAME limits_opencl_c_1_0 COMMAND lamina-info --selftest)
set_tests_properties(limits_opencl_c_1_0 PROPERTIES LABELS limits TIMEOUT 60
  ENVIRONMENT "${LAMINA_LIMITS_ENV};LAMINA_CL_C_VERSION=1.0"
  PASS_REGULAR_EXPRESSION "refused: lam_device_at: opencl:[0-9]+:0: OpenCL C 1.0: lamina's kernels need OpenCL C 1.1 or later")
