#!/usr/bin/env bash
# `cnn predict`: LeNet-5 on random weights (a state_dict written by numpy, in torch's layout)
# against an independent numpy forward pass; shapes, determinism and batching, the model-or-recipe
# config, --checkpoint as a synonym; the error messages; and, with MNIST present, `--weights` on
# `cnn eval` and `cnn train`.
source "$(dirname "$0")/lib.sh" "$@"
PY=/usr/bin/python3
"$PY" -c "import numpy" 2>/dev/null || skip "$PY with numpy is not available"
CNN=$(cd "$(dirname "$CNN")" && pwd)/$(basename "$CNN")
SRC=$(cd "$SRC" && pwd)
SHARED_DATA=$(cd "$SHARED_DATA" 2>/dev/null && pwd || echo "$SHARED_DATA")
MODEL=$SRC/configs/models/lenet5.yaml
cd "$WORK"

# Weights, inputs and the reference logits (float64 numpy).
"$PY" - <<'PY' || { fail "writing the fixtures failed"; finish; }
import json, struct
import numpy as np
rng = np.random.default_rng(0)
shapes = {"conv1.weight": (6, 1, 5, 5), "conv1.bias": (6,), "conv2.weight": (16, 6, 5, 5), "conv2.bias": (16,),
          "fc1.weight": (120, 400), "fc1.bias": (120,), "fc2.weight": (84, 120), "fc2.bias": (84,),
          "fc3.weight": (10, 84), "fc3.bias": (10,)}
fan_in = {"conv1": 25, "conv2": 150, "fc1": 400, "fc2": 120, "fc3": 84}
w = {k: rng.uniform(-1, 1, s).astype(np.float32) / np.sqrt(fan_in[k.split(".")[0]]) * 2 for k, s in shapes.items()}
w = {k: v.astype(np.float32) for k, v in w.items()}

def save(path, tensors):
    header, blobs, off = {}, [], 0
    for k, (a, dt) in tensors.items():
        b = a.tobytes()
        header[k] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))

save("lenet5.safetensors", {k: (v, "F32") for k, v in w.items()})
save("other.safetensors", {k: (v, "F32") for k, v in w.items() if not k.startswith("fc3")} |
     {"fc3.weight": (np.zeros((5, 84), np.float32), "F32"), "head.bias": (np.zeros(5, np.float32), "F32")})

def conv(x, k, b, pad):
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    win = np.lib.stride_tricks.sliding_window_view(x, k.shape[2:], axis=(2, 3))
    return np.einsum("nchwij,ocij->nohw", win, k) + b[None, :, None, None]

def pool(x):
    n, c, h, wd = x.shape
    return x.reshape(n, c, h // 2, 2, wd // 2, 2).max(axis=(3, 5))

d = {k: v.astype(np.float64) for k, v in w.items()}
x = rng.standard_normal((3, 1, 28, 28)).astype(np.float32)
h = pool(np.maximum(conv(x.astype(np.float64), d["conv1.weight"], d["conv1.bias"], 2), 0))
h = pool(np.maximum(conv(h, d["conv2.weight"], d["conv2.bias"], 0), 0)).reshape(3, -1)
h = np.maximum(h @ d["fc1.weight"].T + d["fc1.bias"], 0)
h = np.maximum(h @ d["fc2.weight"].T + d["fc2.bias"], 0)
y = h @ d["fc3.weight"].T + d["fc3.bias"]
np.save("x.npy", x)
np.save("ref.npy", y)
np.save("x64.npy", x.astype(np.float64))
np.save("x32.npy", rng.standard_normal((2, 1, 32, 32)).astype(np.float32))
np.save("one.npy", x[0])
np.save("fortran.npy", np.asfortranarray(np.ones((2, 1, 28, 28), np.float32)))
PY

compare() {  # compare OURS REF TOL_REL: max |diff| <= TOL_REL * max(1, max |ref|), same shape
  "$PY" - "$1" "$2" "$3" <<'PY'
import sys
import numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
assert a.dtype == np.float32, a.dtype
assert a.shape == b.shape, (a.shape, b.shape)
d = float(np.abs(a.astype(np.float64) - b).max())
tol = float(sys.argv[3]) * max(1.0, float(np.abs(b).max()))
print("max abs diff %.3g (tolerance %.3g, max |logit| %.3g)" % (d, tol, np.abs(b).max()))
sys.exit(0 if d <= tol else 1)
PY
}

out=$("$CNN" predict --config "$MODEL" --weights lenet5.safetensors --npy x.npy --out y.npy 2>&1) \
  || fail "predict failed: $out"
echo "$out"
compare y.npy ref.npy 1e-5 || fail "logits differ from the numpy forward pass"
"$CNN" predict -c "$MODEL" --checkpoint lenet5.safetensors --npy x.npy --out y2.npy >/dev/null 2>&1 \
  || fail "--checkpoint as a synonym of --weights failed"
cmp -s y.npy y2.npy || fail "two eval runs differ"
"$CNN" --threads 1 predict -c "$MODEL" --weights lenet5.safetensors --npy x.npy --out y3.npy --batch 1 >/dev/null 2>&1 \
  || fail "predict --batch 1 failed"
compare y3.npy y.npy 1e-6 >/dev/null || fail "--batch 1 gives other logits"
# A recipe's model.
"$CNN" predict -c "$SRC/configs/recipes/mnist-lenet5.yaml" --weights lenet5.safetensors --npy x.npy --out y4.npy \
  >/dev/null 2>&1 || fail "predict with a recipe failed"
cmp -s y.npy y4.npy || fail "predict with the recipe differs from the model file"
[ "$failures" = 0 ] && echo "ok: logits, --checkpoint, determinism, --batch 1, recipe"

# Errors: one line, the right exit code.
expect_error 2 "x32.npy: input has shape 2x1x32x32, the model 'lenet5' expects N x 1x28x28" -- \
  "$CNN" predict -c "$MODEL" --weights lenet5.safetensors --npy x32.npy --out e.npy
expect_error 2 "one.npy: input has shape 1x28x28, the model 'lenet5' expects N x 1x28x28 \(add the batch dimension" -- \
  "$CNN" predict -c "$MODEL" --weights lenet5.safetensors --npy one.npy --out e.npy
expect_error 1 "absent.safetensors: cannot open: No such file or directory" -- \
  "$CNN" predict -c "$MODEL" --weights absent.safetensors --npy x.npy --out e.npy
expect_error 1 "x64.npy: dtype float64 '<f8' is not supported: cnn reads float32 arrays only" -- \
  "$CNN" predict -c "$MODEL" --weights lenet5.safetensors --npy x64.npy --out e.npy
expect_error 1 "fortran.npy: Fortran-order arrays are not supported" -- \
  "$CNN" predict -c "$MODEL" --weights lenet5.safetensors --npy fortran.npy --out e.npy
expect_error 1 "absent.npy: cannot open" -- \
  "$CNN" predict -c "$MODEL" --weights lenet5.safetensors --npy absent.npy --out e.npy
expect_error 2 "other.safetensors: does not match model 'lenet5': 1 missing: fc3.bias; 1 unexpected: head.bias; 1 mis-shaped: fc3.weight \[5x84\], the model has \[10x84\]" -- \
  "$CNN" predict -c "$MODEL" --weights other.safetensors --npy x.npy --out e.npy
expect_error 1 "digit.png: " -- "$CNN" predict -c "$MODEL" --weights lenet5.safetensors digit.png
expect_error 2 "give image files or --npy, not both" -- \
  "$CNN" predict -c "$MODEL" --weights lenet5.safetensors --npy x.npy --out e.npy digit.png
expect_error 2 "give image files, or --npy <input.npy> with --out <logits.npy>" -- "$CNN" predict -c "$MODEL" --weights lenet5.safetensors --out e.npy
expect_error 2 "--out <logits.npy> is required" -- "$CNN" predict -c "$MODEL" --weights lenet5.safetensors --npy x.npy
expect_error 2 "weights" -- "$CNN" predict -c "$MODEL" --npy x.npy --out e.npy
[ -e e.npy ] && fail "a failed predict wrote e.npy"

# --weights on eval and train (needs MNIST).
if [ -f "$SHARED_DATA/mnist/train-images-idx3-ubyte.gz" ]; then
  RECIPE=$SRC/configs/recipes/mnist-lenet5.yaml
  ev=$("$CNN" eval -c "$RECIPE" --set data.root="$SHARED_DATA/mnist" --set data.eval_limit=200 \
       --weights lenet5.safetensors --no-confusion 2>&1) || fail "eval --weights failed: $ev"
  printf '%s\n' "$ev" | grep -q "top-1" || fail "eval --weights printed no accuracy: $ev"
  expect_error 2 "--checkpoint <file> or --weights <file> is required" -- \
    "$CNN" eval -c "$RECIPE" --set data.root="$SHARED_DATA/mnist"
  expect_error 2 "excludes" -- "$CNN" eval -c "$RECIPE" --checkpoint a --weights b
  expect_error 2 "excludes" -- "$CNN" train -c "$RECIPE" --resume a --weights b
  expect_error 2 "other.safetensors: does not match model 'lenet5'" -- \
    "$CNN" train -c "$RECIPE" --set data.root="$SHARED_DATA/mnist" --set output=bad --weights other.safetensors \
    --weights-strict
  # without --weights-strict: what fits is loaded, the rest starts fresh and is named in one note
  ft=$("$CNN" train -c "$RECIPE" --set data.root="$SHARED_DATA/mnist" --set train.epochs=1 --set data.train_limit=64 \
       --set data.eval_limit=50 --set output=finetuned --weights other.safetensors 2>&1) || fail "train --weights (fitting) failed: $ft"
  printf '%s\n' "$ft" | grep -q "note: other.safetensors: loaded 8 tensors; initialized fresh: 1 of another shape: fc3.weight \[5x84\], the model has \[10x84\]; 1 missing: fc3.bias; ignored 1 not in the model: head.bias" \
    || fail "train --weights printed no note on the tensors left fresh: $ft"
  # lr 1e-30: the weights pass through one epoch unchanged (updates far below their ulp), so last.safetensors predicts as they do.
  tr=$("$CNN" train -c "$RECIPE" --set data.root="$SHARED_DATA/mnist" --set train.epochs=1 \
       --set data.train_limit=128 --set data.eval_limit=100 --set train.optimizer.lr=1e-30 --set output=run \
       --weights lenet5.safetensors 2>&1) || fail "train --weights failed: $tr"
  "$CNN" predict -c "$MODEL" --weights run/last.safetensors --npy x.npy --out y5.npy >/dev/null 2>&1 \
    || fail "predict on the trained checkpoint failed"
  cmp -s y.npy y5.npy || fail "train --weights did not start from the given weights"
  [ "$failures" = 0 ] && echo "ok: eval --weights, train --weights"
else
  echo "skipped the eval/train --weights part: MNIST not found at $SHARED_DATA/mnist"
fi
finish
