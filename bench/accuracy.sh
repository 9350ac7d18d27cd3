#!/usr/bin/env bash
# The accuracy runs of the README, each beside its PyTorch twin (bench/twin_train.py starts
# from lamina's initial state_dict and visits the same images in the same order):
#   lenet   the bundled MNIST subset, 10 epochs, Adam 1e-3, batch 64
#   resnet  Fashion-MNIST (Debian's dataset-fashion-mnist), 10 epochs of SGD (momentum 0.9,
#           one-cycle to lr 0.1, weight decay 5e-4), batch 128
# on the cpu device, one thread each (OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1, PyTorch
# --threads 1) so a shared machine does not stall them; lamina and its twin run at once.
#
#   bench/accuracy.sh [lenet|resnet|both] [WORKDIR] [EPOCHS]    (TRAIN_MNIST=path overrides the binary)
#
# Writes WORKDIR/<model>-lamina.{txt,csv} and <model>-torch.{txt,csv}, then prints the last
# epoch of each and the difference in test accuracy. Long: the ResNet pair takes about an
# hour of CPU time (run it under nice on a shared machine).
set -euo pipefail
which=${1:-both} work=${2:-accuracy} epochs=${3:-10}
root=$(cd "$(dirname "$0")/.." && pwd)
exe=${TRAIN_MNIST:-$root/build/examples/train_mnist} twin=$root/bench/twin_train.py
[ -x "$exe" ] || { echo "build first: cmake --build build --target train_mnist" >&2; exit 1; }
mkdir -p "$work"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1

pair() {   # pair NAME TRAIN_MNIST_AND_TWIN_ARGS...
    local name=$1; shift
    "$exe" --device cpu --model "$name" --epochs "$epochs" "$@" --save-init "$work/$name-init.safetensors" \
        --csv "$work/$name-lamina.csv" >"$work/$name-lamina.txt" 2>&1 &
    local pid=$!
    while [ ! -s "$work/$name-init.safetensors" ] && kill -0 "$pid" 2>/dev/null; do sleep 1; done
    /usr/bin/python3 "$twin" --model "$name" --init "$work/$name-init.safetensors" --epochs "$epochs" --threads 1 "$@" \
        --csv "$work/$name-torch.csv" >"$work/$name-torch.txt" 2>&1
    wait "$pid"
    local a b
    a=$(tail -n 1 "$work/$name-lamina.csv" | cut -d, -f5) b=$(tail -n 1 "$work/$name-torch.csv" | cut -d, -f5)
    echo "$name: lamina $(grep '^epoch' "$work/$name-lamina.txt" | tail -n 1)"
    echo "$name: torch  $(grep '^epoch' "$work/$name-torch.txt" | tail -n 1)"
    awk -v a="$a" -v b="$b" -v n="$name" 'BEGIN { printf "%s: test accuracy lamina %.2f%%, PyTorch twin %.2f%%, difference %.2f points\n", n, 100 * a, 100 * b, 100 * (a - b) }'
}

if [ "$which" = lenet ] || [ "$which" = both ]; then
    pair lenet --data "$root/data" --optim adam --lr 1e-3 --batch 64
fi
if [ "$which" = resnet ] || [ "$which" = both ]; then
    pair resnet --data /usr/share/datasets/fashion-mnist --optim sgd --lr 0.1 --momentum 0.9 --weight-decay 5e-4 \
        --schedule onecycle --batch 128
fi
