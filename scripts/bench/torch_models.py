"""PyTorch twins of cnn's benchmark models, layer for layer.

  lenet5          configs/models/lenet5.yaml             61,706 parameters, input 1x28x28
  resnet20        configs/models/resnet20-cifar.yaml    269,722 parameters, input 3x32x32
                  (He et al.'s option-A shortcuts: subsample and zero-pad channels, no parameters)
  resnet18-cifar  configs/models/resnet18-cifar.yaml 11,173,962 parameters, input 3x32x32
                  (kuangliu/pytorch-cifar: 3x3 stem, no max pool, option-B 1x1 conv + BN shortcuts)
  resnet50        configs/models/resnet50.yaml       25,557,032 parameters, input 3x224x224
                  (torchvision.models.resnet50, 1000 classes)
  mobilenet_v1    configs/models/mobilenet_v1.yaml    4,231,976 parameters, input 3x224x224
                  (Howard et al. 2017, alpha 1.0, 1000 classes)
  vgg16           configs/models/vgg16.yaml         138,357,544 parameters, input 3x224x224
                  (torchvision.models.vgg16, 1000 classes)

Parameters count what requires a gradient (BatchNorm's running statistics are buffers), as
`cnn summary --json` counts total_params. Run this file to print the counts and check them
against the numbers above; `--params NAME` prints one model's count (scripts/bench/speed.sh
compares it with cnn's before timing anything).
"""
import argparse

import torch
import torchvision
from torch import nn


class LeNet5(nn.Module):
    """conv 6 k5 pad2 -> relu -> maxpool2 -> conv 16 k5 -> relu -> maxpool2 -> flatten
    -> linear 120 -> relu -> linear 84 -> relu -> linear 10."""

    input_shape = (1, 28, 28)

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.pool2 = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)
        self.relu = nn.ReLU()

    def forward(self, x):
        x = self.pool1(self.relu(self.conv1(x)))
        x = self.pool2(self.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = self.relu(self.fc1(x))
        x = self.relu(self.fc2(x))
        return self.fc3(x)


class BasicBlock(nn.Module):
    """Two 3x3 convs (no bias) with BN; identity shortcut, or when the shape changes option A:
    subsample by 2 and zero-pad the new channels (half before, half after). relu after the add."""

    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.pad = (cout - cin) // 2 if (stride != 1 or cin != cout) else None
        self.stride = stride

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        if self.pad is not None:
            x = nn.functional.pad(x[:, :, ::self.stride, ::self.stride], (0, 0, 0, 0, self.pad, self.pad))
        return self.relu(y + x)


class ResNet20(nn.Module):
    """3x3 stem 16 (no bias) + BN + relu, 3 stages x 3 basic blocks at 16/32/64 filters
    (stride 2 at the first block of stages 2 and 3), avgpool 8, flatten, linear 10."""

    input_shape = (3, 32, 32)

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU()
        self.layer1 = nn.Sequential(*[BasicBlock(16, 16) for _ in range(3)])
        self.layer2 = nn.Sequential(BasicBlock(16, 32, 2), BasicBlock(32, 32), BasicBlock(32, 32))
        self.layer3 = nn.Sequential(BasicBlock(32, 64, 2), BasicBlock(64, 64), BasicBlock(64, 64))
        self.avgpool = nn.AvgPool2d(8)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


class BasicBlockB(nn.Module):
    """ResNet-18-CIFAR's basic block: two 3x3 convs (no bias) with BN; identity shortcut, or
    where the shape changes option B: 1x1 conv (stride, no bias) + BN. relu after the add."""

    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return self.relu(y + self.shortcut(x))


class ResNet18Cifar(nn.Module):
    """kuangliu's ResNet-18 for CIFAR: 3x3 stem 64 (no bias) + BN + relu, no max pool, 4 stages
    x 2 basic blocks at 64/128/256/512 (stride 2 at stages 2-4), global avgpool, linear 10."""

    input_shape = (3, 32, 32)

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        stages, cin = [], 64
        for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
            stages.append(nn.Sequential(BasicBlockB(cin, cout, stride), BasicBlockB(cout, cout)))
            cin = cout
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.linear = nn.Linear(512, num_classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.linear(torch.flatten(self.avgpool(x), 1))


def conv_bn_relu(cin, cout, k, stride=1, groups=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride=stride, padding=(k - 1) // 2,
                                   groups=groups, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU())


class MobileNetV1(nn.Module):
    """Howard et al. 2017, Table 1 (alpha 1.0): 3x3 conv 32 stride 2, 13 depthwise-separable
    convs (3x3 depthwise + BN + relu, 1x1 pointwise + BN + relu), global avgpool, linear 1000.
    The 13th separable conv has stride 1, as in the released models and in cnn's config."""

    input_shape = (3, 224, 224)
    # (in, out, stride) of the separable convs
    SEPARABLE = [(32, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2), (256, 256, 1),
                 (256, 512, 2)] + [(512, 512, 1)] * 5 + [(512, 1024, 2), (1024, 1024, 1)]

    def __init__(self, num_classes=1000):
        super().__init__()
        layers = [conv_bn_relu(3, 32, 3, stride=2)]
        for cin, cout, stride in self.SEPARABLE:
            layers.append(nn.Sequential(conv_bn_relu(cin, cin, 3, stride=stride, groups=cin),
                                        conv_bn_relu(cin, cout, 1)))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(1024, num_classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.avgpool(self.features(x)), 1))


def torchvision_model(builder, num_classes):
    """A torchvision model (random weights) with the input_shape attribute the bench reads."""
    def make():
        m = builder(weights=None, num_classes=num_classes)
        m.input_shape = (3, 224, 224)
        return m
    return make


MODELS = {
    "lenet5": LeNet5,
    "resnet20": ResNet20,
    "resnet18-cifar": ResNet18Cifar,
    "resnet50": torchvision_model(torchvision.models.resnet50, 1000),
    "mobilenet_v1": MobileNetV1,
    "vgg16": torchvision_model(torchvision.models.vgg16, 1000),
}
EXPECTED_PARAMS = {"lenet5": 61_706, "resnet20": 269_722, "resnet18-cifar": 11_173_962,
                   "resnet50": 25_557_032, "mobilenet_v1": 4_231_976, "vgg16": 138_357_544}
ALIASES = {"resnet20-cifar": "resnet20"}


def key_of(name):
    """Model key for a name or cnn config path (resnet20-cifar.yaml, configs/models/vgg16.yaml)."""
    key = name.rsplit("/", 1)[-1].removesuffix(".yaml")
    key = ALIASES.get(key, key)
    if key not in MODELS:
        raise SystemExit(f"unknown model {name!r}; known: {', '.join(MODELS)}")
    return key


def build(name):
    """Model by name; also accepts cnn's config names/paths (lenet5.yaml, resnet20-cifar.yaml)."""
    return MODELS[key_of(name)]()


def count_params(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def num_classes(model):
    """Output width of the model's last linear layer."""
    return [m for m in model.modules() if isinstance(m, nn.Linear)][-1].out_features


def check_all():
    ok = True
    for name in MODELS:
        m = build(name).eval()
        n = count_params(m)
        with torch.no_grad():
            out = m(torch.zeros(1, *m.input_shape))
        good = n == EXPECTED_PARAMS[name] and tuple(out.shape) == (1, num_classes(m))
        ok &= good
        print(f"{name:15s} {n:>12,} params (expected {EXPECTED_PARAMS[name]:,}), "
              f"output {tuple(out.shape)}  {'ok' if good else 'MISMATCH'}")
    return ok


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="check or print the parameter counts of the models")
    ap.add_argument("--params", metavar="NAME", help="print this model's parameter count only")
    args = ap.parse_args()
    if args.params:
        print(count_params(build(args.params)))
    else:
        raise SystemExit(0 if check_all() else 1)
