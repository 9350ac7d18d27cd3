"""Writes the module references: the chapter's models in PyTorch, run once on a fixed X.

Run with Debian's torch: /usr/bin/python3 tests/reference/make_module_reference.py [--out DIR]
For each model M in (mlp, fixed_hidden_mlp, chimera):
  module_M_state.safetensors  its state_dict (the C twin lam_load()s it as is)
and module_ref.safetensors holds M.x, M.out and M.grad.<param> after out.sum().backward(),
module_names.txt every state_dict entry "M param|buffer NAME DIMS...", in PyTorch's order.
If module_lamina_saved.safetensors (a chimera saved by lamina's lam_save) is present, PyTorch
loads it strictly and module_ref.safetensors also gets lamina_saved.out = chimera(chimera.x).

  make_module_reference.py --check FILE [--model chimera]
loads a lamina-saved file into the PyTorch twin with load_state_dict(strict=True) after
checking every key, dtype and shape, runs it on the reference X and prints the output.
The C test (tests/test_modules.c) builds the twins, loads the states and compares.
"""
import argparse, json, struct, sys, pathlib
import torch
from torch import nn
from torch.nn import functional as F

here = pathlib.Path(__file__).parent


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.LazyLinear(256)
        self.out = nn.LazyLinear(10)

    def forward(self, X):
        return self.out(F.relu(self.hidden(X)))


class FixedHiddenMLP(nn.Module):
    def __init__(self):
        super().__init__()
        # a constant weight, a buffer so that state_dict and .to() see it
        self.register_buffer("rand_weight", torch.rand((20, 20)))
        self.linear = nn.LazyLinear(20)

    def forward(self, X):
        X = self.linear(X)
        X = F.relu(X @ self.rand_weight + 1)
        X = self.linear(X)
        while X.abs().sum() > 1:
            X = X / 2
        return X.sum()


class NestMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.LazyLinear(64), nn.ReLU(), nn.LazyLinear(32), nn.ReLU())
        self.linear = nn.LazyLinear(16)

    def forward(self, X):
        return self.linear(self.net(X))


MODELS = (("mlp", MLP), ("fixed_hidden_mlp", FixedHiddenMLP),
          ("chimera", lambda: nn.Sequential(NestMLP(), nn.LazyLinear(20), FixedHiddenMLP())))
DTYPES = {torch.float32: "F32", torch.int32: "I32", torch.int64: "I64"}


def write_safetensors(path, tensors, metadata=None):
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, t in tensors.items():
        t = t.detach().contiguous()
        data = t.numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def read_safetensors(path):
    """(tensors in file order, metadata); checks the layout like the safetensors library."""
    raw = pathlib.Path(path).read_bytes()
    (hlen,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + hlen])
    data = raw[8 + hlen:]
    metadata = header.pop("__metadata__", {})
    torch_dtype = {v: k for k, v in DTYPES.items()}
    out, spans = {}, []
    for name, e in header.items():
        b, end = e["data_offsets"]
        dt = torch_dtype[e["dtype"]]
        n = 1
        for d in e["shape"]:
            n *= d
        assert end - b == n * torch.empty((), dtype=dt).element_size(), f"{name}: byte range vs shape"
        spans.append((b, end))
        out[name] = torch.frombuffer(bytearray(data[b:end]), dtype=dt).reshape(e["shape"])
    at = 0
    for b, end in sorted(spans):
        assert b == at, f"gap or overlap at byte {b}"
        at = end
    assert at == len(data), "trailing bytes"
    return out, metadata


def materialized(name):
    """The model M as the reference builds it (seed 0, models made in order), with its X."""
    torch.manual_seed(0)
    for n, make in MODELS:
        net, X = make(), torch.rand(2, 20)
        net(X)
        if n == name:
            return net, X
    raise KeyError(name)


def check(path, model):
    tensors, metadata = read_safetensors(path)
    net, X = materialized(model)
    sd = net.state_dict()
    assert list(tensors) == list(sd), f"keys differ:\n file  {list(tensors)}\n torch {list(sd)}"
    for k, t in tensors.items():
        assert t.dtype == sd[k].dtype and t.shape == sd[k].shape, f"{k}: {t.dtype} {t.shape} vs {sd[k].shape}"
    net.load_state_dict(tensors, strict=True)
    print(f"{path}: metadata {metadata}; {len(tensors)} tensors match {model}'s state_dict "
          f"(names, dtypes, shapes); loaded strictly; {model}(X) = {net(X).detach().reshape(-1).tolist()}")
    return net, X


def generate(out_dir):
    torch.manual_seed(0)
    ref, names = {}, []
    for name, make in MODELS:
        net = make()
        X = torch.rand(2, 20)
        net(X)                                   # materializes the lazy layers
        out = net(X)
        out.sum().backward()
        write_safetensors(out_dir / f"module_{name}_state.safetensors", net.state_dict(), {"format": "pt"})
        ref[f"{name}.x"] = X
        ref[f"{name}.out"] = out.detach().reshape(-1)
        for pname, p in net.named_parameters():
            ref[f"{name}.grad.{pname}"] = p.grad
        params = dict(net.named_parameters())
        for k, t in net.state_dict().items():
            kind = "param" if k in params else "buffer"
            names.append(" ".join([name, kind, k] + [str(d) for d in t.shape]))
    saved = here / "module_lamina_saved.safetensors"
    if saved.exists():
        net, X = check(saved, "chimera")
        ref["lamina_saved.out"] = net(X).detach().reshape(-1)
    write_safetensors(out_dir / "module_ref.safetensors", ref)
    (out_dir / "module_names.txt").write_text("\n".join(names) + "\n")
    print(len(ref), "tensors,", len(names), "state_dict entries", file=sys.stderr)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=pathlib.Path, default=here, help="where to write (default: next to the script)")
    ap.add_argument("--check", metavar="FILE", help="verify a lamina-saved state_dict with PyTorch")
    ap.add_argument("--model", default="chimera", choices=[n for n, _ in MODELS])
    args = ap.parse_args()
    if args.check:
        check(args.check, args.model)
    else:
        generate(args.out)
