#!/usr/bin/env bash
# LeNet-5 trains one epoch on the real MNIST to at least 98% test accuracy, and `cnn eval`
# on the saved checkpoint reproduces the accuracy training reported.
source "$(dirname "$0")/lib.sh" "$@"
[ -f "$SHARED_DATA/mnist/train-images-idx3-ubyte.gz" ] || skip "MNIST not found at $SHARED_DATA/mnist"
cd "$WORK"
out=$("$CNN" train --config "$SRC/configs/recipes/mnist-lenet5.yaml" --set train.epochs=1 \
      --set data.root="$SHARED_DATA/mnist" --set output=run 2>&1) || { echo "$out"; fail "training failed"; finish; }
echo "$out"
acc=$(/usr/bin/python3 -c "
import json
recs = [json.loads(l) for l in open('run/metrics.jsonl')]
print([r for r in recs if r['type'] == 'epoch'][0]['test_acc'])")
/usr/bin/python3 -c "import sys; sys.exit(0 if $acc >= 98.0 else 1)" || fail "test accuracy $acc < 98%"
for f in config.yaml metrics.jsonl last.safetensors best.safetensors; do [ -f "run/$f" ] || fail "run/$f missing"; done
ev=$("$CNN" eval --config "$SRC/configs/recipes/mnist-lenet5.yaml" --set data.root="$SHARED_DATA/mnist" \
     --checkpoint run/best.safetensors 2>&1) || fail "eval failed: $ev"
echo "$ev"
printf '%s\n' "$ev" | grep -q "top-1 $(printf '%.2f' "$acc")%" || fail "eval does not reproduce $acc%"
# The run directory's config reloads to the same recipe.
"$CNN" train --config run/config.yaml --set train.epochs=0 --set output=run2 >/dev/null 2>&1 || fail "resolved config does not reload"
finish
