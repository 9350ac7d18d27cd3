"""PyTorch CPU timings for bench_cnn: the same workloads, the same shapes.

  /usr/bin/python3 bench/torch_cnn.py [THREADS] [--reps N] [--cpu-time] [--rss]

--cpu-time measures process CPU time (time.process_time) instead of wall time: steadier on
a shared machine, and comparable with one thread only.

Prints "key value" lines (milliseconds, the median of 3 rounds of N calls each):
  threads N
  lenet_step_ms     the CNN of shared/bench/torch_reference.py, batch 64, Adam 1e-3
  resnet_step_ms    tests/reference/make_resnet_reference.py's ResNet, batch 128, SGD
                    (momentum 0.9, weight decay 5e-4)
  conv_fwd_ms.NAME / conv_bwd_ms.NAME   F.conv2d forward, and backward for input and weight,
                    for each of bench_cnn's layer shapes
With --rss, only:
  resnet_rss_mib    peak RSS of 3 ResNet steps above the RSS after the model, optimizer and
                    batch are made (the peak mark reset through /proc/self/clear_refs)
"""
import pathlib, statistics, sys, time
import torch
import torch.nn.functional as F
from torch import nn

here = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(here.parent / "tests" / "reference"))
from make_resnet_reference import ResNet  # noqa: E402

# name: batch, in channels, out channels, size, kernel, stride (padding kernel // 2)
LAYERS = {
    "stem": (128, 1, 16, 28, 3, 1), "s1": (128, 16, 16, 28, 3, 1), "s2a": (128, 16, 32, 28, 3, 2),
    "s2b": (128, 32, 32, 14, 3, 1), "s2sc": (128, 16, 32, 28, 1, 2), "s3a": (128, 32, 64, 14, 3, 2),
    "s3b": (128, 64, 64, 7, 3, 1), "lenet1": (64, 1, 32, 28, 3, 1), "lenet2": (64, 32, 64, 14, 3, 1),
}


clock = time.perf_counter


def median_ms(fn, reps):
    fn()
    rounds = []
    for _ in range(3):
        t = clock()
        for _ in range(reps):
            fn()
        rounds.append((clock() - t) / reps * 1e3)
    return statistics.median(rounds)


def step_fn(net, opt, x, y):
    def step():
        opt.zero_grad()
        F.cross_entropy(net(x), y).backward()
        opt.step()
    return step


def status_kib(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def rss(reps):
    net = ResNet()
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    x, y = torch.rand(128, 1, 28, 28), torch.randint(0, 10, (128,))
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    base = status_kib("VmRSS")
    step = step_fn(net, opt, x, y)
    for _ in range(3):
        step()
    print("resnet_rss_mib", round((status_kib("VmHWM") - base) / 1024, 1))


def main():
    global clock
    args = sys.argv[1:]
    if "--cpu-time" in args:
        clock = time.process_time
    reps = int(args[args.index("--reps") + 1]) if "--reps" in args else 5
    threads = [a for a in args if a.isdigit() and (args.index(a) == 0 or args[args.index(a) - 1] != "--reps")]
    if threads:
        torch.set_num_threads(int(threads[0]))
    torch.manual_seed(0)
    print("threads", torch.get_num_threads())
    if "--rss" in args:
        return rss(reps)
    lenet = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))
    x, y = torch.rand(64, 1, 28, 28), torch.randint(0, 10, (64,))
    print("lenet_step_ms", round(median_ms(step_fn(lenet, torch.optim.Adam(lenet.parameters(), lr=1e-3), x, y), reps), 3))
    net = ResNet()
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    x, y = torch.rand(128, 1, 28, 28), torch.randint(0, 10, (128,))
    print("resnet_step_ms", round(median_ms(step_fn(net, opt, x, y), max(1, reps // 2)), 3))
    for name, (n, c, oc, size, k, s) in LAYERS.items():
        x = torch.rand(n, c, size, size, requires_grad=True)
        w = torch.rand(oc, c, k, k, requires_grad=True)
        with torch.no_grad():
            print(f"conv_fwd_ms.{name}", round(median_ms(lambda: F.conv2d(x, w, None, s, k // 2), reps), 3))
        y = F.conv2d(x, w, None, s, k // 2)
        g = torch.rand_like(y)
        print(f"conv_bwd_ms.{name}",
              round(median_ms(lambda: torch.autograd.grad(y, (x, w), g, retain_graph=True), reps), 3))


if __name__ == "__main__":
    main()
