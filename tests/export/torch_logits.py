#!/usr/bin/python3
"""Loads a safetensors state_dict (from `cnn export --format safetensors`) into the torchvision
model of the same name with load_state_dict(strict=True) and writes its eval-mode output for a
float32 .npy batch. GoogLeNet and Inception v3 are built with aux_logits=True (torchvision's
default), whose auxiliary heads our configs also hold.

Usage: torch_logits.py NAME WEIGHTS.safetensors INPUT.npy OUTPUT.npy"""
import os
import sys

import numpy as np
import torch
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import st_numpy  # noqa: E402


def main():
    name, weights, src, dst = sys.argv[1:5]
    tensors, meta = st_numpy.read(weights)
    kwargs = {"aux_logits": True, "init_weights": False} if name in ("googlenet", "inception_v3") else {}
    model = getattr(torchvision.models, name)(weights=None, **kwargs)
    state = {k: torch.from_numpy(v) for k, v in tensors.items()}
    for k, v in model.state_dict().items():  # strict also means same dtypes as torch keeps them
        if k in state and state[k].dtype != v.dtype:
            sys.exit("%s: %s is %s, torchvision keeps %s" % (weights, k, state[k].dtype, v.dtype))
    model.load_state_dict(state, strict=True)
    model.eval()
    with torch.no_grad():
        y = model(torch.from_numpy(np.load(src)))
    np.save(dst, y.numpy().astype(np.float32))
    print("torchvision %s: loaded %d tensors strictly (metadata %s), output %s" % (name, len(state), meta, tuple(y.shape)))


if __name__ == "__main__":
    main()
