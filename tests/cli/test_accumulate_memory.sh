#!/usr/bin/env bash
# The memory check before training (issue 12): under a memory limit (ulimit -v), a batch whose
# training does not fit is refused before anything is written, in one line naming the size
# needed, the size available and the train.accumulate that fits; with that setting the run trains.
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
# LeNet-5 at batch 65536 plans about 6.6 GiB; 2,000,000 KiB of address space holds 4 micro-batches
# (its max pools take the ReLUs before them: no ReLU output is stored).
cat > recipe.yaml <<'Y'
model: models/lenet5.yaml
data: {dataset: mnist, root: data, batch_size: 65536}
train: {epochs: 1, optimizer: {type: sgd, lr: 0.01, momentum: 0.9}}
output: run
report: false
Y
limited() { (ulimit -v 2000000 && "$CNN" --threads 1 train --config recipe.yaml "$@"); }
expect_error 2 "^error: training at data\.batch_size 65536 \(train\.accumulate 1: micro-batches of 65536\) needs [0-9.]+ GiB \(step .*\), more than the 1\.91 GiB available \(ulimit -v\): set train\.accumulate: 4 \(4 micro-batches of 16384 need [0-9.]+ GiB; the update stays the same\) or lower data\.batch_size$" -- limited
[ -e run ] && fail "the refused run wrote $(ls run)"
out=$(limited --set train.accumulate=8 2>&1) || fail "train.accumulate 8 under the same limit failed: $out"
printf '%s\n' "$out" | grep -q "^train.accumulate 8: each step of 65536 samples is 8 micro-batches of 8192; planned memory" \
  || fail "no accumulation line: $out"
[ -f run/last.safetensors ] || fail "no checkpoint after training with train.accumulate 8"
finish
