"""Minimal safetensors read/write with numpy (no torch): F32, F64 and I64 tensors, __metadata__."""
import json
import os

import numpy as np

DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64}


def read(path):
    """Returns (dict name -> array in file order, metadata dict)."""
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    out = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        out[name] = np.frombuffer(data[b:end], dtype=DTYPES[e["dtype"]]).reshape(e["shape"]).copy()
    return out, meta


def write(path, tensors, metadata=None):
    """tensors: dict name -> array (float32 or int64). Atomic (temp + rename)."""
    names = {np.dtype(np.float32): "F32", np.dtype(np.int64): "I64"}
    header = {"__metadata__": metadata} if metadata else {}
    blobs, offset = [], 0
    for name, a in tensors.items():
        a = np.array(a, order="C", copy=False)  # (ascontiguousarray would make 0-d arrays 1-d)
        if a.dtype not in names:
            a = a.astype(np.float32)
        raw = a.tobytes()
        header[name] = {"dtype": names[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(len(text).to_bytes(8, "little"))
        f.write(text)
        for raw in blobs:
            f.write(raw)
    os.replace(tmp, path)
