#!/usr/bin/python3
"""PyTorch counterpart of `cnn bench`: times a training step or an inference forward of one of
the models in torch_models.py on synthetic data and prints one JSON line.

  train step = forward + nn.CrossEntropyLoss + optimizer.zero_grad() + backward
               + torch.optim.SGD(lr 0.01, momentum 0.9, weight_decay 1e-4) step
  inference  = model.eval(), torch.no_grad(), forward

Timing mirrors cnn's: `--warmup` untimed steps, then steps until at least `--iters` steps and
`--min-seconds` seconds have passed.

The JSON line also gives the model's parameter count and the process's peak resident set size
(VmHWM from /proc/self/status at exit, KiB).

Run it with Debian's /usr/bin/python3 (torch 1.13) and the tuned environment that speed.sh
sets:
  OMP_NUM_THREADS=<threads> OPENBLAS_NUM_THREADS=1 \
  GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736 \
  /usr/bin/python3 scripts/bench/torch_bench.py --model resnet20 --batch 128 --train --threads 2
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
from torch import nn  # noqa: E402

import torch_models  # noqa: E402


def peak_rss_kib():
    """VmHWM (this process's peak resident set size) in KiB, or None where /proc is absent."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True,
                    help=" | ".join(torch_models.MODELS) + " (cnn config paths such as resnet20-cifar.yaml work)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--train", action="store_true", help="time a training step, not inference")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=20, help="timed iterations (at least)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed iterations first")
    ap.add_argument("--min-seconds", type=float, default=0.0, help="time at least this long")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json", action="store_true", help="JSON line (the default; kept for symmetry with cnn)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    model = torch_models.build(args.model)
    x = torch.randn(args.batch, *model.input_shape)
    y = torch.randint(0, torch_models.num_classes(model), (args.batch,))

    if args.train:
        model.train()
        loss_fn = nn.CrossEntropyLoss()
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)

        def step():
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
    else:
        model.eval()

        def step():
            with torch.no_grad():
                model(x)

    for _ in range(args.warmup):
        step()

    iters = 0
    elapsed = 0.0
    t0 = time.perf_counter()
    while iters < args.iters or elapsed < args.min_seconds:
        step()
        iters += 1
        elapsed = time.perf_counter() - t0

    print(json.dumps({
        "engine": "torch",
        "model": args.model,
        "batch": args.batch,
        "train": args.train,
        "threads": torch.get_num_threads(),
        "iters": iters,
        "seconds": elapsed,
        "images_per_s": args.batch * iters / elapsed,
        "ms_per_iter": 1000.0 * elapsed / iters,
        "torch_version": torch.__version__,
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "params": torch_models.count_params(model),
        "peak_rss_kib": peak_rss_kib(),
    }), flush=True)


if __name__ == "__main__":
    main()
