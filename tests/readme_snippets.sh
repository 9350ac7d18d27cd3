#!/usr/bin/env bash
# Compiles every ```c block of the README, each as its own translation unit, so the
# snippets keep matching the public API.
#   readme_snippets.sh README INCLUDE_DIR WORK_DIR
# Each block is written to WORK_DIR/block_N.c behind a #line directive, so a compiler
# message names the README line. Fails if there are no blocks or any block fails.
set -u
readme=$1 include=$2 work=$3
cc=${CC:-cc}
[ -r "$readme" ] || { echo "readme_snippets: cannot read $readme" >&2; exit 1; }
rm -rf "$work" && mkdir -p "$work" || exit 1

# block_N.c holds the N-th block opened by a line that is exactly ```c; its #line gives
# the README's path and line, so compiler messages point into the README.
awk -v dir="$work" -v name="$readme" '
    !inside && /^```c[ \t]*$/ { n++; f = sprintf("%s/block_%d.c", dir, n); inside = 1
                                 printf "#line %d \"%s\"\n", NR + 1, name > f; next }
    inside && /^```[ \t]*$/    { inside = 0; close(f); next }
    inside                     { print > f }
    END { if (inside) { printf "readme_snippets: block %d is not closed\n", n > "/dev/stderr"; exit 1 } }
' "$readme" || exit 1

[ -e "$work/block_1.c" ] || { echo "readme_snippets: no \`\`\`c blocks in $readme" >&2; exit 1; }

failed=0 total=0
for ((i = 1; ; i++)); do
    f=$work/block_$i.c
    [ -e "$f" ] || break
    total=$i
    line=$(sed -n '1s/^#line \([0-9]*\).*/\1/p' "$f")
    if "$cc" -std=c11 -Wall -Wextra -Wpedantic -Werror -fsyntax-only -I"$include" "$f"; then
        echo "ok     block $i (README line $line)"
    else
        echo "FAILED block $i (README line $line): $f" >&2
        failed=$((failed + 1))
    fi
done
echo "readme_snippets: $((total - failed))/$total blocks compile"
[ "$failed" -eq 0 ]
