#!/usr/bin/env bash
# Runs a program as NP MPI ranks on this machine, each with one compute thread, its own POCL
# and lamina caches (CACHE/rankN) and yielding while it waits, as root too (CI runs as root):
#   mpirun.sh NP CACHE program [args...]
# A rank's POCL cache starts as a copy of $POCL_SEED_CACHE when given (the suite's shared
# cache: kernels the other tests compiled), so the ranks do not compile everything anew.
set -euo pipefail
np=$1 cache=$2
shift 2
for ((r = 0; r < np; ++r)); do
    d=$cache/rank$r
    if [ ! -d "$d/pocl" ] && [ -n "${POCL_SEED_CACHE:-}" ] && [ -d "$POCL_SEED_CACHE" ]; then
        mkdir -p "$d" && cp -r "$POCL_SEED_CACHE" "$d/pocl"
    fi
    mkdir -p "$d/pocl" "$d/lamina"
done
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 POCL_MAX_PTHREAD_COUNT=1
# A rank waiting for the others yields its core instead of spinning: on a machine shared
# with other jobs (CI) a spinning rank takes the core the rank it waits for needs.
export OMPI_MCA_mpi_yield_when_idle=${OMPI_MCA_mpi_yield_when_idle:-1}
exec mpirun --oversubscribe --bind-to none -np "$np" bash -c \
    'd="$0/rank$OMPI_COMM_WORLD_RANK"; POCL_CACHE_DIR="$d/pocl" LAMINA_CACHE_DIR="$d/lamina" exec "$@"' "$cache" "$@"
