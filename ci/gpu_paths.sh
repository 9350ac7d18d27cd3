#!/usr/bin/env bash
# The GPU-path stage alone: the op, module and queue tests (test_ops, test_autograd,
# test_modules, test_state_dict, test_optim, test_queue, test_transformer, test_cnn_ops,
# test_cnn_modules) on opencl:portable:0 (POCL) with
# work-group tree kernels, the
# asynchronous queue and CLBlast's default GEMM parameters forced (tests/gpu_paths.cmake).
# ci/test.sh runs the same tests among the rest.
#
# Budget: 300 s on the CI machine (2 vCPUs), caches empty. Measured on a 2-vCPU AMD EPYC VM
# shared with other jobs (load 5-10): 102 s with empty caches (the first run of a fresh
# build: POCL compiles every kernel specialization), 7-12 s with the caches of a previous
# run. The whole ctest of a fresh build took 300 s with this stage, 315 s at 680b1ff
# without it (fewer kernel specializations compile now: src/backend/opencl/cl_launch.c).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d build ] || bash ci/build.sh
exec timeout 300 ctest --test-dir build -L gpu_paths --output-on-failure
