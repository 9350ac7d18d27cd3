"""Writes autograd_ref.safetensors: inputs and PyTorch's gradients for composite functions.

Run with Debian's torch: /usr/bin/python3 tests/reference/make_autograd_reference.py
The C test (tests/test_autograd.c) recomputes each function in lamina and compares.
Keep the functions in step with composite_fns[] in that test.
"""
import json, struct, sys, pathlib
import torch
import torch.nn.functional as F

torch.manual_seed(0)
out = {}

def case(name, fn, inputs):
    ts = {k: v.clone().requires_grad_(v.dtype == torch.float32) for k, v in inputs.items()}
    y = fn(**ts)
    y.backward()
    for k, v in ts.items():
        out[f"{name}.in.{k}"] = v.detach()
        if v.requires_grad:
            out[f"{name}.grad.{k}"] = v.grad
    out[f"{name}.out"] = y.detach().reshape(1)

r = lambda *s: torch.randn(*s)
case("mlp", lambda x, w1, b1, w2, b2, labels:
     F.cross_entropy(F.linear(F.relu(F.linear(x, w1, b1)), w2, b2), labels),
     dict(x=r(8, 20), w1=r(16, 20) * 0.3, b1=r(16) * 0.1, w2=r(5, 16) * 0.3, b2=r(5) * 0.1,
          labels=torch.randint(0, 5, (8,))))
case("softmix", lambda a, b:
     (F.softmax(a @ b, dim=-1) * torch.tanh(a.sum(1, keepdim=True) + b.sum(0, keepdim=True))).sum()
     + F.log_softmax(F.gelu(a), dim=0).amax(1).mean(),
     dict(a=r(6, 4), b=r(4, 7)))
case("mse", lambda x, w, target:
     F.mse_loss(torch.sigmoid(x) * w + torch.exp(-x.abs()), target),
     dict(x=r(5, 3), w=r(1, 3), target=r(5, 3)))
case("batched", lambda a, b, c:
     (torch.sqrt((a @ b.transpose(-1, -2)) ** 2 + 1.0) / (c.exp() + 1.0)).sum(),
     dict(a=r(2, 3, 4), b=r(5, 4), c=r(3, 1)))

def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.contiguous()
        dtype = {torch.float32: "F32", torch.int64: "I64"}[t.dtype]
        data = t.numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))

write_safetensors(pathlib.Path(__file__).with_name("autograd_ref.safetensors"), out)
print(len(out), "tensors", file=sys.stderr)
