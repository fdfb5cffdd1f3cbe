"""Writes the binary seed corpus of tests/fuzz (committed; rerun to regenerate): small valid files
of each format the fuzz targets read. Needs numpy and PIL (Debian's python3-numpy, python3-pil)."""
import gzip
import io
import json
import os
import struct
import zlib

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def safetensors(tensors, metadata=None, checksums=False):
    """tensors: list of (name, array, dtype name)."""
    header, blobs, off = {}, [], 0
    crcs = {}
    for name, a, dt in tensors:
        b = a.tobytes()
        header[name] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        crcs[name] = "%08x" % zlib.crc32(b)
        off += len(b)
    meta = dict(metadata or {})
    if checksums:
        mcrc = 0
        for k in sorted(meta):
            mcrc = zlib.crc32(k.encode() + b"\0" + meta[k].encode() + b"\0", mcrc)
        meta["tensor_crc32"] = json.dumps({"__metadata__": "%08x" % mcrc, **crcs}, separators=(",", ":"))
    if meta:
        header = {"__metadata__": meta, **header}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


rng = np.random.default_rng(0)
f32 = lambda *s: rng.standard_normal(s).astype(np.float32)

put("safetensors", "f32.safetensors", safetensors([("a", f32(2, 3), "F32"), ("b", f32(4), "F32")], {"k": "v"}))
put("safetensors", "mixed.safetensors", safetensors([("h", f32(3).astype(np.float16), "F16"),
                                                     ("n", np.array(7, dtype=np.int64), "I64"),
                                                     ("u", np.arange(4, dtype=np.uint8), "U8"),
                                                     ("e", np.zeros((0, 2), np.float32), "F32")]))

# The tiny net of fuzz_checkpoint.cpp, as save_checkpoint writes it (format 2, checksums).
shapes = {"conv.weight": (2, 1, 3, 3), "conv.bias": (2,), "bn.weight": (2,), "bn.bias": (2,),
          "fc.weight": (3, 32), "fc.bias": (3,), "bn.running_mean": (2,), "bn.running_var": (2,),
          "bn.num_batches_tracked": ()}
ck = [(k, f32(*s) if s else np.zeros((), np.float32), "F32") for k, s in shapes.items()]
meta = {"format": "cnn-checkpoint-2", "epoch": "3", "step": "120", "best_metric": "0.5", "model_name": "tiny",
        "config": "train: {epochs: 4}\n", "model": "name: tiny\n", "epoch_step": "0", "epoch_loss_sum": "0",
        "epoch_seconds": "0", "epoch_correct": "0", "epoch_seen": "0", "rng_state": "1 2 3 4",
        "class_names": '["a","b","c"]'}
put("checkpoint", "tiny.safetensors", safetensors(ck, meta, checksums=True))
put("checkpoint", "state_dict.safetensors", safetensors(ck, {"format": "pt"}))

for name, a in {"f4.npy": f32(2, 3), "scalar.npy": np.float32(3.5), "empty.npy": np.zeros((0, 3), np.float32),
                "be.npy": f32(4).astype(">f4"), "f8.npy": rng.standard_normal(3)}.items():
    buf = io.BytesIO()
    np.save(buf, a)
    put("npy", name, buf.getvalue())
buf = io.BytesIO()
np.lib.format.write_array(buf, f32(2, 2), version=(2, 0))
put("npy", "v2.npy", buf.getvalue())

images = struct.pack(">IIII", 2051, 3, 4, 4) + bytes(range(48))
put("idx", "raw-idx3", images)
put("idx", "gz-idx3", gzip.compress(images))
put("idx", "gz-two-members", gzip.compress(images[:20]) + gzip.compress(images[20:]))

names = "airplane|automobile|bird|cat|deer|dog|frog|horse|ship|truck"
rec = bytes([3]) + bytes(range(256)) * 12
put("cifar10", "two-records", (names + "\n").encode() + rec * 2)
put("cifar10", "short", (names + "\n").encode() + rec[:101])

img = Image.fromarray((rng.random((8, 8, 3)) * 255).astype(np.uint8))
for name, kw in {"baseline.jpg": dict(format="JPEG"), "progressive.jpg": dict(format="JPEG", progressive=True),
                 "rgb.png": dict(format="PNG"), "rgb.bmp": dict(format="BMP"), "rgb.ppm": dict(format="PPM")}.items():
    buf = io.BytesIO()
    img.save(buf, **kw)
    put("image", name, buf.getvalue())
for name, mode, fmt in [("gray.jpg", "L", "JPEG"), ("cmyk.jpg", "CMYK", "JPEG"), ("gray.pgm", "L", "PPM"),
                        ("rgba.png", "RGBA", "PNG"), ("palette.png", "P", "PNG")]:
    buf = io.BytesIO()
    img.convert(mode).save(buf, format=fmt)
    put("image", name, buf.getvalue())

put("recipe_yaml", "sets.yaml", b"model: ../models/lenet5.yaml\ndata: {dataset: mnist, batch_size: 8}\n"
    b"train: {epochs: 2, optimizer: {type: adam, lr: 0.001}, schedule: {type: onecycle}}\n#--set\n"
    b"train.epochs=3\ndata.train_transforms=[hflip, {random_crop: {size: 28, pad: 2}}]\nmodel.layers.0.conv.out=8\n")
put("model_yaml", "blocks.yaml", b"name: b\ninput: [3, 8, 8]\nblocks:\n  res:\n    args: {c: 4, s: 1}\n"
    b"    branches: [[{conv: {out: $c, k: 3, stride: $s, pad: 1}}, bn, relu], [identity]]\n    merge: add\n"
    b"layers:\n  - {conv: {out: 4, k: 1}}\n  - {res: {c: 4}, repeat: 2}\n  - {branches: [[{maxpool: {k: 2}}], "
    b"[{avgpool: {k: 2}}]], merge: concat}\n  - adaptive_avgpool: {size: 1}\n  - flatten\n  - {linear: {out: 3}}\n")
