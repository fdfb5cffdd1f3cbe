#!/usr/bin/env python3
"""Writes tests/models/torchvision_inception_densenet.json: for GoogLeNet (aux_logits=True),
Inception v3 (aux_logits=True) and DenseNet-121/169/201 as built by torchvision (0.14), the
state_dict's keys with their shapes (parameters and buffers, num_batches_tracked included) and the
number of trainable parameters. tests/models/test_zoo_inception_densenet.cpp checks the configs
under configs/models/ against it.

Run with the system Python that has torch and torchvision:
    /usr/bin/python3 scripts/models/torchvision_keys_inception_densenet.py
"""
import json
import os
import sys

import torch
import torchvision
from torchvision import models


def describe(source, model):
    return {
        "source": source,
        "params": sum(p.numel() for p in model.parameters()),
        "state_dict": [[name, list(t.shape)] for name, t in model.state_dict().items()],
    }


def dump(doc):
    """JSON with one state_dict entry per line (diff-friendly)."""
    lines = ["{", f' "torch": {json.dumps(doc["torch"])},', f' "torchvision": {json.dumps(doc["torchvision"])},',
             ' "torchvision_models": {']
    names = list(doc["torchvision_models"])
    for i, name in enumerate(names):
        m = doc["torchvision_models"][name]
        lines.append(f"  {json.dumps(name)}: {{")
        lines.append(f'   "source": {json.dumps(m["source"])},')
        lines.append(f'   "params": {m["params"]},')
        lines.append('   "state_dict": [')
        sd = m["state_dict"]
        for j, e in enumerate(sd):
            lines.append("    " + json.dumps(e) + ("," if j + 1 < len(sd) else ""))
        lines.append("   ]")
        lines.append("  }" + ("," if i + 1 < len(names) else ""))
    lines += [" }", "}"]
    return "\n".join(lines) + "\n"


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "models", "torchvision_inception_densenet.json")
    torch.manual_seed(0)
    builders = {
        # init_weights=False skips torchvision's slow truncated-normal init; it changes no shape.
        "googlenet": ("torchvision.models.GoogLeNet(aux_logits=True, init_weights=False)",
                      lambda: models.GoogLeNet(aux_logits=True, init_weights=False)),
        "inception_v3": ("torchvision.models.Inception3(aux_logits=True, init_weights=False)",
                         lambda: models.Inception3(aux_logits=True, init_weights=False)),
        "densenet121": ("torchvision.models.densenet121", lambda: models.densenet121(weights=None)),
        "densenet169": ("torchvision.models.densenet169", lambda: models.densenet169(weights=None)),
        "densenet201": ("torchvision.models.densenet201", lambda: models.densenet201(weights=None)),
    }
    doc = {"torch": torch.__version__, "torchvision": torchvision.__version__, "torchvision_models": {}}
    for name, (source, build) in builders.items():
        m = describe(source, build())
        doc["torchvision_models"][name] = m
        print(f"{name}: {m['params']:,} parameters, {len(m['state_dict'])} state_dict entries")
    text = dump(doc)
    assert json.loads(text) == doc
    with open(out, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
