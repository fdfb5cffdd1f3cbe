#!/usr/bin/python3
"""Weights and an input batch for the ONNX export tests (tests/cli/test_export_onnx.sh).

For each model, writes into OUT/<name>/:
  weights.safetensors  a state_dict with the config's names: torchvision's models exactly as
                       tests/parity/make_parity.py builds them (seeded, BN affine parameters
                       randomized and running statistics calibrated on a batch, then perturbed);
                       the zoo's other models (lenet5, alexnet-original, mobilenet_v1) from the
                       PyTorch definitions in scripts/models/torchvision_counts.py, seeded, with
                       their BNs treated the same way. So BN in eval mode (and BN folding) is
                       exercised on realistic activations.
  input.npy            float32 2 x C x H x W at the model's input size (seeded normal)
Reused while OUT/<name>/stamp matches this script, make_parity.py and the torch version.

Usage: make_weights.py --src SOURCE_DIR --out DIR --models a,b,...
Prints "ready <name>" per model."""
import argparse
import hashlib
import os
import sys

# name -> input size (C, H, W) for the models that are not torchvision's
REFERENCE_INPUT = {"lenet5": (1, 28, 28), "alexnet-original": (3, 227, 227), "mobilenet_v1": (3, 224, 224)}


def calibrate_bn(model, x_shape, g):
    """make_parity.build's BN treatment for a model built elsewhere."""
    import torch
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    if not bns:
        return
    with torch.no_grad():
        for m in bns:
            c = m.num_features
            m.weight.copy_(0.75 + 0.5 * torch.rand(c, generator=g))
            m.bias.copy_((torch.rand(c, generator=g) - 0.5) * 0.2)
            m.reset_running_stats()
            m.momentum = None
        model.train()
        model(torch.randn(4, *x_shape, generator=g))
        for m in bns:
            c = m.num_features
            m.momentum = 0.1
            m.running_var.mul_(0.8 + 0.4 * torch.rand(c, generator=g))
            m.running_mean.add_((torch.rand(c, generator=g) - 0.5) * 0.2 * m.running_var.sqrt())
            m.num_batches_tracked.fill_(7)


def build_reference(name, src):
    import torch
    import torch.nn.functional as F
    sys.path.insert(0, os.path.join(src, "scripts", "models"))
    import torchvision_counts as tc
    torch.manual_seed(0)
    model = tc.REFERENCE[name][0]()
    if name == "mobilenet_v1":  # the counting script's definition has no forward()
        tc.Separable.forward = lambda self, x: self.pw(self.dw(x))
        type(model).forward = lambda self, x: self.fc(torch.flatten(F.adaptive_avg_pool2d(self.features(x), 1), 1))
    shape = REFERENCE_INPUT[name]
    calibrate_bn(model, shape, torch.Generator().manual_seed(1234))
    x = torch.randn(2, *shape, generator=torch.Generator().manual_seed(42))
    return model, x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--models", required=True)
    args = ap.parse_args()
    sys.path.insert(0, os.path.join(args.src, "tests", "parity"))
    import make_parity
    import numpy as np
    import torch
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    h = hashlib.sha256()
    for f in (os.path.abspath(__file__), make_parity.__file__):
        with open(f, "rb") as fh:
            h.update(fh.read())
    stamp = h.hexdigest()[:16] + " torch " + torch.__version__
    for name in [n for n in args.models.split(",") if n]:
        d = os.path.join(args.out, name)
        os.makedirs(d, exist_ok=True)
        stamp_path = os.path.join(d, "stamp")
        if os.path.exists(stamp_path) and open(stamp_path).read() == stamp:
            print("ready %s (cached)" % name, flush=True)
            continue
        if name in make_parity.MODELS:
            model, x = make_parity.build(name)
        elif name in REFERENCE_INPUT:
            model, x = build_reference(name, args.src)
        else:
            sys.exit("make_weights.py: no weights recipe for '%s'" % name)
        make_parity.write_safetensors(os.path.join(d, "weights.safetensors"), list(model.state_dict().items()),
                                      {"format": "pt"})
        np.save(os.path.join(d, "input.npy"), x.numpy().astype(np.float32))
        with open(stamp_path, "w") as f:
            f.write(stamp)
        print("ready %s" % name, flush=True)


if __name__ == "__main__":
    main()
