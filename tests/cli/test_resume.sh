#!/usr/bin/env bash
# `cnn train --resume RUN_DIR_or_CHECKPOINT` (issue 15): the run's own config from the checkpoint,
# --config optional; changed fields printed as overrides, or refused (batch size, seed, model, data)
# naming each with its old and new value; the run writes only into its own directory, whatever
# `output` the --config or --set names, so another run's config.yaml is never overwritten.
source "$(dirname "$0")/lib.sh" "$@"
cd "$WORK"
mkdir -p models data
cp "$SRC/configs/models/lenet5.yaml" models/
/usr/bin/python3 - <<'PY' || skip "python3 needed to write IDX fixtures"
import struct
def write(path, magic, dims, payload):
    with open(path, 'wb') as f:
        f.write(struct.pack('>I', magic) + b''.join(struct.pack('>I', d) for d in dims) + payload)
write('data/train-images-idx3-ubyte', 2051, [64, 28, 28], bytes((i * 7) % 256 for i in range(64 * 784)))
write('data/train-labels-idx1-ubyte', 2049, [64], bytes(i % 10 for i in range(64)))
write('data/t10k-images-idx3-ubyte', 2051, [32, 28, 28], bytes((i * 3) % 256 for i in range(32 * 784)))
write('data/t10k-labels-idx1-ubyte', 2049, [32], bytes(i % 10 for i in range(32)))
PY
cat > recipe.yaml <<'Y'
model: models/lenet5.yaml
data: {dataset: mnist, root: data, batch_size: 16}
train: {epochs: 1, optimizer: {type: sgd, lr: 0.01, momentum: 0.9}}
output: run
Y
"$CNN" --threads 1 train --config recipe.yaml >/dev/null 2>&1 || { fail "first run failed"; finish; }
"$CNN" --threads 1 train --config recipe.yaml --set output=other --set train.epochs=1 >/dev/null 2>&1 || fail "second run failed"
cp other/config.yaml other_config.yaml

# A run directory alone: its own config; more epochs is a printed override.
out=$("$CNN" --threads 1 train --resume run --set train.epochs=2 2>&1); rc=$?
[ "$rc" = 0 ] || fail "resume of a run directory: exit $rc: $out"
printf '%s\n' "$out" | grep -qx "override on resume: train.epochs: 1 -> 2" || fail "no override line: $out"
printf '%s\n' "$out" | grep -qx "resumed at epoch 2, batch 1, step 4, lr 0.01 (from run/last.safetensors)" || fail "no resume line: $out"
printf '%s\n' "$out" | grep -qx "note: train.epochs 1 -> 2: the constant schedule does not depend on the number of epochs; it continues unchanged from step 4 (lr 0.01)" \
  || fail "no note on how the schedule continues: $out"
grep -q "epochs: 2" run/config.yaml || fail "run/config.yaml does not hold the override"

# Fields that would make it another run are refused, each named.
expect_error 2 "^error: --resume run/last\.safetensors: these fields differ from the run's own config and cannot change on resume \(start a new run instead\): data\.batch_size: 16 -> 32; train\.seed: 1 -> 7$" -- \
  "$CNN" train --config recipe.yaml --resume run --set data.batch_size=32 --set train.seed=7
expect_error 2 "model\.layers\.0\.conv\.out: 6 -> 8" -- "$CNN" train --resume run --set model.layers.0.conv.out=8

# Another run's output named by --set: the resumed run still writes only into its own directory.
"$CNN" --threads 1 train --config recipe.yaml --resume run/last.safetensors --set output=other --set train.epochs=3 \
  >/dev/null 2>&1 || fail "resume with output=other failed"
cmp -s other/config.yaml other_config.yaml || fail "the other run's config.yaml was overwritten"
grep -q "epochs: 3" run/config.yaml || fail "the resumed run did not write its own config.yaml"

# A cosine schedule stretched by more epochs: the note says the lr is recomputed, with both values.
"$CNN" --threads 1 train --config recipe.yaml --set output=cos --set train.schedule.type=cosine >/dev/null 2>&1 || fail "cosine run failed"
out=$("$CNN" --threads 1 train --resume cos --set train.epochs=2 --no-report 2>&1) || fail "cosine resume failed: $out"
printf '%s\n' "$out" | grep -qx "note: train.epochs 1 -> 2: the cosine schedule is recomputed over 2 epochs (8 steps), not appended: the lr at step 4 is 0.005 (it was 0 under the checkpoint's config; docs/config.md, \"Resuming a run\")" \
  || fail "no note on the recomputed cosine schedule: $out"
printf '%s\n' "$out" | grep -qx "resumed at epoch 2, batch 1, step 4, lr 0.005 (from cos/last.safetensors)" || fail "cosine resume line: $out"

# train.epochs=0: nothing to do, nothing written (no directory, no config.yaml, no report).
out=$("$CNN" --threads 1 train --config recipe.yaml --set output=zero --set train.epochs=0 2>&1) || fail "epochs=0 failed: $out"
printf '%s\n' "$out" | grep -qx "train.epochs is 0: nothing to train; nothing written" || fail "epochs=0 says: $out"
[ ! -e zero ] || fail "train.epochs=0 wrote $(ls -R zero)"
# Into an existing run's directory with --overwrite: its files stay as they were.
before=$(cd run && sha256sum * | sort)
"$CNN" --threads 1 train --config recipe.yaml --set output=run --set train.epochs=0 --overwrite >/dev/null 2>&1 || fail "epochs=0 --overwrite failed"
[ "$(cd run && sha256sum * | sort)" = "$before" ] || fail "train.epochs=0 --overwrite changed run/"

expect_error 2 "^error: --config is required \(or --resume RUN_DIR\)$" -- "$CNN" train
expect_error 2 "^error: --resume nowhere: nowhere not found$" -- "$CNN" train --resume nowhere
finish
