#!/usr/bin/env bash
# The ImageNet recipe end to end on ../shared/data/imagenet-sample, in seconds: a small model (64 x
# 64 input: RandomResizedCrop 64 for training, resize 72 + centre crop 64 for evaluation) trains
# two epochs with two loader threads, `cnn eval` reproduces the reported accuracy, and bad files
# behave: a corrupt JPEG stops the run naming it (data.bad_images: fatal) or is skipped and
# counted (skip); a CMYK JPEG and grayscale JPEGs load as RGB.
source "$(dirname "$0")/lib.sh" "$@"
INET=$SHARED_DATA/imagenet-sample
[ -d "$INET/train" ] || skip "imagenet-sample not found at $INET"
cd "$WORK"
cat > tiny.yaml <<'Y'
name: tiny-imagenet-smoke
input: [3, 64, 64]
layers:
  - {conv: {out: 16, k: 3, stride: 2, pad: 1, bias: false}, name: conv1}
  - {bn: {}, name: bn1}
  - relu
  - {maxpool: {k: 2}}
  - {conv: {out: 32, k: 3, pad: 1, bias: false}, name: conv2}
  - {bn: {}, name: bn2}
  - relu
  - global_avgpool
  - flatten
  - {linear: {out: 10}, name: fc}
Y
RECIPE=$SRC/configs/recipes/imagenet-resnet50.yaml
small=(--set model=tiny.yaml --set data.class_names=classes.txt
       --set data.train_transforms.0.random_resized_crop.size=64
       --set data.eval_transforms.0.resize.size=72 --set data.eval_transforms.1.center_crop.size=64
       --set data.batch_size=32 --set data.workers=2 --set train.optimizer.lr=0.05 --set train.log_every=0)

out=$("$CNN" train --config "$RECIPE" "${small[@]}" --set data.root="$INET" --set train.epochs=2 \
      --set output=run 2>&1) || { echo "$out"; fail "training on imagenet-sample failed"; finish; }
echo "$out"
acc=$(/usr/bin/python3 -c "
import json
recs = [json.loads(l) for l in open('run/metrics.jsonl') if json.loads(l)['type'] == 'epoch']
assert len(recs) == 2 and all(r['skipped_images'] == 0 for r in recs), recs
print(recs[-1]['test_acc'])") || fail "metrics.jsonl: $(cat run/metrics.jsonl)"
ev=$("$CNN" eval --config "$RECIPE" "${small[@]}" --set data.root="$INET" --checkpoint run/last.safetensors 2>&1) \
  || fail "eval failed: $ev"
echo "$ev" | head -4
printf '%s\n' "$ev" | grep -q "on image_folder test (50 images): .* top-1 $(printf '%.2f' "$acc")%" \
  || fail "eval does not reproduce $acc%"
printf '%s\n' "$ev" | grep -q "^ *tench " || fail "class names from classes.txt missing in the confusion matrix"

# cnn predict on image files: the recipe's eval transforms, class names from the checkpoint. The
# reference: torchvision's Resize(72) + CenterCrop(64) + ToTensor + Normalize on PIL, then
# `cnn predict --npy` and a softmax in numpy; the printed top-5 must agree.
imgs=("$INET/val/n01440764/$(ls "$INET/val/n01440764" | head -1)" "$INET/val/n02102040/$(ls "$INET/val/n02102040" | head -1)"
      "$INET/edge-cases/cmyk_n03888257_parachute.JPEG")
pr=$("$CNN" predict --config "$RECIPE" "${small[@]}" --checkpoint run/last.safetensors "${imgs[@]}" 2>&1) \
  || fail "predict on images failed: $pr"
printf '%s\n' "$pr"
if /usr/bin/python3 -c "import torchvision" 2>/dev/null; then
  /usr/bin/python3 - "${imgs[@]}" <<'PY' || fail "writing the torchvision-preprocessed batch failed"
import sys
import numpy as np
from PIL import Image
import torchvision.transforms as T
t = T.Compose([T.Resize(72), T.CenterCrop(64), T.ToTensor(),
               T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
np.save("imgs.npy", np.stack([t(Image.open(p).convert("RGB")).numpy() for p in sys.argv[1:]]).astype(np.float32))
PY
  "$CNN" predict --config "$RECIPE" "${small[@]}" --checkpoint run/last.safetensors --npy imgs.npy --out logits.npy \
    >/dev/null 2>&1 || fail "predict --npy on the torchvision batch failed"
  printf '%s\n' "$pr" > predicted.txt
  /usr/bin/python3 - "$INET/classes.txt" "${imgs[@]}" <<'PY' || fail "image predictions differ from torchvision preprocessing + predict --npy"
import sys
import numpy as np
names = [l.split(" ", 1)[1].strip() for l in open(sys.argv[1]) if l.strip()]
paths = sys.argv[2:]
z = np.load("logits.npy").astype(np.float64)
p = np.exp(z - z.max(axis=1, keepdims=True))
p /= p.sum(axis=1, keepdims=True)
lines = open("predicted.txt").read().splitlines()
for i, path in enumerate(paths):
    at = lines.index(path)
    got = [l.split(None, 2) for l in lines[at + 1:at + 6]]
    order = np.argsort(-p[i], kind="stable")[:5]
    for r, (k, row) in enumerate(zip(order, got)):
        assert row[0] == str(r + 1), row
        assert row[2] == names[k], (path, r, row, names[k])
        assert abs(float(row[1].rstrip("%")) - 100 * p[i, k]) <= 0.02, (path, row, 100 * p[i, k])
print("ok: top-5 of %d images match torchvision preprocessing + predict --npy" % len(paths))
PY
else
  echo "skipped the torchvision comparison of predict: /usr/bin/python3 has no torchvision"
fi
expect_error 2 "after the eval transforms the image is [0-9]+x[0-9]+, the model 'tiny-imagenet-smoke' expects 3x64x64" -- \
  "$CNN" predict --config tiny.yaml --checkpoint run/last.safetensors "${imgs[0]}"
expect_error 1 "nothere.jpg" -- "$CNN" predict --config "$RECIPE" "${small[@]}" --checkpoint run/last.safetensors nothere.jpg

# A copy of three classes with a CMYK JPEG, a truncated JPEG and a text file named .JPEG.
mkdir -p bad/train bad/val
for c in n01440764 n02102040 n02979186; do
  cp -r "$INET/train/$c" bad/train/ && cp -r "$INET/val/$c" bad/val/
done
chmod -R u+w bad
cp "$INET/edge-cases/cmyk_n03888257_parachute.JPEG" bad/train/n01440764/
head -c 3000 "$INET/train/n02102040/$(ls "$INET/train/n02102040" | head -1)" > bad/train/n02102040/truncated.JPEG
echo "not an image" > bad/val/n02979186/notes.JPEG
bad3=(--set data.root=bad --set model.layers.9.linear.out=3 --set train.epochs=1 --set data.class_names=null)
expect_error 1 "bad/train/n02102040/truncated\.JPEG: truncated JPEG: .*data\.bad_images: skip" -- \
  "$CNN" train --config "$RECIPE" "${small[@]}" "${bad3[@]}" --set output=fatal
out=$("$CNN" train --config "$RECIPE" "${small[@]}" "${bad3[@]}" --set data.bad_images=skip --set output=skip 2>&1) \
  || { echo "$out"; fail "training with bad_images: skip failed"; }
echo "$out" | grep -E "warning|epoch"
printf '%s\n' "$out" | grep -q "warning: skipped unreadable image: bad/train/n02102040/truncated.JPEG: truncated JPEG" \
  || fail "the truncated JPEG is not reported"
printf '%s\n' "$out" | grep -q "warning: skipped unreadable image: bad/val/n02979186/notes.JPEG: not a JPEG, PNG" \
  || fail "the text file is not reported"
printf '%s\n' "$out" | grep -q "skipped 2 unreadable" || fail "the epoch line does not count 2 skipped images"
grep -q '"skipped_images":2' skip/metrics.jsonl || fail "metrics.jsonl lacks skipped_images 2"
# A val class that train/ does not have.
mkdir -p bad/val/n09999999 && cp "$INET/val/n01440764/"*.JPEG bad/val/n09999999/
expect_error 1 "bad/val/n09999999: a class folder that train/ does not have" -- \
  "$CNN" eval --config "$RECIPE" "${small[@]}" "${bad3[@]}" --checkpoint skip/last.safetensors
expect_error 1 "nothere/train: not found \(expected class folders" -- \
  "$CNN" train --config "$RECIPE" "${small[@]}" --set data.root=nothere --set output=x
finish
