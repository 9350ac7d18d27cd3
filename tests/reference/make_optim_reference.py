"""Writes optim_ref.safetensors: PyTorch's learning-rate schedules, parameter groups and
gradient clipping, for tests/test_training.c.

Run with Debian's torch: /usr/bin/python3 tests/reference/make_optim_reference.py [--out DIR]

Schedules (values in effect after the constructor, then after each scheduler.step()):
  sched.<case>.lr        (steps + 1, groups) f32
  sched.<case>.momentum  (steps + 1, groups) f32: SGD's momentum or Adam's beta1
Training runs of a tiny model, Linear(5, 4) - ReLU - Linear(4, 3) - Scale(3) (y = x * weight),
with a mean-squared-error loss on a fixed batch, two parameter groups (minGPT's rule: the
Linear weights decay, the biases and Scale.weight do not), a schedule stepped every step and
clip_grad_norm_ before every optimizer step:
  init.<param>, x, y      the starting point (the C test copies it into its twin)
  run.<case>.norm         (steps,) the total norm clip_grad_norm_ returned at each step
  run.<case>.<param>      the parameter after the last step
  clip.norm, clip.grad.<param>   one backward from init, then clip_grad_norm_(max_norm=0.5)
"""
import argparse, math, pathlib, sys
import torch
from torch import nn

here = pathlib.Path(__file__).parent
sys.path.insert(0, str(here))
from make_module_reference import write_safetensors  # noqa: E402

S = torch.optim.lr_scheduler


def two_groups(opt_cls, lrs, **kw):
    """An optimizer over two dummy parameters, each its own group with its own lr."""
    ps = [nn.Parameter(torch.zeros(1)) for _ in lrs]
    return opt_cls([{"params": [p], "lr": lr} for p, lr in zip(ps, lrs)], **kw)


def momentum_of(group):
    return group["betas"][0] if "betas" in group else group.get("momentum", 0.0)


def record(opt, sched, steps):
    lrs, moms = [], []
    for s in range(steps + 1):
        if s:
            opt.step()
            sched.step()
        lrs.append([g["lr"] for g in opt.param_groups])
        moms.append([momentum_of(g) for g in opt.param_groups])
    return torch.tensor(lrs, dtype=torch.float32), torch.tensor(moms, dtype=torch.float32)


SCHEDULES = {
    # StepLR(step_size=3, gamma=0.1) over two groups
    "step": lambda: (lambda o: (o, S.StepLR(o, step_size=3, gamma=0.1), 11))(
        two_groups(torch.optim.SGD, [0.1, 0.02])),
    # CosineAnnealingLR(T_max=7, eta_min=0.001) past T_max (PyTorch's cosine is periodic)
    "cosine": lambda: (lambda o: (o, S.CosineAnnealingLR(o, T_max=7, eta_min=0.001), 20))(
        two_groups(torch.optim.SGD, [0.1, 0.05], momentum=0.9)),
    # OneCycleLR with PyTorch's defaults on SGD with momentum, to the last allowed step
    "onecycle_sgd": lambda: (lambda o: (o, S.OneCycleLR(o, max_lr=0.1, total_steps=25), 25))(
        two_groups(torch.optim.SGD, [0.1, 0.3], momentum=0.9)),
    # every OneCycleLR option on Adam (beta1 cycles)
    "onecycle_adam": lambda: (lambda o: (o, S.OneCycleLR(
        o, max_lr=0.01, total_steps=20, pct_start=0.25, anneal_strategy="linear", div_factor=10.0,
        final_div_factor=100.0, base_momentum=0.8, max_momentum=0.9, three_phase=True), 20))(
        two_groups(torch.optim.Adam, [1e-3, 1e-3])),
    # cycle_momentum=False leaves the momentum alone
    "onecycle_fixed": lambda: (lambda o: (o, S.OneCycleLR(o, max_lr=0.05, total_steps=10,
                                                          cycle_momentum=False), 10))(
        two_groups(torch.optim.SGD, [0.1, 0.1], momentum=0.7)),
}


class Scale(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))

    def forward(self, x):
        return x * self.weight


def model():
    return nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3), Scale(3))


def decay_groups(net, wd, nodecay_lr=None):
    """minGPT's rule: decay the weights of Linear layers only."""
    decay, nodecay = [], []
    for mn, m in net.named_modules():
        for pn, p in m.named_parameters(recurse=False):
            (decay if pn == "weight" and isinstance(m, nn.Linear) else nodecay).append(p)
    g1 = {"params": nodecay, "weight_decay": 0.0}
    if nodecay_lr is not None:
        g1["lr"] = nodecay_lr
    return [{"params": decay, "weight_decay": wd}, g1]


RUNS = {
    # AdamW, the no-decay group with its own lr, cosine per step, clipping at 0.5
    "adamw": (6, 0.5, lambda net: (lambda o: (o, S.CosineAnnealingLR(o, T_max=6)))(
        torch.optim.AdamW(decay_groups(net, 0.1, nodecay_lr=0.02), lr=0.01, betas=(0.9, 0.95)))),
    # SGD with Nesterov momentum and L2 decay, one-cycle with momentum cycling, clipping at
    # 0.6 (the first steps clip, the later ones do not)
    "sgd": (8, 0.6, lambda net: (lambda o: (o, S.OneCycleLR(o, max_lr=0.1, total_steps=8)))(
        torch.optim.SGD(decay_groups(net, 5e-4), lr=0.05, momentum=0.9, nesterov=True))),
    # Adam with L2 decay, one-cycle cycling beta1, clipping at 0.1
    "adam": (6, 0.1, lambda net: (lambda o: (o, S.OneCycleLR(o, max_lr=0.02, total_steps=6)))(
        torch.optim.Adam(decay_groups(net, 0.01), lr=0.001))),
    # SGD made without momentum: one-cycle gives it momentum, so the buffers start then
    "sgd_cycled": (5, 100.0, lambda net: (lambda o: (o, S.OneCycleLR(o, max_lr=0.1, total_steps=5)))(
        torch.optim.SGD(decay_groups(net, 1e-3), lr=0.05))),
}


def generate(out_dir):
    ref = {}
    for name, make in SCHEDULES.items():
        opt, sched, steps = make()
        ref[f"sched.{name}.lr"], ref[f"sched.{name}.momentum"] = record(opt, sched, steps)
    torch.manual_seed(0)
    net = model()
    with torch.no_grad():
        net[3].weight.copy_(torch.tensor([1.5, -0.5, 0.75]))
    init = {k: v.detach().clone() for k, v in net.state_dict().items()}
    x, y = torch.randn(8, 5), torch.randn(8, 3)
    ref.update({f"init.{k}": v for k, v in init.items()})
    ref["x"], ref["y"] = x, y
    nn.functional.mse_loss(net(x), y).backward()
    ref["clip.norm"] = nn.utils.clip_grad_norm_(net.parameters(), 0.5).reshape(1)
    for k, p in net.named_parameters():
        ref[f"clip.grad.{k}"] = p.grad.clone()
    for name, (steps, max_norm, make) in RUNS.items():
        net.load_state_dict(init)
        opt, sched = make(net)
        norms = []
        for _ in range(steps):
            opt.zero_grad()
            nn.functional.mse_loss(net(x), y).backward()
            norms.append(nn.utils.clip_grad_norm_(net.parameters(), max_norm).item())
            opt.step()
            sched.step()
        ref[f"run.{name}.norm"] = torch.tensor(norms, dtype=torch.float32)
        ref.update({f"run.{name}.{k}": v.detach().clone() for k, v in net.state_dict().items()})
    write_safetensors(out_dir / "optim_ref.safetensors", ref, {"torch": torch.__version__})
    print(len(ref), "tensors", file=sys.stderr)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=pathlib.Path, default=here, help="where to write (default: next to the script)")
    generate(ap.parse_args().out)
