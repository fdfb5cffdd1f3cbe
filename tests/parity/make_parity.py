#!/usr/bin/python3
"""Reference files for the PyTorch parity tests (torch 1.13, torchvision 0.14).

For each torchvision model whose config exists (configs/models/<name>.yaml, named as
torchvision names the model), writes into OUT/<name>/:
  weights.safetensors  the state_dict (F32; num_batches_tracked as I64, as torch keeps it), written
                       by hand: 8-byte LE header length, JSON header, raw data
  input.npy            a fixed float32 batch, 2 x C x H x W at the model's input size
  logits.npy           torchvision's eval-mode output for it (2 x 1000)
With --train-step, also OUT/<name>/train_step.safetensors (and weights.safetensors) for one
training step from the same weights in train mode (dropout p = 0, BN on batch statistics): "input", "labels" (I64), "loss"
(main + 0.3 per auxiliary head, GoogLeNet's recipe) and "grad.<param>" for every parameter, as
torch computes them in float32, and "loss64" / "grad64.<param>" from the same step in float64
(stored as F32): the exact values both implementations are measured against.

Weights are deterministic: torch.manual_seed(0) before building the model, then the BatchNorm
running statistics and affine parameters are randomized (from a seeded generator) so that eval
mode BN is exercised, and num_batches_tracked is set to a non-zero count.

Files are large (VGG-11-BN alone is 530 MB), so they live in the build tree, not the repository;
a model's directory is reused while its stamp (this script's hash and the torch version) matches.

Usage: make_parity.py --src SOURCE_DIR --out DIR [--models a,b] [--train-step] [--list]
Prints one line per model: "ready <name>", "skipped <name>: no config yet". Exit 77 when no
model of the list has a config.

Used by tests/cli/test_parity.sh (eval logits via `cnn predict`) and
tests/parity/test_train_step_parity.cpp (the training step, through the library).
"""
import argparse
import hashlib
import json
import os
import sys

# name -> (constructor kwargs, input size)
MODELS = {
    "resnet18": ({}, 224),
    "resnet50": ({}, 224),
    "googlenet": ({"aux_logits": True, "init_weights": True}, 224),
    "densenet121": ({}, 224),
    "squeezenet1_1": ({}, 224),
    "mobilenet_v2": ({}, 224),
    "alexnet": ({}, 224),
    "vgg11_bn": ({}, 224),
    "inception_v3": ({"aux_logits": True, "init_weights": True}, 299),
}
TRAIN_STEP_MODELS = ["resnet18", "googlenet"]
AUX_WEIGHT = 0.3
LABELS = [3, 7]


def write_safetensors(path, tensors, metadata=None):
    """tensors: list of (name, torch.Tensor), written in that order as F32/I64."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import st_numpy
    st_numpy.write(path, {name: t.detach().contiguous().cpu().numpy() for name, t in tensors}, metadata)


def build(name):
    import torch
    import torchvision
    kwargs, size = MODELS[name]
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)(weights=None, **kwargs)
    g = torch.Generator().manual_seed(1234)
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    with torch.no_grad():
        for m in bns:
            c = m.num_features
            m.weight.copy_(0.75 + 0.5 * torch.rand(c, generator=g))
            m.bias.copy_((torch.rand(c, generator=g) - 0.5) * 0.2)
        if bns:
            # Running statistics near the real ones (made up ones let deep nets explode in eval
            # mode: Inception's logits reach 1e13), measured on a calibration batch, then perturbed.
            for m in bns:
                m.reset_running_stats()
                m.momentum = None  # cumulative average
            model.train()
            model(torch.randn(4, 3, size, size, generator=g))
            for m in bns:
                c = m.num_features
                m.momentum = 0.1
                m.running_var.mul_(0.8 + 0.4 * torch.rand(c, generator=g))
                m.running_mean.add_((torch.rand(c, generator=g) - 0.5) * 0.2 * m.running_var.sqrt())
                m.num_batches_tracked.fill_(7)
    gi = torch.Generator().manual_seed(42)
    x = torch.randn(2, 3, size, size, generator=gi)
    return model, x


def eval_files(name, d):
    import numpy as np
    import torch
    model, x = build(name)
    model.eval()
    with torch.no_grad():
        y = model(x)
    write_safetensors(os.path.join(d, "weights.safetensors"), list(model.state_dict().items()),
                      {"format": "pt"})
    np.save(os.path.join(d, "input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(d, "logits.npy"), y.numpy().astype(np.float32))


def train_step(model, x, labels):
    """One forward/backward in train mode: the loss and {param name: gradient}."""
    import torch
    import torch.nn.functional as F
    model.train()
    out = model(x)
    if isinstance(out, torch.Tensor):
        loss = F.cross_entropy(out, labels)
    else:  # GoogLeNetOutputs(logits, aux_logits2, aux_logits1) / InceptionOutputs(logits, aux_logits)
        main, *aux = [t for t in out if t is not None]
        loss = F.cross_entropy(main, labels)
        for a in aux:
            loss = loss + AUX_WEIGHT * F.cross_entropy(a, labels)
    loss.backward()
    return loss.detach(), {n: p.grad for n, p in model.named_parameters() if p.grad is not None}


def train_step_files(name, d):
    import copy
    import torch
    model, x = build(name)
    if not os.path.exists(os.path.join(d, "weights.safetensors")):
        write_safetensors(os.path.join(d, "weights.safetensors"), list(model.state_dict().items()),
                          {"format": "pt"})
    for m in model.modules():  # dropout cannot match across implementations: off on both sides
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
    labels = torch.tensor(LABELS, dtype=torch.int64)
    model64 = copy.deepcopy(model).double()
    loss, grads = train_step(model, x, labels)
    loss64, grads64 = train_step(model64, x.double(), labels)
    tensors = [("input", x), ("labels", labels), ("loss", loss.reshape(())),
               ("loss64", loss64.float().reshape(()))]
    tensors += [("grad." + n, g) for n, g in grads.items()]
    tensors += [("grad64." + n, g.float()) for n, g in grads64.items()]
    write_safetensors(os.path.join(d, "train_step.safetensors"), tensors, {"format": "pt"})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--train-step", action="store_true", help="also (only, with --no-eval) the training step")
    ap.add_argument("--no-eval", action="store_true", help="skip the eval files")
    args = ap.parse_args()
    names = [n for n in args.models.split(",") if n]
    for n in names:
        if n not in MODELS:
            sys.exit("unknown model '%s' (known: %s)" % (n, ", ".join(MODELS)))
    import torch
    import torchvision
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    with open(os.path.abspath(__file__), "rb") as f:
        stamp = hashlib.sha256(f.read()).hexdigest()[:16] + " torch " + torch.__version__ + \
            " torchvision " + torchvision.__version__
    ready = 0
    for n in names:
        if not os.path.exists(os.path.join(args.src, "configs", "models", n + ".yaml")):
            print("skipped %s: no config yet (configs/models/%s.yaml)" % (n, n), flush=True)
            continue
        d = os.path.join(args.out, n)
        os.makedirs(d, exist_ok=True)
        stamp_path = os.path.join(d, "stamp")
        old = open(stamp_path).read() if os.path.exists(stamp_path) else ""
        want = ["logits.npy"] if not args.no_eval else []
        if args.train_step and n in TRAIN_STEP_MODELS:
            want.append("train_step.safetensors")
        if old != stamp:
            for f in os.listdir(d):
                os.remove(os.path.join(d, f))
        if not args.no_eval and not os.path.exists(os.path.join(d, "logits.npy")):
            eval_files(n, d)
        if "train_step.safetensors" in want and not os.path.exists(os.path.join(d, "train_step.safetensors")):
            train_step_files(n, d)
        with open(stamp_path, "w") as f:
            f.write(stamp)
        ready += 1
        print("ready %s" % n, flush=True)
    sys.exit(0 if ready else 77)


if __name__ == "__main__":
    main()
