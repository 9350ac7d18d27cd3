"""Writes the module references: the chapter's models in PyTorch, run once on a fixed X.

Run with Debian's torch: /usr/bin/python3 tests/reference/make_module_reference.py
For each model M in (mlp, fixed_hidden_mlp, chimera):
  module_M_state.safetensors  its state_dict (the C twin lam_load()s it as is)
and module_ref.safetensors holds M.x, M.out and M.grad.<param> after out.sum().backward().
The C test (tests/test_modules.c) builds the twins, loads the states and compares.
"""
import json, struct, sys, pathlib
import torch
from torch import nn
from torch.nn import functional as F

here = pathlib.Path(__file__).parent
torch.manual_seed(0)


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


def write_safetensors(path, tensors, metadata=None):
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, t in tensors.items():
        t = t.detach().contiguous()
        dtype = {torch.float32: "F32", torch.int64: "I64"}[t.dtype]
        data = t.numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


ref = {}
for name, make in (("mlp", MLP), ("fixed_hidden_mlp", FixedHiddenMLP),
                   ("chimera", lambda: nn.Sequential(NestMLP(), nn.LazyLinear(20), FixedHiddenMLP()))):
    net = make()
    X = torch.rand(2, 20)
    net(X)                                   # materializes the lazy layers
    out = net(X)
    out.sum().backward()
    write_safetensors(here / f"module_{name}_state.safetensors", net.state_dict(), {"format": "pt"})
    ref[f"{name}.x"] = X
    ref[f"{name}.out"] = out.detach().reshape(-1)
    for pname, p in net.named_parameters():
        ref[f"{name}.grad.{pname}"] = p.grad
write_safetensors(here / "module_ref.safetensors", ref)
print(len(ref), "tensors", file=sys.stderr)
