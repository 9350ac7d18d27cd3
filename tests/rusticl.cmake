# Mesa's Rusticl (mesa-opencl-icd) on its software device, llvmpipe, as a second OpenCL
# implementation: the op harness (forward checks; gradchecks left out: Rusticl 22.3 compiles
# every launch, 3.3 ms each, cl/README.md), the module tests, and the GPU code paths, on
# opencl:rusticl:0 only. Skipped (77) where Rusticl lists no device. Label rusticl; budget
# in ci/README.md.
set(LAMINA_RUSTICL_CACHE ${CMAKE_CURRENT_BINARY_DIR}/cache-rusticl)
file(MAKE_DIRECTORY ${LAMINA_RUSTICL_CACHE})
set(LAMINA_RUSTICL_ENV "RUSTICL_ENABLE=llvmpipe" "LAMINA_TEST_DEVICES=opencl:rusticl:0"
  "LAMINA_CACHE_DIR=${LAMINA_RUSTICL_CACHE}" "LAMINA_LOOP_ITERS=20" "LAMINA_OPS_NO_GRAD=1")
set(LAMINA_RUSTICL_RUN ${CMAKE_CURRENT_SOURCE_DIR}/on_device.sh $<TARGET_FILE:lamina-info> rusticl)

# lamina_rusticl_test(<test> <executable> [extra environment...])
function(lamina_rusticl_test name exe)
  add_test(NAME ${name} COMMAND ${LAMINA_RUSTICL_RUN} $<TARGET_FILE:${exe}>)
  set_tests_properties(${name} PROPERTIES RUN_SERIAL TRUE LABELS rusticl TIMEOUT 300 SKIP_RETURN_CODE 77
    ENVIRONMENT "${LAMINA_RUSTICL_ENV};${ARGN}")
endfunction()

lamina_rusticl_test(rusticl_selftest lamina-info)
foreach(name ops autograd modules state_dict optim queue transformer cnn_ops cnn_modules f16 tensors)
  lamina_rusticl_test(${name}_rusticl test_${name})
endforeach()
# The GPU code paths (tests/gpu_paths.cmake) but the asynchronous queue, which Rusticl 22.3
# cannot have at exit (cl/README.md): tree kernels and CLBlast's default parameters.
foreach(name ops modules transformer cnn_ops)
  lamina_rusticl_test(${name}_rusticl_gpu_paths test_${name} "LAMINA_CL_TREE=1" "LAMINA_CL_CLBLAST_DEFAULTS=1")
endforeach()
# Kernel statistics against the enqueue shim (tests/CMakeLists.txt): Rusticl's queue is
# synchronous, so host waits differ, while every launch and GEMM kernel must still agree.
if(NOT LAMINA_SANITIZE AND NOT LAMINA_TSAN AND NOT LAMINA_FUZZ)
  lamina_rusticl_test(kernel_stats_rusticl test_kernel_stats "LD_PRELOAD=$<TARGET_FILE:enqueue_count>")
endif()
