"""Writes the seed corpora of the libFuzzer harnesses into corpus/<harness>/ (small valid and
nearly valid inputs, so the fuzzers start deep in the parsers) and safetensors.dict.

    python3 tests/fuzz/make_corpus.py          # standard library only

Safetensors seeds match the harnesses' models: Linear(2, 2) with an i64 buffer "steps";
Sequential(LazyLinear(3), ReLU, LazyLinear(2)), also under the prefix "net."; the state of
SGD with momentum and of Adam over a Linear(2, 2) (lamina-optim files). IDX seeds are
image/label pairs laid out as fuzz_idx splits its input (the first byte picks the split).
The other files of corpus/ (named by their SHA-1) are what `fuzz_<harness> -merge=1` kept
from a 10^7-input run of each harness: inputs that reach code the seeds above do not.
"""
import gzip
import json
import pathlib
import struct

here = pathlib.Path(__file__).parent
SIZES = {"F32": 4, "I32": 4, "I64": 8}


def safetensors(tensors, metadata=None):
    """tensors: [(name, dtype, shape)] -> bytes, the data counting up from 1."""
    header, blobs, at = {}, b"", 0
    if metadata:
        header["__metadata__"] = metadata
    for name, dtype, shape in tensors:
        n = 1
        for d in shape:
            n *= d
        if dtype == "F32":
            data = struct.pack(f"<{n}f", *[0.25 * (i + 1) for i in range(n)])
        elif dtype == "I64":
            data = struct.pack(f"<{n}q", *[i + 1 for i in range(n)])
        else:
            data = struct.pack(f"<{n}i", *[i + 1 for i in range(n)])
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [at, at + len(data)]}
        blobs += data
        at += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + blobs


def idx(dims, data):
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + bytes(data)


def pair(images, labels):
    """One input for fuzz_idx: byte 0 makes it split after len(images) bytes."""
    size = 1 + len(images) + len(labels)
    for b in range(256):
        if 1 + b * (size - 1) // 256 == 1 + len(images):
            return bytes([b]) + images + labels
    raise ValueError("no split byte for these sizes")


def write(harness, files):
    d = here / "corpus" / harness
    d.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (d / name).write_bytes(data)


def main():
    linear = [("weight", "F32", [2, 2]), ("bias", "F32", [2]), ("steps", "I64", [1])]
    lazy = [("0.weight", "F32", [3, 4]), ("0.bias", "F32", [3]), ("2.weight", "F32", [2, 3]), ("2.bias", "F32", [2])]
    write("safetensors_model", {
        "linear": safetensors(linear, {"format": "pt"}),
        "lazy": safetensors(lazy),
        "lazy_prefixed": safetensors([("net." + n, d, s) for n, d, s in lazy] + [("head.w", "F32", [1])]),
        "lazy_partial": safetensors(lazy[:2] + [("other", "I32", [2, 1])]),
        "empty": safetensors([]),
        "scalar_and_zero": safetensors([("s", "F32", []), ("z", "F32", [0, 3])], {"a": "b"}),
    })
    sgd = [(f"state.{p}.{s}", "F32" if s != "step" else "I64", shape if s != "step" else [1])
           for p, shape in (("weight", [2, 2]), ("bias", [2])) for s in ("momentum_buffer", "step")]
    adam = [(f"state.{p}.{s}", "F32" if s != "step" else "I64", shape if s != "step" else [1])
            for p, shape in (("weight", [2, 2]), ("bias", [2])) for s in ("exp_avg", "exp_avg_sq", "step")]
    meta = {"format": "lamina-optim", "steps": "3"}
    write("safetensors_optim", {
        "sgd": safetensors(sgd, dict(meta, optimizer="sgd")),
        "adam": safetensors(adam, dict(meta, optimizer="adam")),
        "adam_weight_only": safetensors(adam[:3], dict(meta, optimizer="adam")),
        "adamw_other_kind": safetensors(adam, dict(meta, optimizer="adamw")),
    })
    images = idx([3, 2, 2], range(0, 240, 20))
    labels = idx([3], [1, 0, 9])
    write("idx", {
        "pair": pair(images, labels),
        "pair_gz": pair(gzip.compress(images, mtime=0), gzip.compress(labels, mtime=0)),
        "images_only": images,
        "labels_short": pair(images, idx([3], [1, 0])),
        "four_dims": idx([1, 2, 1, 2], [1, 2, 3, 4]),
    })
    write("idx_gzip", {"images": bytes([0]) + images, "labels": bytes([2]) + labels,
                       "cut": bytes([1]) + images + bytes([128])})
    write("device_spec", {"cpu": b"cpu", "gpu": b"gpu", "opencl": b"opencl", "opencl_0_0": b"opencl:0:0",
                          "opencl_9": b"opencl:9:x", "empty": b"",
                          "rusticl": b"opencl:rusticl:0", "portable": b"opencl:Portable:0", "ambiguous": b"opencl:o:0",
                          "no_name": b"opencl::0", "nested": b"opencl:pocl:0:1"})
    tokens = ['"dtype"', '"shape"', '"data_offsets"', '"__metadata__"', '"F32"', '"I32"', '"I64"', '"F16"',
              '"format"', '"lamina-optim"', '"optimizer"', '"steps"', '"sgd"', '"adam"', '"adamw"', '"state.',
              '.step"', 'momentum_buffer"', 'exp_avg"', 'exp_avg_sq"', '"weight"', '"bias"', '"net.',
              '"0.weight"', '\\u0000', '\\"', '{', '}', '[', ']', ':', ',', '9007199254740992', '-1', '1e308',
              '18446744073709551616', '0.5']
    escaped = [t.replace("\\", "\\\\").replace('"', '\\"') for t in tokens]   # the dict's own quoting
    (here / "safetensors.dict").write_text("\n".join(f'kw{i}="{t}"' for i, t in enumerate(escaped)) + "\n")

if __name__ == "__main__":
    main()
