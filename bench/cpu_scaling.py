"""The cpu backend at 1 thread and at all cores, beside PyTorch with the same thread count in
the same run: the ResNet step (batch 128), the LeNet step (batch 64), the encoder layer
forward + backward, the GPT step and the MNIST MLP step (batch 128).

  /usr/bin/python3 bench/cpu_scaling.py [--build DIR] [--rounds N] [--threads N]

Each bench program runs --rounds times (default 3) per thread count, lamina with
LAMINA_NUM_THREADS and PyTorch with torch.set_num_threads of the same count; every program
already reports medians of its own repetitions. The table gives per workload and thread
count the median of the rounds and their range (min-max), lamina / PyTorch of the medians,
the speedup from 1 thread to N for each, and the serial fraction Amdahl's law gives for it:
f = (N / S - 1) / (N - 1).
"""
import argparse, os, re, statistics, subprocess, sys

WORKLOADS = ["ResNet step", "LeNet step", "encoder layer", "GPT step", "MNIST MLP step"]


def run(cmd, threads):
    env = dict(os.environ, LAMINA_NUM_THREADS=str(threads))
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        sys.exit(f"cpu_scaling: {' '.join(cmd)} failed:\n{out.stdout}\n{out.stderr}")
    return out.stdout


def numbers(line):
    return [float(x) for x in re.findall(r"(?<![\w.])-?\d+\.\d+", line)]


def one_round(build, threads):
    """{workload: (lamina ms, PyTorch ms)} from one run of each bench program."""
    got = {}
    out = run([f"{build}/bench/bench_cnn", "--only", "steps", "--devices", "cpu", "--torch-threads", str(threads)], threads)
    lam = next(l for l in out.splitlines() if l.startswith("cpu "))
    tor = next(l for l in out.splitlines() if l.startswith("PyTorch"))
    a, b = numbers(lam), numbers(tor)
    got["LeNet step"], got["ResNet step"] = (a[0], b[0]), (a[2], b[2])
    out = run([f"{build}/bench/bench_transformer", "--device", "cpu", "--torch-threads", str(threads)], threads)
    for key, name in (("transformer layer", "encoder layer"), ("GPT training step", "GPT step")):
        line = next(l for l in out.splitlines() if l.startswith(key))
        ms = [float(x) for x in re.findall(r"([\d.]+) ms", line)]
        got[name] = (ms[0], ms[1])
    out = run([f"{build}/bench/bench_train", "--device", "cpu", "--torch-threads", str(threads)], threads)
    lam = next(l for l in out.splitlines() if l.startswith("cpu"))
    tor = next(l for l in out.splitlines() if l.startswith("PyTorch"))
    got["MNIST MLP step"] = (numbers(lam)[0], numbers(tor)[0])
    return got


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--build", default="build")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    a = p.parse_args()
    counts = [1] if a.threads == 1 else [1, a.threads]
    runs = {t: [one_round(a.build, t) for _ in range(a.rounds)] for t in counts}
    med = {}
    print(f"cpu backend beside PyTorch, same thread count, median of {a.rounds} rounds [min-max], ms")
    print(f"{'workload':16} {'threads':>7} {'lamina':>24} {'PyTorch':>24} {'ratio':>6}")
    for w in WORKLOADS:
        for t in counts:
            lam = [r[w][0] for r in runs[t]]
            tor = [r[w][1] for r in runs[t]]
            med[w, t] = (statistics.median(lam), statistics.median(tor))
            cell = lambda v: f"{statistics.median(v):8.1f} [{min(v):6.1f}-{max(v):6.1f}]"
            print(f"{w:16} {t:7d} {cell(lam):>24} {cell(tor):>24} {med[w, t][0] / med[w, t][1]:6.2f}")
    if len(counts) > 1:
        n = counts[1]
        print(f"\nspeedup from 1 to {n} threads (medians) and Amdahl's serial fraction f = ({n}/S - 1)/({n} - 1)")
        print(f"{'workload':16} {'lamina S':>9} {'f':>6} {'PyTorch S':>10} {'f':>6}")
        for w in WORKLOADS:
            s = [med[w, 1][i] / med[w, n][i] for i in (0, 1)]
            f = [(n / x - 1) / (n - 1) for x in s]
            print(f"{w:16} {s[0]:9.2f} {f[0]:6.2f} {s[1]:10.2f} {f[1]:6.2f}")


if __name__ == "__main__":
    main()
