#!/usr/bin/python3
"""Reference pixels for tests/data/test_transform_reference.cpp, computed by torchvision's PIL path.

Usage: make_transform_reference.py OUT_DIR SHARED_DATA_DIR

For each input image (a synthetic PNG written here, and real ImageNet JPEGs from
SHARED_DATA_DIR/imagenet-sample: an original-resolution photo, grayscale ones, a tiny one, a
large one, one with 4:4:0 chroma, one with an EXIF rotation and the CMYK edge case) it writes:
  <name>.decoded.npy      PIL's Image.open(path).convert("RGB") as H x W x 3 (what ImageFolder loads)
  <name>.<op>.npy         torchvision.transforms.functional <op> applied to that decoded image
                          (H x W x 3 for 8-bit results, C x H x W for tensors)
and inputs.txt ("<name> <path>" per line). Arrays are float32 (8-bit values are exact).
The C++ test applies the same operation with the same fixed parameters to <name>.decoded.npy and
requires identical values; it also decodes <path> itself and compares with <name>.decoded.npy.
"""
import json
import os
import sys

import numpy as np
import torch
import torchvision
import torchvision.transforms as T
import torchvision.transforms.functional as F
from PIL import Image

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


def main():
    out, shared = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    inet = os.path.join(shared, "imagenet-sample")
    rng = np.random.RandomState(0)
    # Smooth gradients plus noise: resampling errors show up in both.
    yy, xx = np.mgrid[0:37, 0:53]
    syn = np.stack([xx * 4.8, yy * 6.9, (xx + yy) * 2.8], axis=-1) + rng.randint(-40, 41, size=(37, 53, 3))
    syn = np.clip(syn, 0, 255).astype(np.uint8)
    syn_path = os.path.join(out, "synthetic.png")
    Image.fromarray(syn).save(syn_path)
    inputs = {
        "synthetic": syn_path,
        "photo": os.path.join(inet, "train/n01440764/n01440764_tench.JPEG"),                    # 500x375 original
        "gray": os.path.join(inet, "train/n03417042/n03417042_garbage_truck.JPEG"),             # grayscale 613x511
        "gray224": os.path.join(inet, "val/n01440764/n01440764_15560.JPEG"),                     # grayscale 224x224
        "tiny": os.path.join(inet, "val-fullres/n01871265/n01871265_tusker.JPEG"),               # 75x56
        "tall": os.path.join(inet, "val-fullres/n03866082/n03866082_overskirt.JPEG"),            # 68x121
        "large": os.path.join(inet, "val-fullres/n02091032/n02091032_Italian_greyhound.JPEG"),   # 2400x1600
        "chroma440": os.path.join(inet, "val-fullres/n03461385/n03461385_grocery_store.JPEG"),
        "exif": os.path.join(inet, "val-fullres/n02951585/n02951585_can_opener.JPEG"),
        "cmyk": os.path.join(inet, "edge-cases/cmyk_n03888257_parachute.JPEG"),
    }
    meta = {"torch": torch.__version__, "torchvision": torchvision.__version__, "PIL": Image.__version__}

    def save(name, arr):
        np.save(os.path.join(out, name + ".npy"), np.ascontiguousarray(np.asarray(arr, dtype=np.float32)))

    with open(os.path.join(out, "inputs.txt"), "w") as f:  # relative paths: relative to OUT_DIR
        for name, path in inputs.items():
            f.write(f"{name} {os.path.relpath(path, out) if path == syn_path else path}\n")
    for name, path in inputs.items():
        img = Image.open(path).convert("RGB")  # torchvision.datasets.folder.pil_loader
        save(f"{name}.decoded", np.asarray(img))
        w, h = img.size
        ops = {
            "resize256": F.resize(img, 256),                   # shorter side 256
            "resize24": F.resize(img, 24),                     # a strong shrink
            "resize_hw": F.resize(img, [max(1, h // 3), w + 7]),  # shrink one axis, stretch the other
            "center224": F.center_crop(img, 224),              # pads with zeros when the image is smaller
            "center_odd": F.center_crop(img, [min(h, 31), min(w, 20) + 1]),
            "hflip": F.hflip(img),
            # RandomResizedCrop's work with fixed parameters: crop, then resize to 224x224.
            "resized_crop": F.resized_crop(img, h // 5, w // 7, max(1, h // 2), max(1, w // 3), [224, 224]),
            # RandomCrop(32, padding=4) with the offset (1, 7) of the padded image.
            "pad_crop": F.crop(F.pad(img, 4), 1, 7, 32, 32),
            "brightness0.6": F.adjust_brightness(img, 0.6),
            "brightness1.4": F.adjust_brightness(img, 1.4),
            "contrast0.5": F.adjust_contrast(img, 0.5),
            "contrast1.7": F.adjust_contrast(img, 1.7),
            "saturation0.3": F.adjust_saturation(img, 0.3),
            "saturation1.8": F.adjust_saturation(img, 1.8),
        }
        big = max(w, h) >= 600  # large images: the resizing ops only, to keep the files small
        if not big:
            ops["resize_up"] = F.resize(img, [h * 2 + 1, w * 3])
        for op, res in ops.items():
            if big and op not in ("resize256", "resize24", "resized_crop", "center224"):
                continue
            save(f"{name}.{op}", np.asarray(res))
        if not big:
            save(f"{name}.normalize", F.normalize(F.to_tensor(img), MEAN, STD))
        # The standard ImageNet eval pipeline, end to end.
        evalp = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), T.Normalize(MEAN, STD)])
        save(f"{name}.eval_pipeline", evalp(img))
    # RandomResizedCrop's fallback (no try fits): a 100 x 10 (w x h) image, scale (0.9, 1), ratio (1, 1).
    fallback = T.RandomResizedCrop.get_params(Image.new("RGB", (100, 10)), scale=(0.9, 1.0), ratio=(1.0, 1.0))
    fallback_tall = T.RandomResizedCrop.get_params(Image.new("RGB", (10, 100)), scale=(0.9, 1.0),
                                                   ratio=(3 / 4, 4 / 3))
    meta["rrc_fallback_100x10"] = list(fallback)
    meta["rrc_fallback_10x100"] = list(fallback_tall)
    with open(os.path.join(out, "meta.json"), "w") as f:
        json.dump(meta, f)


if __name__ == "__main__":
    main()
