#!/usr/bin/env python3
"""F16 state_dicts between PyTorch and lamina (tests/test_f16.c).

Writes f16_mlp_state.safetensors (the chapter's MLP after .half(), F16 tensors) and
f16_ref.safetensors (X as f32 values exact in f16, and the MLP's output on it, computed in f32
from the f16 weights: Debian's torch 1.13 has no f16 matmul on the CPU). With
--check FILE, loads an f16 state_dict that lamina saved into the PyTorch twin after .half()
(strict) and prints its output.

    /usr/bin/python3 tests/reference/make_f16_reference.py
    /usr/bin/python3 tests/reference/make_f16_reference.py --check build/tests/f16_saved.safetensors
"""
import argparse, pathlib, sys

import torch
from torch import nn

here = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(here))
import make_module_reference as mm  # noqa: E402  (its safetensors reader and writer)

mm.DTYPES[torch.float16] = "F16"


def mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(20, 256), nn.ReLU(), nn.Linear(256, 10))


def output_f32(net_half, X):
    net = mlp()
    net.load_state_dict({k: v.float() for k, v in net_half.state_dict().items()})
    return net(X).detach()


def generate(out_dir):
    net = mlp().half()
    torch.manual_seed(1)
    X = torch.rand(2, 20).half().float()
    mm.write_safetensors(out_dir / "f16_mlp_state.safetensors", net.state_dict(), {"format": "pt"})
    mm.write_safetensors(out_dir / "f16_ref.safetensors", {"x": X, "y": output_f32(net, X)})
    print("wrote f16_mlp_state.safetensors and f16_ref.safetensors", file=sys.stderr)


def check(path):
    tensors, metadata = mm.read_safetensors(path)
    net = mlp().half()
    for k, t in tensors.items():
        assert t.dtype == torch.float16, f"{k} is {t.dtype}"
    net.load_state_dict(tensors, strict=True)
    ref, _ = mm.read_safetensors(here / "f16_ref.safetensors")
    y = output_f32(net, ref["x"])
    err = ((y - ref["y"]).abs().max() / ref["y"].abs().max()).item()
    print(f"{path}: {len(tensors)} F16 tensors loaded strictly into the twin after .half(); "
          f"its output differs from the reference by {err:.2e} (max |a - b| / max |b|)")
    assert err == 0.0, "lamina's f16 weights are not PyTorch's"


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=pathlib.Path, default=here)
    ap.add_argument("--check", metavar="FILE")
    args = ap.parse_args()
    check(args.check) if args.check else generate(args.out)
