#!/usr/bin/env bash
# Checkpoint saves under faults, end to end (issue 15): ENOSPC and EIO injected by strace into
# fsync and rename, and SIGKILL at random moments of a run that saves every epoch. After each: the
# error names the file and the errno (exit 1), the previous checkpoint still loads, no torn file is
# under a final name, and a later run removes the temporaries a killed one left.
source "$(dirname "$0")/lib.sh" "$@"
command -v strace >/dev/null || skip "strace is not installed (scripts/setup.sh installs it)"
cd "$WORK"
mkdir -p models data
cp "$SRC/configs/models/lenet5.yaml" models/
/usr/bin/python3 - <<'PY' || skip "python3 needed to write IDX fixtures"
import struct
def write(path, magic, dims, payload):
    with open(path, 'wb') as f:
        f.write(struct.pack('>I', magic) + b''.join(struct.pack('>I', d) for d in dims) + payload)
n = 128
write('data/train-images-idx3-ubyte', 2051, [n, 28, 28], bytes((i * 7) % 256 for i in range(n * 784)))
write('data/train-labels-idx1-ubyte', 2049, [n], bytes(i % 10 for i in range(n)))
write('data/t10k-images-idx3-ubyte', 2051, [64, 28, 28], bytes((i * 3) % 256 for i in range(64 * 784)))
write('data/t10k-labels-idx1-ubyte', 2049, [64], bytes(i % 10 for i in range(64)))
PY
cat > recipe.yaml <<'Y'
model: models/lenet5.yaml
data: {dataset: mnist, root: data, batch_size: 16}
train: {epochs: 1, optimizer: {type: sgd, lr: 0.01, momentum: 0.9}}
output: run
Y
loads() { "$CNN" --threads 1 eval --config recipe.yaml --checkpoint "$1" --no-confusion >/dev/null 2>&1; }
no_temporaries() { ! ls "$1" | grep -q '\.tmp\.' || fail "temporary left in $1: $(ls "$1" | tr '\n' ' ')"; }

"$CNN" --threads 1 train --config recipe.yaml >/dev/null 2>&1 || { fail "first epoch failed"; finish; }
cp run/last.safetensors good.safetensors

# Each fsync and each rename of a resumed run fails in turn (ENOSPC and EIO alternately): the run
# stops with the file and errno named, and run/last.safetensors is the previous checkpoint or the
# new one (when only the directory fsync after the rename failed), never torn. (--no-report: the
# report is written best-effort after training; its own failures do not fail the run.)
resume=("$CNN" --threads 1 train --config recipe.yaml --set train.epochs=2 --resume run/last.safetensors --no-report)
for call in fsync rename; do
  cp good.safetensors run/last.safetensors
  strace -f -qq -o calls.txt -e trace=$call "${resume[@]}" >/dev/null 2>&1 || fail "clean resume failed"
  count=$(grep -c "$call(" calls.txt)
  [ "$count" -ge 2 ] || fail "expected several ${call} calls, saw $count"
  for when in $(seq 1 "$count"); do
    cp good.safetensors run/last.safetensors
    [ $((when % 2)) = 1 ] && err=ENOSPC text="No space left on device" || err=EIO text="Input/output error"
    expect_error 1 "^error: cannot write '[^']*run/[^']*': $text" -- \
      strace -f -qq -o /dev/null -e trace=$call -e inject=$call:error=$err:when=$when "${resume[@]}"
    loads run/last.safetensors || fail "$call #$when: run/last.safetensors does not load"
    no_temporaries run
  done
done

# SIGKILL at random moments of a 40-epoch run that saves after every epoch (128 images: each
# epoch is a few hundred milliseconds, the save a good part of it).
for round in 1 2 3 4 5 6; do
  rm -rf kill
  "$CNN" --threads 1 train --config recipe.yaml --set output=kill --set train.epochs=40 >/dev/null 2>&1 &
  pid=$!
  sleep "$(/usr/bin/python3 -c "import random; random.seed($round); print(round(random.uniform(0.5, 2.5), 2))")"
  kill -KILL $pid 2>/dev/null
  wait $pid 2>/dev/null
  for f in kill/*.safetensors; do
    [ -e "$f" ] || continue
    loads "$f" || fail "round $round: $f does not load after SIGKILL"
  done
  # A resumed run (one more epoch) removes the temporaries the killed one left as it saves.
  if [ -f kill/last.safetensors ]; then
    epoch=$(/usr/bin/python3 -c "import json, struct, sys; f = open(sys.argv[1], 'rb'); n = struct.unpack('<Q', f.read(8))[0]; print(json.loads(f.read(n))['__metadata__']['epoch'])" kill/last.safetensors)
    "$CNN" --threads 1 train --config recipe.yaml --set output=kill --set train.epochs=$((epoch + 1)) \
      --resume kill/last.safetensors >/dev/null 2>&1 || fail "round $round: resume after SIGKILL failed"
    no_temporaries kill
  fi
done
finish
