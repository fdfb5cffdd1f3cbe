#!/usr/bin/env bash
# `cnn summary --batch N` plans the memory of a training step and of an inference forward; the
# peak RSS of `cnn bench` at that batch must equal the plan within 10%, once the process adds what
# the plan leaves out: its runtime (a LeNet-5 batch-1 run's RSS), the input batch, and in
# training SGD's momentum (one value per parameter).
source "$(dirname "$0")/lib.sh" "$@"
PY=/usr/bin/python3
[ -x "$PY" ] || skip "$PY is not available"
[ -x /usr/bin/time ] || skip "GNU time (/usr/bin/time, Debian package 'time') is not installed"

rss_kib() {  # peak RSS of a command, KiB
  /usr/bin/time -o "$WORK/rss" -f "%M" "$@" > /dev/null 2>&1 || fail "failed: $*"
  tail -1 "$WORK/rss"
}
base=$(rss_kib "$CNN" bench --config "$SRC/configs/models/lenet5.yaml" --batch 1 --iters 1 --threads 2)

check() {  # model batch train|infer
  local model=$1 batch=$2 mode=$3 flag=""
  [ "$mode" = train ] && flag=--train
  "$CNN" summary --config "$SRC/configs/models/$model.yaml" --batch "$batch" --json > "$WORK/s.json" \
    || fail "cnn summary failed for $model"
  local rss
  rss=$(rss_kib "$CNN" bench --config "$SRC/configs/models/$model.yaml" --batch "$batch" $flag --iters 1 --warmup 0 --threads 2)
  "$PY" - "$WORK/s.json" "$mode" "$rss" "$base" "$model b$batch $mode" <<'PY' || fail "planned memory off by more than 10%"
import json, sys
s, mode, rss, base, what = json.load(open(sys.argv[1])), sys.argv[2], int(sys.argv[3]) * 1024, int(sys.argv[4]) * 1024, sys.argv[5]
plan = s["planned_training" if mode == "train" else "planned_inference"]["total_bytes"]
inp = 4 * s["batch"]
for d in s["input"]: inp *= d
momentum = 4 * s["total_params"] if mode == "train" else 0  # SGD with momentum in cnn bench --train
expected = plan + inp + momentum + base
err = abs(rss - expected) / rss
print(f"{what}: planned {plan / 2**20:.1f} MiB, expected RSS {expected / 2**20:.1f} MiB, measured {rss / 2**20:.1f} MiB ({100 * err:.1f}% off)")
sys.exit(0 if err <= 0.10 else 1)
PY
}
check resnet20-cifar 128 train
check resnet20-cifar 128 infer
check mobilenet_v1 8 train
check mobilenet_v1 8 infer
check vgg16 2 infer
check resnet18-cifar 16 train   # projection shortcuts and max pooling keep state inside
check resnet18-cifar 16 infer
finish
