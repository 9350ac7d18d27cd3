#!/bin/bash
# Tests of train_mnist: train_mnist_test.sh CASE TRAIN_MNIST WORKDIR DATADIR
#   determinism  same seed twice on cpu -> identical CSV
#   resume       2 epochs + save + resume 1 epoch == 3 straight epochs (|loss diff| <= 1e-5)
#   resume_schedule  the same with AdamW, a no-decay group, a one-cycle schedule stepped per
#                batch and clipping, then SGD with a step schedule stepped per epoch: the
#                resumed epoch's CSV line is the straight run's, character for character
#   fashion      one short epoch on Debian's Fashion-MNIST learns something (skipped, 77,
#                when /usr/share/datasets/fashion-mnist is missing)
#   agreement    one epoch on cpu and on the default device (when it is OpenCL) agree to 1e-3
#   bad_input    missing/corrupt data, unknown device, another model's or optimizer's
#                checkpoint, a model not built yet, a schedule run past its end: a message
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
resume_schedule)
    same_last_line() {   # same_last_line NAME ARGS...: 3 straight == 2 + save + 1 resumed
        local name=$1; shift
        "$exe" "${common[@]}" "$@" --epochs 3 --csv "$name-straight.csv" >/dev/null || fail "$name: straight run"
        "$exe" "${common[@]}" "$@" --epochs 2 --schedule-epochs 3 --save "$name.ck" >/dev/null ||
            fail "$name: first half"
        "$exe" "${common[@]}" "$@" --epochs 1 --resume "$name.ck" --csv "$name-resumed.csv" >"$name.txt" ||
            fail "$name: resumed half"
        grep -q 'epochs 3..3' "$name.txt" || fail "$name: the resumed run did not start at epoch 3"
        a=$(tail -n 1 "$name-straight.csv") b=$(tail -n 1 "$name-resumed.csv")
        [ "$a" = "$b" ] || fail "$name: resumed epoch 3 ($b) differs from straight epoch 3 ($a)"
        echo "$name: epoch 3 straight and resumed: $a"
    }
    same_last_line onecycle --optim adamw --lr 0.003 --decay weights --schedule onecycle --clip 1
    same_last_line step --optim sgd --weight-decay 5e-4 --schedule step --step-size 1 --gamma 0.5
    ;;
fashion)
    fm=/usr/share/datasets/fashion-mnist
    [ -d "$fm" ] || { echo "SKIP: $fm is missing (apt-get install dataset-fashion-mnist)"; exit 77; }
    "$exe" --device cpu --data "$fm" --limit 3000 --epochs 1 --schedule cosine --min-test-acc 0.7 \
        --csv fashion.csv >fashion.txt || { cat fashion.txt; fail "Fashion-MNIST run"; }
    grep -q '3000 training and 10000 test images' fashion.txt || fail "not 3000 + 10000 Fashion-MNIST images"
    tail -n 1 fashion.txt
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
    expect_fail "unknown schedule" --device cpu --schedule sometimes
    expect_fail "a model not built yet" --device cpu --model resnet
    expect_fail "one-cycle past its end" --device cpu --schedule onecycle --schedule-epochs 2 --epochs 3
    "$exe" --device cpu --model linear --epochs 1 --limit 200 --data "$data" --save lin >/dev/null || fail "linear run"
    expect_fail "another model's checkpoint" "${common[@]}" --resume lin
    expect_fail "another optimizer's checkpoint" "${common[@]}" --model linear --optim adam --resume lin
    cp lin lin.saved
    expect_fail "missing checkpoint" "${common[@]}" --resume nothing-here --save lin
    cmp lin lin.saved || fail "the checkpoint was overwritten"
    ;;
*)
    fail "unknown case $case_name"
    ;;
esac
echo "PASS: $case_name"
