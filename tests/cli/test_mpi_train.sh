#!/usr/bin/env bash
# Data-parallel training over Open MPI (issue 16, docs/distributed.md), two ranks on loopback:
# - LeNet-5 (no BatchNorm) and a small ResNet with train.sync_bn: losses and weights equal a
#   single process on the same global batches, up to float rounding (SYNC tolerances below);
# - the ResNet with per-rank BatchNorm statistics: close to the single process (LOCAL tolerances);
# - the gradients all-reduced in small buckets during the backward pass (with and without MPI polls
#   between layers) give the same bits as the blocking all-reduce after it (LeNet-5; the ResNet with
#   sync_bn, whose BN sums are collectives during the backward pass too);
# - LeNet-5 with train.accumulate 2 on 2 ranks: the single process of full batches again;
# - --resume of a 2-rank run with 1 and with 3 ranks, compared with the run left uninterrupted;
# - failures end the whole job naming a rank: a killed rank, a stopped one (--dist-timeout), a
#   global batch smaller than the ranks.
# Why the bits differ at all: a rank sums its half of the batch, the all-reduce adds the halves,
# where one process sums the whole batch in one order; float addition is not associative, so the
# gradients differ in the last bits (~1e-8 relative on the first steps here) and training
# amplifies that over the steps: little for LeNet-5, more for the small-batch BatchNorm ResNet.
source "$(dirname "$0")/lib.sh" "$@"
command -v mpirun >/dev/null || skip "mpirun not found (install openmpi-bin; scripts/setup.sh)"
/usr/bin/python3 -c "import numpy" 2>/dev/null || skip "python3 with numpy needed to compare checkpoints"
MPIRUN=(mpirun --oversubscribe --allow-run-as-root --mca btl self,vader -x OMPI_MCA_btl_vader_single_copy_mechanism=none)
export OMPI_MCA_btl_vader_single_copy_mechanism=none  # containers forbid the CMA default
COMPARE="$SRC/tests/dist/compare_runs.py"
# Tolerances (relative; see compare_runs.py), with what was measured on the machine this was
# written on (docs/distributed.md):
#   LeNet-5, 256 steps: losses 1e-3 (measured 1.1e-5), weights 1e-3 (4.3e-7)
LENET=(--rtol 1e-3 --weights-rtol 1e-3)
#   ResNet + sync_bn: the first epoch's 32 steps 1e-5 (measured 6.3e-9); all 256 steps and the final
#   weights 0.1 and 0.05 (1.9e-2 and 6.9e-3: the rounding difference grown by training)
SYNC=(--early-steps 32 --early-rtol 1e-5 --rtol 0.1 --weights-rtol 0.05)
#   ResNet, per-rank BN statistics (4 samples each instead of 8: another training, not a rounding
#   difference): the first epoch's losses 0.1 (measured 4.4e-2), final test accuracy 10 points
LOCAL=(--early-steps 32 --early-rtol 0.1 --final-acc-diff 10)
cd "$WORK"
/usr/bin/python3 - <<'PY' || skip "python3 needed to write IDX fixtures"
import os, random, struct
def write(path, magic, dims, payload):
    with open(path, 'wb') as f:
        f.write(struct.pack('>I', magic) + b''.join(struct.pack('>I', d) for d in dims) + payload)
def images(n, seed):  # a bright patch whose place is the class, over noise
    r = random.Random(seed); px = bytearray(); labels = bytearray()
    for _ in range(n):
        c = r.randrange(10); labels.append(c)
        cy, cx = 6 + (c // 5) * 14, 4 + (c % 5) * 5
        for y in range(28):
            for x in range(28):
                px.append(min(255, r.randrange(60) + (150 if abs(y - cy) < 4 and abs(x - cx) < 3 else 0)))
    return bytes(px), bytes(labels)
os.makedirs('data', exist_ok=True)
for name, n, seed in (('train', 256, 1), ('t10k', 64, 2)):
    px, lb = images(n, seed)
    write(f'data/{name}-images-idx3-ubyte', 2051, [n, 28, 28], px)
    write(f'data/{name}-labels-idx1-ubyte', 2049, [n], lb)
PY
cp "$SRC/configs/models/lenet5.yaml" lenet5.yaml
cat > resnet.yaml <<'Y'
name: tiny-resnet
input: [1, 28, 28]
args: {classes: 10}
blocks:
  basic:
    args: {out: 8, stride: 1}
    branches:
      - - {conv: {out: $out, k: 3, stride: $stride, pad: 1, bias: false}, name: conv1}
        - {bn: {}, name: bn1}
        - relu
        - {conv: {out: $out, k: 3, pad: 1, bias: false}, name: conv2}
        - {bn: {}, name: bn2}
      - {shortcut: {out: $out, stride: $stride, type: A}, name: shortcut}
    merge: add
    then: [relu]
layers:
  - {conv: {out: 8, k: 3, stride: 2, pad: 1, bias: false}, name: conv1}
  - {bn: {}, name: bn1}
  - relu
  - {basic: {out: 8}, name: layer1}
  - {basic: {out: 16, stride: 2}, name: layer2}
  - global_avgpool
  - flatten
  - {linear: {out: $classes}, name: linear}
Y
# 256 images in global batches of 8: 32 steps an epoch, 8 epochs = 256 steps.
recipe() {  # recipe MODEL OUTPUT [SYNC_BN]
  cat > "$2.yaml" <<Y
model: $1
data: {dataset: mnist, root: data, batch_size: 8}
train: {epochs: 8, log_every: 4, sync_bn: ${3:-false}, optimizer: {type: sgd, lr: 0.02, momentum: 0.9}}
output: $2
report: false
Y
}
alone() { "$CNN" --threads 1 train --config "$1.yaml" "${@:2}" > "$1.log" 2>&1 || fail "$1 (one process) failed: $(tail -3 "$1.log")"; }
ranks() { local n=$1; shift; "${MPIRUN[@]}" -np "$n" "$CNN" --threads 1 train "$@"; }

recipe lenet5.yaml lenet_1; recipe lenet5.yaml lenet_2
recipe resnet.yaml sync_1 true; recipe resnet.yaml sync_2 true
recipe resnet.yaml local_1; recipe resnet.yaml local_2
alone lenet_1
ranks 2 --config lenet_2.yaml > lenet_2.log 2>&1; rc=$?
grep -q "built without MPI" lenet_2.log && skip "cnn was built without MPI"
[ "$rc" = 0 ] || fail "2 ranks failed: $(tail -5 lenet_2.log)"
grep -q "^data-parallel: 2 ranks x 1 threads | global batch 8 = 4 per rank | BN statistics per rank" lenet_2.log \
  || fail "no data-parallel banner line: $(head -5 lenet_2.log)"
[ "$(grep -c '^training ' lenet_2.log)" = 1 ] || fail "more than rank 0 printed: $(head -5 lenet_2.log)"
grep -q "all-reduce on rank 0: gradients" lenet_2.log || fail "no all-reduce timing line"
echo "LeNet-5, 2 ranks vs one process:"
/usr/bin/python3 "$COMPARE" lenet_1 lenet_2 "${LENET[@]}" || fail "LeNet-5: 2 ranks differ from one process"

# train.accumulate over ranks: each global batch of 8 as 2 micro-batches of 4, each split over the
# 2 ranks, the gradients all-reduced once per step: the one-process run of batch 8 again.
recipe lenet5.yaml acc_2
ranks 2 --config acc_2.yaml --set train.accumulate=2 > acc_2.log 2>&1 || fail "2 ranks with train.accumulate failed: $(tail -5 acc_2.log)"
grep -q "global batch 8 = 2 micro-batches of 4 = 2 per rank" acc_2.log || fail "no micro-batches in the banner: $(head -5 acc_2.log)"
echo "LeNet-5, 2 ranks x 2 micro-batches (train.accumulate) vs one process:"
/usr/bin/python3 "$COMPARE" lenet_1 acc_2 "${LENET[@]}" || fail "train.accumulate on 2 ranks differs from one process"

alone sync_1
ranks 2 --config sync_2.yaml > sync_2.log 2>&1 || fail "2 ranks with sync_bn failed: $(tail -5 sync_2.log)"
grep -q "BN statistics over all ranks (train.sync_bn)" sync_2.log || fail "sync_bn not in the banner line"
echo "ResNet with BN, train.sync_bn, 2 ranks vs one process:"
/usr/bin/python3 "$COMPARE" sync_1 sync_2 "${SYNC[@]}" || fail "sync_bn: 2 ranks differ from one process"

# Bucketed all-reduce overlapped with the backward pass vs one blocking all-reduce after it: each
# value is the same sum of the two ranks' values (a + b) whatever the bucket, so the bits agree.
# One epoch (32 steps); buckets of 8 KiB for LeNet-5 (61,706 values: 4 buckets), 2 KiB for the ResNet.
bucketed() {  # bucketed CONFIG NAME BANNER_PATTERN FLAGS...
  local config=$1 name=$2 banner=$3; shift 3
  ranks 2 --config "$config" --set output="$name" --set train.epochs=1 "$@" > "$name.log" 2>&1 \
    || fail "$name failed: $(tail -5 "$name.log")"
  grep -qE "\| gradients in $banner \|" "$name.log" || fail "$name: not '$banner': $(grep -m1 '^data-parallel' "$name.log")"
}
bucketed lenet_2.yaml lenet_blocking "1 bucket of 25 MiB, all-reduced after the backward pass" --allreduce after-backward
bucketed lenet_2.yaml lenet_buckets "4 buckets of 0.008 MiB, all-reduced during the backward pass" --allreduce-bucket-mb 0.008
bucketed lenet_2.yaml lenet_nopoll "4 buckets of 0.008 MiB, all-reduced during the backward pass \(not polled\)" \
  --allreduce overlap-no-poll --allreduce-bucket-mb 0.008
grep -qE "all-reduce on rank 0: gradients [0-9.]+ ms/step \(61706 values, 4 buckets, [0-9.]+ during the backward pass \+ [0-9.]+ waiting after it, [0-9]+ of 128 buckets arrived before its end;" lenet_buckets.log \
  || fail "no overlapped all-reduce timing line: $(grep -m1 'all-reduce on rank 0' lenet_buckets.log)"
for run in lenet_buckets lenet_nopoll; do
  echo "LeNet-5, 2 ranks, $run vs one blocking all-reduce after backward:"
  /usr/bin/python3 "$COMPARE" lenet_blocking "$run" --exact || fail "$run differs from the blocking all-reduce"
done
bucketed sync_2.yaml sync_blocking "1 bucket of 25 MiB, all-reduced after the backward pass" --allreduce after-backward
bucketed sync_2.yaml sync_buckets "[2-9] buckets of 0.002 MiB, all-reduced during the backward pass" --allreduce-bucket-mb 0.002
echo "ResNet with sync_bn, 2 ranks, bucketed during backward vs one blocking all-reduce after it:"
/usr/bin/python3 "$COMPARE" sync_blocking sync_buckets --exact || fail "sync_buckets differs from the blocking all-reduce"

alone local_1
ranks 2 --config local_2.yaml > local_2.log 2>&1 || fail "2 ranks (local BN) failed: $(tail -5 local_2.log)"
echo "ResNet with BN, per-rank statistics, 2 ranks vs one process:"
/usr/bin/python3 "$COMPARE" local_1 local_2 "${LOCAL[@]}" || fail "local BN: 2 ranks too far from one process"

# --resume with another number of ranks: 4 epochs on 2 ranks, the rest on 1 and on 3, against
# the 2-rank run of all 8 epochs (LeNet-5: only the summation order differs).
for n in 1 3; do
  recipe lenet5.yaml "resume_$n"
  ranks 2 --config "resume_$n.yaml" --set train.epochs=4 > "resume_$n.log" 2>&1 || fail "first half of resume_$n failed"
  if [ "$n" = 1 ]; then
    "$CNN" --threads 1 train --resume "resume_$n" --set train.epochs=8 >> "resume_$n.log" 2>&1 \
      || fail "resume on 1 process failed"
  else
    ranks 3 --resume "resume_$n" --set train.epochs=8 >> "resume_$n.log" 2>&1 || fail "resume on 3 ranks failed: $(tail -5 "resume_$n.log")"
    grep -q "3 ranks x 1 threads | global batch 8 = 2-3 per rank" "resume_$n.log" || fail "no 3-rank banner line"
  fi
  grep -q "resumed at epoch 5, .*(from resume_$n/last.safetensors)" "resume_$n.log" || fail "resume_$n did not resume at epoch 5"
  echo "LeNet-5, 2 ranks then $n rank(s) vs 2 ranks throughout:"
  /usr/bin/python3 "$COMPARE" lenet_2 "resume_$n" "${LENET[@]}" || fail "resume on $n rank(s) differs"
done

# A global batch smaller than the ranks: a config error, named, from the ranks.
out=$(ranks 3 --config lenet_1.yaml --set data.batch_size=2 --set output=small 2>&1); rc=$?
[ "$rc" = 2 ] || fail "batch 2 on 3 ranks: expected exit 2, got $rc"
printf '%s\n' "$out" | grep -qE "^error: rank [0-2]: data.batch_size: 2 is smaller than the 3 ranks" \
  || fail "no error naming the rank and data.batch_size: $out"

# A rank killed mid-run: mpirun ends the job and names the rank.
recipe lenet5.yaml killed
sed -i 's/epochs: 8/epochs: 1000/' killed.yaml
"${MPIRUN[@]}" -np 2 sh -c 'echo $$ > pid.$OMPI_COMM_WORLD_RANK; exec "$0" --threads 1 train --config killed.yaml' \
  "$CNN" > killed.log 2>&1 &
job=$!
for _ in $(seq 1 100); do [ -s pid.1 ] && grep -q "epoch   1/" killed.log && break; sleep 0.1; done
kill -9 "$(cat pid.1)"
t0=$SECONDS
wait $job; rc=$?
[ "$rc" != 0 ] || fail "the job went on after a rank was killed"
[ $((SECONDS - t0)) -lt 30 ] || fail "the job took $((SECONDS - t0)) s to stop after a rank was killed"
grep -qE "rank 1 .*(signal 9|Killed)|process rank 1" killed.log || fail "the killed rank is not named: $(tail -8 killed.log)"
echo "ok: a killed rank ends the job (exit $rc): $(grep -m1 -E 'rank 1' killed.log)"

# A stopped rank (alive, silent): the other one gives up after --dist-timeout and ends the job.
rm -f pid.*
"${MPIRUN[@]}" -np 2 sh -c 'echo $$ > pid.$OMPI_COMM_WORLD_RANK; exec "$0" --threads 1 train --config killed.yaml --set output=stopped --dist-timeout 2' \
  "$CNN" > stopped.log 2>&1 &
job=$!
for _ in $(seq 1 100); do [ -s pid.1 ] && grep -q "epoch   1/" stopped.log && break; sleep 0.1; done
kill -STOP "$(cat pid.1)"
t0=$SECONDS
wait $job; rc=$?
kill -9 "$(cat pid.1)" 2>/dev/null
[ "$rc" != 0 ] || fail "the job went on with a stopped rank"
[ $((SECONDS - t0)) -lt 30 ] || fail "the job took $((SECONDS - t0)) s to stop with a stopped rank"
# (rank 1 may add its own line when mpirun's SIGCONT + SIGTERM wakes it)
grep -qE "^error: rank 0: waited [0-9]+ s for the other ranks in .*--dist-timeout 2" stopped.log \
  || fail "no timeout error naming the rank: $(tail -8 stopped.log)"
echo "ok: a stopped rank ends the job (exit $rc): $(grep -m1 '^error:' stopped.log)"
finish
