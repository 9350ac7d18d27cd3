#!/bin/bash
# Short runs of the GPT programs: gpt_test.sh CASE PROGRAM WORKDIR [ARGS...]
#   falls      train on the default device and on cpu: the loss of the last 5 steps is below
#              0.9 x that of the first 5, on both
#   agreement  the first steps on cpu and on the default device (when it is OpenCL) give losses
#              that agree to 1e-4
set -u
case_name=$1 exe=$2 work=$3
shift 3
rm -rf "$work" && mkdir -p "$work" || exit 1
cd "$work" || exit 1
fail() { echo "FAIL: $*" >&2; exit 1; }

case $case_name in
falls)
    for dev in default cpu; do
        flag=() && [ $dev = cpu ] && flag=(--device cpu)
        "$exe" "${flag[@]}" "$@" --losses $dev.txt > $dev.out || { cat $dev.out; fail "$dev run"; }
        grep -E "^(device|trained|final|held-out)" $dev.out
        awk 'NR <= 5 { a += $2 } { l[NR] = $2 } END { for (i = NR - 4; i <= NR; i++) b += l[i];
             printf "first 5 steps %.4f, last 5 %.4f\n", a / 5, b / 5; exit !(NR >= 10 && b < 0.9 * a) }' $dev.txt ||
            fail "the loss did not fall on $dev"
    done
    ;;
agreement)
    "$exe" "$@" --losses dev.txt > dev.out || { cat dev.out; fail "default device run"; }
    device=$(sed -n 's/^device \([^ ]*\).*/\1/p' dev.out)
    [ "$device" = cpu ] && { echo "SKIP: the default device is cpu (no OpenCL device)"; exit 77; }
    "$exe" --device cpu "$@" --losses cpu.txt > cpu.out || { cat cpu.out; fail "cpu run"; }
    paste cpu.txt dev.txt | awk -v dev="$device" '{ d = $2 - $4; if (d < 0) d = -d; if (d > m) m = d;
        printf "step %d: cpu %.9f, %s %.9f\n", $1, $2, dev, $4 } END { printf "largest difference %.3g\n", m; exit !(NR > 0 && m <= 1e-4) }' ||
        fail "cpu and $device differ by more than 1e-4"
    ;;
*)
    fail "unknown case $case_name"
    ;;
esac
echo "PASS: $case_name"
