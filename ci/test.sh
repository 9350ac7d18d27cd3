#!/usr/bin/env bash
# Installs the dependencies, builds, and runs every test; ctest's summary comes last. The
# tests include the gpu_paths stage (its budget: ci/gpu_paths.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/install-deps.sh
bash ci/build.sh
exec ctest --test-dir build --output-on-failure
