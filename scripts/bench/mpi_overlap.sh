#!/usr/bin/env bash
# The gradient all-reduce overlapped with the backward pass (issue 16, docs/distributed.md
# "Overlap"): 2 ranks x 1 thread on this machine, LeNet-5 (global batch 64) and ResNet-20 (global
# batch 128) on synthetic data, in three modes run alternately, ROUNDS times each:
#   after-backward   one blocking MPI_Allreduce of all gradients after the whole backward pass
#                    (the default 25 MiB bucket holds either model whole)
#   overlap          buckets of BUCKET MiB started with MPI_Iallreduce during the backward pass,
#                    MPI polled (MPI_Testall) after every layer
#   overlap-no-poll  the same without the polls (Open MPI then progresses only in the final wait)
# From each run: images/s of the last epoch (metrics.jsonl) and rank 0's "all-reduce on rank 0"
# line of that epoch (ms/step in the backward pass and waiting after it). Prints medians and the
# min-max range over the rounds (the noise), and the share of the blocking all-reduce time the
# overlapped one hides: 1 - (exposed ms/step overlapped) / (ms/step after-backward).
#
#   scripts/bench/mpi_overlap.sh [ROUNDS]        # default 5
#   LENET_IMAGES=2048 RESNET_IMAGES=512 scripts/bench/mpi_overlap.sh 3   # shorter epochs
#
# Needs build/cnn with MPI (CNN=... to override), mpirun and python3. Results (Markdown) to stdout.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cnn="${CNN:-$root/build/cnn}"
rounds="${1:-5}"
die() { echo "mpi_overlap: $*" >&2; exit 1; }
say() { echo "mpi_overlap: $*" >&2; }
command -v mpirun >/dev/null || die "mpirun not found (apt-get install openmpi-bin)"
[ -x "$cnn" ] || die "$cnn not found (build first or set CNN=)"
cnn="$(realpath "$cnn")"   # mpirun resolves a relative path on its own terms
mpirun=(mpirun --oversubscribe --allow-run-as-root --bind-to none)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

say "writing synthetic data"
python3 - <<'PY'
import os, random, struct
def idx(path, magic, dims, payload):
    with open(path, 'wb') as f:
        f.write(struct.pack('>I', magic) + b''.join(struct.pack('>I', d) for d in dims) + payload)
os.makedirs('mnist', exist_ok=True)
for name, count in (('train', 8192), ('t10k', 256)):
    idx(f'mnist/{name}-images-idx3-ubyte', 2051, [count, 28, 28], os.urandom(count * 784))
    idx(f'mnist/{name}-labels-idx1-ubyte', 2049, [count], bytes(random.randrange(10) for _ in range(count)))
os.makedirs('cifar', exist_ok=True)  # CIFAR-10 binary: label byte + 3072 pixels per record
for name in [f'data_batch_{i}.bin' for i in range(1, 6)] + ['test_batch.bin']:
    rec = bytearray(os.urandom(10000 * 3073))
    rec[0::3073] = bytes(b % 10 for b in rec[0::3073])
    with open(f'cifar/{name}', 'wb') as f:
        f.write(rec)
PY

# model dataset root batch images epochs bucket-MiB (LeNet-5: fc3+fc2 | fc1 | conv2+conv1;
# ResNet-20: about 4 buckets of its 1.08 MB)
cases=("lenet5 mnist mnist 64 ${LENET_IMAGES:-8192} 3 0.03" "resnet20 cifar10 cifar 128 ${RESNET_IMAGES:-1024} 2 0.25")
modes=(after-backward overlap overlap-no-poll)
echo "model mode round images_per_s backward_ms after_ms buckets arrived" > results.txt
for r in $(seq 1 "$rounds"); do
  for c in "${cases[@]}"; do
    read -r name dataset dataroot batch limit epochs bucket <<< "$c"
    model=$name.yaml
    [ "$name" = resnet20 ] && model=resnet20-cifar.yaml
    cat > "$name.yaml" <<Y
model: $root/configs/models/$model
data: {dataset: $dataset, root: $work/$dataroot, batch_size: $batch, train_limit: $limit, eval_limit: 256}
train: {epochs: $epochs, eval_every: 1000, optimizer: {type: sgd, lr: 0.01, momentum: 0.9}}
report: false
Y
    for m in "${modes[@]}"; do
      say "round $r/$rounds: $name, $m"
      out="$name-$m-$r"
      buckets=(--allreduce-bucket-mb "$bucket")
      [ "$m" = after-backward ] && buckets=()
      "${mpirun[@]}" -np 2 "$cnn" --threads 1 train --config "$name.yaml" --set output="$out" \
        --allreduce "$m" "${buckets[@]}" > "$out.log" 2>&1 || { cat "$out.log" >&2; die "$out failed"; }
      python3 - "$name" "$m" "$r" "$out" >> results.txt <<'PY'
import json, re, sys
name, mode, r, out = sys.argv[1:]
epoch = [json.loads(l) for l in open(f'{out}/metrics.jsonl') if '"type":"epoch"' in l][-1]
line = [l for l in open(f'{out}.log') if 'all-reduce on rank 0' in l][-1]
ms = float(re.search(r'gradients ([0-9.]+) ms/step', line).group(1))
buckets = int(re.search(r'values, (\d+) bucket', line).group(1))
m = re.search(r'([0-9.]+) during the backward pass \+ ([0-9.]+) waiting after it', line)
backward, after = (float(m.group(1)), float(m.group(2))) if m else (0.0, ms)
a = re.search(r'(\d+) of (\d+) buckets arrived', line)
arrived = f"{a.group(1)}/{a.group(2)}" if a else "-"
print(name, mode, r, epoch['images_per_s'], backward, after, buckets, arrived)
PY
    done
  done
done

echo "## Gradient all-reduce overlapped with the backward pass, 2 ranks x 1 thread"
echo
echo "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); $("$cnn" --version); $(mpirun --version | head -1); $rounds rounds, modes alternating; median (min-max); LeNet-5 ${LENET_IMAGES:-8192} images x 3 epochs, ResNet-20 ${RESNET_IMAGES:-1024} x 2, the last epoch counted"
echo
python3 - "$rounds" <<'PY'
import statistics, sys
rows = [l.split() for l in open('results.txt')][1:]
def col(name, mode, k):
    return [float(r[k]) for r in rows if r[0] == name and r[1] == mode]
def fmt(v, d=1):
    return f"{statistics.median(v):.{d}f} ({min(v):.{d}f}-{max(v):.{d}f})"
print("| model | mode | buckets | images/s | all-reduce ms/step not hidden | of which in backward / waiting after | hidden vs after-backward | buckets arrived before backward ended |")
print("|---|---|---|---|---|---|---|---|")
for name in dict.fromkeys(r[0] for r in rows):
    blocking = statistics.median([b + a for b, a in zip(col(name, 'after-backward', 4), col(name, 'after-backward', 5))])
    for mode in ('after-backward', 'overlap', 'overlap-no-poll'):
        exposed = [b + a for b, a in zip(col(name, mode, 4), col(name, mode, 5))]
        buckets = int(col(name, mode, 6)[0])
        hidden = '-' if mode == 'after-backward' else f"{100 * (1 - statistics.median(exposed) / blocking):.0f}%"
        split = '-' if mode == 'after-backward' else f"{statistics.median(col(name, mode, 4)):.3f} / {statistics.median(col(name, mode, 5)):.3f}"
        arrived = ', '.join(r[7] for r in rows if r[0] == name and r[1] == mode)
        print(f"| {name} | {mode} | {buckets} | {fmt(col(name, mode, 3))} | {fmt(exposed, 3)} | {split} | {hidden} | {arrived} |")
PY
