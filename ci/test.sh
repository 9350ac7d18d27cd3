#!/usr/bin/env bash
# Installs the dependencies, builds, and runs every test; ctest's summary comes last.
# Budget: ci/README.md (the whole of ci/test.sh well under 60 minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/install-deps.sh
bash ci/build.sh
exec ctest --test-dir build --output-on-failure
