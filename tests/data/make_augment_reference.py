#!/usr/bin/python3
"""Reference pixels for tests/data/test_augment_reference.cpp: torchvision's AutoAugment,
RandAugment and TrivialAugmentWide on PIL images (NEAREST interpolation, fill None = 0).

Usage: make_augment_reference.py OUT_DIR

Writes synthetic inputs <image>.npy (H x W x C, float32 holding 8-bit values) and
  ops.txt       "<image> <op> <magnitude> <file>": torchvision.transforms.autoaugment._apply_op
  tables.txt    "<space> <bins> <height> <width> <op> <bin> <magnitude>": the magnitude bins of
                RandAugment (also AutoAugment's, with 10 bins) and TrivialAugmentWide
  policies.txt  "<policy> <id> <op> <p> <bin> <op> <p> <bin>" (bin -1: none)
  forward.txt   "<kind> <image> <choices...> <file>": the transform's own forward with its random
                draws replaced by the listed choices (AutoAugment.get_params patched, torch.randint
                scripted), so the whole forward is compared, not only _apply_op
Magnitudes are written with repr() (exact doubles).
"""
import os
import sys

import numpy as np
import torch
import torchvision.transforms.autoaugment as A
from PIL import Image
from torchvision.transforms import InterpolationMode

NEAREST = InterpolationMode.NEAREST


def images():
    rng = np.random.RandomState(0)
    yy, xx = np.mgrid[0:37, 0:53]
    rgb = np.stack([xx * 4.8, yy * 6.9, (xx + yy) * 2.8], axis=-1) + rng.randint(-40, 41, size=(37, 53, 3))
    out = {"rgb": np.clip(rgb, 30, 230).astype(np.uint8)}  # no 0/255: autocontrast has work to do
    yy, xx = np.mgrid[0:32, 0:32]
    sq = np.stack([xx * 7.0, yy * 5.0, 255 - xx * 3.0 - yy * 3.0], axis=-1) + rng.randint(-30, 31, size=(32, 32, 3))
    out["square"] = np.clip(sq, 0, 255).astype(np.uint8)  # CIFAR-sized; rotations by 90 take PIL's transpose
    out["gray"] = np.clip(rng.normal(120, 40, size=(29, 31)), 0, 255).astype(np.uint8)[:, :, None]
    two = np.full((9, 11, 3), 100, np.uint8)
    two[::2, :, :] = 140
    out["twotone"] = two  # two levels per channel: equalize and autocontrast edge cases
    out["tiny"] = rng.randint(0, 256, size=(2, 2, 3)).astype(np.uint8)  # smaller than the 3x3 smoothing kernel
    big = rng.randint(0, 256, size=(24, 130, 3)).astype(np.uint8)
    out["wide"] = big  # wide: large translations
    return out


def pil(arr):
    return Image.fromarray(arr[:, :, 0], "L") if arr.shape[2] == 1 else Image.fromarray(arr, "RGB")


def back(img):
    a = np.asarray(img)
    return a[:, :, None] if a.ndim == 2 else a


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    imgs = images()
    count = [0]

    def save(arr):
        count[0] += 1
        name = f"r{count[0]}.npy"
        np.save(os.path.join(out, name), np.ascontiguousarray(np.asarray(arr, dtype=np.float32)))
        return name

    for name, arr in imgs.items():
        np.save(os.path.join(out, name + ".npy"), arr.astype(np.float32))

    # Each op at several magnitudes, from the bins the transforms use (both signs where signed).
    ra = A.RandAugment()._augmentation_space(31, (32, 32))
    ta = A.TrivialAugmentWide()._augmentation_space(31)
    with open(os.path.join(out, "ops.txt"), "w") as f:
        for name, arr in imgs.items():
            for op in list(ta.keys()) + ["Invert"]:
                if name == "wide" and op not in ("ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate"):
                    continue  # the wide image is there for the geometry
                mags = {0.0}
                for space in (ra, ta):
                    if op in space and space[op][0].ndim > 0:
                        vals = space[op][0]
                        for b in (1, 9, 17, 30):
                            m = float(vals[b].item())
                            mags.add(m)
                            if space[op][1]:
                                mags.add(-m)
                if op == "Rotate":
                    mags |= {90.0, -90.0, 180.0, 270.0, 45.0, 360.0}
                if op in ("TranslateX", "TranslateY"):
                    mags |= {136.0, -140.5, 400.0}
                for m in sorted(mags):
                    res = A._apply_op(pil(arr), op, m, interpolation=NEAREST, fill=None)
                    f.write(f"{name} {op} {m!r} {save(back(res))}\n")

    with open(os.path.join(out, "tables.txt"), "w") as f:
        for bins in (31, 10, 5, 2, 17, 64):
            for (h, w) in ((32, 32), (37, 53), (224, 224)):
                for op, (vals, _) in A.RandAugment()._augmentation_space(bins, (h, w)).items():
                    if vals.ndim > 0:
                        for b in range(bins):
                            f.write(f"randaugment {bins} {h} {w} {op} {b} {float(vals[b].item())!r}\n")
            for op, (vals, _) in A.TrivialAugmentWide()._augmentation_space(bins).items():
                if vals.ndim > 0:
                    for b in range(bins):
                        f.write(f"trivialaugment {bins} 0 0 {op} {b} {float(vals[b].item())!r}\n")
        for op, (_, signed) in A.RandAugment()._augmentation_space(31, (32, 32)).items():
            f.write(f"signed 0 0 0 {op} 0 {int(signed)}\n")

    with open(os.path.join(out, "policies.txt"), "w") as f:
        for pol in ("imagenet", "cifar10", "svhn"):
            for i, sub in enumerate(A.AutoAugment(A.AutoAugmentPolicy(pol)).policies):
                f.write(f"{pol} {i} " + " ".join(f"{op} {p!r} {-1 if b is None else b}" for op, p, b in sub) + "\n")

    forward(out, imgs, save)


def forward(out, imgs, save):
    real_randint = torch.randint
    rng = np.random.RandomState(1)
    with open(os.path.join(out, "forward.txt"), "w") as f:
        # AutoAugment: every sub-policy of each policy, with drawn probabilities and signs.
        for pol in ("imagenet", "cifar10", "svhn"):
            t = A.AutoAugment(A.AutoAugmentPolicy(pol))
            for i in range(len(t.policies)):
                for image in ("square", "rgb"):
                    probs = [float(np.float32(rng.rand())), float(np.float32(rng.rand()))]
                    signs = [int(rng.randint(2)), int(rng.randint(2))]
                    t.get_params = lambda n, i=i, probs=probs, signs=signs: (i, torch.tensor(probs), torch.tensor(signs))
                    res = t(pil(imgs[image]))
                    f.write(f"autoaugment {image} {pol} {i} {probs[0]!r} {probs[1]!r} {signs[0]} {signs[1]} "
                            f"{save(back(res))}\n")
        # RandAugment / TrivialAugmentWide: torch.randint scripted with the listed draws.
        try:
            cases = []
            for op in range(14):
                for neg in (0, 1):
                    cases.append(("randaugment", "rgb", (1, 9, 31), [op, neg]))
                    cases.append(("trivialaugment", "square", (31,), [op, int(rng.randint(31)), neg]))
            for k in range(6):
                draws = [int(rng.randint(14)), int(rng.randint(2)), int(rng.randint(14)), int(rng.randint(2))]
                cases.append(("randaugment", "square", (2, int(rng.randint(10)), 10), draws))
            for kind, image, args, draws in cases:
                queue = list(draws)
                used = []

                def scripted(high, size, dtype=None, queue=queue, used=used):
                    v = queue.pop(0)
                    assert 0 <= v < high
                    used.append(v)
                    return torch.tensor([v] * size[0], dtype=torch.long)

                torch.randint = scripted
                t = A.RandAugment(*args) if kind == "randaugment" else A.TrivialAugmentWide(*args)
                res = t(pil(imgs[image]))
                # Draws the op did not need (an unsigned op draws no sign) are dropped from the line.
                f.write(f"{kind} {image} {' '.join(map(str, args))} {len(used)} {' '.join(map(str, used))} "
                        f"{save(back(res))}\n")
        finally:
            torch.randint = real_randint


if __name__ == "__main__":
    main()
