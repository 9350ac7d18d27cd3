#!/usr/bin/env bash
# Installs a build tree into a temporary prefix, then builds and runs an outside program
# against it twice: with pkg-config alone, and with CMake's find_package(lamina).
#   test_install.sh <build-dir> <outside-source-dir> <work-dir>
set -euo pipefail
build=$1 src=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix

echo "== cmake --install $build --prefix $prefix"
cmake --install "$build" --prefix "$prefix" >"$work/install.log"

pc=$(find "$prefix" -name lamina.pc -path '*pkgconfig*' | head -n 1)
[ -n "$pc" ] || { echo "no lamina.pc installed under $prefix"; exit 1; }
libdir=$(dirname "$(dirname "$pc")")
echo "== pkg-config file $pc"

export PKG_CONFIG_PATH=$(dirname "$pc")
flags=$(pkg-config --cflags --libs lamina)
echo "== cc main.c $flags"
# shellcheck disable=SC2086
${CC:-cc} -std=c11 -Wall -Wextra -Werror -o "$work/outside-pc" "$src/main.c" $flags ${LDFLAGS:-}
LD_LIBRARY_PATH=$libdir "$work/outside-pc"

echo "== find_package(lamina) with CMAKE_PREFIX_PATH=$prefix"
cmake -S "$src" -B "$work/outside-build" -DCMAKE_PREFIX_PATH="$prefix" >"$work/configure.log" ||
    { cat "$work/configure.log"; exit 1; }
cmake --build "$work/outside-build" >"$work/build.log" || { cat "$work/build.log"; exit 1; }
LD_LIBRARY_PATH=$libdir "$work/outside-build/outside"
echo "== install test passed"
