# The GPU code paths on POCL: the op, module and queue tests a second time, on opencl:portable:0
# only, with every switch a GPU takes forced (work-group tree kernels, the asynchronous
# queue, CLBlast's default GEMM parameters; README "Queues, host waits and the GPU code
# paths"). Own caches: these runs compile other kernel specializations. Label gpu_paths:
# ci/gpu_paths.sh runs them alone, within its budget.
set(LAMINA_GPU_PATHS_CACHE ${CMAKE_CURRENT_BINARY_DIR}/cache-gpu-paths)
file(MAKE_DIRECTORY ${LAMINA_GPU_PATHS_CACHE}/pocl ${LAMINA_GPU_PATHS_CACHE}/lamina)
set(LAMINA_GPU_PATHS_ENV
  "LAMINA_CL_TREE=1" "LAMINA_CL_ASYNC=1" "LAMINA_CL_CLBLAST_DEFAULTS=1" "LAMINA_TEST_DEVICES=opencl:portable:0")

foreach(name ops autograd modules state_dict optim queue transformer cnn_ops cnn_modules)
  add_test(NAME ${name}_gpu_paths COMMAND test_${name})
  set_tests_properties(${name}_gpu_paths PROPERTIES RUN_SERIAL TRUE LABELS gpu_paths TIMEOUT 300
    ENVIRONMENT "${LAMINA_GPU_PATHS_ENV};POCL_CACHE_DIR=${LAMINA_GPU_PATHS_CACHE}/pocl;LAMINA_CACHE_DIR=${LAMINA_GPU_PATHS_CACHE}/lamina")
endforeach()

