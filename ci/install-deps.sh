#!/usr/bin/env bash
# Installs the build and test dependencies (Debian/Ubuntu, as root). Budget: ci/README.md.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q \
    ocl-icd-opencl-dev opencl-headers pocl-opencl-icd libclblast-dev libopenblas-dev \
    libopenblas-openmp-dev \
    zlib1g-dev libcmocka-dev libcjson-dev pkg-config cmake gcc make clinfo \
    clang libclang-rt-14-dev libomp-14-dev   # ASan/TSan/libFuzzer runs (ci/sanitize.sh, tsan.sh, fuzz.sh)
# Open MPI: distributed data parallel training (lamina/dist.h) and its 2-rank tests.
apt-get install -y -q libopenmpi-dev openmpi-bin
# Data: Fashion-MNIST as IDX files in /usr/share/datasets/fashion-mnist (train_mnist --data,
# tests/test_data.c), and English text in /usr/share/games/fortunes (the character-level GPT).
apt-get install -y -q dataset-fashion-mnist fortunes
# A second OpenCL implementation (Mesa's Rusticl on llvmpipe, enabled by RUSTICL_ENABLE) and
# the OpenCL device simulator that checks every kernel for races and bad accesses (ci/oclgrind.sh).
apt-get install -y -q mesa-opencl-icd oclgrind
# oneDNN, which the cpu backend's convolutions use where it is installed (LAMINA_WITH_DNNL).
apt-get install -y -q libdnnl-dev
