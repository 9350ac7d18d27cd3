"""Writes cnn_ref.safetensors: PyTorch's values for the convolutional-network ops.

Run with Debian's torch: /usr/bin/python3 tests/reference/make_cnn_reference.py [--out DIR]

Every case NAME has NAME.x (the input), NAME.y (the output), NAME.g (a random upstream
gradient) and NAME.dx (d sum(y * g) / dx), plus NAME.w / NAME.b with NAME.dw / NAME.db
where the op has them. Odd sizes on purpose: strides 2, paddings 1, dilations 2, groups 2
and 3, non-square kernels, batch 1, channel counts that are not multiples of 4.

Batch norm: bn2d / bn1d run 3 training steps (inputs NAME.x0..2, gradients of the last
one), then NAME.running_mean / .running_var / .num_batches_tracked and an eval output
NAME.eval_y of NAME.eval_x. The C test is tests/test_cnn.c.
"""
import argparse, pathlib, sys
import torch
from torch import nn
from torch.nn import functional as F

here = pathlib.Path(__file__).parent
sys.path.insert(0, str(here))
from make_module_reference import write_safetensors  # noqa: E402

# name: x shape, weight shape, bias, stride, padding, dilation, groups
CONVS = {
    "conv_same": ((2, 3, 9, 8), (5, 3, 3, 3), True, 1, 1, 1, 1),
    "conv_odd": ((1, 4, 11, 10), (6, 2, 3, 2), True, (2, 1), (1, 0), (2, 1), 2),
    "conv_pointwise": ((3, 5, 7, 7), (7, 5, 1, 1), False, 1, 0, 1, 1),
    "conv_shortcut": ((2, 6, 8, 9), (3, 6, 1, 1), True, 2, 0, 1, 1),
    "conv_grouped": ((2, 3, 10, 9), (6, 1, 3, 3), True, 2, 1, 1, 3),
    "conv_wide": ((2, 2, 6, 7), (3, 2, 5, 4), False, 1, (2, 1), (1, 2), 1),
}
# name: x shape, kernel, stride, padding, dilation, ceil_mode
MAX_POOLS = {
    "max_pool_2": ((2, 3, 9, 8), 2, 2, 0, 1, False),
    "max_pool_odd": ((1, 5, 11, 10), (3, 2), (2, 1), 1, (2, 1), True),
    "max_pool_overlap": ((2, 3, 7, 7), 3, 2, 1, 1, True),
}
# name: x shape, kernel, stride, padding, ceil_mode, count_include_pad
AVG_POOLS = {
    "avg_pool_2": ((2, 3, 9, 8), 2, 2, 0, False, True),
    "avg_pool_odd": ((1, 5, 11, 10), (3, 2), (2, 1), 1, True, False),
    "avg_pool_overlap": ((2, 3, 7, 7), 3, 2, 1, True, True),
}
ADAPTIVE = {"adaptive_1": ((2, 3, 7, 9), 1), "adaptive_3x4": ((1, 5, 10, 7), (3, 4))}


def record(ref, name, y, x, g=None, params=()):
    """y's value and the gradients of sum(y * g) with respect to x and params."""
    g = torch.randn(y.shape) if g is None else g
    (y * g).sum().backward()
    ref[f"{name}.x"], ref[f"{name}.y"], ref[f"{name}.g"], ref[f"{name}.dx"] = x.detach(), y.detach(), g, x.grad
    for short, p in params:
        ref[f"{name}.{short}"], ref[f"{name}.d{short}"] = p.detach(), p.grad


def leaf(shape):
    return torch.randn(shape).requires_grad_()


def batch_norm_case(ref, name, bn, shape):
    with torch.no_grad():   # weight and bias away from 1 and 0, so the affine step is seen
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.5, 0.5)
    ref[f"{name}.weight"], ref[f"{name}.bias"] = bn.weight.detach().clone(), bn.bias.detach().clone()
    bn.train()
    for step in range(3):
        x = (torch.randn(shape) * 2 + 0.5).requires_grad_()
        y = bn(x)
        if step < 2:
            ref[f"{name}.x{step}"] = x.detach()
            continue
        record(ref, name, y, x, params=(("w", bn.weight), ("b", bn.bias)))
    ref[f"{name}.running_mean"], ref[f"{name}.running_var"] = bn.running_mean, bn.running_var
    ref[f"{name}.num_batches_tracked"] = bn.num_batches_tracked.reshape(1)
    bn.eval()
    x = torch.randn(shape)
    ref[f"{name}.eval_x"], ref[f"{name}.eval_y"] = x, bn(x).detach()


def generate(out_dir):
    torch.manual_seed(0)
    ref = {}
    for name, (xs, ws, bias, s, p, d, g) in CONVS.items():
        x, w = leaf(xs), leaf(ws)
        b = leaf(ws[0]) if bias else None
        y = F.conv2d(x, w, b, s, p, d, g)
        record(ref, name, y, x, params=(("w", w),) + ((("b", b),) if bias else ()))
    for name, (xs, k, s, p, d, ceil) in MAX_POOLS.items():
        x = leaf(xs)
        record(ref, name, F.max_pool2d(x, k, s, p, d, ceil_mode=ceil), x)
    for name, (xs, k, s, p, ceil, count) in AVG_POOLS.items():
        x = leaf(xs)
        record(ref, name, F.avg_pool2d(x, k, s, p, ceil_mode=ceil, count_include_pad=count), x)
    for name, (xs, out) in ADAPTIVE.items():
        x = leaf(xs)
        record(ref, name, F.adaptive_avg_pool2d(x, out), x)
    x = leaf((2, 3, 4, 5))
    record(ref, "pad", F.pad(x, (1, 2, 0, 3), value=0.5), x)
    batch_norm_case(ref, "bn2d", nn.BatchNorm2d(5), (3, 5, 4, 3))
    batch_norm_case(ref, "bn1d", nn.BatchNorm1d(7), (6, 7))
    batch_norm_case(ref, "bn1d_3d", nn.BatchNorm1d(3, eps=1e-3, momentum=0.3), (4, 3, 5))
    write_safetensors(out_dir / "cnn_ref.safetensors", ref)
    print(len(ref), "tensors", file=sys.stderr)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=pathlib.Path, default=here, help="where to write (default: next to the script)")
    generate(ap.parse_args().out)
