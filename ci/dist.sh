#!/usr/bin/env bash
# The scale-out stage alone (ctest label `dist`): the gradient-ready hook, data parallel over
# the devices of one process (cpu + POCL, and two POCL devices with POCL_DEVICES="pthread
# pthread"), and over 2 MPI ranks of one thread each (tests/mpirun.sh: each rank its own POCL
# cache, seeded from the suite's; OMPI_ALLOW_RUN_AS_ROOT for CI's root): test_dist as 1 and
# 2 ranks, and train_mnist --distributed (agreement with one process on cpu and the default
# device, resume, different models, a killed rank, the checkpoint journal). ci/test.sh runs
# the same tests among the rest.
#
# Budget: 300 s on the CI machine (2 vCPUs). Measured on a 2-vCPU AMD EPYC VM shared with
# other jobs (load 10): 118 s with every POCL cache empty (POCL compiles the kernels of each
# rank; 45 s of it in train_mnist_dist_agreement_default), 35 s with warm caches. Each test
# has a 300 s timeout, so a hung job fails instead of blocking CI.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d build ] || bash ci/build.sh
exec timeout 600 ctest --test-dir build -L dist --output-on-failure
