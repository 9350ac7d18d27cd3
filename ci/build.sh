#!/usr/bin/env bash
# Configures a Release build into build/ and builds it with two jobs.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j2
