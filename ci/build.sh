#!/usr/bin/env bash
# Configures a Release build into build/ and builds it with two jobs.
# Budget: ci/README.md (the whole of ci/test.sh well under 60 minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j2
