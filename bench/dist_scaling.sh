#!/usr/bin/env bash
# Data parallel scaling on one machine: train_mnist on cpu as 1 process with 1 thread and
# batch R x B, then as R MPI ranks with 1 thread each and batch B per rank (the same global
# batch, so the same training): samples/s, scaling efficiency, and the share of a step spent
# waiting for the gradient allreduce (DDP's own timer, and the profiler's row on rank 0).
#   bench/dist_scaling.sh [RANKS=2] [BATCH_PER_RANK=128] [EPOCHS=3] [LIMIT=8000] [MODEL=mlp]
# Rerun it on an idle machine: other processes on the cores change everything here.
set -euo pipefail
cd "$(dirname "$0")/.."
ranks=${1:-2} batch=${2:-128} epochs=${3:-3} limit=${4:-8000} model=${5:-mlp}
exe=build/examples/train_mnist
[ -x "$exe" ] || { cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null && cmake --build build -j2 --target train_mnist >/dev/null; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
args=(--device cpu --model "$model" --epochs "$epochs" --limit "$limit")
# samples/s of the last epoch (the first one warms up)
rate() { grep -o '[0-9]* samples/s' "$1" | tail -n 1 | cut -d' ' -f1; }

OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$exe" "${args[@]}" --batch $((ranks * batch)) >"$work/one.txt"
LAMINA_PROFILE=1 bash tests/mpirun.sh "$ranks" "$work/cache" "$exe" "${args[@]}" --distributed --batch "$batch" \
    >"$work/many.txt" 2>"$work/profile.txt"
one=$(rate "$work/one.txt") many=$(rate "$work/many.txt")
ddp=$(grep '^ddp:' "$work/many.txt")
step_ms=$(awk -v r="$many" -v b=$((ranks * batch)) 'BEGIN { printf "%.2f", 1000 * b / r }')
wait_ms=$(sed -n 's/.* of which \([0-9.]*\) ms waiting.*/\1/p' <<<"$ddp")
prof=$(grep -m1 '^ddp_allreduce_wait' "$work/profile.txt" | awk '{ print $5 }')
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
echo "1 process, 1 thread, batch $((ranks * batch)):     $one samples/s"
echo "$ranks ranks, 1 thread each, batch $batch per rank: $many samples/s"
awk -v a="$one" -v b="$many" -v n="$ranks" 'BEGIN { printf "speed-up %.2fx, scaling efficiency %.0f%%\n", b / a, 100 * b / (n * a) }'
echo "step (last epoch) $step_ms ms; waiting for allreduces after backward $wait_ms ms a step (averaged over all epochs)"
echo "profiler, a rank: ddp_allreduce_wait is ${prof:-?} of its profiled time"
echo "$ddp"
grep -h 'test acc' "$work/one.txt" | tail -n 1 | sed 's/^/1 process: /'
grep -h 'test acc' "$work/many.txt" | tail -n 1 | sed "s/^/$ranks ranks:   /"
