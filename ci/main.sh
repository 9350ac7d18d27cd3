#!/usr/bin/env bash
# Installs the dependencies, builds, and runs the main job: training on MNIST once the
# example exists, the per-device self-test until then.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/install-deps.sh
bash ci/build.sh
if [ -x build/examples/train_mnist ]; then
    exec build/examples/train_mnist
fi
echo "build/examples/train_mnist is not built yet: running lamina-info --selftest"
exec build/lamina-info --selftest
