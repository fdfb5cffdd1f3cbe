"""Reference for tests/train/test_ema.cpp: torchvision's reference EMA (AveragedModel with
use_buffers=True and ema_avg = decay * avg + (1 - decay) * param) over a conv + BN module whose
tensors take the values value(t, tensor, j) at step t; the first `warmup` updates are followed by
n_averaged.fill_(0), as torchvision's train.py does during warm-up epochs. Prints one line per
tensor: its name and the float32 bit patterns of the average, in hex."""
import struct
import sys
from collections import OrderedDict

import torch
from torch.optim.swa_utils import AveragedModel

decay, steps, warmup = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
model = torch.nn.Sequential(OrderedDict(conv=torch.nn.Conv2d(2, 2, 1), bn=torch.nn.BatchNorm2d(2)))


def ema_avg(avg, param, num_averaged):
    return decay * avg + (1 - decay) * param


def set_values(t):
    tensors = list(model.parameters()) + [b for b in model.buffers() if b.dtype == torch.float32]
    for k, x in enumerate(tensors):
        flat = x.data.view(-1)
        for j in range(flat.numel()):
            flat[j] = float(torch.tensor(float((j * 7 + t * 13 + k * 5) % 17), dtype=torch.float32) /
                            torch.tensor(17.0, dtype=torch.float32)) - 0.5


ema = AveragedModel(model, avg_fn=ema_avg, use_buffers=True)
for t in range(1, steps + 1):
    set_values(t)
    ema.update_parameters(model)
    if t <= warmup:
        ema.n_averaged.fill_(0)
names = [n for n, _ in model.named_parameters()] + [n for n, b in model.named_buffers() if b.dtype == torch.float32]
tensors = list(ema.module.parameters()) + [b for b in ema.module.buffers() if b.dtype == torch.float32]
for name, x in zip(names, tensors):
    bits = [struct.unpack("<I", struct.pack("<f", v))[0] for v in x.detach().view(-1).tolist()]
    print(name, " ".join("%08x" % b for b in bits))
