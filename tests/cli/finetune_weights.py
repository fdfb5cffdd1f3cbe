#!/usr/bin/python3
"""Inputs and checks for tests/cli/test_finetune_torchvision.sh (no download).

make OUT: writes OUT/folder/{train,val}/{blue,red}/*.png, a 2-class image folder of 40 x 40 noisy
  images whose mean colour is the class, and OUT/resnet18.safetensors, torchvision's resnet18()
  state_dict (1000 classes) with torch.manual_seed(0) initialization, its BN layers given
  non-trivial affine parameters and the running statistics of the folder's training images (so
  freezing them is visible and the frozen backbone's eval-mode features are usable).
compare WEIGHTS CHECKPOINT MODE: every tensor of WEIGHTS except the head (fc.*) must be in
  CHECKPOINT with the same shape and the same bits. MODE 'all' checks every tensor; 'params'
  checks the parameters only and requires the BN running statistics to have moved (BN layers
  in training mode keep updating them although their parameters are frozen). The head must
  have the dataset's 2 classes. Prints one line; exit 1 on a mismatch.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import st_numpy  # noqa: E402

SEED = 0
IMAGE_SIZE = 40
IMAGES_PER_CLASS = {"train": 12, "val": 4}
CLASS_COLOURS = {"blue": (60, 90, 170), "red": (170, 70, 60)}


def make_weights(path, train_dir):
    import torch
    import torchvision
    torch.manual_seed(SEED)
    model = torchvision.models.resnet18()  # weights=None: seeded random init, nothing downloaded
    g = torch.Generator().manual_seed(SEED + 1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(0.75 + 0.5 * torch.rand(c, generator=g))
                m.bias.copy_((torch.rand(c, generator=g) - 0.5) * 0.2)
                m.reset_running_stats()
                m.momentum = None  # cumulative average: the statistics of the calibration batch
        # running statistics of the folder's training images (as the test normalizes them), so
        # that the frozen backbone in eval mode gives usable features
        model.train()
        model(training_batch(train_dir))
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.momentum = 0.1
                m.num_batches_tracked.fill_(100)
    tensors = {k: v.numpy() for k, v in model.state_dict().items()}
    st_numpy.write(path, tensors, {"format": "pt"})


def training_batch(train_dir):
    import torch
    from PIL import Image
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    images = []
    for cls in sorted(os.listdir(train_dir)):
        for name in sorted(os.listdir(os.path.join(train_dir, cls))):
            a = np.asarray(Image.open(os.path.join(train_dir, cls, name)).convert("RGB"), dtype=np.float64) / 255
            images.append(((a - mean) / std).transpose(2, 0, 1))
    return torch.tensor(np.stack(images), dtype=torch.float32)


def make_folder(root):
    from PIL import Image
    rng = np.random.RandomState(SEED)
    for split, n in IMAGES_PER_CLASS.items():
        for cls, colour in CLASS_COLOURS.items():
            d = os.path.join(root, split, cls)
            os.makedirs(d, exist_ok=True)
            for i in range(n):
                noise = rng.randint(-50, 51, size=(IMAGE_SIZE, IMAGE_SIZE, 3))
                pixels = np.clip(np.array(colour) + noise, 0, 255).astype(np.uint8)
                Image.fromarray(pixels).save(os.path.join(d, "%02d.png" % i))


def compare(weights_path, checkpoint_path, mode):
    given, _ = st_numpy.read(weights_path)
    saved, _ = st_numpy.read(checkpoint_path)
    problems = []
    if saved.get("fc.weight", np.zeros(0)).shape != (2, 512):
        problems.append("fc.weight is not [2, 512] in the checkpoint")
    checked = moved_stats = 0
    for name, a in given.items():
        if name.startswith("fc."):
            continue
        if name not in saved:
            problems.append("%s is missing from the checkpoint" % name)
            continue
        b = saved[name]
        stat = name.endswith(("running_mean", "running_var", "num_batches_tracked"))
        same = a.shape == b.shape and a.astype(b.dtype).tobytes() == b.tobytes()
        if stat and mode == "params":
            moved_stats += not same
            continue
        checked += 1
        if not same:
            diff = np.abs(a.astype(np.float64) - b.astype(np.float64)).max() if a.shape == b.shape else "shape"
            problems.append("%s changed (max |diff| %s)" % (name, diff))
    if mode == "params" and moved_stats == 0:
        problems.append("no BN running statistic moved, although BN ran in training mode")
    if problems:
        print("FAIL: %s: %d problem(s): %s" % (checkpoint_path, len(problems), "; ".join(problems[:5])))
        return 1
    extra = ", %d BN statistics moved" % moved_stats if mode == "params" else ""
    print("ok: %d backbone tensors bit-identical to the torchvision weights%s; fc is [2, 512]" % (checked, extra))
    return 0


def main():
    if sys.argv[1] == "make":
        out = sys.argv[2]
        make_folder(os.path.join(out, "folder"))
        make_weights(os.path.join(out, "resnet18.safetensors"), os.path.join(out, "folder", "train"))
        return 0
    if sys.argv[1] == "compare":
        return compare(sys.argv[2], sys.argv[3], sys.argv[4])
    print("usage: finetune_weights.py make OUT | compare WEIGHTS CHECKPOINT all|params")
    return 2


if __name__ == "__main__":
    sys.exit(main())
