# Scale-out tests: the gradient-ready hook, data parallel over devices and over MPI ranks.
# Included from tests/CMakeLists.txt.
lamina_add_test(grad_hook test_grad_hook.c)
# Data parallel over MPI ranks: 2 ranks (when lamina has MPI), and a world of one.
lamina_add_test(dist test_dist.c)
target_compile_definitions(test_dist PRIVATE LAMINA_TEST_WORK="${CMAKE_CURRENT_BINARY_DIR}/dist-work")
set_tests_properties(dist grad_hook PROPERTIES TIMEOUT 300 LABELS dist)
if(LAMINA_MPI)
  add_test(NAME dist_2ranks COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/mpirun.sh 2 ${LAMINA_TEST_CACHE}/ranks
                                    $<TARGET_FILE:test_dist>)
  set_tests_properties(dist_2ranks PROPERTIES RUN_SERIAL TRUE TIMEOUT 300 LABELS dist
                       ENVIRONMENT "POCL_SEED_CACHE=${LAMINA_TEST_CACHE}/pocl")
  # without its MPI plugin, every rank of a job fails at lam_dist_init, naming the file
  add_test(NAME dist_no_plugin COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/mpirun.sh 2 ${LAMINA_TEST_CACHE}/ranks
                                       $<TARGET_FILE:test_dist>)
  set_tests_properties(dist_no_plugin PROPERTIES RUN_SERIAL TRUE TIMEOUT 120 LABELS dist
                       ENVIRONMENT "LAMINA_MPI_PLUGIN=/nonexistent/liblamina_mpi.so"
                       PASS_REGULAR_EXPRESSION "LAMINA_MPI_PLUGIN=/nonexistent/liblamina_mpi.so: .*cannot open")
endif()
# Data parallel over the devices of one process: cpu + the first OpenCL device, and two POCL
# devices of one platform (POCL_DEVICES="pthread pthread").
lamina_add_test(parallel test_parallel.c)
add_test(NAME parallel_two_pocl COMMAND test_parallel)
lamina_test_env(parallel_two_pocl)
set_tests_properties(parallel_two_pocl PROPERTIES SKIP_RETURN_CODE 77 ENVIRONMENT
  "POCL_CACHE_DIR=${LAMINA_TEST_CACHE}/pocl;LAMINA_CACHE_DIR=${LAMINA_TEST_CACHE}/lamina;POCL_DEVICES=pthread pthread;LAMINA_DP_DEVICES=opencl:portable:0,opencl:portable:1")
set_tests_properties(parallel parallel_two_pocl PROPERTIES TIMEOUT 300 LABELS dist SKIP_RETURN_CODE 77)
# One context per OpenCL platform: copies between two POCL devices stay on the devices.
lamina_add_test(peer test_peer.c)
set_tests_properties(peer PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300 LABELS dist ENVIRONMENT
  "POCL_CACHE_DIR=${LAMINA_TEST_CACHE}/pocl;LAMINA_CACHE_DIR=${LAMINA_TEST_CACHE}/lamina;POCL_DEVICES=pthread pthread")
