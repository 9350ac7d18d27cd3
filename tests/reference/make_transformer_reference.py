"""Writes the Transformer references: every new op and module run by PyTorch on fixed inputs.

Run with Debian's torch: /usr/bin/python3 tests/reference/make_transformer_reference.py [--out DIR]

transformer_ref.safetensors holds, for each case C of CASES (ops) and MODULES:
  C.in0, C.in1, ...   the inputs (integer ids, labels and masks as i64)
  C.out               the output
  C.w                 a fixed weight: the test backpropagates loss = sum(out * w)
  C.grad0, ...        d loss / d input i, for each floating input
  C.grad.<param>      d loss / d parameter (modules)
transformer_C_state.safetensors  a module's state_dict (the C test lam_load()s it)
transformer_names.txt            every module's state_dict keys and shapes, in PyTorch's order

PyTorch 1.13 has no F.scaled_dot_product_attention: sdpa() below writes its maths out.

If transformer_lamina_saved.safetensors (an encoder layer saved by lamina: test_transformer
--save FILE) is present, PyTorch loads it strictly into its twin and the reference also gets
lamina_saved.x and lamina_saved.out = twin(x).

  make_transformer_reference.py --check FILE
loads a lamina-saved encoder layer strictly, checking every key, dtype and shape.
"""
import argparse, math, pathlib, sys
import torch
from torch import nn
from torch.nn import functional as F

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from make_module_reference import write_safetensors, read_safetensors  # noqa: E402

here = pathlib.Path(__file__).parent
torch.set_default_dtype(torch.float32)


def sdpa(q, k, v, mask=None, causal=False):
    """softmax(q k^T / sqrt(E) + mask) v: a boolean mask keeps where True, a float one is added."""
    s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if causal:
        L, S = s.shape[-2], s.shape[-1]
        s = s.masked_fill(torch.ones(L, S, dtype=torch.bool).triu(1), float("-inf"))
    if mask is not None:
        s = s.masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool else s + mask
    return torch.softmax(s, -1) @ v


def randint(shape, hi):
    return torch.randint(0, hi, shape, dtype=torch.int64)


def float_mask(L, S):
    """A mask of 0 and -inf with every row keeping at least one key."""
    m = torch.zeros(L, S)
    m[torch.rand(L, S) < 0.3] = float("-inf")
    m[torch.arange(L), torch.arange(L) % S] = 0.0
    return m


def bool_mask(shape):
    m = torch.rand(shape) < 0.7
    m[..., 0] = True
    return m


def ce(o):
    return lambda x, y: F.cross_entropy(x, y, **o)


# name: (function of the inputs, inputs); integer inputs are not differentiated
CASES = {
    "cat": (lambda a, b, c: torch.cat([a, b, c], 1), [torch.randn(2, 3, 4), torch.randn(2, 5, 4), torch.randn(2, 1, 4)]),
    "cat_last": (lambda a, b: torch.cat([a, b], -1), [torch.randn(3, 2), torch.randn(3, 4)]),
    "stack": (lambda a, b, c: torch.stack([a, b, c], 1), [torch.randn(3, 4) for _ in range(3)]),
    "index_select": (lambda x, i: torch.index_select(x, 1, i), [torch.randn(5, 3, 4), torch.tensor([2, 0, 2, 1, 2])]),
    "embedding": (lambda w, i: F.embedding(i, w), [torch.randn(11, 8), torch.tensor([[0, 3, 10, 3, 3, 7, 0], [1, 2, 3, 4, 5, 6, 10]])]),
    "tril": (lambda x: torch.tril(x, 1), [torch.randn(2, 5, 7)]),
    "triu": (lambda x: torch.triu(x, -2), [torch.randn(2, 5, 7)]),
    "var": (lambda x: torch.var(x, 1, unbiased=True), [torch.randn(4, 7)]),
    "var_biased": (lambda x: torch.var(x, 0, unbiased=False, keepdim=True), [torch.randn(4, 7)]),
    "std": (lambda x: torch.std(x, -1, unbiased=True), [torch.randn(3, 2, 9)]),
    "bmm_4d_2d": (torch.matmul, [torch.randn(2, 3, 5, 4), torch.randn(4, 6)]),
    "bmm_bcast": (torch.matmul, [torch.randn(3, 1, 5, 4), torch.randn(2, 4, 6)]),
    "bmm_3d": (torch.matmul, [torch.randn(2, 5, 4), torch.randn(2, 4, 6)]),
    "bmm_4d": (torch.matmul, [torch.randn(1, 2, 7, 8), torch.randn(1, 2, 8, 7)]),
    "ce": (ce({}), [torch.randn(6, 5), randint((6,), 5)]),
    "ce_nd": (ce({}), [torch.randn(2, 5, 3, 4), torch.where(torch.rand(2, 3, 4) < 0.2, -100, randint((2, 3, 4), 5))]),
    "ce_ignore": (ce({"ignore_index": 2}), [torch.randn(7, 4), torch.tensor([2, 0, 1, 2, 3, 3, 2])]),
    "ce_smooth": (ce({"label_smoothing": 0.1}), [torch.randn(3, 6, 5), torch.tensor([[0, 5, -100, 2, 1], [3, 3, 4, -100, 0], [1, 1, 1, 1, 1]])]),
    "ce_sum": (ce({"reduction": "sum"}), [torch.randn(2, 5, 3), randint((2, 3), 5)]),
    "ce_none": (ce({"reduction": "none", "ignore_index": 1}), [torch.randn(2, 5, 3), randint((2, 3), 5)]),
    "layer_norm": (lambda x, w, b: F.layer_norm(x, (12,), w, b, 1e-5), [torch.randn(3, 5, 12), torch.randn(12), torch.randn(12)]),
    "layer_norm_2d": (lambda x: F.layer_norm(x, (5, 6), None, None, 1e-5), [torch.randn(2, 5, 6) * 3 + 1]),
    "layer_norm_b1": (lambda x, w, b: F.layer_norm(x, (8,), w, b, 1e-5), [torch.randn(1, 13, 8), torch.randn(8), torch.randn(8)]),
    "sdpa": (sdpa, [torch.randn(2, 3, 13, 8), torch.randn(2, 3, 11, 8), torch.randn(2, 3, 11, 8)]),
    "sdpa_causal": (lambda q, k, v: sdpa(q, k, v, causal=True), [torch.randn(2, 3, 13, 8) for _ in range(3)]),
    "sdpa_float_mask": (sdpa, [torch.randn(2, 3, 13, 8), torch.randn(2, 3, 11, 8), torch.randn(2, 3, 11, 8), float_mask(13, 11)]),
    "sdpa_bool_mask": (sdpa, [torch.randn(2, 3, 13, 8), torch.randn(2, 3, 11, 8), torch.randn(2, 3, 11, 8), bool_mask((2, 1, 13, 11))]),
    "sdpa_b1": (lambda q, k, v: sdpa(q, k, v, causal=True), [torch.randn(1, 1, 7, 8) for _ in range(3)]),
    "sdpa_3d": (sdpa, [torch.randn(2, 13, 8), torch.randn(2, 11, 8), torch.randn(2, 11, 5)]),
    "sdpa_bcast": (sdpa, [torch.randn(2, 3, 13, 8), torch.randn(2, 1, 11, 8), torch.randn(2, 1, 11, 8)]),
}

E, H, FF = 16, 2, 24  # head_dim 8


def mha(batch_first):
    return nn.MultiheadAttention(E, H, batch_first=batch_first)


def encoder(norm_first, activation, batch_first):
    return nn.TransformerEncoderLayer(E, H, FF, dropout=0.0, activation=activation, batch_first=batch_first,
                                      norm_first=norm_first)


def pad_mask(N, S):
    m = torch.rand(N, S) < 0.3
    m[:, 0] = False
    return m


# name: (module, inputs, forward(module, *inputs)); masks are PyTorch's (True blocks)
MODULES = {
    "mha_self": (lambda: mha(True), lambda: [torch.randn(2, 13, E), nn.Transformer.generate_square_subsequent_mask(13)],
                 lambda m, x, mask: m(x, x, x, attn_mask=mask, need_weights=False)[0]),
    "mha_cross": (lambda: mha(False), lambda: [torch.randn(13, 2, E), torch.randn(11, 2, E), torch.randn(11, 2, E), pad_mask(2, 11)],
                  lambda m, q, k, v, pad: m(q, k, v, key_padding_mask=pad, need_weights=False)[0]),
    "mha_heads_mask": (lambda: mha(True), lambda: [torch.randn(2, 5, E), bool_mask((2 * H, 5, 5)).logical_not_().index_fill_(-1, torch.tensor([0]), False)],
                       lambda m, x, mask: m(x, x, x, attn_mask=mask, need_weights=False)[0]),
    "encoder_post_relu": (lambda: encoder(False, "relu", True), lambda: [torch.randn(2, 13, E), nn.Transformer.generate_square_subsequent_mask(13)],
                          lambda m, x, mask: m(x, src_mask=mask)),
    "encoder_pre_gelu": (lambda: encoder(True, "gelu", False), lambda: [torch.randn(13, 2, E), pad_mask(2, 13)],
                         lambda m, x, pad: m(x, src_key_padding_mask=pad)),
    "encoder_b1": (lambda: encoder(True, "gelu", True), lambda: [torch.randn(1, 7, E)], lambda m, x: m(x)),
}


def store(ref, name, out, inputs, params=()):
    w = torch.randn_like(out)
    (out * w).sum().backward()
    ref[f"{name}.out"], ref[f"{name}.w"] = out.detach(), w
    for i, t in enumerate(inputs):
        ref[f"{name}.in{i}"] = t.detach().to(torch.int64) if t.dtype == torch.bool else t.detach()
        if t.grad is not None:
            ref[f"{name}.grad{i}"] = t.grad
    for pname, p in params:
        ref[f"{name}.grad.{pname}"] = p.grad


def encoder_twin():
    """The layer lamina saves for the round trip (test_transformer --save)."""
    return encoder(True, "gelu", True)


def check(path):
    tensors, metadata = read_safetensors(path)
    twin = encoder_twin()
    sd = twin.state_dict()
    assert list(tensors) == list(sd), f"keys differ:\n file  {list(tensors)}\n torch {list(sd)}"
    for k, t in tensors.items():
        assert t.dtype == sd[k].dtype and t.shape == sd[k].shape, f"{k}: {t.dtype} {t.shape} vs {sd[k].shape}"
    twin.load_state_dict(tensors, strict=True)
    print(f"{path}: metadata {metadata}; {len(tensors)} tensors match TransformerEncoderLayer's state_dict; loaded strictly")
    return twin


def generate(out_dir):
    torch.manual_seed(0)
    ref, names = {}, []
    for name, (fn, inputs) in CASES.items():
        for t in inputs:
            if t.dtype.is_floating_point:
                t.requires_grad_(True)
        store(ref, name, fn(*inputs), inputs)
    for name, (make, inputs, run) in MODULES.items():
        m, ins = make(), inputs()
        for t in ins:
            if t.dtype.is_floating_point and t.dim() == 3:
                t.requires_grad_(True)
        store(ref, name, run(m, *ins), ins, m.named_parameters())
        write_safetensors(out_dir / f"transformer_{name}_state.safetensors", m.state_dict(), {"format": "pt"})
        names += [" ".join([name, k] + [str(d) for d in t.shape]) for k, t in m.state_dict().items()]
    saved = here / "transformer_lamina_saved.safetensors"
    if saved.exists():
        twin = check(saved)
        x = torch.randn(2, 9, E)
        ref["lamina_saved.x"], ref["lamina_saved.out"] = x, twin(x).detach()
    write_safetensors(out_dir / "transformer_ref.safetensors", ref)
    (out_dir / "transformer_names.txt").write_text("\n".join(names) + "\n")
    print(len(ref), "tensors,", len(names), "state_dict entries", file=sys.stderr)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=pathlib.Path, default=here, help="where to write (default: next to the script)")
    ap.add_argument("--check", metavar="FILE", help="verify a lamina-saved encoder layer with PyTorch")
    args = ap.parse_args()
    if args.check:
        check(args.check)
    else:
        generate(args.out)
