#!/bin/bash
# Distributed tests of train_mnist (mpirun, 2 ranks of one thread each on this machine):
#   train_mnist_dist_test.sh CASE TRAIN_MNIST WORKDIR DATADIR MPIRUN_SH [DEVICE]
#   agreement   2 ranks x batch 32 give the CSV of 1 process x batch 64 (1e-5), on DEVICE
#               (default cpu; "" for the default device)
#   resume      2 ranks: 2 epochs + save + resume 1 epoch == 3 straight epochs (1e-5); a
#               2-rank checkpoint refuses a 1-process resume
#   mismatch    ranks built with different models, or given different data: every rank
#               reports it, the job ends
#   rank_dies   one rank killed mid-training: the job ends (no hang) and the last checkpoint
#               resumes
#   journal     a save cut short between its renames is completed on resume, one cut short
#               before its state file is dropped (the previous checkpoint stands)
set -u
case_name=$1 exe=$2 work=$3 data=$4 mpirun_sh=$5 device=${6-cpu}
rm -rf "$work" && mkdir -p "$work" || exit 1
cd "$work" || exit 1
fail() { echo "FAIL: $*" >&2; exit 1; }
common=(--limit 1000 --data "$data")
[ -n "$device" ] && common+=(--device "$device")
ranks2() { timeout 240 bash "$mpirun_sh" 2 "$work/cache" "$exe" --distributed "$@"; }
one() { OMP_NUM_THREADS=1 "$exe" "$@"; }
# close FILE_A FILE_B: the last CSV lines agree to 1e-5 in every column
close() {
    local a b
    a=$(tail -n 1 "$1") b=$(tail -n 1 "$2")
    echo "$1: $a"
    echo "$2: $b"
    awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, ","); split(b, y, ",");
        if (x[1] != y[1]) exit 1;
        for (i = 2; i <= 5; i++) { d = x[i] - y[i]; if (d < 0) d = -d; if (d > 1e-5) exit 1 } }'
}

case $case_name in
agreement)
    one "${common[@]}" --epochs 2 --batch 64 --csv one.csv >one.txt || fail "one process"
    ranks2 "${common[@]}" --epochs 2 --batch 32 --csv two.csv >two.txt 2>&1 || { cat two.txt; fail "2 ranks"; }
    grep -q 'data parallel over 2 ranks' two.txt || fail "not 2 ranks"
    [ "$(grep -o 'train acc' two.txt | wc -l)" = 2 ] || fail "rank 1 printed too (or nobody did)"
    close one.csv two.csv || fail "2 ranks x 32 differ from 1 x 64"
    ;;
resume)
    ranks2 "${common[@]}" --epochs 3 --csv straight.csv >/dev/null 2>&1 || fail "straight run"
    ranks2 "${common[@]}" --epochs 2 --save ck >/dev/null 2>&1 || fail "first half"
    ranks2 "${common[@]}" --epochs 1 --resume ck --csv resumed.csv >resumed.txt 2>&1 || fail "resumed half"
    grep -q 'epochs 3..3' resumed.txt || fail "the resumed run did not start at epoch 3"
    close straight.csv resumed.csv || fail "resumed epoch 3 differs from the straight one"
    one "${common[@]}" --epochs 1 --resume ck >/dev/null 2>err.txt && fail "a 2-rank checkpoint resumed in 1 process"
    grep -q 'trained with --ranks 2, this run has --ranks 1' err.txt || fail "no message: $(cat err.txt)"
    ;;
mismatch)
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
    timeout 120 mpirun --oversubscribe --bind-to none -np 1 "$exe" --distributed "${common[@]}" --model mlp \
        : -np 1 "$exe" --distributed "${common[@]}" --model linear >out.txt 2>err.txt
    rc=$?
    [ $rc = 124 ] && fail "the job hung"
    [ $rc = 0 ] && fail "the job succeeded"
    [ "$(grep -c 'the ranks hold different models' err.txt)" = 2 ] || { cat err.txt; fail "not both ranks said why"; }
    grep 'rank 1 has' err.txt
    # the same model but other data: every rank says so before the first step
    timeout 120 mpirun --oversubscribe --bind-to none -np 1 "$exe" --distributed "${common[@]}" \
        : -np 1 "$exe" --distributed "${common[@]}" --limit 500 >out.txt 2>err.txt
    rc=$?
    [ $rc = 124 ] && fail "the job with other data hung"
    [ $rc = 0 ] && fail "the job with other data succeeded"
    [ "$(grep -c 'the ranks disagree on training examples: rank 0 has 1000, rank 1 has 500' err.txt)" = 2 ] ||
        { cat err.txt; fail "not both ranks said the data differ"; }
    ;;
rank_dies)
    ranks2 "${common[@]}" --epochs 1000 --save ck >run.txt 2>err.txt &
    job=$!
    for _ in $(seq 600); do [ -f ck.state ] && break; sleep 0.1; done
    [ -f ck.state ] || fail "no checkpoint after 60 s"
    sleep 0.5   # into the next epoch (or the next save)
    mpirun_pid=$(pgrep -P "$(pgrep -P $job -x timeout)" -x mpirun)
    victim=$(pgrep -P "$mpirun_pid" | tail -n 1)
    [ -n "$victim" ] || fail "no rank to kill"
    kill -9 "$victim"
    for _ in $(seq 300); do kill -0 $job 2>/dev/null || break; sleep 0.1; done
    kill -0 $job 2>/dev/null && { kill "$mpirun_pid"; fail "the job still runs 30 s after a rank died"; }
    wait $job && fail "the job ended with status 0 after a rank died"
    epochs=$(sed -n 's/^epochs //p' ck.state)
    echo "rank $victim killed after $epochs epoch(s) were saved; the job ended"
    ranks2 "${common[@]}" --epochs 1 --resume ck --csv after.csv >after.txt 2>&1 || { cat after.txt; fail "resume"; }
    grep -q "epochs $((epochs + 1))..$((epochs + 1))" after.txt || fail "did not resume at epoch $((epochs + 1))"
    ;;
journal)
    one "${common[@]}" --epochs 1 --save ck >/dev/null || fail "epoch 1"
    one "${common[@]}" --epochs 2 --save newer >/dev/null || fail "epochs 1-2"
    cp ck old && cp ck.optim old.optim && cp ck.state old.state
    # cut short after the optimizer's rename: the rest is rolled forward
    cp newer ck.next && cp newer.optim ck.optim && cp newer.state ck.next.state
    one "${common[@]}" --epochs 1 --resume ck >r1.txt || fail "resume after a cut-short save"
    grep -q 'epochs 3..3' r1.txt || fail "the completed save was not epoch 2's"
    cmp ck newer && cmp ck.state newer.state || fail "not rolled forward"
    [ -e ck.next ] || [ -e ck.next.state ] && fail "journal files left"
    # cut short before the state file: the old checkpoint stands
    cp old ck && cp old.optim ck.optim && cp old.state ck.state
    cp newer ck.next && cp newer.optim ck.next.optim
    one "${common[@]}" --epochs 1 --resume ck >r2.txt || fail "resume after an incomplete save"
    grep -q 'epochs 2..2' r2.txt || fail "the incomplete save was used"
    [ -e ck.next ] || [ -e ck.next.optim ] && fail "incomplete save not dropped"
    ;;
*)
    fail "unknown case $case_name"
    ;;
esac
echo "PASS: $case_name"
