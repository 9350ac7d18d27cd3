#!/usr/bin/env bash
# libFuzzer over the library's parsers (tests/fuzz): safetensors into a model and without
# one, safetensors into an optimizer state, IDX files plain and gzip, device specs. Builds
# DIR (default build-fuzz/) with clang -fsanitize=fuzzer,address,undefined and runs each
# harness on DIR/corpus/<harness>, seeded from tests/fuzz/corpus/<harness>.
# Usage: ci/fuzz.sh [--build DIR] [--seconds N | --long | --runs N] [HARNESS...]
#   default   20 s per harness (the ctest test "fuzz", run in CI)
#   --long    1 hour per harness (or --seconds N); corpora grow in DIR/corpus across runs
#   --runs N  N inputs per harness, however long that takes
# A crash, leak, UB or broken invariant stops that harness and fails the script; the input
# is saved as DIR/crashes/<harness>-crash-*; reproduce: DIR/tests/fuzz/fuzz_<harness> FILE.
# Exit 77 (skipped) without clang. Budget (ci/README.md): build about 1 minute, then the
# harnesses' seconds.
set -uo pipefail
cd "$(dirname "$0")/.."
build=build-fuzz seconds=20 runs=-1 harnesses=()
while [ $# -gt 0 ]; do
    case $1 in
    --build) build=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --long) seconds=3600; shift ;;
    --runs) runs=$2 seconds=0; shift 2 ;;
    -*) echo "usage: ci/fuzz.sh [--build DIR] [--seconds N | --long | --runs N] [HARNESS...]" >&2; exit 2 ;;
    *) harnesses+=("$1"); shift ;;
    esac
done
build=$(realpath -m "$build")   # absolute: the tests run from elsewhere
[ ${#harnesses[@]} = 0 ] && harnesses=(safetensors_model safetensors_optim idx idx_gzip device_spec)
command -v clang >/dev/null || { echo "SKIP: clang is not installed (ci/install-deps.sh)"; exit 77; }

mkdir -p "$build/crashes"
CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLAMINA_FUZZ=ON -DLAMINA_BUILD_TESTS=OFF \
    -DLAMINA_BUILD_EXAMPLES=OFF -DLAMINA_BUILD_BENCH=OFF >"$build/configure.log" 2>&1 &&
    cmake --build "$build" -j2 --target "${harnesses[@]/#/fuzz_}" >"$build/build.log" 2>&1 ||
    { tail -n 30 "$build/configure.log" "$build/build.log"; echo "FAIL: the fuzz build"; exit 1; }

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export LSAN_OPTIONS="suppressions=$PWD/ci/lsan.supp:print_suppressions=0"
. ci/no_clover.sh "$build"
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
status=0
printf '%-18s %12s %8s %10s %s\n' harness execs seconds execs/s result
for h in "${harnesses[@]}"; do
    corpus=$build/corpus/$h log=$build/fuzz-$h.log dict=()
    mkdir -p "$corpus"
    case $h in safetensors_*) dict=(-dict=tests/fuzz/safetensors.dict) ;; esac
    "$build/tests/fuzz/fuzz_$h" -max_total_time="$seconds" -runs="$runs" -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
        -artifact_prefix="$build/crashes/$h-" "${dict[@]}" "$corpus" "tests/fuzz/corpus/$h" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | head -n 1)   # a crash prints it twice
    secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log")
    result=ok
    if [ $rc != 0 ]; then
        result="FAILED (exit $rc, $log)"
        status=1
        grep -m1 -A12 'ERROR\|invariant failed\|runtime error' "$log"
    fi
    printf '%-18s %12s %8s %10s %s\n' "$h" "${execs:-?}" "${secs:-?}" "$(( ${execs:-0} / (${secs:-0} > 0 ? ${secs:-1} : 1) ))" "$result"
done
exit $status
