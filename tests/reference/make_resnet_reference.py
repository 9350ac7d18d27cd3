"""The PyTorch twin of examples/cnn_models.h's ResNet, and its state_dicts both ways.

Run with Debian's torch: /usr/bin/python3 tests/reference/make_resnet_reference.py [--out DIR]
Writes
  resnet_torch_state.safetensors  the twin's state_dict (seed 0, BatchNorm running statistics
                                  moved by 3 training-mode batches), which lamina lam_load()s
  resnet_ref.safetensors          x (4, 1, 28, 28) and the twin's logits on it in eval and in
                                  training mode: torch.eval_logits, torch.train_logits
If resnet_lamina_saved.safetensors (written by `resnet --device cpu --save FILE`, a lamina
ResNet after 8 SGD steps) is present, the twin loads it with load_state_dict(strict=True)
after checking every name, dtype and shape, and resnet_ref.safetensors also gets
lamina_saved.eval_logits and lamina_saved.train_logits.

  make_resnet_reference.py --check FILE   only that check, printing the logits
The C test is tests/test_cnn_modules.c.
"""
import argparse, pathlib, sys
import torch
from torch import nn
from torch.nn import functional as F

here = pathlib.Path(__file__).parent
sys.path.insert(0, str(here))
from make_module_reference import read_safetensors, write_safetensors  # noqa: E402


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.stages = nn.Sequential(BasicBlock(16, 16, 1), BasicBlock(16, 32, 2), BasicBlock(32, 64, 2))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.stages(self.stem(x))), 1))


def logits(net, x):
    """Eval-mode logits, then training-mode ones (batch statistics; the running ones move)."""
    net.eval()
    with torch.no_grad():
        ev = net(x)
        net.train()
        tr = net(x)
    return ev, tr


def check(path):
    tensors, metadata = read_safetensors(path)
    net = ResNet()
    sd = net.state_dict()
    assert list(tensors) == list(sd), f"keys differ:\n file  {list(tensors)}\n torch {list(sd)}"
    for k, t in tensors.items():
        assert t.dtype == sd[k].dtype and t.shape == sd[k].shape, f"{k}: {t.dtype} {t.shape} vs {sd[k].shape}"
    net.load_state_dict(tensors, strict=True)
    print(f"{path}: metadata {metadata}; {len(tensors)} tensors match the twin's state_dict; loaded strictly",
          file=sys.stderr)
    return net


def generate(out_dir):
    torch.manual_seed(0)
    net = ResNet()
    net.train()
    with torch.no_grad():   # running statistics away from 0 and 1
        for _ in range(3):
            net(torch.randn(8, 1, 28, 28) * 0.5 + 0.3)
    write_safetensors(out_dir / "resnet_torch_state.safetensors", net.state_dict(), {"format": "pt"})
    x = torch.rand(4, 1, 28, 28)
    ref = {"x": x}
    ref["torch.eval_logits"], ref["torch.train_logits"] = logits(net, x)
    saved = here / "resnet_lamina_saved.safetensors"
    if saved.exists():
        ref["lamina_saved.eval_logits"], ref["lamina_saved.train_logits"] = logits(check(saved), x)
    write_safetensors(out_dir / "resnet_ref.safetensors", ref)
    print(sum(p.numel() for p in net.parameters()), "parameters;", len(ref), "reference tensors", file=sys.stderr)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=pathlib.Path, default=here, help="where to write (default: next to the script)")
    ap.add_argument("--check", metavar="FILE", help="verify a lamina-saved state_dict with PyTorch")
    args = ap.parse_args()
    if args.check:
        net = check(args.check)
        print(logits(net, torch.rand(2, 1, 28, 28))[0])
    else:
        generate(args.out)
