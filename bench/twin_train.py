"""The PyTorch twin of a train_mnist run with a convolutional model: the same model, started
from lamina's initial state_dict (train_mnist --save-init), the same images in the same order
(lamina's Philox Fisher-Yates shuffle, include/lamina/data.h), the same per-channel
normalization, optimizer, schedule and evaluation, so the two runs differ only by floating
point, not by seed.

  train_mnist --model lenet --device cpu --optim adam --lr 1e-3 --batch 64 --epochs 10 \\
      --save-init lenet0.safetensors --csv lamina.csv
  /usr/bin/python3 bench/twin_train.py --model lenet --init lenet0.safetensors --data data \\
      --optim adam --lr 1e-3 --batch 64 --epochs 10 --csv twin.csv

(the ResNet run of the README adds --model resnet --data /usr/share/datasets/fashion-mnist
--optim sgd --lr 0.1 --momentum 0.9 --weight-decay 5e-4 --schedule onecycle --batch 128).
Prints one line per epoch (and writes train_mnist's CSV columns), with seconds per epoch.
"""
import argparse, gzip, pathlib, struct, sys, time
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

here = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(here.parent / "tests" / "reference"))
from make_module_reference import read_safetensors  # noqa: E402
from make_resnet_reference import ResNet  # noqa: E402

MASK = 0xFFFFFFFF


def philox_word0(counters, key):
    """Word 0 of Philox 4x32-10 (cl/common.h lam_philox) at each counter, for one 64-bit key."""
    c0, c1 = counters & MASK, counters >> np.uint64(32)
    c2 = np.zeros_like(c0)
    c3 = np.zeros_like(c0)
    k0, k1 = key & MASK, key >> 32
    for _ in range(10):
        p0, p1 = np.uint64(0xD2511F53) * c0, np.uint64(0xCD9E8D57) * c2
        n0 = (p1 >> np.uint64(32)) ^ c1 ^ np.uint64(k0)
        n2 = (p0 >> np.uint64(32)) ^ c3 ^ np.uint64(k1)
        c1, c3, c0, c2 = p1 & np.uint64(MASK), p0 & np.uint64(MASK), n0, n2
        k0, k1 = (k0 + 0x9E3779B9) & MASK, (k1 + 0xBB67AE85) & MASK
    return c0


def shuffled(n, seed, epoch):
    """lam_dataset_shuffle's order: Fisher-Yates, draw j from counter n - 1 - j."""
    key = (seed ^ (epoch * 0x9E3779B97F4A7C15)) & 0xFFFFFFFFFFFFFFFF
    words = philox_word0(np.arange(max(n - 1, 0), dtype=np.uint64), key).tolist()
    order = list(range(n))
    for j in range(n - 1, 0, -1):
        k = (words[n - 1 - j] * (j + 1)) >> 32
        order[j], order[k] = order[k], order[j]
    return np.array(order)


def read_idx(directory, names):
    for name in names:
        for path in (directory / name, directory / (name + ".gz")):
            if path.exists():
                raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
                ndim = raw[3]
                dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
                return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)
    raise FileNotFoundError(f"{directory}: none of {names}")


def load(directory, limit):
    d = pathlib.Path(directory)
    xs = read_idx(d, ["train-images-idx3-ubyte"]).astype(np.float32) / np.float32(255)
    ys = read_idx(d, ["train-labels-idx1-ubyte"]).astype(np.int64)
    xt = read_idx(d, ["t10k-images-idx3-ubyte", "test-images-idx3-ubyte"]).astype(np.float32) / np.float32(255)
    yt = read_idx(d, ["t10k-labels-idx1-ubyte", "test-labels-idx1-ubyte"]).astype(np.int64)
    if limit > 0:
        xs, ys = xs[:limit], ys[:limit]
    mean = xs.astype(np.float64).mean()   # lam_dataset_channel_stats: double, unbiased std
    std = np.sqrt(((xs.astype(np.float64) - mean) ** 2).sum() / (xs.size - 1))
    mean, std = np.float32(mean), np.float32(std)
    norm = lambda a: torch.from_numpy(((a - mean) / std).astype(np.float32)).unsqueeze(1)
    return norm(xs), torch.from_numpy(ys), norm(xt), torch.from_numpy(yt), float(mean), float(std)


def lenet(classes=10):
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3, padding=1),
                         nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(),
                         nn.Linear(128, classes))


def evaluate(net, x, y):
    net.eval()
    hits, loss = 0, 0.0
    with torch.no_grad():
        for b in range(0, len(x), 500):
            logits = net(x[b:b + 500])
            loss += F.cross_entropy(logits, y[b:b + 500], reduction="sum").item()
            hits += (logits.argmax(1) == y[b:b + 500]).sum().item()
    return loss / len(x), hits / len(x)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", choices=["lenet", "resnet"], required=True)
    ap.add_argument("--init", required=True, help="lamina's initial state_dict (train_mnist --save-init)")
    ap.add_argument("--data", default=str(here.parent / "data"))
    ap.add_argument("--optim", choices=["sgd", "adam"], default="sgd")
    ap.add_argument("--lr", type=float, default=None)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--weight-decay", type=float, default=0.0)
    ap.add_argument("--schedule", choices=["none", "onecycle"], default="none")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--csv")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    lr = a.lr if a.lr is not None else (0.05 if a.optim == "sgd" else 1e-3)
    x, y, xt, yt, mean, std = load(a.data, a.limit)
    net = lenet() if a.model == "lenet" else ResNet()
    state, _ = read_safetensors(a.init)
    net.load_state_dict(state, strict=True)
    if a.optim == "adam":
        opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=a.weight_decay)
    else:
        opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=a.momentum, weight_decay=a.weight_decay)
    batches = (len(x) + a.batch - 1) // a.batch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=a.epochs * batches) \
        if a.schedule == "onecycle" else None
    print(f"twin {a.model}: {len(x)} training, {len(xt)} test images from {a.data}, mean {mean:.4f} std {std:.4f}; "
          f"{a.optim} lr {lr}, batch {a.batch}, {torch.get_num_threads()} thread(s)", flush=True)
    csv = open(a.csv, "w") if a.csv else None
    if csv:
        csv.write("epoch,train_loss,train_acc,test_loss,test_acc,seconds\n")
    for epoch in range(a.epochs):
        order = torch.from_numpy(shuffled(len(x), a.seed, epoch))
        net.train()
        t0, loss_sum, hits = time.perf_counter(), 0.0, 0
        for b in range(batches):
            idx = order[b * a.batch:(b + 1) * a.batch]
            opt.zero_grad()
            logits = net(x[idx])
            loss = F.cross_entropy(logits, y[idx])
            loss.backward()
            opt.step()
            if sched:
                sched.step()
            loss_sum += loss.item() * len(idx)
            hits += (logits.argmax(1) == y[idx]).sum().item()
        seconds = time.perf_counter() - t0
        test_loss, test_acc = evaluate(net, xt, yt)
        print(f"epoch {epoch + 1:2d}/{a.epochs}  loss {loss_sum / len(x):.7f}  train acc {hits / len(x):.4f}  "
              f"test loss {test_loss:.7f}  test acc {test_acc:.4f}  {seconds:.1f} s", flush=True)
        if csv:
            csv.write(f"{epoch + 1},{loss_sum / len(x):.7f},{hits / len(x):.6f},{test_loss:.7f},{test_acc:.6f},{seconds:.1f}\n")
            csv.flush()


if __name__ == "__main__":
    main()
