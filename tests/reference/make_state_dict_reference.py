"""Writes state_dict_keys.txt: what PyTorch's load_state_dict(strict=False) reports in the
cases tests/test_state_dict_api.c repeats with lam_module_load_file.

Run with Debian's torch: /usr/bin/python3 tests/reference/make_state_dict_reference.py
Lines: "<case> missing <key>", "<case> unexpected <key>", "<case> shape <key> <dims...>" (a
parameter's shape after the load), "<case> lazy <module>" (a lazy layer still uninitialized).
  extra_nobias   Linear(20, 256) "hidden", Linear(256, 10, bias=False) "out" and a persistent
                 buffer "extra" (3,) load module_mlp_state.safetensors
  lazy_partial   the chapter's MLP of LazyLinear layers, never run, loads that file without
                 out.weight and out.bias and with an extra head.weight (2, 2)
"""
import pathlib
import sys

import torch
from torch import nn

here = pathlib.Path(__file__).parent
sys.path.insert(0, str(here))
from make_module_reference import MLP, read_safetensors  # noqa: E402


class ExtraNoBias(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(20, 256)
        self.out = nn.Linear(256, 10, bias=False)
        self.register_buffer("extra", torch.zeros(3))


def report(case, net, result, lines):
    lines += [f"{case} missing {k}" for k in result.missing_keys]
    lines += [f"{case} unexpected {k}" for k in result.unexpected_keys]
    for k, p in net.named_parameters():
        if isinstance(p, nn.parameter.UninitializedParameter):
            continue
        lines.append(" ".join([case, "shape", k] + [str(d) for d in p.shape]))
    for name, m in net.named_modules():
        if isinstance(m, nn.modules.lazy.LazyModuleMixin) and m.has_uninitialized_params():
            lines.append(f"{case} lazy {name}")


def main():
    state, _ = read_safetensors(here / "module_mlp_state.safetensors")
    lines = []
    net = ExtraNoBias()
    report("extra_nobias", net, net.load_state_dict(state, strict=False), lines)
    partial = {k: v for k, v in state.items() if not k.startswith("out.")}
    partial["head.weight"] = torch.zeros(2, 2)
    net = MLP()
    report("lazy_partial", net, net.load_state_dict(partial, strict=False), lines)
    (here / "state_dict_keys.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
