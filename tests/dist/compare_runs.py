"""Compares two training runs of cnn (data-parallel tests, tests/cli/test_mpi_train.sh).

usage: compare_runs.py RUN_A RUN_B [--early-steps K --early-rtol X] [--rtol Y] [--weights-rtol Z]
                       [--final-acc-diff D] [--exact]
Losses: the step and epoch lines of metrics.jsonl (train_loss, and test_loss where evaluated),
relative difference |a - b| / max(|a|, |b|): at most X up to step K, at most Y over the whole run.
Weights: each model tensor of last.safetensors (optimizer and EMA state left out), relative L2
difference ||a - b|| / ||a|| at most Z. Final test accuracy: at most D points apart.
--exact: every loss equal and every tensor of last.safetensors (optimizer state too) bit for bit.
Prints the largest differences seen; exits 1 when one is over its tolerance.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import st_numpy  # noqa: E402


def records(run):
    with open(os.path.join(run, "metrics.jsonl")) as f:
        return [json.loads(line) for line in f]


def losses(recs):
    return [(j["type"], j["step"], key, j[key]) for j in recs for key in ("train_loss", "test_loss") if key in j]


def rel(x, y):
    return abs(x - y) / max(abs(x), abs(y), 1e-12)


def weight_difference(a, b):
    wa, _ = st_numpy.read(os.path.join(a, "last.safetensors"))
    wb, _ = st_numpy.read(os.path.join(b, "last.safetensors"))
    model = lambda w: sorted(n for n in w if not n.startswith(("optimizer.", "ema.")))  # noqa: E731
    if model(wa) != model(wb):
        raise SystemExit("the checkpoints hold different tensors")
    worst = (0.0, "")
    for n in model(wa):
        x, y = wa[n].astype(np.float64), wb[n].astype(np.float64)
        worst = max(worst, (float(np.linalg.norm(x - y) / max(np.linalg.norm(x), 1e-30 if x.any() else 1.0)), n))
    return worst, len(model(wa))


def exact_difference(a, b, la, lb):
    """Returns a description of the first difference, or "" when the runs agree bit for bit."""
    for x, y in zip(la, lb):
        if x[3] != y[3]:
            return f"{x[:3]}: loss {x[3]!r} vs {y[3]!r}"
    wa, _ = st_numpy.read(os.path.join(a, "last.safetensors"))
    wb, _ = st_numpy.read(os.path.join(b, "last.safetensors"))
    if sorted(wa) != sorted(wb):
        return "the checkpoints hold different tensors"
    for n in sorted(wa):
        if wa[n].dtype != wb[n].dtype or wa[n].shape != wb[n].shape or wa[n].tobytes() != wb[n].tobytes():
            return f"tensor {n} differs"
    return ""


def main():
    p = argparse.ArgumentParser()
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--early-steps", type=int, default=0)
    p.add_argument("--early-rtol", type=float, default=0)
    p.add_argument("--rtol", type=float)
    p.add_argument("--weights-rtol", type=float)
    p.add_argument("--final-acc-diff", type=float)
    p.add_argument("--exact", action="store_true")
    o = p.parse_args()
    ra, rb = records(o.a), records(o.b)
    la, lb = losses(ra), losses(rb)
    if [x[:3] for x in la] != [x[:3] for x in lb]:
        print(f"metrics differ in shape: {len(la)} vs {len(lb)} values")
        return 1
    ok = True
    if o.exact:
        diff = exact_difference(o.a, o.b, la, lb)
        count = len(st_numpy.read(os.path.join(o.a, "last.safetensors"))[0])
        print(f"  {len(la)} losses and {count} tensors: " + (diff if diff else "bit for bit equal"))
        ok &= not diff
    pairs = list(zip(la, lb))
    early = [(rel(x[3], y[3]), x[:3]) for x, y in pairs if x[1] <= o.early_steps]
    if early:
        worst = max(early)
        print(f"  up to step {o.early_steps}: {len(early)} losses, largest relative difference {worst[0]:.2e} "
              f"(tolerance {o.early_rtol:g}) at {worst[1]}")
        ok &= worst[0] <= o.early_rtol
    if o.rtol is not None:
        worst = max((rel(x[3], y[3]), x[:3]) for x, y in pairs)
        print(f"  whole run: {len(pairs)} losses, largest relative difference {worst[0]:.2e} (tolerance {o.rtol:g}) "
              f"at {worst[1]}")
        ok &= worst[0] <= o.rtol
    if o.weights_rtol is not None:
        (worst, name), count = weight_difference(o.a, o.b)
        print(f"  weights: {count} tensors, largest relative L2 difference {worst:.2e} (tolerance {o.weights_rtol:g}) "
              f"in {name}")
        ok &= worst <= o.weights_rtol
    if o.final_acc_diff is not None:
        acc = [[j["test_acc"] for j in r if j["type"] == "epoch" and "test_acc" in j][-1] for r in (ra, rb)]
        print(f"  final test accuracy {acc[0]:.2f}% and {acc[1]:.2f}% (tolerance {o.final_acc_diff:g} points)")
        ok &= abs(acc[0] - acc[1]) <= o.final_acc_diff
    if not ok:
        print("  over tolerance")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
