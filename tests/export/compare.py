#!/usr/bin/python3
"""Compares two output batches: OK when max |a - b| <= 1e-4 * max |b| (relative to the logit scale of
the reference b; 1e-7 absolute for an all-zero b). Prints one line; exit 1 on a mismatch.

Usage: compare.py OURS.npy REFERENCE.npy [LABEL]"""
import sys

import numpy as np

a, b = np.load(sys.argv[1]).astype(np.float64), np.load(sys.argv[2]).astype(np.float64)
label = sys.argv[3] if len(sys.argv) > 3 else ""
if a.shape != b.shape:
    print("FAIL %s shape %s, reference %s" % (label, a.shape, b.shape))
    sys.exit(1)
diff = float(np.abs(a - b).max())
peak = float(np.abs(b).max())
tol = max(1e-4 * peak, 1e-7)
ok = diff <= tol and np.isfinite(a).all() and np.isfinite(b).all()
print("%s %s max abs diff %.3g (max |output| %.3g, tolerance %.3g)" % ("ok" if ok else "FAIL", label, diff, peak, tol))
sys.exit(0 if ok else 1)
