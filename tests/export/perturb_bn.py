#!/usr/bin/python3
"""Makes every BatchNorm of a weights file non-trivial, so that exporting (and folding) BN is
really tested: running_mean += N(0, 0.2), running_var *= U(0.5, 1.5), and for affine BNs
weight = U(0.75, 1.25), bias = N(0, 0.1). Deterministic (seeded).

Usage: perturb_bn.py IN.safetensors OUT.safetensors [--seed N]"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import st_numpy  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    t, meta = st_numpy.read(a.src)
    rng = np.random.RandomState(a.seed)
    count = 0
    for name in list(t):
        if not name.endswith(".running_mean"):
            continue
        p = name[: -len(".running_mean")]
        c = t[name].shape
        t[name] = (t[name] + rng.normal(0, 0.2, c)).astype(np.float32)
        t[p + ".running_var"] = (t[p + ".running_var"] * rng.uniform(0.5, 1.5, c)).astype(np.float32)
        if p + ".weight" in t:
            t[p + ".weight"] = rng.uniform(0.75, 1.25, c).astype(np.float32)
            t[p + ".bias"] = rng.normal(0, 0.1, c).astype(np.float32)
        count += 1
    st_numpy.write(a.dst, t, meta)
    print("perturbed %d BatchNorm layers -> %s" % (count, a.dst))


if __name__ == "__main__":
    main()
