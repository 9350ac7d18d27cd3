#!/usr/bin/env bash
# on_device.sh LAMINA_INFO PLATFORM CMD...: runs CMD when lamina-info lists a usable device
# of an OpenCL platform whose name holds PLATFORM; else exits 77 (ctest: skipped), saying why.
set -uo pipefail
info=$1 platform=$2
shift 2
if ! "$info" | grep -qi "^    platform .*$platform"; then
    echo "SKIP: no usable OpenCL device of platform \"$platform\" here (lamina-info lists none)"
    exit 77
fi
case $1 in */lamina-info) exec "$@" --selftest ;; esac
exec "$@"
