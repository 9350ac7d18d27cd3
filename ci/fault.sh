#!/usr/bin/env bash
# Fault-injection stage (a ctest test, `fault_injection`): builds the library with
# LAMINA_FAULT_INJECTION, ASan and UBSan into $1 (default build-fault/), then sweeps a failing
# allocation / OpenCL call over every point of 3 MLP training steps (tests/test_fault.c):
# every point on cpu, every LAMINA_FAULT_STRIDE-th (default 3) on the first OpenCL device;
# then over an even sample of the points of 3 ResNet steps (LAMINA_FAULT_RESNET_POINTS, 16).
# Budget: 8 minutes on 2 cores (build ~2 min, cpu ~1 min, POCL ~2 min).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-build-fault}")
cmake -S . -B "$out" -DCMAKE_BUILD_TYPE=Debug -DLAMINA_SANITIZE=ON -DLAMINA_FAULT_INJECTION=ON \
      -DLAMINA_BUILD_BENCH=OFF -DLAMINA_BUILD_EXAMPLES=OFF >"$out.configure.log" 2>&1 ||
    { cat "$out.configure.log"; exit 1; }
cmake --build "$out" -j2 --target test_fault >"$out/build.log" 2>&1 || { tail -n 30 "$out/build.log"; exit 1; }
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS="suppressions=$PWD/ci/lsan.supp:print_suppressions=0"
mkdir -p "$out/cache/pocl" "$out/cache/lamina"
export POCL_CACHE_DIR=$out/cache/pocl LAMINA_CACHE_DIR=$out/cache/lamina
. ci/no_clover.sh "$out"
echo "== cpu, every point (ASan with leak checks)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 LAMINA_TEST_DEVICES=cpu "$out/tests/test_fault"
# LeakSanitizer's exit scan crashes inside POCL's threads: on OpenCL the sweep checks leaks
# itself (live tensors after every point); ASan still checks every access.
echo "== first OpenCL device, every ${LAMINA_FAULT_STRIDE:-3}rd point"
ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 LAMINA_TEST_DEVICES=opencl LAMINA_FAULT_STRIDE=${LAMINA_FAULT_STRIDE:-3} \
    "$out/tests/test_fault"
