#!/usr/bin/env bash
# Fine-tuning torchvision weights: tests/cli/finetune_weights.py writes torchvision's resnet18
# (1000 classes, seeded random init with non-trivial BN statistics; nothing downloaded) as a
# safetensors state_dict and a 2-class image folder of 40 x 40 images. `cnn train --weights`
# fits the model to the folder's 2 classes, loads every tensor but the head (the note names
# fc.weight/fc.bias as re-initialized) and trains with the backbone frozen ("*" frozen, fc not).
# With freeze_bn every backbone tensor of the saved checkpoint equals the input bit for bit (BN
# running statistics too); without it the parameters still do while BN's running statistics move.
# The head learns the (easy) task. Skips (77) without torch/torchvision. About 7 s of CPU.
source "$(dirname "$0")/lib.sh" "$@"
declare -A acc
PY=/usr/bin/python3
[ -x "$PY" ] || skip "$PY is not available"
"$PY" -c "import numpy, torch, torchvision, PIL" 2>/dev/null || skip "numpy/torch/torchvision/PIL are not importable by $PY"
HELPER=$SRC/tests/cli/finetune_weights.py
cd "$WORK"
"$PY" "$HELPER" make . || { fail "finetune_weights.py make failed"; finish; }

cat > recipe.yaml <<Y
model: $SRC/configs/models/resnet18.yaml
data:
  dataset: image_folder
  root: folder
  train_transforms: [{center_crop: {size: 40}}, hflip, {normalize: {mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]}}]
  eval_transforms: [{center_crop: {size: 40}}, {normalize: {mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]}}]
  batch_size: 8
train:
  epochs: 3
  optimizer: {type: sgd, lr: 0.05, momentum: 0.9, weight_decay: 1.0e-4}
  freeze: ["*"]
  unfreeze: [fc]
  freeze_bn: true
  seed: 3
report: false
Y
common=(--threads 1 train -c recipe.yaml --weights resnet18.safetensors --set 'model.input=[3,40,40]')

for mode in all params; do
  extra=(--set output=run-$mode)
  [ "$mode" = params ] && extra+=(--set train.freeze_bn=false)
  if ! "$CNN" "${common[@]}" "${extra[@]}" >"$mode.log" 2>&1; then
    cat "$mode.log"; fail "$mode: training from the torchvision weights failed"; continue
  fi
  grep -q "model resnet18: classes 2 (the 2 classes of data.dataset image_folder" "$mode.log" ||
    fail "$mode: no line saying the model got the folder's 2 classes: $(cat "$mode.log")"
  note=$(grep "^note: resnet18.safetensors: loaded" "$mode.log")
  if [[ "$note" == *"loaded 120 tensors"*"fc.weight [1000x512], the model has [2x512]"*"fc.bias [1000], the model has [2]"* ]]; then
    echo "ok: $mode: $note"
  else
    fail "$mode: the note does not list the re-initialized head: '$note'"
  fi
  line=$("$PY" "$HELPER" compare resnet18.safetensors "run-$mode/last.safetensors" "$mode") || fail "$mode: $line"
  echo "$mode: $line"
done

# The head learned the (easy) task with the frozen backbone in eval mode (freeze_bn; the weights'
# BN statistics are those of the training images). The other run's BN statistics drift during
# training, so its accuracy is printed, not checked.
for mode in all params; do
  acc[$mode]=$("$PY" -c "
import json
recs = [json.loads(l) for l in open('run-$mode/metrics.jsonl') if json.loads(l)['type'] == 'epoch']
print(recs[-1]['test_acc'])" 2>/dev/null) || fail "run-$mode/metrics.jsonl unreadable"
done
echo "validation accuracy of the new head (8 images): freeze_bn ${acc[all]:-?}%, BN in training mode ${acc[params]:-?}%"
"$PY" -c "import sys; sys.exit(0 if float('${acc[all]:-0}') >= 87.5 else 1)" 2>/dev/null ||
  fail "the new head (freeze_bn) reaches only ${acc[all]:-?}% on the validation images (expected >= 87.5%)"
finish
