"""Writes data_ref.safetensors: what torch computes from the IDX data sets, for tests/test_data.c.

Run with Debian's torch: /usr/bin/python3 tests/reference/make_data_reference.py [--out DIR]

  mnist.mean, mnist.std       (1,) the bundled training subset (data/), pixels / 255, as
                              x.mean() and x.std() (unbiased) in float64
  mnist.batch                 (3, 1, 28, 28) its first three images as torchvision's ToTensor
                              + Normalize(mean, std) give them: (x.float() / 255 - mean) / std in f32
  mnist.labels                (3,) i64 their labels
  fashion.mean, fashion.std   the same statistics of Fashion-MNIST's 60,000 training images
  fashion.first               (1, 28, 28) its first image / 255; fashion.sizes (train, test)
                              when Debian's dataset-fashion-mnist is installed
"""
import argparse, gzip, pathlib, sys
import torch

here = pathlib.Path(__file__).parent
sys.path.insert(0, str(here))
from make_module_reference import write_safetensors  # noqa: E402

FASHION = pathlib.Path("/usr/share/datasets/fashion-mnist")


def read_idx(path):
    raw = gzip.open(path).read() if str(path).endswith(".gz") else pathlib.Path(path).read_bytes()
    assert raw[:3] == b"\0\0\x08", f"{path}: not an IDX file of unsigned bytes"
    nd = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(nd)]
    return torch.frombuffer(bytearray(raw[4 + 4 * nd:]), dtype=torch.uint8).reshape(dims)


def stats(images):
    x = images.double() / 255
    return torch.tensor([x.mean().item()], dtype=torch.float32), torch.tensor([x.std().item()], dtype=torch.float32)


def generate(out_dir):
    data = here.parent.parent / "data"
    images, labels = read_idx(data / "train-images-idx3-ubyte.gz"), read_idx(data / "train-labels-idx1-ubyte.gz")
    ref = {}
    ref["mnist.mean"], ref["mnist.std"] = stats(images)
    first = images[:3].unsqueeze(1).float() / 255
    ref["mnist.batch"] = (first - ref["mnist.mean"]) / ref["mnist.std"]
    ref["mnist.labels"] = labels[:3].long()
    if FASHION.is_dir():
        train = read_idx(FASHION / "train-images-idx3-ubyte.gz")
        test = read_idx(FASHION / "t10k-images-idx3-ubyte.gz")
        ref["fashion.mean"], ref["fashion.std"] = stats(train)
        ref["fashion.first"] = train[:1].float() / 255
        ref["fashion.sizes"] = torch.tensor([train.shape[0], test.shape[0]], dtype=torch.int64)
    else:
        print(f"{FASHION} is missing: no fashion.* references", file=sys.stderr)
    write_safetensors(out_dir / "data_ref.safetensors", ref, {"torch": torch.__version__})
    print({k: v.reshape(-1)[:2].tolist() for k, v in ref.items()}, file=sys.stderr)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=pathlib.Path, default=here, help="where to write (default: next to the script)")
    generate(ap.parse_args().out)
