#!/usr/bin/env bash
# AddressSanitizer + UBSan over the test suite on the host device: builds DIR (default
# build-asan/) with gcc -fsanitize=address,undefined, then runs every cmocka test and the
# chapter's examples on cpu. Leaks of the OpenCL driver stack are suppressed by ci/lsan.supp;
# any other leak, overflow or undefined behaviour fails.
# Usage: ci/sanitize.sh [--build DIR]
# Budget (ci/README.md): about 3 minutes on 2 cores from a clean DIR; ctest runs it as "asan".
set -euo pipefail
cd "$(dirname "$0")/.."
build=build-asan
while [ $# -gt 0 ]; do
    case $1 in
    --build) build=$2; shift 2 ;;
    *) echo "usage: ci/sanitize.sh [--build DIR]" >&2; exit 2 ;;
    esac
done
build=$(realpath -m "$build")   # absolute: the tests run from elsewhere
mkdir -p "$build"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DLAMINA_SANITIZE=ON -DLAMINA_BUILD_BENCH=OFF >"$build/configure.log"
export LAMINA_TEST_DEVICES=cpu
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export LSAN_OPTIONS="suppressions=$PWD/ci/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LAMINA_LOOP_ITERS=${LAMINA_LOOP_ITERS:-2000}
export POCL_CACHE_DIR=${POCL_CACHE_DIR:-$build/cache/pocl} LAMINA_CACHE_DIR=${LAMINA_CACHE_DIR:-$build/cache/lamina}
mkdir -p "$POCL_CACHE_DIR" "$LAMINA_CACHE_DIR"
. ci/no_clover.sh "$build"
tests="memory errors ops autograd modules state_dict state_dict_api optim idx cnn_ops cnn_modules transformer
       grad_hook dist parallel"
examples="sequential mlp my_sequential fixed_hidden_mlp chimera lenet resnet"
status=0
targets=$(for t in $tests; do printf 'test_%s ' "$t"; done)
cmake --build "$build" -j2 --target $targets $examples >"$build/build.log" 2>&1 ||
    { tail -n 30 "$build/build.log"; echo "== the sanitizer build failed"; exit 1; }
for t in $tests; do
    echo "== test_$t"
    (cd "$build/tests" && "./test_$t") || { echo "== test_$t FAILED"; status=1; }
done
for e in $examples; do
    echo "== example $e --device cpu"
    "$build/examples/$e" --device cpu >/dev/null || { echo "== example $e FAILED"; status=1; }
done
exit $status
