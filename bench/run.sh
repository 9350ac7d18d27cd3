#!/usr/bin/env bash
# Builds (Release, build/) and runs the core benchmark: lamina on every device beside
# OpenBLAS and plain C loops. Extra arguments go to bench_core (--reps N).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2 --target bench_core >/dev/null
cmake --build build -j2 --target bench_transformer >/dev/null 2>&1 || true
build/bench/bench_core "$@"
if [ -x build/bench/bench_train ]; then build/bench/bench_train; fi
if [ -x build/bench/bench_transformer ]; then build/bench/bench_transformer; fi
