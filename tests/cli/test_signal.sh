#!/usr/bin/env bash
# Ctrl-C during training: the run finishes its step, writes last.safetensors, exits 130, and
# --resume continues it to the end. A second Ctrl-C exits at once.
source "$(dirname "$0")/lib.sh" "$@"
cd "$WORK"
mkdir -p models data
cp "$SRC/configs/models/lenet5.yaml" models/
/usr/bin/python3 - <<'PY' || skip "python3 needed to write IDX fixtures"
import struct
def write(path, magic, dims, payload):
    with open(path, 'wb') as f:
        f.write(struct.pack('>I', magic) + b''.join(struct.pack('>I', d) for d in dims) + payload)
n = 8192  # an epoch long enough (1024 steps) for the Ctrl-C to land inside it on a fast machine
write('data/train-images-idx3-ubyte', 2051, [n, 28, 28], bytes((i * 7) % 256 for i in range(n * 784)))
write('data/train-labels-idx1-ubyte', 2049, [n], bytes(i % 10 for i in range(n)))
write('data/t10k-images-idx3-ubyte', 2051, [256, 28, 28], bytes((i * 3) % 256 for i in range(256 * 784)))
write('data/t10k-labels-idx1-ubyte', 2049, [256], bytes(i % 10 for i in range(256)))
PY
cat > recipe.yaml <<'Y'
model: models/lenet5.yaml
data: {dataset: mnist, root: data, batch_size: 8}
train: {epochs: 30, log_every: 20, optimizer: {type: sgd, lr: 0.01, momentum: 0.9}}
output: run
Y

# Wait for a progress line, then Ctrl-C once.
"$CNN" --threads 1 train --config recipe.yaml > log.txt 2>&1 &
pid=$!
for _ in $(seq 1 1500); do grep -q "batch" log.txt 2>/dev/null && break; sleep 0.02; done
kill -INT $pid
wait $pid; rc=$?
cat log.txt | tail -3
[ "$rc" = 130 ] || fail "first Ctrl-C: expected exit 130, got $rc"
grep -q "interrupted at epoch" log.txt || fail "no 'interrupted' message"
[ -f run/last.safetensors ] || fail "no last.safetensors after the interrupt"
ls run | grep -q tmp && fail "temporary file left behind: $(ls run)"
"$CNN" eval --config recipe.yaml --checkpoint run/last.safetensors --no-confusion >/dev/null 2>&1 || fail "saved checkpoint does not load"

# Resume to the end (fewer epochs so the test stays short).
"$CNN" --threads 1 train --config recipe.yaml --set train.epochs=2 --resume run/last.safetensors > resume.txt 2>&1
rc=$?
tail -2 resume.txt
[ "$rc" = 0 ] || fail "resume after the interrupt failed ($rc)"
grep -qE "^resumed at epoch 1, batch [0-9]+, step [0-9]+, lr 0.01 \(from run/last.safetensors\)$" resume.txt || fail "resume did not continue mid-epoch: $(head -3 resume.txt)"

# Two Ctrl-C: exit at once, still 130.
"$CNN" --threads 1 train --config recipe.yaml --set output=run2 > log2.txt 2>&1 &
pid=$!
for _ in $(seq 1 1500); do grep -q "batch" log2.txt 2>/dev/null && break; sleep 0.02; done
kill -INT $pid; kill -INT $pid
wait $pid; rc=$?
[ "$rc" = 130 ] || fail "double Ctrl-C: expected exit 130, got $rc"
finish
