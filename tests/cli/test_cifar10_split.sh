#!/usr/bin/env bash
# scripts/cifar10_split.sh on ../shared/data/cifar10/cifar10-jpg.tar.gz: the two halves of the
# CIFAR-10 fine-tuning demo have the right classes and images per class (pretrain: 5,000 training
# and 1,000 val images of each of airplane..deer; finetune: 0000.jpg-0099.jpg of each of
# dog..truck for training, 1,000 val images each), every link resolves to the tarball's file, a
# second run keeps the extraction and rebuilds the halves, cnn reads the folders through the links,
# and a wrong SRC stops with one `error:` line.
source "$(dirname "$0")/lib.sh" "$@"
TAR=$SHARED_DATA/cifar10/cifar10-jpg.tar.gz
[ -f "$TAR" ] || skip "the CIFAR-10 JPEG tarball not found at $TAR"
SPLIT=$SRC/scripts/cifar10_split.sh
cd "$WORK"

# expect_images DIR N: DIR holds N .jpg files that resolve (through symbolic links) to files.
expect_images() {
  local got
  got=$(find -L "$1" -maxdepth 1 -type f -name '*.jpg' | wc -l)
  [ "$got" = "$2" ] || fail "$1: $got images, expected $2"
}
expect_classes() {
  local got
  got=$(ls "$1" | tr '\n' ' ')
  [ "$got" = "$2 " ] || fail "$1: classes '$got', expected '$2'"
}
check_split() {
  expect_classes split/pretrain/train "airplane automobile bird cat deer"
  expect_classes split/pretrain/val "airplane automobile bird cat deer"
  expect_classes split/finetune/train "dog frog horse ship truck"
  expect_classes split/finetune/val "dog frog horse ship truck"
  for c in airplane automobile bird cat deer; do
    expect_images "split/pretrain/train/$c" 5000
    expect_images "split/pretrain/val/$c" 1000
  done
  for c in dog frog horse ship truck; do
    expect_images "split/finetune/train/$c" 100
    expect_images "split/finetune/val/$c" 1000
    [ "$(ls split/finetune/train/$c | head -1),$(ls split/finetune/train/$c | tail -1)" = "0000.jpg,0099.jpg" ] ||
      fail "split/finetune/train/$c: not the first 100 files by name: $(ls split/finetune/train/$c | tr '\n' ' ')"
  done
  [ "$(find split -type f -not -path 'split/jpg/*' | wc -l)" = 0 ] || fail "files copied outside split/jpg"
}

out=$(bash "$SPLIT" "$TAR" split 2>&1) || { echo "$out"; fail "the split failed"; finish; }
echo "$out"
printf '%s\n' "$out" | grep -q "^extracting " || fail "the first run did not extract"
check_split
tar -xOzf "$TAR" train/truck/0042.jpg | cmp -s - split/finetune/train/truck/0042.jpg ||
  fail "split/finetune/train/truck/0042.jpg differs from the tarball's train/truck/0042.jpg"
tar -xOzf "$TAR" test/bird/0999.jpg | cmp -s - split/pretrain/val/bird/0999.jpg ||
  fail "split/pretrain/val/bird/0999.jpg differs from the tarball's test/bird/0999.jpg"

# A second run keeps the extraction and rebuilds the halves (a stray file disappears).
touch split/finetune/train/dog/stray.jpg
out=$(bash "$SPLIT" "$TAR" split 2>&1) || { echo "$out"; fail "the second run failed"; }
echo "$out"
printf '%s\n' "$out" | grep -q "^keeping split/jpg" || fail "the second run did not keep the extraction"
check_split

# cnn reads both halves through the links: 500 + 5,000 images of 5 classes.
cat > tiny.yaml <<'Y'
name: tiny-cifar-split
input: [3, 32, 32]
layers:
  - {conv: {out: 8, k: 3, stride: 2, pad: 1}, name: conv1}
  - relu
  - global_avgpool
  - flatten
  - {linear: {out: 5}, name: fc}
Y
cat > recipe.yaml <<'Y'
model: tiny.yaml
data:
  dataset: image_folder
  root: split/finetune
  train_transforms: [{random_crop: {size: 32, pad: 4}}, hflip]
  eval_transforms: [{center_crop: {size: 32}}]
  batch_size: 100
train: {epochs: 1, optimizer: {type: sgd, lr: 0.01}}
output: run
report: false
Y
out=$("$CNN" train -c recipe.yaml --threads 1 2>&1) || { echo "$out"; fail "training on split/finetune failed"; finish; }
ev=$("$CNN" eval -c recipe.yaml --checkpoint run/last.safetensors --threads 1 2>&1) || fail "eval failed: $ev"
echo "$ev" | head -2
printf '%s\n' "$ev" | grep -q "on image_folder test (5000 images)" || fail "cnn eval does not see 5000 val images"
printf '%s\n' "$ev" | grep -qE "^ *truck " || fail "the class truck is missing in the confusion matrix"
steps=$(/usr/bin/python3 -c "
import json
print([json.loads(l) for l in open('run/metrics.jsonl') if json.loads(l)['type'] == 'epoch'][-1]['step'])")
[ "$steps" = 5 ] || fail "training took $steps steps of 100 images, expected 5 (500 images)"

# Wrong sources.
mkdir -p notatar && echo "not a tarball" > notatar/x.tar.gz
mkdir -p few/train/airplane few/test/airplane && cp split/jpg/train/airplane/0000.jpg few/train/airplane/ &&
  cp split/jpg/test/airplane/0000.jpg few/test/airplane/ && tar -czf few.tar.gz -C few train test
expect_error 2 "^error: nothere\.tar\.gz: not found" -- bash "$SPLIT" nothere.tar.gz d1
expect_error 2 "^error: notatar: not a file" -- bash "$SPLIT" notatar d2
expect_error 2 "^error: notatar/x\.tar\.gz: cannot extract train/ and test/ .*: gzip: stdin: not in gzip format" -- bash "$SPLIT" notatar/x.tar.gz d3
expect_error 2 "^error: few\.tar\.gz: class airplane has 1 training and 1 test images" -- bash "$SPLIT" few.tar.gz d4
[ "$(ls d3 d4)" = "$(printf 'd3:\n\nd4:')" ] || fail "a bad tarball left files behind: $(ls -R d3 d4 | head)"
finish
