#!/usr/bin/env bash
# Hostile inputs run as a user would (issue 15), under a 2 GiB address-space limit: safetensors,
# .npy, PyTorch pickles, gzip'd IDX, images and model YAML that lie about their sizes. Each must
# give one 'error:' line naming the file and field, exit 1 or 2, finish within 5 s, and write nothing.
source "$(dirname "$0")/lib.sh" "$@"
PY=/usr/bin/python3
"$PY" -c "import numpy, PIL" 2>/dev/null || skip "$PY with numpy and PIL is not available"
CNN=$(cd "$(dirname "$CNN")" && pwd)/$(basename "$CNN")
SRC=$(cd "$SRC" && pwd)
MODEL=$SRC/configs/models/lenet5.yaml
cd "$WORK"

# hostile CODE PATTERN -- command...: expect_error under `ulimit -v 2 GiB`, within 5 s, and
# nothing new in the working directory but what the test itself made.
hostile() {
  local before after start elapsed
  before=$(ls -A | sort)
  start=$(date +%s%N)
  expect_error "$1" "$2" -- bash -c 'ulimit -v 2097152; exec "$@"' hostile "${@:4}"
  elapsed=$((($(date +%s%N) - start) / 1000000))
  [ "$elapsed" -lt 5000 ] || fail "took ${elapsed} ms (limit 5000): ${*:4}"
  after=$(ls -A | sort)
  [ "$before" = "$after" ] || fail "files appeared: $(comm -13 <(echo "$before") <(echo "$after") | tr '\n' ' ')"
}

"$CNN" export --config "$MODEL" --init-seed 1 --out good.safetensors >/dev/null 2>&1 || { fail "export failed"; finish; }
mkdir -p mnist img
"$PY" - <<'PY' || { fail "writing the fixtures failed"; finish; }
import gzip, io, json, struct, zlib
import numpy as np
from PIL import Image

def st(path, header, data=b""):
    h = json.dumps(header).encode() if not isinstance(header, bytes) else header
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + data)

good = open("good.safetensors", "rb").read()
n = struct.unpack("<Q", good[:8])[0]
open("truncated.safetensors", "wb").write(good[: 8 + n + 100])
open("trailing.safetensors", "wb").write(good + b"\0" * 8)
open("absurd_header.safetensors", "wb").write(struct.pack("<Q", 1 << 60) + b"{}")
st("overflow.safetensors", {"a": {"dtype": "F32", "shape": [4611686018427387904, 4, 4], "data_offsets": [0, 16]}}, b"\0" * 16)
st("dup.safetensors", b'{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}', b"\0" * 4)
st("dtype.safetensors", {"a": {"dtype": "F8_E4M3", "shape": [4], "data_offsets": [0, 4]}}, b"\0" * 4)
st("gap.safetensors", {"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, b"\0" * 8)
open("model.pth", "wb").write(b"PK\x03\x04" + b"\0" * 60)

def npy(path, header, data):
    h = header.encode()
    h += b" " * ((64 - (10 + len(h) + 1) % 64) % 64) + b"\n"
    open(path, "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h + data)
npy("object.npy", "{'descr': '|O', 'fortran_order': False, 'shape': (1, 1, 28, 28), }", b"\0" * 64)
npy("short.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1, 28, 28), }", b"\0" * 3136)
npy("fortran.npy", "{'descr': '<f4', 'fortran_order': True, 'shape': (1, 1, 28, 28), }", b"\0" * 3136)
open("header4g.npy", "wb").write(b"\x93NUMPY\x02\x00\xff\xff\xff\xff" + b" " * 64)
be = np.arange(784, dtype=">f4").reshape(1, 1, 28, 28)
np.save("bigendian.npy", be)

# A gzip'd IDX file whose header says 4 images and which inflates to 1 GiB.
hdr = struct.pack(">IIII", 2051, 4, 28, 28)
member = zlib.compressobj(9, zlib.DEFLATED, 31)
zeros = member.compress(b"\0" * (16 << 20)) + member.flush()
first = gzip.compress(hdr + b"\0" * 3136 + b"\0" * (16 << 20))
open("mnist/train-images-idx3-ubyte.gz", "wb").write(first + zeros * 63)
open("mnist/train-labels-idx1-ubyte", "wb").write(struct.pack(">II", 2049, 4) + bytes(4))
import os
os.makedirs("mnist_ok", exist_ok=True)
for split in ["train", "t10k"]:
    open(f"mnist_ok/{split}-images-idx3-ubyte", "wb").write(struct.pack(">IIII", 2051, 4, 28, 28) + bytes(3136))
    open(f"mnist_ok/{split}-labels-idx1-ubyte", "wb").write(struct.pack(">II", 2049, 4) + bytes(4))
open("mnist/t10k-images-idx3-ubyte", "wb").write(struct.pack(">IIII", 2051, 4, 28, 28) + bytes(3136))
open("mnist/t10k-labels-idx1-ubyte", "wb").write(struct.pack(">II", 2049, 4) + bytes(4))

# A JPEG whose frame header claims 65500 x 65500 pixels; a progressive JPEG with 2000 scans.
buf = io.BytesIO()
Image.new("RGB", (28, 28), (120, 30, 200)).save(buf, "JPEG")
j = bytearray(buf.getvalue())
i = j.index(b"\xff\xc0")
j[i + 5:i + 9] = struct.pack(">HH", 65500, 65500)
open("img/huge.jpg", "wb").write(j)
buf = io.BytesIO()
Image.new("RGB", (28, 28), (120, 30, 200)).save(buf, "JPEG", progressive=True)
p = buf.getvalue()
last = p.rindex(b"\xff\xda")
open("img/scans.jpg", "wb").write(p[:-2] + p[last:-2] * 2000 + b"\xff\xd9")
Image.new("L", (28, 28), 128).save("img/plain28.png")
PY

# safetensors and PyTorch files given as weights.
for f in truncated trailing absurd_header overflow dup dtype gap; do
  hostile 1 "^error: $f\.safetensors: " -- "$CNN" predict --config "$MODEL" --weights $f.safetensors --npy bigendian.npy --out o.npy
done
hostile 1 "model\.pth: a PyTorch torch\.save file .* python3 -c \"import torch, safetensors\.torch as st; " -- \
  "$CNN" predict --config "$MODEL" --weights model.pth --npy bigendian.npy --out o.npy
# .npy inputs.
hostile 1 "object\.npy: dtype object '\|O' is not supported" -- "$CNN" predict --config "$MODEL" --weights good.safetensors --npy object.npy --out o.npy
hostile 1 "short\.npy: truncated: shape \(1000000x1x28x28\) of float32 needs 3136000000 data bytes, file has 3136" -- \
  "$CNN" predict --config "$MODEL" --weights good.safetensors --npy short.npy --out o.npy
hostile 1 "fortran\.npy: Fortran-order arrays are not supported" -- "$CNN" predict --config "$MODEL" --weights good.safetensors --npy fortran.npy --out o.npy
hostile 1 "header4g\.npy: header length 4294967295 is over the limit of 10000 bytes" -- \
  "$CNN" predict --config "$MODEL" --weights good.safetensors --npy header4g.npy --out o.npy
"$CNN" predict --config "$MODEL" --weights good.safetensors --npy bigendian.npy --out be.npy >/dev/null 2>&1 \
  || fail "a big-endian .npy was not read"
rm -f be.npy
# A gzip bomb as MNIST training data.
hostile 1 "train-images-idx3-ubyte\.gz: decompresses to more than the 3152 bytes its IDX header declares" -- \
  "$CNN" train --config "$SRC/configs/recipes/mnist-lenet5.yaml" --set data.root=mnist --set output=run
# Images.
hostile 1 "img/huge\.jpg: image of 65500x65500 pixels is over data\.max_image_pixels = 89478485" -- \
  "$CNN" predict --config "$MODEL" --weights good.safetensors img/huge.jpg
hostile 1 "img/scans\.jpg: progressive JPEG with more than 500 scans" -- \
  "$CNN" predict --config "$MODEL" --weights good.safetensors img/scans.jpg
# predict (and explain) honour the recipe's data.max_image_pixels, not only the default.
printf 'model: %s\ndata: {dataset: mnist, root: mnist, max_image_pixels: 700}\n' "$MODEL" > limit700.yaml
hostile 1 "img/plain28\.png: image of 28x28 pixels is over data\.max_image_pixels = 700" -- \
  "$CNN" predict --config limit700.yaml --weights good.safetensors img/plain28.png
"$CNN" predict --config limit700.yaml --set data.max_image_pixels=784 --weights good.safetensors img/plain28.png \
  >/dev/null 2>&1 || fail "predict refused a 28x28 image with data.max_image_pixels = 784"

# Model YAML.
printf 'input: [1, 1000, 1000]\nlayers:\n  - flatten\n  - {linear: {out: 1000000}, name: fc}\n' > big_linear.yaml
hostile 2 "big_linear\.yaml:4:5: fc: linear layer: a tensor of 1000000000000 floats needs 3\.64 TiB, more than the memory budget of 2\.00 GiB \(ulimit -v\)" -- \
  "$CNN" summary --config big_linear.yaml
printf 'input: [3, 100000, 100000]\nlayers:\n  - relu\n' > big_input.yaml
hostile 2 "big_input\.yaml:3:5: 0: relu layer: .* needs 112 GiB, more than the memory budget" -- "$CNN" summary --config big_input.yaml
printf 'input: [4611686018427387904, 4, 4]\nlayers: [relu]\n' > overflow.yaml
hostile 2 "overflow\.yaml:1:8: input: \[4611686018427387904, 4, 4\] has more than" -- "$CNN" summary --config overflow.yaml
printf 'input: [1, 4, 4]\nlayers:\n  - {relu: {}, repeat: 1000000000}\n' > repeat.yaml
hostile 2 "repeat\.yaml:3:24: 0: field 'repeat': 1000000000 repetitions make more than 100000 layers" -- "$CNN" summary --config repeat.yaml
"$PY" -c "print('input: [1, 4, 4]\nlayers: ' + '[' * 10000 + ']' * 10000)" > deep.yaml
hostile 2 "deep\.yaml:2:.*YAML nested more than 499 levels deep" -- "$CNN" summary --config deep.yaml
printf 'input: [1, 4, 4]\nlayers:\n  - {conv: {out: 4, k: 3, pad: 4611686018427387904}}\n' > pad.yaml
hostile 2 "pad\.yaml:3:.*field 'pad' .*too large" -- "$CNN" summary --config pad.yaml
# A training run on a model too large for the budget writes no run directory.
printf 'input: [1, 28, 28]\nlayers:\n  - flatten\n  - {linear: {out: 1000000000}, name: fc}\n' > big28.yaml
hostile 2 "big28\.yaml:4:5: fc: linear layer: a tensor of 784000000000 floats needs 2\.85 TiB" -- \
  "$CNN" train --config "$SRC/configs/recipes/mnist-lenet5.yaml" --set model="$WORK/big28.yaml" --set data.root=mnist_ok --set output=run2
finish
