"""PyTorch twins of cnn's benchmark models, layer for layer.

  lenet5    configs/models/lenet5.yaml          61,706 parameters, input 1x28x28
  resnet20  configs/models/resnet20-cifar.yaml 269,722 trainable parameters, input 3x32x32
            (He et al.'s option-A shortcuts: subsample and zero-pad channels, no parameters)

Run this file to print the parameter counts and check them against the numbers above.
"""
import torch
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


MODELS = {"lenet5": LeNet5, "resnet20": ResNet20}
EXPECTED_PARAMS = {"lenet5": 61_706, "resnet20": 269_722}


def build(name):
    """Model by name; also accepts cnn's config names/paths (lenet5.yaml, resnet20-cifar.yaml)."""
    key = name.rsplit("/", 1)[-1].removesuffix(".yaml").removesuffix("-cifar")
    if key not in MODELS:
        raise SystemExit(f"unknown model {name!r}; known: {', '.join(MODELS)}")
    return MODELS[key]()


def count_params(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


if __name__ == "__main__":
    ok = True
    for name, cls in MODELS.items():
        m = cls()
        n = count_params(m)
        out = m(torch.zeros(2, *cls.input_shape))
        good = n == EXPECTED_PARAMS[name] and tuple(out.shape) == (2, 10)
        ok &= good
        print(f"{name:9s} {n:>9,} params (expected {EXPECTED_PARAMS[name]:,}), "
              f"output {tuple(out.shape)}  {'ok' if good else 'MISMATCH'}")
    raise SystemExit(0 if ok else 1)
