#!/bin/bash
# Tests of train_mnist: train_mnist_test.sh CASE TRAIN_MNIST WORKDIR DATADIR
#   determinism  same seed twice on cpu -> identical CSV
#   resume       2 epochs + save + resume 1 epoch == 3 straight epochs (|loss diff| <= 1e-5)
#   agreement    one epoch on cpu and on the default device (when it is OpenCL) agree to 1e-3
#   bad_input    missing/corrupt data, unknown device, another model's checkpoint: a message
#                on stderr, a non-zero exit, and no file overwritten
set -u
case_name=$1 exe=$2 work=$3 data=$4
rm -rf "$work" && mkdir -p "$work" || exit 1
cd "$work" || exit 1
fail() { echo "FAIL: $*" >&2; exit 1; }
common=(--device cpu --limit 1000 --data "$data")

case $case_name in
determinism)
    "$exe" "${common[@]}" --epochs 2 --seed 7 --csv a.csv >/dev/null || fail "first run"
    "$exe" "${common[@]}" --epochs 2 --seed 7 --csv b.csv >/dev/null || fail "second run"
    cmp a.csv b.csv || fail "two runs with one seed differ"
    "$exe" "${common[@]}" --epochs 1 --seed 8 --csv c.csv >/dev/null || fail "third run"
    cmp -s <(sed -n 2p a.csv) <(sed -n 2p c.csv) && fail "another seed gave the same epoch"
    ;;
resume)
    "$exe" "${common[@]}" --epochs 3 --csv straight.csv >/dev/null || fail "straight run"
    "$exe" "${common[@]}" --epochs 2 --save ck >/dev/null || fail "first half"
    "$exe" "${common[@]}" --epochs 1 --resume ck --csv resumed.csv >/dev/null || fail "resumed half"
    a=$(tail -n 1 straight.csv) b=$(tail -n 1 resumed.csv)
    awk -F, -v a="$a" -v b="$b" 'BEGIN { split(a, x, ","); split(b, y, ",");
        if (x[1] != 3 || y[1] != 3) exit 1;
        for (i = 2; i <= 5; i++) { d = x[i] - y[i]; if (d < 0) d = -d; if (d > 1e-5) exit 1 } }' ||
        fail "resumed epoch 3 ($b) differs from straight epoch 3 ($a)"
    ;;
agreement)
    "$exe" --data "$data" --epochs 1 --csv dev.csv >dev.txt || fail "default device run"
    device=$(sed -n 's/^device \([^ ]*\).*/\1/p' dev.txt)
    [ "$device" = cpu ] && { echo "SKIP: the default device is cpu (no OpenCL device)"; exit 77; }
    "$exe" --data "$data" --epochs 1 --device cpu --csv cpu.csv >/dev/null || fail "cpu run"
    a=$(tail -n 1 cpu.csv) b=$(tail -n 1 dev.csv)
    echo "cpu:       $a"
    echo "$device: $b"
    awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, ","); split(b, y, ",");
        for (i = 2; i <= 5; i++) { d = x[i] - y[i]; if (d < 0) d = -d; if (d > 1e-3) exit 1 } }' ||
        fail "cpu and $device differ by more than 1e-3 after one epoch"
    ;;
bad_input)
    echo keep > keep.csv
    expect_fail() {   # expect_fail WHAT ARGS...: non-zero exit, a message, keep.csv untouched
        local what=$1; shift
        "$exe" "$@" --csv keep.csv >out.txt 2>err.txt && fail "$what: exit status 0"
        [ -s err.txt ] || fail "$what: no message on stderr"
        [ "$(cat keep.csv)" = keep ] || fail "$what: keep.csv was overwritten"
        echo "$what: $(head -n 1 err.txt)"
    }
    expect_fail "missing data" --device cpu --data "$work/nowhere"
    mkdir -p corrupt && cp "$data"/t10k-* corrupt/ || exit 1
    head -c 5000 "$data/train-images-idx3-ubyte.gz" > corrupt/train-images-idx3-ubyte.gz
    cp "$data/train-labels-idx1-ubyte.gz" corrupt/
    expect_fail "truncated data" --device cpu --data corrupt
    printf '\x00\x00\x08\x03garbage' > corrupt/train-images-idx3-ubyte.gz
    expect_fail "bad header" --device cpu --data corrupt
    expect_fail "unknown device" --device opencl:99:99 --data "$data"
    expect_fail "bad option" --device cpu --epochs many
    "$exe" --device cpu --model linear --epochs 1 --limit 200 --data "$data" --save lin >/dev/null || fail "linear run"
    expect_fail "another model's checkpoint" "${common[@]}" --resume lin
    cp lin lin.saved
    expect_fail "missing checkpoint" "${common[@]}" --resume nothing-here --save lin
    cmp lin lin.saved || fail "the checkpoint was overwritten"
    ;;
*)
    fail "unknown case $case_name"
    ;;
esac
echo "PASS: $case_name"
