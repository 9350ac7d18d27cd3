#!/usr/bin/env bash
# AddressSanitizer + UBSan build into build-asan/, then the memory, op, autograd, module,
# state_dict and optimizer tests (ops on the host device; leaks of the OpenCL driver stack
# are suppressed by ci/lsan.supp). Not part of CI (slow); run it by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DLAMINA_SANITIZE=ON -DLAMINA_BUILD_BENCH=OFF
export LAMINA_TEST_DEVICES=cpu
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export LSAN_OPTIONS="suppressions=$PWD/ci/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LAMINA_LOOP_ITERS=${LAMINA_LOOP_ITERS:-2000}
status=0
for t in test_memory test_ops test_autograd test_modules test_state_dict test_optim; do
    echo "== $t"
    cmake --build build-asan -j2 --target "$t" >build-asan/"$t".build.log 2>&1 ||
        { tail -n 20 build-asan/"$t".build.log; echo "== $t did not build"; status=1; continue; }
    (cd build-asan/tests && ./"$t") || { echo "== $t FAILED"; status=1; }
done
exit $status
