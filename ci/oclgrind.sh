#!/usr/bin/env bash
# Every lamina kernel under Oclgrind (the OpenCL device simulator) with its checks on: data
# races (--data-races), uninitialised values (--uninitialized), API errors (--check-api),
# out-of-bounds accesses and barrier divergence (always on). The GPU code paths are forced
# (LAMINA_CL_TREE=1 LAMINA_CL_ASYNC=1 LAMINA_CL_CLBLAST_DEFAULTS=1, as tests/gpu_paths.cmake),
# at tiny sizes:
#   test_ops            the op harness: cases with inputs of at most 2000 elements
#                       (LAMINA_OPS_MAX_NUMEL), one backward pass per gradient case instead
#                       of its gradcheck (LAMINA_OPS_NO_GRAD=backward), f32 and f16
#   oclgrind_kernels    what the harness leaves out (tests/oclgrind_kernels.c): the split sum
#                       of 65536 elements, random numbers, BatchNorm's running statistics,
#                       SGD and Adam; again with LAMINA_CL_TREE=0 for the one-work-item-per-row
#                       reductions and softmax, the paths a CPU device takes
#   lamina-info --selftest   the teardown: queues drained at exit, CLBlast's program cache
# Tree kernels run in work-groups of 16 (LAMINA_CL_MAX_WG=16; they must agree at every power
# of two, cl/README.md): the harness's reduce family takes 9 s so, 22 s at 64, 76 s at 256
# (the whole harness at 256 ran clean too, in about 8 minutes).
#
# Fails on any Oclgrind report in a lamina kernel (lam_*), on any report outside a kernel
# or API error, on any run that fails, and when a `__kernel void lam_...` of cl/*.cl did not
# run (names from ci/oclgrind_shim.c, which records each kernel enqueued). Reports in
# CLBlast's kernels are listed, not failed on: write them down and report them upstream
# (none so far: its XgemmDirect* kernels run clean).
#
# Oclgrind 21.10 (Debian) needs three workarounds, all here:
#   - programs built with -cl-opt-disable (OCLGRIND_BUILD_OPTIONS): its --uninitialized
#     plugin stops on LLVM's `freeze` instruction ("Unsupported instruction: freeze",
#     first in lam_reduce_tree), which clang's optimizer emits; fixed upstream after 21.10
#     (jrprice/Oclgrind#220);
#   - ci/oclgrind_shim.c preloaded ahead of Oclgrind's runtime: its thread_local API call
#     stack is destroyed before exit() runs lamina's queue drain (atexit) and CLBlast's cache
#     destructor, whose OpenCL calls then corrupt the heap ("corrupted double-linked list");
#     and its --uninitialized shadow of a buffer is cut to the size of any host write, fill
#     or copy into part of it (thousands of false reports), so those become whole-buffer
#     writes.
# What it cannot see: bytes a host store reached count as initialized (the shim's whole-
# buffer writes), and a read past a tensor's end but inside its pooled buffer (sizes round
# up to a class, src/backend/opencl/cl_pool.c) is no bounds error to Oclgrind; writes there
# are caught by the LAMINA_DEBUG guards test_ops arms.
#
# usage: ci/oclgrind.sh [BUILD_DIR]     (default build/; logs in BUILD_DIR/tests/oclgrind)
# Exit 77 (ctest's skip) when oclgrind is not installed.
#
# Budget: 180 s on the CI machine (2 vCPUs), caches empty (the new CI stages together add
# at most 6 minutes). Measured on the 2-vCPU VM (2026-12-07, Oclgrind 21.10): 47 s with
# empty caches (a fresh Release build, ctest -L oclgrind), 42 s warm; test_ops is 40-45 s
# of it. With the harness's large cases (up to 10^5 elements) it takes over 15 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
if ! command -v oclgrind > /dev/null; then
    echo "oclgrind: not installed (Debian package oclgrind): skipped"
    exit 77
fi
[ -d "$build" ] || bash ci/build.sh
build=$(cd "$build" && pwd)
ops=$build/tests/test_ops kernels_exe=$build/tests/oclgrind_kernels info=$build/lamina-info
for exe in "$ops" "$kernels_exe" "$info"; do
    [ -x "$exe" ] || { echo "oclgrind: $exe is not built (tests/oclgrind.cmake)"; exit 1; }
done
out=$build/tests/oclgrind
mkdir -p "$out"
rm -f "$out"/*.log "$out"/*.out "$out"/kernels.txt
start=$(date +%s)
echo "oclgrind: $(oclgrind --version 2>&1 | grep -m1 -i 'oclgrind')"

# The shim, then Oclgrind's runtime (what `oclgrind CMD` preloads, asked of it).
cc -std=c11 -O2 -shared -fPIC -o "$out/shim.so" ci/oclgrind_shim.c -ldl -lpthread
rt=$(env -u LD_PRELOAD oclgrind printenv LD_PRELOAD)
libdir=$(env -u LD_LIBRARY_PATH oclgrind printenv LD_LIBRARY_PATH)
[ -f "$rt" ] || { echo "oclgrind: cannot find Oclgrind's runtime library (got \"$rt\")"; exit 1; }
export LD_PRELOAD="$out/shim.so:$rt" LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export OCLGRIND_DATA_RACES=1 OCLGRIND_UNINITIALIZED=1 OCLGRIND_CHECK_API=1 OCLGRIND_MAX_ERRORS=100000 \
    OCLGRIND_BUILD_OPTIONS=-cl-opt-disable
export LAMINA_OCLGRIND_KERNELS=$out/kernels.txt LAMINA_TEST_DEVICES=opencl:0:0 \
    LAMINA_CL_TREE=1 LAMINA_CL_ASYNC=1 LAMINA_CL_CLBLAST_DEFAULTS=1 LAMINA_CL_MAX_WG=16 \
    LAMINA_OPS_NO_GRAD=backward LAMINA_OPS_MAX_NUMEL=2000
# Own caches (ctest gives them; the kernels are built with OCLGRIND_BUILD_OPTIONS, which
# lamina's cache key does not see).
export LAMINA_CACHE_DIR=${LAMINA_CACHE_DIR:-$build/tests/cache-oclgrind/lamina}
export POCL_CACHE_DIR=${POCL_CACHE_DIR:-$build/tests/cache-oclgrind/pocl}
mkdir -p "$LAMINA_CACHE_DIR" "$POCL_CACHE_DIR"

failed=0
run() {   # run NAME [VAR=value...] COMMAND...: output in NAME.out, Oclgrind's reports in NAME.log
    local name=$1 t0=$SECONDS rc=0
    shift
    OCLGRIND_LOG=$out/$name.log env "$@" > "$out/$name.out" 2>&1 || rc=$?
    printf 'oclgrind: %-16s rc %d, %3d s\n' "$name" "$rc" $((SECONDS - t0))
    if [ "$rc" != 0 ]; then
        tail -20 "$out/$name.out"
        failed=1
    fi
}
run ops "$ops"
run kernels_tree "$kernels_exe"
run kernels_rows LAMINA_CL_TREE=0 "$kernels_exe"
run selftest "$info" --selftest
if ! grep -q "opencl:0:0 (Oclgrind Simulator)" "$out/ops.out"; then
    echo "oclgrind: FAIL: test_ops did not run on Oclgrind's device"
    failed=1
fi

# Reports: one per message (a blank line, then an unindented first line); counted by kernel,
# kind and line, the line mapped back from Oclgrind's input.cl (the prelude, then the file:
# src/backend/opencl/cl_program.c) to cl/<file>:<line>.
prelude=$(sed -n 's/.*prelude_files\[\] = {\(.*\)};.*/\1/p' src/backend/opencl/cl_program.c | tr -d '",')
kernel_files=$(grep -HoE '__kernel[[:space:]]+void[[:space:]]+lam_[A-Za-z0-9_]+' cl/*.cl |
    sed -E 's/:__kernel[[:space:]]+void[[:space:]]+/ /')
{
    for f in $prelude; do echo "prelude $f $(wc -l < "${LAMINA_KERNEL_DIR:-cl}/$f")"; done
    echo "$kernel_files" | sed 's/^/kernel /'
    echo "--"
    cat "$out"/*.log 2> /dev/null || true
} | awk '
    $1 == "prelude" && !logs { pf[++np] = $2; pn[np] = $3 + 1; total += $3 + 1; next }
    $1 == "kernel" && !logs { sub(/^cl\//, "", $2); file[$3] = $2; next }
    $0 == "--" && !logs { logs = 1; next }
    function flush() {
        if (kind == "") return
        where = "input.cl:" line
        if (line != "" && kernel in file) {
            if (line > total) where = "cl/" file[kernel] ":" (line - total)
            else {
                at = 0
                for (i = 1; i <= np; i++) {
                    if (line <= at + pn[i]) { where = "cl/" pf[i] ":" (line - at); break }
                    at += pn[i]
                }
            }
        }
        n[kernel "\t" kind "\t" where]++
        kind = ""; kernel = "-"; line = ""
    }
    /^$/ { flush(); blank = 1; next }
    blank && /^[^ \t]/ { flush(); kind = $0; sub(/ (at|of) .*address.*$| address 0x.*$| at 0x.*$/, "", kind); kernel = "-"; blank = 0; next }
    { blank = 0 }
    /^\tKernel: / { kernel = $2 }
    /At line [0-9]+/ { match($0, /At line [0-9]+/); line = substr($0, RSTART + 8, RLENGTH - 8) }
    END { flush(); for (k in n) print n[k] "\t" k }
' | sort -t$'\t' -k2,2 -k1,1nr > "$out/reports.tsv"

lamina_reports=$(awk -F'\t' '$2 ~ /^lam_/ || $2 == "-"' "$out/reports.tsv")
clblast_reports=$(awk -F'\t' '$2 !~ /^lam_/ && $2 != "-"' "$out/reports.tsv")
if [ -n "$lamina_reports" ]; then
    echo "oclgrind: FAIL: reports in lamina's kernels (count, kernel, report, where; logs in $out):"
    echo "$lamina_reports" | sed 's/^/    /'
    failed=1
fi
if [ -n "$clblast_reports" ]; then
    echo "oclgrind: reports in CLBlast's kernels (not failed on; ci/README.md, \"Oclgrind\"):"
    echo "$clblast_reports" | sed 's/^/    /'
fi
api=$(grep -h -A2 "OpenCL runtime error detected" "$out"/*.out | grep -E "Function:|Error:" | paste - - | sort | uniq -c || true)
if [ -n "$api" ]; then
    echo "oclgrind: FAIL: OpenCL API errors (--check-api):"
    echo "$api" | sed 's/^/    /'
    failed=1
fi

# Every kernel of cl/ ran at least once.
expected=$(echo "$kernel_files" | awk '{print $2}' | sort -u)
ran=$(sort -u "$out/kernels.txt" 2> /dev/null || true)
missing=$(comm -23 <(echo "$expected") <(echo "$ran"))
echo "oclgrind: $(echo "$expected" | wc -l) lamina kernels in cl/, $(comm -12 <(echo "$expected") <(echo "$ran") | wc -l) ran;" \
    "CLBlast kernels ran: $(comm -13 <(echo "$expected") <(echo "$ran") | grep -v '^lam_' | tr '\n' ' ')"
if [ -n "$missing" ]; then
    echo "oclgrind: FAIL: kernels that never ran: $(echo "$missing" | tr "\n" " ")"
    failed=1
fi
echo "oclgrind: $((  $(date +%s) - start )) s; $([ "$failed" = 0 ] && echo PASS || echo FAIL)"
exit "$failed"
