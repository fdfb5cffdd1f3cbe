#!/usr/bin/python3
"""Grad-CAM reference maps as pytorch-grad-cam defines them (torch 1.13, torchvision 0.14).

pytorch-grad-cam's GradCAM with ClassifierOutputTarget(k): the gradient of logit k with respect
to the target layer's output A (N x C x h x w), weights alpha = its mean over h x w,
cam = ReLU(sum_c alpha_c A_c); scale_cam_image: cam - min, / (1e-7 + max), cv2.resize to the
input size (bilinear, half-pixel centres = interpolate(mode="bilinear", align_corners=False)).
Re-implemented here with torch alone, as the library is not packaged by Debian.

For each model writes into OUT/<model>/:
  weights.safetensors  torchvision's state_dict (seeded random init; BN running statistics from
                       a calibration batch so that eval-mode BN is not the identity)
  input.npy            2 x 3 x S x S float32
  ref.safetensors      "classes" (I64, the top-1 class of each sample), "raw" (N x h x w, the
                       weighted sum before ReLU) and "heat" (N x S x S, the normalized upsampled map)

Usage: make_cam_reference.py --out DIR [--models resnet18,vgg11]
Used by tests/explain/test_cam_torch.cpp.
"""
import argparse
import os
import sys

# model -> (target layer as pytorch-grad-cam users name it, input size)
MODELS = {
    "resnet18": (lambda m: m.layer4, 224),
    "vgg11": (lambda m: m.features[20], 112),  # the last conv stage's output (after its max pool)
}


def build(name):
    import torch
    import torchvision
    _, size = MODELS[name]
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)(weights=None)
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    g = torch.Generator().manual_seed(1234)
    if bns:
        for m in bns:
            m.reset_running_stats()
            m.momentum = None
        model.train()
        with torch.no_grad():
            model(torch.randn(4, 3, size, size, generator=g))
    model.eval()
    x = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(42))
    return model, x


def grad_cam(model, layer, x):
    import torch
    import torch.nn.functional as F
    saved = {}

    def hook(_module, _inp, out):
        saved["a"] = out
        out.register_hook(lambda g: saved.__setitem__("g", g))

    handle = layer.register_forward_hook(hook)
    logits = model(x)
    handle.remove()
    classes = logits.argmax(dim=1)
    model.zero_grad()
    logits.gather(1, classes[:, None]).sum().backward()
    a, g = saved["a"].detach(), saved["g"]
    alpha = g.mean(dim=(2, 3), keepdim=True)
    raw = (alpha * a).sum(dim=1)
    cam = F.relu(raw)
    flat = cam.flatten(1)
    flat = flat - flat.min(dim=1, keepdim=True).values
    flat = flat / (1e-7 + flat.max(dim=1, keepdim=True).values)
    cam = flat.view_as(raw)
    heat = F.interpolate(cam[:, None], size=x.shape[2:], mode="bilinear", align_corners=False)[:, 0]
    return classes, raw, heat


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--models", default=",".join(MODELS))
    args = ap.parse_args()
    import numpy as np
    import torch
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import st_numpy
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    for name in args.models.split(","):
        d = os.path.join(args.out, name)
        os.makedirs(d, exist_ok=True)
        model, x = build(name)
        classes, raw, heat = grad_cam(model, MODELS[name][0](model), x)
        st_numpy.write(os.path.join(d, "weights.safetensors"),
                       {k: v.detach().numpy() for k, v in model.state_dict().items()}, {"format": "pt"})
        np.save(os.path.join(d, "input.npy"), x.numpy().astype(np.float32))
        st_numpy.write(os.path.join(d, "ref.safetensors"),
                       {"classes": classes.numpy().astype(np.int64), "raw": raw.detach().numpy(),
                        "heat": heat.detach().numpy()})
        print("ready %s" % name, flush=True)


if __name__ == "__main__":
    main()
