#!/usr/bin/env bash
# Builds (Release, build/) and runs the core benchmark: lamina on every device beside
# OpenBLAS and plain C loops. Extra arguments go to bench_core (--reps N).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2 --target bench_core >/dev/null
build/bench/bench_core "$@"
if [ -x build/bench/bench_train ]; then build/bench/bench_train; fi
