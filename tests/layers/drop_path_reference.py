#!/usr/bin/python3
"""Reference for the drop_path layer: torchvision.ops.StochasticDepth(p, "row") on a fixed input,
with the Bernoulli draw replaced by the keep mask our layer drew (torch's RNG is not ours), so the
test compares the arithmetic: scaling, rows, eval identity, the gradient.

usage: drop_path_reference.py P N D KEEP   (KEEP: N digits 0/1, or "eval")
Input x[n, j] = ((n * D + j) * 37 % 101) / 101 - 0.5 (shape N x D), output gradient
dy[n, j] = ((n * D + j) * 11 % 7) - 3. Prints the output, then the input gradient, as float32 hex bits.
"""
import struct
import sys

import torch
import torchvision.ops

p, n, d, keep = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
x = torch.tensor([[((i * d + j) * 37 % 101) / 101 - 0.5 for j in range(d)] for i in range(n)],
                 dtype=torch.float32, requires_grad=True)
dy = torch.tensor([[((i * d + j) * 11 % 7) - 3 for j in range(d)] for i in range(n)], dtype=torch.float32)
layer = torchvision.ops.StochasticDepth(p, "row")
if keep == "eval":
    layer.eval()
else:
    mask = [float(c) for c in keep]
    original = torch.Tensor.bernoulli_

    def fixed(self, *args, **kwargs):  # the noise tensor is N x 1: fill it with our mask
        return self.copy_(torch.tensor(mask, dtype=self.dtype).reshape(self.shape))

    torch.Tensor.bernoulli_ = fixed
y = layer(x)
y.backward(dy)


def bits(t):
    return " ".join("%08x" % struct.unpack("<I", struct.pack("<f", v))[0] for v in t.detach().reshape(-1).tolist())


print(bits(y))
print(bits(x.grad))
