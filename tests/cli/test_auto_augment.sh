#!/usr/bin/env bash
# randaugment / trivialaugment / autoaugment in a recipe, end to end: ResNet-20 trains one short
# epoch on CIFAR-10-format data with each policy after the crop and flip (as torchvision's
# reference places them); the losses are bit-identical with 0 and 2 loader threads; the resolved
# config keeps the policy's arguments; bad values are one 'error:' line naming the field.
source "$(dirname "$0")/lib.sh" "$@"
cd "$WORK"
mkdir -p cifar
/usr/bin/python3 - <<'PY' || skip "python3 needed to write CIFAR-10 fixtures"
import os, random
random.seed(0)
recs = bytearray()
for i in range(250):  # smooth images with a random tint (the ops have something to change), repeated
    base = random.randrange(256)
    recs += bytes([i % 10]) + bytes((base + 5 * (k % 32) + (k // 1024) * 40) % 256 for k in range(3072))
data = bytes(recs) * 40  # 10,000 records, as the format requires
for name in ["data_batch_1.bin", "test_batch.bin"]:
    with open(os.path.join("cifar", name), "wb") as f:
        f.write(data)
PY
RECIPE=$SRC/configs/recipes/cifar10-resnet20.yaml
NORM='{normalize: {mean: [0.4914, 0.4822, 0.4465], std: [0.2470, 0.2435, 0.2616]}}'
common=(--set data.root=cifar --set train.epochs=1 --set data.train_limit=96 --set data.eval_limit=32
        --set data.batch_size=32 --set train.log_every=0)
for policy in '{randaugment: {num_ops: 2, magnitude: 9}}' trivialaugment '{autoaugment: cifar10}'; do
  list="[{random_crop: {size: 32, pad: 4}}, hflip, $policy, $NORM]"
  for w in 0 2; do
    "$CNN" train --config "$RECIPE" "${common[@]}" --set "data.train_transforms=$list" --set data.workers=$w \
      --set output=run$w >log$w 2>&1 || { cat log$w; fail "training with $policy (workers $w) failed"; }
  done
  l0=$(/usr/bin/python3 -c "import json; print([json.loads(l)['train_loss'] for l in open('run0/metrics.jsonl') if json.loads(l)['type'] == 'epoch'])")
  l2=$(/usr/bin/python3 -c "import json; print([json.loads(l)['train_loss'] for l in open('run2/metrics.jsonl') if json.loads(l)['type'] == 'epoch'])")
  [ -n "$l0" ] && [ "$l0" = "$l2" ] || fail "$policy: losses differ between 0 and 2 loader threads: $l0 vs $l2"
  name=$(echo "$policy" | tr -d '{' | cut -d: -f1)
  grep -q "$name" run0/config.yaml || fail "$policy missing from the resolved run0/config.yaml"
  rm -rf run0 run2
done
expect_error 2 "data\.train_transforms\.2\.randaugment\.magnitude: expected a bin in \[0, 30\] \(below num_magnitude_bins = 31\), got 31" -- \
  "$CNN" train --config "$RECIPE" "${common[@]}" --set "data.train_transforms=[{random_crop: {size: 32, pad: 4}}, hflip, {randaugment: {magnitude: 31}}, $NORM]" --set output=x
expect_error 2 "data\.train_transforms\.1\.autoaugment\.policy: expected a policy: imagenet \| cifar10 \| svhn, got 'cifar'" -- \
  "$CNN" train --config "$RECIPE" "${common[@]}" --set "data.train_transforms=[hflip, {autoaugment: cifar}, $NORM]" --set output=x
expect_error 2 "data\.train_transforms\.2: 'autoaugment' and 'randaugment' \(data\.train_transforms\.1\) are both automatic augmentation policies" -- \
  "$CNN" train --config "$RECIPE" "${common[@]}" --set "data.train_transforms=[hflip, randaugment, autoaugment, $NORM]" --set output=x
[ ! -e x ] || fail "a refused recipe left the output folder x behind"
finish
