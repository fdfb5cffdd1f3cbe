"""Compares two training runs of cnn (data-parallel tests, tests/cli/test_mpi_train.sh).

usage: compare_runs.py RUN_A RUN_B LOSS_RTOL WEIGHT_RTOL
Losses: every step and epoch line of metrics.jsonl (train_loss, and test_loss where evaluated),
|a - b| <= LOSS_RTOL * max(|a|, |b|). Weights: each model tensor of last.safetensors (optimizer
and EMA state left out), ||a - b|| <= WEIGHT_RTOL * ||a|| (L2 norms; a tensor of zeros: <= RTOL).
Prints the largest differences seen, exits 1 when one is over its tolerance.
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import st_numpy  # noqa: E402


def losses(run):
    out = []
    with open(os.path.join(run, "metrics.jsonl")) as f:
        for line in f:
            j = json.loads(line)
            for key in ("train_loss", "test_loss"):
                if key in j:
                    out.append((j["type"], j["step"], key, j[key]))
    return out


def main():
    a, b, loss_rtol, weight_rtol = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
    la, lb = losses(a), losses(b)
    if [x[:3] for x in la] != [x[:3] for x in lb]:
        print(f"metrics differ in shape: {len(la)} vs {len(lb)} values")
        return 1
    worst_loss = max((abs(x[3] - y[3]) / max(abs(x[3]), abs(y[3]), 1e-12), x[:3]) for x, y in zip(la, lb))
    wa, _ = st_numpy.read(os.path.join(a, "last.safetensors"))
    wb, _ = st_numpy.read(os.path.join(b, "last.safetensors"))
    names = [n for n in wa if not n.startswith(("optimizer.", "ema."))]
    if sorted(names) != sorted(n for n in wb if not n.startswith(("optimizer.", "ema."))):
        print("the checkpoints hold different tensors")
        return 1
    worst_w = (0.0, "")
    for n in names:
        x, y = wa[n].astype(np.float64), wb[n].astype(np.float64)
        rel = np.linalg.norm(x - y) / max(np.linalg.norm(x), 1.0 if not x.any() else 1e-30)
        worst_w = max(worst_w, (float(rel), n))
    print(f"{len(la)} losses: largest relative difference {worst_loss[0]:.2e} ({worst_loss[1]}); "
          f"{len(names)} tensors: largest relative L2 difference {worst_w[0]:.2e} ({worst_w[1]})")
    ok = worst_loss[0] <= loss_rtol and worst_w[0] <= weight_rtol
    if not ok:
        print(f"over tolerance: losses {loss_rtol:g}, weights {weight_rtol:g}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
