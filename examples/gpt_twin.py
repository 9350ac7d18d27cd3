"""The PyTorch twin of the GPT programs (examples/gpt.c, gpt_sort.c, gpt_chars.c).

The same model with the same parameter names, the same data, the same batches (splitmix64
offsets), the same optimizer (AdamW with minGPT's no-decay group, gradients clipped to a
global norm of 1, a cosine schedule down to lr / 10) and steps, starting from lamina's
initial state_dict:

  gpt_chars --device cpu --save-init init.safetensors --losses lamina.txt [options]
  /usr/bin/python3 examples/gpt_twin.py chars --init init.safetensors --losses torch.txt [the same options]

prints the twin's training and validation losses as gpt_chars does; compare the final
validation losses. `gpt_twin.py sort ...` does the same for gpt_sort (held-out accuracy).

  gpt_twin.py check FILE --vocab-size V ... [--out REF]
loads a GPT saved by lamina strictly (every key, dtype and shape), runs it on fixed ids
and writes its state_dict (saved by PyTorch) and logits to REF for tests/test_gpt.c.
"""
import argparse, math, os, pathlib, sys, time
import torch
from torch import nn
from torch.nn import functional as F

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "tests" / "reference"))
from make_module_reference import read_safetensors, write_safetensors  # noqa: E402

MASK64 = (1 << 64) - 1


class SplitMix64:
    """examples/gpt_train.c's gpt_rand_next."""

    def __init__(self, seed):
        self.state = seed & MASK64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)


class MLP(nn.Module):
    def __init__(self, n_embd):
        super().__init__()
        self.c_fc = nn.Linear(n_embd, 4 * n_embd)
        self.c_proj = nn.Linear(4 * n_embd, n_embd)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, n_embd, n_head):
        super().__init__()
        self.ln_1 = nn.LayerNorm(n_embd)
        self.attn = nn.MultiheadAttention(n_embd, n_head, batch_first=True)
        self.ln_2 = nn.LayerNorm(n_embd)
        self.mlp = MLP(n_embd)

    def forward(self, x, mask):
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, attn_mask=mask, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, vocab_size, block_size, n_layer, n_head, n_embd):
        super().__init__()
        self.wte = nn.Embedding(vocab_size, n_embd)
        self.wpe = nn.Embedding(block_size, n_embd)
        self.h = nn.ModuleList(Block(n_embd, n_head) for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(n_embd)
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)

    def forward(self, idx):
        T = idx.shape[1]
        x = self.wte(idx) + self.wpe(torch.arange(T))
        mask = nn.Transformer.generate_square_subsequent_mask(T)
        for block in self.h:
            x = block(x, mask)
        return self.lm_head(self.ln_f(x))


def load_strict(model, path):
    tensors, _ = read_safetensors(path)
    sd = model.state_dict()
    assert list(tensors) == list(sd), f"keys differ:\n file  {list(tensors)}\n torch {list(sd)}"
    for k, t in tensors.items():
        assert t.dtype == sd[k].dtype and t.shape == sd[k].shape, f"{k}: {t.dtype} {t.shape} vs {sd[k].shape}"
    model.load_state_dict(tensors, strict=True)


def loss_of(logits, y, ignore_index):
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=ignore_index)


def decays(module, name):
    """lamina's lam_param_decays: Linear weights and MultiheadAttention's in_proj_weight."""
    if isinstance(module, nn.MultiheadAttention):
        return name == "in_proj_weight"
    return isinstance(module, nn.Linear) and name == "weight"


def optimizer(model, a):
    decay = [p for m in model.modules() for n, p in m.named_parameters(recurse=False) if decays(m, n)]
    quiet = [p for m in model.modules() for n, p in m.named_parameters(recurse=False) if not decays(m, n)]
    return torch.optim.AdamW([{"params": decay}, {"params": quiet, "weight_decay": 0.0}], lr=a.lr, betas=(0.9, 0.95),
                             eps=1e-8, weight_decay=a.weight_decay)


def train(model, a, batch, ignore_index, log):
    opt = optimizer(model, a)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(a.steps, 1), eta_min=a.lr / 10)
    losses = open(a.losses, "w") if a.losses else None
    t0 = time.perf_counter()
    for step in range(a.steps):
        x, y = batch()
        opt.zero_grad()
        loss = loss_of(model(x), y, ignore_index)
        loss.backward()
        if a.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), a.grad_clip)
        opt.step()
        sched.step()
        if losses:
            losses.write(f"{step} {loss.item():.9g}\n")
        log(step + 1, loss.item(), time.perf_counter() - t0)
    dt = time.perf_counter() - t0
    return dt


# ---- sorting ---------------------------------------------------------------------------------

LEN, DIGITS = 6, 3


def sequence(k):
    out = []
    for _ in range(LEN):
        out.append(k % DIGITS)
        k //= DIGITS
    return out[::-1]


def sort_task(a):
    train_set, test_set = [], []
    for k in range(DIGITS ** LEN):
        (test_set if SplitMix64(k).next() % 4 == 0 else train_set).append(k)
    rng = SplitMix64(a.seed)

    def batch():
        xs, ys = [], []
        for _ in range(a.batch):
            s = sequence(train_set[rng.next() % len(train_set)])
            s = s + sorted(s)
            xs.append(s[:-1])
            ys.append([-1] * (LEN - 1) + s[LEN:])
        return torch.tensor(xs), torch.tensor(ys)

    model = GPT(DIGITS, 2 * LEN - 1, a.n_layer, a.n_head, a.n_embd)
    load_strict(model, a.init)
    dt = train(model, a, batch, -1, lambda s, l, t: s % a.eval_every == 0 and print(f"step {s} loss {l:.4f}"))
    with torch.no_grad():
        x = torch.tensor([sequence(k) for k in test_set])
        for _ in range(LEN):
            x = torch.cat([x, model(x)[:, -1].argmax(-1, keepdim=True)], 1)
    right = sum(x[i, LEN:].tolist() == sorted(sequence(k)) for i, k in enumerate(test_set))
    print(f"trained {a.steps} steps in {dt:.1f} s ({a.steps * a.batch * (2 * LEN - 1) / dt:.0f} tokens/s)")
    print(f"held-out exact match {right}/{len(test_set)} = {100 * right / len(test_set):.2f}% (greedy decoding)")


# ---- characters ------------------------------------------------------------------------------

def corpus(a):
    names = sorted(n for n in os.listdir(a.data) if not n.startswith(".") and not n.endswith((".dat", ".u8"))
                   and os.path.isfile(os.path.join(a.data, n)) and not os.path.islink(os.path.join(a.data, n)))
    text = b"".join(pathlib.Path(a.data, n).read_bytes() for n in names)
    if a.limit:
        text = text[:a.limit]
    chars = sorted(set(text))
    ids = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([ids[c] for c in text], dtype=torch.int64)
    n_train = int(len(data) * (1.0 - a.val_frac))
    print(f"corpus: {len(names)} files, {len(data)} characters ({n_train} train, {len(data) - n_train} validation), "
          f"{len(chars)} distinct")
    return data, n_train, len(chars)


def windows(data, at, T):
    idx = torch.tensor(at).unsqueeze(1) + torch.arange(T + 1)
    w = data[idx]
    return w[:, :-1], w[:, 1:]


def eval_loss(model, data, a, lo, hi):
    B, T, count = a.batch, a.block_size, a.eval_batches * a.batch
    total = 0.0
    with torch.no_grad():
        for e in range(a.eval_batches):
            at = [lo + (e * B + b) * (hi - lo - T - 1) // (count - 1 if count > 1 else 1) for b in range(B)]
            x, y = windows(data, at, T)
            total += loss_of(model(x), y, -100).item()
    return total / a.eval_batches


def chars_task(a):
    data, n_train, vocab = corpus(a)
    model = GPT(vocab, a.block_size, a.n_layer, a.n_head, a.n_embd)
    load_strict(model, a.init)
    print(f"val loss before training {eval_loss(model, data, a, n_train, len(data)):.4f}")
    rng = SplitMix64(a.seed)

    def batch():
        return windows(data, [rng.next() % (n_train - a.block_size - 1) for _ in range(a.batch)], a.block_size)

    def log(step, loss, t):
        if step % a.eval_every == 0 or step == a.steps:
            print(f"step {step}/{a.steps}: train loss {eval_loss(model, data, a, 0, n_train):.4f}, "
                  f"val loss {eval_loss(model, data, a, n_train, len(data)):.4f} ({t:.1f} s)", flush=True)

    dt = train(model, a, batch, -100, log)
    print(f"trained {a.steps} steps in {dt:.1f} s ({a.steps * a.batch * a.block_size / dt:.0f} tokens/s)")
    print(f"final val loss {eval_loss(model, data, a, n_train, len(data)):.4f}")


# ---- lamina -> PyTorch -> lamina ------------------------------------------------------------

def check(a):
    model = GPT(a.vocab_size, a.block_size, a.n_layer, a.n_head, a.n_embd)
    load_strict(model, a.file)
    g = torch.Generator().manual_seed(0)
    idx = torch.randint(0, a.vocab_size, (2, a.block_size), generator=g)
    ref = {"idx": idx, "logits": model(idx).detach()}
    twin = GPT(a.vocab_size, a.block_size, a.n_layer, a.n_head, a.n_embd)   # PyTorch's own init
    ref["torch_logits"] = twin(idx).detach()
    print(f"{a.file}: {len(model.state_dict())} tensors loaded strictly into the twin")
    if a.out:
        write_safetensors(pathlib.Path(a.out), ref)
        write_safetensors(pathlib.Path(a.out).with_name("gpt_torch_state.safetensors"), twin.state_dict(), {"format": "pt"})


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("task", choices=["sort", "chars", "check"])
    ap.add_argument("file", nargs="?", help="check: a GPT state_dict saved by lamina")
    ap.add_argument("--init", help="lamina's initial state_dict (--save-init)")
    ap.add_argument("--losses", help="write 'step loss' lines")
    ap.add_argument("--out", help="check: write the reference here")
    for name, default in (("steps", None), ("batch", None), ("eval-every", None), ("seed", 0), ("n-layer", None),
                          ("n-head", None), ("n-embd", None), ("block-size", None), ("eval-batches", 8),
                          ("limit", 0), ("vocab-size", 0)):
        ap.add_argument("--" + name, type=int, default=default)
    ap.add_argument("--lr", type=float)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--grad-clip", type=float, default=1.0)
    ap.add_argument("--val-frac", type=float, default=0.1)
    ap.add_argument("--data", default="/usr/share/games/fortunes")
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: PyTorch's default)")
    a = ap.parse_args()
    defaults = {"sort": dict(steps=1000, batch=64, eval_every=100, n_layer=3, n_head=3, n_embd=48, block_size=11, lr=5e-4),
                "chars": dict(steps=2000, batch=32, eval_every=200, n_layer=4, n_head=4, n_embd=128, block_size=64, lr=1e-3),
                "check": dict(steps=0, batch=1, eval_every=1, n_layer=2, n_head=2, n_embd=16, block_size=8, lr=0)}[a.task]
    for k, v in defaults.items():
        if getattr(a, k) is None:
            setattr(a, k, v)
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    {"sort": sort_task, "chars": chars_task, "check": check}[a.task](a)


if __name__ == "__main__":
    main()
