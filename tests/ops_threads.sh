#!/usr/bin/env bash
# The op harness on cpu at 1, 2 and 3 threads with every loop's parallel path on
# (LAMINA_HOST_PAR_MIN=1) and one backward pass per gradient case: each forward result and
# each gradient must have the same bits at every count (tests/ops/harness.c's digest).
# lamina's own kernels only (LAMINA_DNNL=0: oneDNN's need not keep the bits).
# Usage: tests/ops_threads.sh TEST_OPS_BINARY OUT_PREFIX; ctest runs it as "ops_threads".
set -euo pipefail
bin=$1 out=$2
for t in 1 2 3; do
    rm -f "$out.$t"
    LAMINA_TEST_DEVICES=cpu LAMINA_DNNL=0 LAMINA_HOST_PAR_MIN=1 LAMINA_NUM_THREADS=$t LAMINA_OPS_NO_GRAD=backward \
        LAMINA_OPS_DIGEST="$out.$t" "$bin" >"$out.$t.log" 2>&1 ||
        { tail -n 20 "$out.$t.log"; echo "FAIL: test_ops at $t threads"; exit 1; }
done
n=$(wc -l <"$out.1")
[ "$n" -ge 200 ] || { echo "FAIL: only $n results digested"; exit 1; }
for t in 2 3; do
    diff "$out.1" "$out.$t" >"$out.diff" || { head -n 20 "$out.diff"; echo "FAIL: bits differ at $t threads"; exit 1; }
done
echo "$n results, the same bits at 1, 2 and 3 threads"
