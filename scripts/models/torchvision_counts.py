"""Reference parameter counts and state_dict keys for the model zoo (configs/models/).

Writes tests/models/torchvision_counts.json, which tests/models/test_zoo.cpp checks every config
against: the total of trainable parameters, and every state_dict key (parameters and buffers)
with its shape, in order.

  torchvision  the models torchvision 0.14 has, built with weights=None. Our configs must match
               their state_dict exactly, so torchvision weights load by name.
  reference    the zoo's other models, as the PyTorch implementations they follow:
               akamaster/pytorch_resnet_cifar10 (resnet20..110-cifar, option A shortcuts),
               kuangliu/pytorch-cifar (resnet18-cifar), and small definitions below of the
               papers' networks (LeNet-5, AlexNet 2012, VGG A-LRN and C, MobileNet v1) written
               with the names our configs give them.

Run with the torch that has torchvision:
  /usr/bin/python3 scripts/models/torchvision_counts.py [--out tests/models/torchvision_counts.json]
"""
import argparse
import json
import os
import sys

import torch
import torch.nn.functional as F
import torchvision
from torch import nn

# Config name (configs/models/<name>.yaml) -> torchvision builder.
TORCHVISION = [
    "alexnet",
    "vgg11", "vgg13", "vgg16", "vgg19", "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn",
    "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d",
    "squeezenet1_0", "squeezenet1_1",
    "mobilenet_v2",
]


# --- akamaster/pytorch_resnet_cifar10 (resnet.py), option A ------------------------------------
class LambdaLayer(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


class CifarBasicBlock(nn.Module):
    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = LambdaLayer(
                lambda x: F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, planes // 4, planes // 4), "constant", 0))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class CifarResNet(nn.Module):
    def __init__(self, n, num_classes=10):
        super().__init__()
        self.in_planes = 16
        self.conv1 = nn.Conv2d(3, 16, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.layer1 = self._make_layer(16, n, 1)
        self.layer2 = self._make_layer(32, n, 2)
        self.layer3 = self._make_layer(64, n, 2)
        self.linear = nn.Linear(64, num_classes)

    def _make_layer(self, planes, n, stride):
        layers = []
        for s in [stride] + [1] * (n - 1):
            layers.append(CifarBasicBlock(self.in_planes, planes, s))
            self.in_planes = planes
        return nn.Sequential(*layers)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        out = F.avg_pool2d(out, out.size()[3]).view(out.size(0), -1)
        return self.linear(out)


# --- kuangliu/pytorch-cifar (models/resnet.py), ResNet18 -----------------------------------------
class KBasicBlock(nn.Module):
    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class KResNet18(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.in_planes = 64
        self.conv1 = nn.Conv2d(3, 64, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.layer1 = self._make_layer(64, 2, 1)
        self.layer2 = self._make_layer(128, 2, 2)
        self.layer3 = self._make_layer(256, 2, 2)
        self.layer4 = self._make_layer(512, 2, 2)
        self.linear = nn.Linear(512, num_classes)

    def _make_layer(self, planes, n, stride):
        layers = []
        for s in [stride] + [1] * (n - 1):
            layers.append(KBasicBlock(self.in_planes, planes, s))
            self.in_planes = planes
        return nn.Sequential(*layers)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        out = F.avg_pool2d(out, 4).view(out.size(0), -1)
        return self.linear(out)


# --- the papers' networks, named as our configs name them -----------------------------------------
class LeNet5(nn.Module):  # configs/models/lenet5.yaml (28 x 28, ReLU, max pooling)
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(400, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)


class LeNet5Classic(nn.Module):  # configs/models/lenet5-classic.yaml (32 x 32, C5 a 5 x 5 conv)
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5)
        self.c3 = nn.Conv2d(6, 16, 5)
        self.c5 = nn.Conv2d(16, 120, 5)
        self.f6 = nn.Linear(120, 84)
        self.output = nn.Linear(84, 10)


class AlexNet2012(nn.Module):  # Krizhevsky et al. 2012: two towers as groups=2
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 96, 11, stride=4)
        self.conv2 = nn.Conv2d(96, 256, 5, padding=2, groups=2)
        self.conv3 = nn.Conv2d(256, 384, 3, padding=1)
        self.conv4 = nn.Conv2d(384, 384, 3, padding=1, groups=2)
        self.conv5 = nn.Conv2d(384, 256, 3, padding=1, groups=2)
        self.fc6 = nn.Linear(256 * 6 * 6, 4096)
        self.fc7 = nn.Linear(4096, 4096)
        self.fc8 = nn.Linear(4096, 1000)


def vgg_paper(cfg):
    """torchvision's VGG with a features list from cfg: ints are 3x3 convs, ('1', c) a 1x1 conv,
    'M' max pooling, 'LRN' local response normalisation."""
    layers, c_in = [], 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(2))
        elif v == "LRN":
            layers.append(nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2))
        else:
            k, c = (1, v[1]) if isinstance(v, tuple) else (3, v)
            layers += [nn.Conv2d(c_in, c, k, padding=k // 2), nn.ReLU(inplace=True)]
            c_in = c
    return torchvision.models.VGG(nn.Sequential(*layers))


def cbr(c_in, c_out, k=1, stride=1, groups=1):
    return nn.Sequential(nn.Conv2d(c_in, c_out, k, stride, (k - 1) // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class Separable(nn.Module):
    def __init__(self, c_in, c_out, stride=1):
        super().__init__()
        self.dw = cbr(c_in, c_in, 3, stride, groups=c_in)
        self.pw = cbr(c_in, c_out)


class MobileNetV1(nn.Module):  # Howard et al. 2017, Table 1, alpha 1.0
    def __init__(self):
        super().__init__()
        rows = [(32, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2), (256, 256, 1), (256, 512, 2)]
        rows += [(512, 512, 1)] * 5 + [(512, 1024, 2), (1024, 1024, 1)]
        self.features = nn.Sequential(cbr(3, 32, 3, 2), *[Separable(i, o, s) for i, o, s in rows])
        self.fc = nn.Linear(1024, 1000)


class CBRNamed(nn.Module):  # conv-BN-ReLU with ResNet-9's names
    def __init__(self, c_in, c_out):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(c_out)


class Residual9(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.a, self.b = CBRNamed(c, c), CBRNamed(c, c)


class ResNet9(nn.Module):  # Page 2018 (Myrtle.ai DAWNBench), half width
    def __init__(self, w=32):
        super().__init__()
        self.prep, self.layer1, self.res1 = CBRNamed(3, w), CBRNamed(w, 2 * w), Residual9(2 * w)
        self.layer2, self.layer3, self.res3 = CBRNamed(2 * w, 4 * w), CBRNamed(4 * w, 8 * w), Residual9(8 * w)
        self.fc = nn.Linear(8 * w, 10, bias=False)


class AirbenchGroup(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)


class AirbenchNet(nn.Module):  # after Keller Jordan's airbench94 (2024), learned stem
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 24, 2, bias=False)
        self.stem_bn = nn.BatchNorm2d(24)
        self.block1, self.block2 = AirbenchGroup(24, 64), AirbenchGroup(64, 256)
        self.block3 = AirbenchGroup(256, 256)
        self.fc = nn.Linear(256, 10, bias=False)


REFERENCE = {
    "lenet5": (LeNet5, "LeNet-5 on 28 x 28 (configs/models/lenet5.yaml)"),
    "lenet5-classic": (LeNet5Classic, "LeNet-5 (LeCun et al. 1998), simplified"),
    "alexnet-original": (AlexNet2012, "AlexNet (Krizhevsky et al. 2012), towers as groups"),
    "vgg-a-lrn": (lambda: vgg_paper([64, "LRN", "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]),
                  "VGG configuration A-LRN, torchvision's VGG layout"),
    "vgg-c": (lambda: vgg_paper([64, 64, "M", 128, 128, "M", 256, 256, ("1", 256), "M",
                                 512, 512, ("1", 512), "M", 512, 512, ("1", 512), "M"]),
              "VGG configuration C, torchvision's VGG layout"),
    "mobilenet_v1": (MobileNetV1, "MobileNet v1 1.0 (Howard et al. 2017)"),
    "resnet18-cifar": (KResNet18, "kuangliu/pytorch-cifar ResNet18"),
    "resnet9-cifar": (ResNet9, "ResNet-9 (Page 2018, Myrtle.ai DAWNBench) at half width"),
    "airbench-cifar": (AirbenchNet, "airbench94's network (Jordan 2024) with a learned conv-BN stem"),
}
for n in (3, 5, 7, 9, 18):
    REFERENCE[f"resnet{6 * n + 2}-cifar"] = (lambda n=n: CifarResNet(n),
                                             f"akamaster/pytorch_resnet_cifar10 resnet{6 * n + 2} (option A)")


def describe(model, source):
    return {
        "source": source,
        "params": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "state_dict": [[k, list(v.shape)] for k, v in model.state_dict().items()],
    }


def dump(doc):
    """JSON with one state_dict entry per line (diff-friendly)."""
    lines = ["{", f' "torch": {json.dumps(doc["torch"])},', f' "torchvision": {json.dumps(doc["torchvision"])},']
    groups = ["torchvision_models", "reference_models"]
    for g, group in enumerate(groups):
        lines.append(f" {json.dumps(group)}: {{")
        names = list(doc[group])
        for i, name in enumerate(names):
            m = doc[group][name]
            lines.append(f"  {json.dumps(name)}: {{")
            lines.append(f'   "source": {json.dumps(m["source"])},')
            lines.append(f'   "params": {m["params"]},')
            lines.append('   "state_dict": [')
            sd = m["state_dict"]
            lines += ["    " + json.dumps(e) + ("," if j + 1 < len(sd) else "") for j, e in enumerate(sd)]
            lines.append("   ]")
            lines.append("  }" + ("," if i + 1 < len(names) else ""))
        lines.append(" }" + ("," if g + 1 < len(groups) else ""))
    lines.append("}")
    return "\n".join(lines) + "\n"


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(root, "tests/models/torchvision_counts.json"))
    args = ap.parse_args()
    torch.manual_seed(0)
    out = {"torch": torch.__version__, "torchvision": torchvision.__version__, "torchvision_models": {},
           "reference_models": {}}
    for name in TORCHVISION:
        model = getattr(torchvision.models, name)(weights=None)
        out["torchvision_models"][name] = describe(model, f"torchvision.models.{name}")
        print(f"{name:18s} {out['torchvision_models'][name]['params']:>12,}", file=sys.stderr)
    for name, (build, source) in REFERENCE.items():
        out["reference_models"][name] = describe(build(), source)
        print(f"{name:18s} {out['reference_models'][name]['params']:>12,}  ({source})", file=sys.stderr)
    text = dump(out)
    assert json.loads(text) == out
    with open(args.out, "w") as f:
        f.write(text)
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
