#!/usr/bin/env bash
# `cnn export --format onnx` end to end: for each model, export (ONNX's checker runs inside the
# export), run the file in an independent runtime (OpenCV's dnn module: tests/export/run_opencv.py)
# and compare with `cnn predict --npy` on the same batch: max |diff| <= 1e-4 * max |logit|.
# Weights: tests/export/make_weights.py (torchvision's or the reference definitions' models with
# calibrated, perturbed BN statistics), cached in $CNN_EXPORT_DIR (default ./export_ref).
# Also: every layer kind in one fixture net at opsets 10/11/13/17 with and without BN folding, a
# dynamic batch with a softmax output, and the errors (unsupported layer, bad flags) that must
# leave nothing at --out. Skips (77) without python3, numpy and cv2; the zoo part needs torch.
source "$(dirname "$0")/lib.sh" "$@"
PY=/usr/bin/python3
EX=$SRC/tests/export
[ -x "$PY" ] || skip "$PY is not available"
"$PY" -c "import numpy, cv2" 2>/dev/null || skip "numpy/cv2 (python3-opencv) are not importable by $PY"

# check NAME ONNX INPUT REFERENCE: runs ONNX in OpenCV on INPUT, compares with REFERENCE.
check() {
  local name=$1 onnx=$2 input=$3 ref=$4 line
  if ! "$PY" "$EX/run_opencv.py" "$onnx" "$input" "$WORK/cv.npy" >"$WORK/cv.log" 2>&1; then
    fail "$name: OpenCV could not run $onnx: $(grep -m1 -E 'error|Error' "$WORK/cv.log")"
    return
  fi
  line=$("$PY" "$EX/compare.py" "$WORK/cv.npy" "$ref" "$name") || { fail "$line"; return; }
  echo "$line"
}

# --- every layer kind, freshly initialized weights with perturbed BN statistics ---------------
FIX=$EX/fixtures/every_layer.yaml
"$CNN" export -c "$FIX" --init-seed 3 --out "$WORK/ev0.safetensors" >/dev/null 2>&1 || fail "every_layer: export --init-seed failed"
"$PY" "$EX/perturb_bn.py" "$WORK/ev0.safetensors" "$WORK/ev.safetensors" >/dev/null || fail "perturb_bn.py failed"
"$PY" -c "import numpy as np; np.save('$WORK/xe.npy', np.random.RandomState(0).randn(2, 3, 20, 22).astype(np.float32))"
"$CNN" predict -c "$FIX" --weights "$WORK/ev.safetensors" --npy "$WORK/xe.npy" --out "$WORK/ye.npy" >/dev/null 2>&1 ||
  fail "every_layer: predict failed"
for opset in 10 11 13 17; do
  for fold in "" --fold-bn; do
    if "$CNN" export -c "$FIX" --weights "$WORK/ev.safetensors" --out "$WORK/ev.onnx" --batch 2 --opset $opset $fold \
        >"$WORK/export.log" 2>&1; then
      check "every_layer opset $opset $fold" "$WORK/ev.onnx" "$WORK/xe.npy" "$WORK/ye.npy"
    else
      fail "every_layer opset $opset $fold: export failed: $(tail -n 1 "$WORK/export.log")"
    fi
  done
done
# A symbolic batch and a softmax output: a batch of 3 through a file exported without a batch size.
"$PY" -c "import numpy as np; np.save('$WORK/x3.npy', np.random.RandomState(1).randn(3, 3, 20, 22).astype(np.float32))"
"$CNN" predict -c "$FIX" --weights "$WORK/ev.safetensors" --npy "$WORK/x3.npy" --out "$WORK/y3.npy" >/dev/null 2>&1
"$PY" -c "
import numpy as np
y = np.load('$WORK/y3.npy').astype(np.float64); e = np.exp(y - y.max(1, keepdims=True))
np.save('$WORK/p3.npy', (e / e.sum(1, keepdims=True)).astype(np.float32))"
if "$CNN" export -c "$FIX" --weights "$WORK/ev.safetensors" --out "$WORK/evd.onnx" --dynamic-batch --softmax >/dev/null 2>&1; then
  check "every_layer dynamic batch + softmax" "$WORK/evd.onnx" "$WORK/x3.npy" "$WORK/p3.npy"
else
  fail "every_layer --dynamic-batch --softmax: export failed"
fi

# max_unpool and scale (their own fixture: an encoder-decoder). The export passes ONNX's checker
# and strict shape inference (inside `cnn export`); OpenCV 4.6 loads the MaxPool-with-Indices +
# MaxUnpool pair but fails in its own shape inference, so OpenCV runs the scale part only, as a
# net without the unpooling (docs/export.md).
UFIX=$EX/fixtures/unpool_scale.yaml
"$CNN" export -c "$UFIX" --init-seed 4 --out "$WORK/u.onnx" --batch 2 >"$WORK/export.log" 2>&1 ||
  fail "max_unpool + scale: export failed: $(tail -n 1 "$WORK/export.log")"
grep -aq "MaxUnpool" "$WORK/u.onnx" || fail "max_unpool: no MaxUnpool node in $WORK/u.onnx"
cat > "$WORK/scale.yaml" <<'Y'
name: scale_only
input: [2, 8, 10]
layers:
  - {conv: {out: 4, k: 3, pad: 1}, name: enc}
  - {scale: {factor: 0.5}, name: halve}
  - {conv: {out: 3, k: 3, pad: 1}, name: dec}
  - global_avgpool
  - flatten
Y
"$PY" -c "import numpy as np; np.save('$WORK/xu.npy', np.random.RandomState(2).randn(2, 2, 8, 10).astype(np.float32))"
if "$CNN" export -c "$WORK/scale.yaml" --init-seed 4 --out "$WORK/s.safetensors" >/dev/null 2>&1 &&
   "$CNN" predict -c "$WORK/scale.yaml" --weights "$WORK/s.safetensors" --npy "$WORK/xu.npy" --out "$WORK/ys.npy" >/dev/null 2>&1 &&
   "$CNN" export -c "$WORK/scale.yaml" --weights "$WORK/s.safetensors" --out "$WORK/s.onnx" --batch 2 >"$WORK/export.log" 2>&1; then
  check "scale" "$WORK/s.onnx" "$WORK/xu.npy" "$WORK/ys.npy"
else
  fail "scale: export or predict failed: $(tail -n 1 "$WORK/export.log")"
fi
# An unpooling whose size ONNX's MaxUnpool cannot give back without output_shape is refused.
expect_error 2 "unpool: .*ONNX MaxUnpool without output_shape" -- \
  "$CNN" export -c "$UFIX" --init-seed 1 --set input=[2,9,10] --out "$WORK/u9.onnx"
[ -e "$WORK/u9.onnx" ] && fail "a refused max_unpool export left $WORK/u9.onnx"

# A recipe's dataset gives the class names in the metadata.
if "$CNN" export -c "$SRC/configs/recipes/fashion-mnist-lenet5.yaml" --init-seed 1 --out "$WORK/f.onnx" >/dev/null 2>&1; then
  grep -aq 'class_names.\{1,4\}\["T-shirt/top","Trouser",' "$WORK/f.onnx" && echo "ok: Fashion-MNIST class names in the metadata" ||
    fail "the recipe's class names are not in the ONNX metadata"
else
  fail "export of the fashion-mnist-lenet5 recipe failed"
fi

# --- errors: one line naming the layer and the reason, exit 2, nothing at --out -----------------
cat >"$WORK/even_lrn.yaml" <<'YAML'
name: even_lrn
input: [3, 8, 8]
layers:
  - {conv: {out: 4, k: 3}, name: conv1}
  - {lrn: {size: 4}, name: norm1}
  - flatten
YAML
"$CNN" export -c "$WORK/even_lrn.yaml" --init-seed 1 --out "$WORK/even.onnx" 2>/dev/null
expect_error 2 "even_lrn.yaml:5:[0-9]+: norm1: cannot export lrn to ONNX: LRN with an even size" -- \
  "$CNN" export -c "$WORK/even_lrn.yaml" --init-seed 1 --out "$WORK/even.onnx"
[ -e "$WORK/even.onnx" ] && fail "a failed export left $WORK/even.onnx"
ls "$WORK" | grep -q '^even.onnx' && fail "a failed export left a temporary file: $(ls "$WORK" | grep '^even.onnx')"
echo "keep me" >"$WORK/existing.onnx"
expect_error 2 "adapt: cannot export adaptive_avgpool to ONNX: adaptive pooling from 5x7 to 3x3 has windows of different sizes" -- \
  "$CNN" export -c "$FIX" --init-seed 1 --set "layers.16.adaptive_avgpool.out=3" --out "$WORK/existing.onnx"
[ "$(cat "$WORK/existing.onnx")" = "keep me" ] || fail "a failed export changed the file already at --out"
expect_error 2 "--opset: expected 10 to 17, got 9" -- "$CNN" export -c "$FIX" --init-seed 1 --opset 9 --out "$WORK/x.onnx"
expect_error 2 "--checkpoint .* is required" -- "$CNN" export -c "$FIX" --out "$WORK/x.onnx"
expect_error 2 "--format onnx\|safetensors is needed" -- "$CNN" export -c "$FIX" --init-seed 1 --out "$WORK/x.bin"
[ -e "$WORK/x.onnx" ] && fail "a failed export left $WORK/x.onnx"

# --- the zoo: torch-made weights ------------------------------------------------------------------
if ! "$PY" -c "import torch, torchvision" 2>/dev/null; then
  echo "skipped: the zoo models (torch/torchvision are not importable by $PY)"
  finish
fi
DIR=${CNN_EXPORT_DIR:-$PWD/export_ref}
MODELS=${CNN_EXPORT_MODELS:-lenet5,resnet18,googlenet,squeezenet1_1,mobilenet_v1,densenet121,alexnet-original,inception_v3,resnet18:fold}
"$PY" "$EX/make_weights.py" --src "$SRC" --out "$DIR" --models "$(echo "$MODELS" | tr , '\n' | sed 's/:fold$//' | sort -u | paste -sd,)" ||
  { fail "make_weights.py failed"; finish; }
for m in ${MODELS//,/ }; do
  name=${m%%:*}
  fold=""
  [ "$m" = "$name:fold" ] && fold=--fold-bn
  d=$DIR/$name
  cfg=$SRC/configs/models/$name.yaml
  start=$(date +%s)
  if ! "$CNN" export -c "$cfg" --checkpoint "$d/weights.safetensors" --out "$WORK/$name.onnx" --batch 2 $fold \
      >"$WORK/export.log" 2>&1; then
    fail "$m: export failed: $(tail -n 1 "$WORK/export.log")"
    continue
  fi
  if ! "$CNN" predict -c "$cfg" --checkpoint "$d/weights.safetensors" --npy "$d/input.npy" --out "$WORK/$name.npy" \
      >"$WORK/predict.log" 2>&1; then
    fail "$m: predict failed: $(tail -n 1 "$WORK/predict.log")"
    continue
  fi
  check "$m${fold:+ (BN folded)}" "$WORK/$name.onnx" "$d/input.npy" "$WORK/$name.npy"
  echo "  $m: $(( $(date +%s) - start )) s (export, predict, OpenCV)"
  rm -f "$WORK/$name.onnx"
done
finish
