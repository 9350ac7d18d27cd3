#!/usr/bin/env bash
# Data parallel scaling on one machine, train_mnist on cpu with one thread per process:
#   1 process, batch R x B                        the baseline
#   R independent processes at once, batch B      what the machine can give R processes now
#                                                 (less than R x the baseline when it is shared)
#   R MPI ranks, batch B each (--distributed)     the same training as the baseline; Open MPI
#                                                 busy-polls while waiting (its default), and
#                                                 again with mpi_yield_when_idle=1 (better when
#                                                 the cores are shared with other jobs)
# For each DDP run: samples/s, speed-up over the baseline, scaling efficiency (speed-up / R),
# and the share of a step spent waiting for the gradient allreduce after backward (DDP's own
# timer; the profiler's ddp_allreduce_wait row, LAMINA_PROFILE=1, gives the same per rank).
#   bench/dist_scaling.sh [RANKS=2] [BATCH_PER_RANK=128] [EPOCHS=3] [LIMIT=8000] [MODEL=mlp]
# Numbers on a machine shared with other jobs say more about the machine than about lamina:
# rerun it on an idle one.
set -euo pipefail
cd "$(dirname "$0")/.."
ranks=${1:-2} batch=${2:-128} epochs=${3:-3} limit=${4:-8000} model=${5:-mlp}
exe=$PWD/build/examples/train_mnist
[ -x "$exe" ] || { cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null && cmake --build build -j2 --target train_mnist >/dev/null; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
args=(--device cpu --model "$model" --epochs "$epochs" --limit "$limit")
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
rate() { grep -o '[0-9]* samples/s' "$1" | tail -n 1 | cut -d' ' -f1; }   # the last epoch's

"$exe" "${args[@]}" --batch $((ranks * batch)) >"$work/one.txt"
one=$(rate "$work/one.txt")
for ((r = 0; r < ranks; ++r)); do "$exe" "${args[@]}" --batch "$batch" >"$work/alone$r.txt" & done
wait
capacity=0
for ((r = 0; r < ranks; ++r)); do capacity=$((capacity + $(rate "$work/alone$r.txt"))); done

echo "load average $(cut -d' ' -f1-3 /proc/loadavg) on $(getconf _NPROCESSORS_ONLN) cores; model $model, $limit images, last of $epochs epochs"
echo "1 process, batch $((ranks * batch)): $one samples/s"
echo "$ranks independent processes at once, batch $batch: $capacity samples/s together (the machine's room for $ranks)"
for yield in 0 1; do
    OMPI_MCA_mpi_yield_when_idle=$yield bash tests/mpirun.sh "$ranks" "$work/cache" "$exe" "${args[@]}" --distributed \
        --batch "$batch" >"$work/ddp$yield.txt" 2>&1
    many=$(rate "$work/ddp$yield.txt")
    ddp=$(grep '^ddp:' "$work/ddp$yield.txt")
    wait_ms=$(sed -n 's/.* of which \([0-9.]*\) ms waiting.*/\1/p' <<<"$ddp")
    awk -v a="$one" -v b="$many" -v c="$capacity" -v n="$ranks" -v w="$wait_ms" -v y="$yield" -v bs=$((ranks * batch)) \
        'BEGIN { step = 1000 * bs / b;
                 printf "%d ranks, batch %d each, mpi_yield_when_idle=%d: %d samples/s, speed-up %.2fx, efficiency %.0f%% (%.0f%% of the room), allreduce wait %.2f of %.2f ms a step (%.0f%%)\n",
                        n, bs / n, y, b, b / a, 100 * b / (n * a), 100 * b / c, w, step, 100 * w / step }'
    grep -q 'test acc' "$work/ddp$yield.txt" || { cat "$work/ddp$yield.txt"; exit 1; }
done
grep '^ddp:' "$work/ddp0.txt"
echo "final test accuracy: 1 process $(grep -o 'test acc [0-9.]*' "$work/one.txt" | tail -n 1 | cut -d' ' -f3)," \
     "$ranks ranks $(grep -o 'test acc [0-9.]*' "$work/ddp0.txt" | tail -n 1 | cut -d' ' -f3)"
