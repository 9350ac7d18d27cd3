"""PyTorch's side of bench_transformer: the same workloads, printed as "key value" lines.

  /usr/bin/python3 bench/bench_transformer.py [--threads N] [--reps N]

transformer_layer_ms   nn.TransformerEncoderLayer(256, 4, 1024, dropout=0, batch_first=True) on
                       torch.rand(8, 128, 256), forward + backward of the sum (as
                       shared/bench/torch_reference.py)
attention_T_ms         softmax(q k^T / 8) v forward + backward, q, k, v (8, 4, T, 64), T = 128, 256, 512
gpt_tokens_per_s       training steps of examples/gpt_twin.py's GPT (4 layers, 4 heads, n_embd 128,
                       block 64, batch 32, vocab 100, AdamW) on random tokens
Each is the median of 3 timings of --reps calls (after one warm-up call).
"""
import argparse, math, pathlib, statistics, sys, time
import torch
from torch import nn

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "examples"))
from gpt_twin import GPT  # noqa: E402


def median_ms(fn, reps):
    fn()
    times = []
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(reps):
            fn()
        times.append((time.perf_counter() - t) / reps)
    return statistics.median(times) * 1e3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    print("threads", torch.get_num_threads())
    enc = nn.TransformerEncoderLayer(256, 4, 1024, dropout=0.0, batch_first=True)
    x = torch.rand(8, 128, 256)
    print("transformer_layer_ms", round(median_ms(lambda: enc(x).sum().backward(), a.reps), 3), flush=True)
    for T in (128, 256, 512):
        q, k, v = (torch.randn(8, 4, T, 64, requires_grad=True) for _ in range(3))

        def attention():
            y = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(64), -1) @ v
            y.sum().backward()

        print(f"attention_{T}_ms", round(median_ms(attention, a.reps), 3), flush=True)
    gpt = GPT(100, 64, 4, 4, 128)
    opt = torch.optim.AdamW(gpt.parameters(), lr=1e-3, betas=(0.9, 0.95), weight_decay=0.1)
    idx, tgt = torch.randint(0, 100, (32, 64)), torch.randint(0, 100, (32, 64))

    def step():
        opt.zero_grad()
        nn.functional.cross_entropy(gpt(idx).reshape(-1, 100), tgt.reshape(-1)).backward()
        opt.step()

    print("gpt_tokens_per_s", round(32 * 64 / (median_ms(step, a.reps) * 1e-3)), flush=True)


if __name__ == "__main__":
    main()
