#!/usr/bin/python3
"""Generates tests/layers/torch_reference.safetensors: PyTorch's outputs and gradients for the
layer configurations that tests/layers/test_torch_parity.cpp checks the engine against.

Run from anywhere:  /usr/bin/python3 tests/layers/make_torch_reference.py
Needs torch (1.13 was used) and numpy; the safetensors file is written by hand (no safetensors
package): 8-byte little-endian header length, JSON header
{name: {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {...}},
then the raw little-endian float32 data.

Every case draws float32 inputs, weights and an upstream gradient `dout` from a fixed seed,
computes in float64 with loss = sum(y * dout), and stores float32 results:
  <case>.x, <case>.weight, <case>.bias (parameters, when the layer has them), <case>.dout,
  <case>.y, <case>.dx, <case>.dweight, <case>.dbias.
The metadata entry <case> holds the engine's layer type and arguments ("conv out=4 k=3 pad=1");
"cases" lists the case names in order. The cross-entropy case stores logits as .x, labels (as
floats) as .labels, the mean loss as .loss (shape [1]) and d(loss)/d(logits) as .dx.
"""
import json
import os
import struct

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "torch_reference.safetensors")

tensors = {}  # name -> float32 numpy array (insertion order kept)
meta = {}
cases = []


def f32(t):
    return t.detach().to(torch.float32).cpu().numpy().copy()


def rand(gen, *shape, lo=-1.0, hi=1.0):
    # float32 values, so the engine sees exactly the numbers PyTorch used.
    return (torch.rand(*shape, generator=gen, dtype=torch.float32) * (hi - lo) + lo)


def add_case(name, spec):
    assert name not in meta
    cases.append(name)
    meta[name] = spec


def layer_case(name, spec, fn, x, params, gen):
    """fn(x64, *params64) -> y64. params: list of (name, float32 tensor)."""
    add_case(name, spec)
    x64 = x.double().requires_grad_(True)
    p64 = [p.double().requires_grad_(True) for _, p in params]
    y = fn(x64, *p64)
    dout = rand(gen, *y.shape)
    (y * dout.double()).sum().backward()
    tensors[name + ".x"] = f32(x)
    for (pname, p) in params:
        tensors[name + "." + pname] = f32(p)
    tensors[name + ".dout"] = f32(dout)
    tensors[name + ".y"] = f32(y)
    tensors[name + ".dx"] = f32(x64.grad)
    for (pname, _), p in zip(params, p64):
        tensors[name + ".d" + pname] = f32(p.grad)


def conv_case(name, gen, N, C, H, W, out, k, stride=1, pad=0, dilation=1, groups=1, bias=True):
    kh, kw = (k, k) if isinstance(k, int) else k
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (pad, pad) if isinstance(pad, int) else pad
    dh, dw = (dilation, dilation) if isinstance(dilation, int) else dilation
    x = rand(gen, N, C, H, W)
    bound = 1.0 / np.sqrt(C // groups * kh * kw)
    w = rand(gen, out, C // groups, kh, kw, lo=-bound, hi=bound)
    params = [("weight", w)]
    if bias:
        params.append(("bias", rand(gen, out, lo=-bound, hi=bound)))
    spec = "conv out=%d k=%d,%d stride=%d,%d pad=%d,%d dilation=%d,%d groups=%d bias=%s" % (
        out, kh, kw, sh, sw, ph, pw, dh, dw, groups, "true" if bias else "false")

    def fn(x64, w64, b64=None):
        return F.conv2d(x64, w64, b64, stride=(sh, sw), padding=(ph, pw), dilation=(dh, dw), groups=groups)

    layer_case(name, spec, fn, x, params, gen)


def conv_transpose_case(name, gen, N, C, H, W, out, k, stride=1, pad=0, output_pad=0, dilation=1, groups=1,
                        bias=True):
    # Weights are in x out/groups x kH x kW; PyTorch's fan_in is weight.size(1) * kH * kW.
    x = rand(gen, N, C, H, W)
    bound = 1.0 / np.sqrt(out // groups * k * k)
    w = rand(gen, C, out // groups, k, k, lo=-bound, hi=bound)
    params = [("weight", w)]
    if bias:
        params.append(("bias", rand(gen, out, lo=-bound, hi=bound)))
    spec = "conv_transpose out=%d k=%d stride=%d pad=%d output_pad=%d dilation=%d groups=%d bias=%s" % (
        out, k, stride, pad, output_pad, dilation, groups, "true" if bias else "false")

    def fn(x64, w64, b64=None):
        return F.conv_transpose2d(x64, w64, b64, stride=stride, padding=pad, output_padding=output_pad,
                                  groups=groups, dilation=dilation)

    layer_case(name, spec, fn, x, params, gen)


def maxpool_case(name, gen, N, C, H, W, k, stride, pad, ceil):
    x = rand(gen, N, C, H, W)  # continuous random values: no ties
    spec = "maxpool k=%d stride=%d pad=%d ceil=%s" % (k, stride, pad, "true" if ceil else "false")
    layer_case(name, spec, lambda t: F.max_pool2d(t, k, stride, pad, ceil_mode=ceil), x, [], gen)


def avgpool_case(name, gen, N, C, H, W, k, stride, pad, ceil, cip):
    x = rand(gen, N, C, H, W)
    spec = "avgpool k=%d stride=%d pad=%d ceil=%s count_include_pad=%s" % (
        k, stride, pad, "true" if ceil else "false", "true" if cip else "false")
    layer_case(name, spec, lambda t: F.avg_pool2d(t, k, stride, pad, ceil_mode=ceil, count_include_pad=cip),
               x, [], gen)


def main():
    gen = torch.Generator().manual_seed(20240601)

    conv_case("conv_basic", gen, 2, 3, 7, 7, 4, 3, pad=1)
    conv_case("conv_groups2", gen, 2, 4, 6, 5, 6, 3, pad=1, groups=2)
    conv_case("conv_depthwise", gen, 2, 4, 6, 6, 4, 3, pad=1, groups=4)
    conv_case("conv_stride2", gen, 2, 3, 9, 9, 5, 3, stride=2, pad=1)
    conv_case("conv_stride2_nopad_even", gen, 1, 2, 8, 8, 3, 3, stride=2)
    conv_case("conv_dilation2", gen, 2, 2, 8, 7, 3, 3, pad=2, dilation=2)
    conv_case("conv_1x3_nobias", gen, 2, 3, 5, 6, 4, (1, 3), pad=(0, 1), bias=False)
    conv_case("conv_3x1_stride21", gen, 2, 2, 7, 5, 3, (3, 1), stride=(2, 1), pad=(1, 0))
    conv_case("conv_pointwise", gen, 3, 5, 4, 4, 3, 1)
    conv_case("conv_5x5", gen, 1, 1, 12, 12, 6, 5)

    for ceil in (True, False):
        tag = "ceil" if ceil else "floor"
        maxpool_case("maxpool_k3s2p1_" + tag, gen, 2, 3, 8, 8, 3, 2, 1, ceil)
        maxpool_case("maxpool_k3s2p1_odd_" + tag, gen, 1, 2, 7, 9, 3, 2, 1, ceil)
        maxpool_case("maxpool_k2s2_" + tag, gen, 2, 2, 7, 7, 2, 2, 0, ceil)

    for cip in (True, False):
        tag = "cip" if cip else "nocip"
        avgpool_case("avgpool_k3s2p1_ceil_" + tag, gen, 2, 3, 8, 8, 3, 2, 1, True, cip)
        avgpool_case("avgpool_k3s2p1_floor_" + tag, gen, 1, 2, 7, 9, 3, 2, 1, False, cip)
        avgpool_case("avgpool_k2s2p1_" + tag, gen, 2, 2, 5, 7, 2, 2, 1, False, cip)
        avgpool_case("avgpool_k3s2_ceil_nopad_" + tag, gen, 1, 2, 6, 6, 3, 2, 0, True, cip)

    # linear
    for name, N, fin, fout, bias in (("linear", 3, 10, 4, True), ("linear_nobias", 2, 6, 5, False)):
        bound = 1.0 / np.sqrt(fin)
        x = rand(gen, N, fin)
        params = [("weight", rand(gen, fout, fin, lo=-bound, hi=bound))]
        if bias:
            params.append(("bias", rand(gen, fout, lo=-bound, hi=bound)))
        layer_case(name, "linear out=%d bias=%s" % (fout, "true" if bias else "false"),
                   lambda t, w, b=None: F.linear(t, w, b), x, params, gen)

    # leaky_relu (default slope 0.01 and 0.2)
    layer_case("leaky_relu_default", "leaky_relu", lambda t: F.leaky_relu(t, 0.01), rand(gen, 2, 3, 4, 4), [], gen)
    layer_case("leaky_relu_0.2", "leaky_relu slope=0.2", lambda t: F.leaky_relu(t, 0.2), rand(gen, 2, 3, 4, 4),
               [], gen)

    # batch norm, training mode (batch statistics, biased variance), eps 1e-5
    for name, shape in (("bn_train", (4, 3, 5, 5)), ("bn_train_2d", (6, 4))):
        C = shape[1]
        layer_case(name, "bn", lambda t, w, b: F.batch_norm(t, None, None, w, b, training=True, eps=1e-5),
                   rand(gen, *shape, lo=-2.0, hi=3.0),
                   [("weight", rand(gen, C, lo=0.5, hi=1.5)), ("bias", rand(gen, C))], gen)

    # cross entropy with label smoothing 0.1, mean reduction
    N, K = 6, 7
    logits = rand(gen, N, K, lo=-3.0, hi=3.0)
    labels = torch.randint(0, K, (N,), generator=gen)
    z = logits.double().requires_grad_(True)
    loss = F.cross_entropy(z, labels, label_smoothing=0.1)
    loss.backward()
    add_case("cross_entropy_ls0.1", "cross_entropy label_smoothing=0.1")
    tensors["cross_entropy_ls0.1.x"] = f32(logits)
    tensors["cross_entropy_ls0.1.labels"] = labels.to(torch.float32).numpy()
    tensors["cross_entropy_ls0.1.loss"] = f32(loss.reshape(1))
    tensors["cross_entropy_ls0.1.dx"] = f32(z.grad)

    # local response norm (AlexNet: size 5, alpha 1e-4, beta 0.75, k 2); wide inputs and larger
    # alphas so the cross-channel terms are well above the 1e-5 tolerance; even size 4 pads
    # asymmetrically; size 5 on 3 channels is wider than C.
    for name, size, alpha, beta, k, shape, mag in (
            ("lrn_size5_k2", 5, 1e-4, 0.75, 2.0, (2, 8, 4, 4), 30.0),
            ("lrn_size5_k2_alpha1", 5, 1.0, 0.75, 2.0, (2, 7, 3, 3), 2.0),
            ("lrn_size4_k1", 4, 0.5, 0.75, 1.0, (2, 6, 3, 4), 2.0),
            ("lrn_size4_k2", 4, 1e-4, 0.75, 2.0, (1, 9, 5, 5), 30.0),
            ("lrn_size5_k1_c3", 5, 2.0, 0.6, 1.0, (2, 3, 3, 3), 2.0)):
        layer_case(name, "lrn size=%d alpha=%r beta=%r k=%r" % (size, alpha, beta, k),
                   lambda t, s=size, a=alpha, b=beta, kk=k: F.local_response_norm(t, s, alpha=a, beta=b, k=kk),
                   rand(gen, *shape, lo=-mag, hi=mag), [], gen)

    # adaptive average pooling (overlapping windows, exact division, upsampling, non-square) and
    # global average pooling
    for name, out, shape in (("adaptive_avgpool_7_from_13", (7, 7), (2, 3, 13, 13)),
                             ("adaptive_avgpool_6_from_15", (6, 6), (2, 2, 15, 15)),
                             ("adaptive_avgpool_5_from_3", (5, 5), (2, 2, 3, 3)),
                             ("adaptive_avgpool_3x4_from_10x7", (3, 4), (1, 3, 10, 7))):
        layer_case(name, "adaptive_avgpool out=%d,%d" % out,
                   lambda t, o=out: F.adaptive_avg_pool2d(t, o), rand(gen, *shape), [], gen)
    layer_case("global_avgpool", "global_avgpool", lambda t: F.adaptive_avg_pool2d(t, 1), rand(gen, 3, 5, 7, 6),
               [], gen)

    # depthwise convolutions (the direct kernel) and transposed convolutions; their own generator,
    # so the cases above keep their data
    gen_dw = torch.Generator().manual_seed(20240602)
    conv_case("conv_depthwise_3x3_s1", gen_dw, 2, 8, 9, 21, 8, 3, pad=1, groups=8)
    conv_case("conv_depthwise_3x3_s2", gen_dw, 2, 6, 11, 19, 6, 3, stride=2, pad=1, groups=6)
    conv_case("conv_depthwise_5x5_d2", gen_dw, 2, 4, 12, 13, 4, 5, pad=4, dilation=2, groups=4)
    conv_case("conv_depthwise_m2_nobias", gen_dw, 2, 3, 7, 9, 6, 3, pad=1, groups=3, bias=False)
    conv_transpose_case("conv_transpose_s2_p1_op1", gen_dw, 2, 3, 5, 4, 4, 3, stride=2, pad=1, output_pad=1)
    conv_transpose_case("conv_transpose_groups2", gen_dw, 2, 4, 4, 4, 6, 3, stride=2, pad=1, groups=2)
    conv_transpose_case("conv_transpose_dilation2", gen_dw, 2, 3, 5, 5, 2, 3, pad=2, dilation=2, bias=False)
    conv_transpose_case("conv_transpose_k4s2p1", gen_dw, 3, 4, 6, 6, 3, 4, stride=2, pad=1)

    # max unpooling with the indices of a max pool over `pre`; output size = pre's size
    gen_up = torch.Generator().manual_seed(20240603)
    for name, shape, k, stride, pad in (("max_unpool_k2s2", (2, 3, 6, 6), 2, 2, 0),
                                        ("max_unpool_k2s2_odd", (1, 2, 7, 7), 2, 2, 0),
                                        ("max_unpool_k3s2p1", (2, 2, 7, 9), 3, 2, 1)):
        add_case(name, "max_unpool k=%d stride=%d pad=%d" % (k, stride, pad))
        pre = rand(gen_up, *shape)
        pooled, idx = F.max_pool2d(pre, k, stride, pad, return_indices=True)
        x = rand(gen_up, *pooled.shape)
        x64 = x.double().requires_grad_(True)
        y = F.max_unpool2d(x64, idx, k, stride, pad, output_size=shape[-2:])
        dout = rand(gen_up, *y.shape)
        (y * dout.double()).sum().backward()
        tensors[name + ".x"] = f32(x)
        tensors[name + ".pre"] = f32(pre)
        tensors[name + ".dout"] = f32(dout)
        tensors[name + ".y"] = f32(y)
        tensors[name + ".dx"] = f32(x64.grad)

    meta["cases"] = ",".join(cases)
    meta["generator"] = "tests/layers/make_torch_reference.py, torch " + torch.__version__
    write_safetensors(OUT, tensors, meta)
    print("wrote %s: %d cases, %d tensors, %d bytes" % (OUT, len(cases), len(tensors), os.path.getsize(OUT)))


def write_safetensors(path, named, metadata):
    header = {}
    offset = 0
    blobs = []
    for name, arr in named.items():
        arr = np.ascontiguousarray(arr, dtype="<f4")
        data = arr.tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)  # pad the header to a multiple of 8 bytes
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


if __name__ == "__main__":
    main()
