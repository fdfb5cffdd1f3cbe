#!/usr/bin/python3
"""torchvision's ImageFolder + DataLoader throughput, the reference for `cnn bench --data`.

Usage: torch_loader_bench.py ROOT --workers N --batch B --epochs E [--min-seconds S] [--size 224]

Transforms: RandomResizedCrop(size), RandomHorizontalFlip(), ToTensor(), Normalize(ImageNet) on
ROOT/train, shuffled, persistent workers. One untimed epoch, then whole epochs until at least E
epochs and S seconds; prints one JSON line with images_per_s.
"""
import argparse
import json
import time

import torch
import torchvision
import torchvision.transforms as T


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--min-seconds", type=float, default=0.0)
    ap.add_argument("--size", type=int, default=224)
    a = ap.parse_args()
    tf = T.Compose([T.RandomResizedCrop(a.size), T.RandomHorizontalFlip(), T.ToTensor(),
                    T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    ds = torchvision.datasets.ImageFolder(a.root + "/train", transform=tf)
    dl = torch.utils.data.DataLoader(ds, batch_size=a.batch, shuffle=True, num_workers=a.workers,
                                     persistent_workers=a.workers > 0)
    checksum = 0.0

    def epoch():
        nonlocal checksum
        n = 0
        for images, labels in dl:
            n += images.shape[0]
            checksum += float(images[0, 0, 0, 0])
        return n

    epoch()  # warm-up: worker start, file cache
    images, epochs, t0 = 0, 0, time.perf_counter()
    while True:
        images += epoch()
        epochs += 1
        seconds = time.perf_counter() - t0
        if epochs >= a.epochs and seconds >= a.min_seconds:
            break
    print(json.dumps({"torch": torch.__version__, "torchvision": torchvision.__version__, "workers": a.workers,
                      "batch": a.batch, "images": images, "epochs": epochs, "seconds": seconds,
                      "images_per_s": images / seconds, "torch_threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
