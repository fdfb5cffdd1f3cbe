#!/usr/bin/env bash
# Data errors end to end: one 'error:' line naming the file or field, exit 1 for bad data, 2 for a
# bad config. A truncated CIFAR-10 batch file, a missing dataset folder, transforms that do not
# give the model's input size, an image_folder pipeline without a fixed output size.
source "$(dirname "$0")/lib.sh" "$@"
cd "$WORK"
mkdir -p cifar
/usr/bin/python3 - <<'PY' || skip "python3 needed to write CIFAR-10 fixtures"
import os
rec = bytes([3]) + bytes(range(256)) * 12
for name in ["data_batch_1.bin", "test_batch.bin"]:
    with open(os.path.join("cifar", name), "wb") as f:
        f.write(rec * 10000)
with open("cifar/data_batch_2.bin", "wb") as f:
    f.write(rec * 9999 + rec[:100])
PY
RECIPE=$SRC/configs/recipes/cifar10-resnet20.yaml
common=(--set data.root=cifar --set train.epochs=1 --set data.eval_limit=64 --set output=out)
# The first 10,000 training images need only data_batch_1.bin: this trains.
"$CNN" train --config "$RECIPE" "${common[@]}" --set data.train_limit=128 --set data.batch_size=64 >/dev/null 2>&1 \
  || fail "training on the first batch file failed"
expect_error 1 "cifar/data_batch_2\.bin: truncated: expected 30730000 bytes \(10000 records of 3073 bytes\), got 30727027 \(9999 whole records\)" -- \
  "$CNN" train --config "$RECIPE" "${common[@]}" --set data.train_limit=10001
expect_error 1 "nowhere/data_batch_1\.bin: not found \(expected the CIFAR-10 binary version in this folder" -- \
  "$CNN" train --config "$RECIPE" "${common[@]}" --set data.root=nowhere
expect_error 2 "data\.train_transforms: samples of dataset 'cifar10' come out 3x28x28 but the model input is 3x32x32" -- \
  "$CNN" train --config "$RECIPE" "${common[@]}" --set data.train_limit=128 --set data.train_transforms.0.random_crop.size=28
mkdir -p folder/train/a folder/val/a
printf 'P6 2 2 255\n0123456789ab' > folder/train/a/x.ppm
cp folder/train/a/x.ppm folder/val/a/
expect_error 2 "data\.train_transforms: the images of dataset 'image_folder' differ in size; end the 8-bit steps" -- \
  "$CNN" train --config "$RECIPE" --set data.dataset=image_folder --set data.root=folder \
  --set 'data.train_transforms=[{resize: {size: 32}}]' --set output=x
expect_error 2 "data\.train_transforms\.1: 'hflip' works on 8-bit images and must come before 'normalize'" -- \
  "$CNN" train --config "$RECIPE" --set 'data.train_transforms=[{normalize: {mean: [0.5], std: [0.5]}}, hflip]'
expect_error 1 "cifar/test_batch\.bin: truncated" -- bash -c \
  "truncate -s 1000 cifar/test_batch.bin && '$CNN' eval --config '$RECIPE' --set data.root=cifar --weights out/last.safetensors"
finish
