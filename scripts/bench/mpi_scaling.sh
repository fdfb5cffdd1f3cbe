#!/usr/bin/env bash
# Data-parallel scaling on this machine (issue 16, docs/distributed.md): for LeNet-5 (MNIST size,
# global batch 64) and ResNet-20 (CIFAR-10 size, global batch 128), synthetic data,
#   - images/s of `cnn train` alone (--threads 1) and on 2 ranks (mpirun -np 2, --threads 1 each),
#     from the epoch line of metrics.jsonl of the last epoch (the first epochs are warm-up);
#     efficiency = images/s on 2 ranks / (2 x images/s alone);
#   - the gradient all-reduce time per step on 2 ranks (cnn's own "all-reduce on rank 0" line)
#     and its share of the epoch, with cnn's default all-reduce (overlapped in buckets of 25 MiB:
#     one bucket for either model, so it starts when the backward pass ends and hides nothing;
#     scripts/bench/mpi_overlap.sh measures smaller buckets);
#   - MPI_Allreduce latency and bandwidth on loopback (scripts/bench/mpi_allreduce.c, built with
#     mpicc here), the inputs of the efficiency model in docs/distributed.md.
# Run it on a quiet machine with at least 2 cores: the two ranks need a core each.
#
#   scripts/bench/mpi_scaling.sh                 # both models, 3 epochs of 2048 / 1024 images
#   scripts/bench/mpi_scaling.sh --quick         # a smoke test (rough numbers)
#
# Needs build/cnn built with MPI (override with CNN=...), mpirun and mpicc (openmpi-bin,
# libopenmpi-dev) and python3. Progress goes to stderr, the results (Markdown) to stdout.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cnn="${CNN:-$root/build/cnn}"
quick=0
[ "${1:-}" = --quick ] && quick=1
die() { echo "mpi_scaling: $*" >&2; exit 1; }
say() { echo "mpi_scaling: $*" >&2; }
command -v mpirun >/dev/null || die "mpirun not found (apt-get install openmpi-bin)"
command -v mpicc >/dev/null || die "mpicc not found (apt-get install libopenmpi-dev)"
[ -x "$cnn" ] || die "$cnn not found (build first or set CNN=)"
cnn="$(realpath "$cnn")"   # mpirun resolves a relative path on its own terms
mpirun=(mpirun --oversubscribe --allow-run-as-root --bind-to none)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

epochs=3 lenet_n=8192 resnet_n=2048
[ "$quick" = 1 ] && epochs=2 lenet_n=1024 resnet_n=256
say "writing synthetic data"
python3 - "$lenet_n" <<'PY'
import os, struct, sys
import random
n = int(sys.argv[1])
os.makedirs('mnist', exist_ok=True)
def idx(path, magic, dims, payload):
    with open(path, 'wb') as f:
        f.write(struct.pack('>I', magic) + b''.join(struct.pack('>I', d) for d in dims) + payload)
for name, count in (('train', n), ('t10k', 256)):
    idx(f'mnist/{name}-images-idx3-ubyte', 2051, [count, 28, 28], os.urandom(count * 784))
    idx(f'mnist/{name}-labels-idx1-ubyte', 2049, [count], bytes(random.randrange(10) for _ in range(count)))
# CIFAR-10 binary: the loader wants all five full batches; records are a label byte + 3072 pixels.
os.makedirs('cifar', exist_ok=True)
for name in [f'data_batch_{i}.bin' for i in range(1, 6)] + ['test_batch.bin']:
    rec = bytearray(os.urandom(10000 * 3073))
    rec[0::3073] = bytes(b % 10 for b in rec[0::3073])
    with open(f'cifar/{name}', 'wb') as f:
        f.write(rec)
PY

# run_case NAME MODEL DATASET ROOT BATCH LIMIT
results=()
run_case() {
  local name=$1 model=$2 dataset=$3 dataroot=$4 batch=$5 limit=$6
  cat > "$name.yaml" <<Y
model: $root/configs/models/$model
data: {dataset: $dataset, root: $work/$dataroot, batch_size: $batch, train_limit: $limit, eval_limit: 256}
train: {epochs: $epochs, eval_every: 1000, optimizer: {type: sgd, lr: 0.01, momentum: 0.9}}
report: false
Y
  say "$name: 1 process, 1 thread"
  "$cnn" --threads 1 train --config "$name.yaml" --set output="$name-1" > "$name-1.log" 2>&1 \
    || { cat "$name-1.log" >&2; die "$name: training alone failed"; }
  say "$name: 2 ranks x 1 thread"
  "${mpirun[@]}" -np 2 "$cnn" --threads 1 train --config "$name.yaml" --set output="$name-2" > "$name-2.log" 2>&1 \
    || { cat "$name-2.log" >&2; die "$name: training on 2 ranks failed"; }
  results+=("$(python3 - "$name" "$batch" <<'PY'
import json, re, sys
name, batch = sys.argv[1], int(sys.argv[2])
def last_epoch(run):
    return [json.loads(l) for l in open(f'{run}/metrics.jsonl') if '"type":"epoch"' in l][-1]
one, two = last_epoch(f'{name}-1'), last_epoch(f'{name}-2')
lines = [l for l in open(f'{name}-2.log') if 'all-reduce on rank 0' in l]
m = re.search(r'gradients ([0-9.]+) ms/step \((\d+) values, .*; ([0-9.]+)% of the epoch\)', lines[-1])
ms, values, share = float(m.group(1)), int(m.group(2)), float(m.group(3))
eff = two['images_per_s'] / (2 * one['images_per_s'])
step1 = 1e3 * batch / one['images_per_s']
step2 = 1e3 * batch / two['images_per_s']
print(f"| {name} | {batch} | {one['images_per_s']:.1f} | {two['images_per_s']:.1f} | {100 * eff:.0f}% | "
      f"{step1:.1f} / {step2:.1f} | {ms:.3f} ({values:,} floats) | {share:.1f}% | 0% |")
PY
)")
}
run_case lenet5 lenet5.yaml mnist mnist 64 "$lenet_n"
run_case resnet20 resnet20-cifar.yaml cifar10 cifar 128 "$resnet_n"

say "MPI_Allreduce on loopback, 2 ranks"
mpicc -O2 -o allreduce "$here/mpi_allreduce.c"
"${mpirun[@]}" -np 2 ./allreduce > allreduce.txt

echo "## Data-parallel scaling, 1 -> 2 ranks on this machine"
echo
echo "$(nproc) cores, $(uname -m), load average $(cut -d' ' -f1-3 /proc/loadavg); $("$cnn" --version); $(mpirun --version | head -1)"
echo
echo "| model | global batch | images/s alone | images/s 2 ranks | efficiency | ms/step alone / 2 ranks | all-reduce ms/step | share of the epoch | hidden by overlap |"
echo "|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${results[@]}"
echo
echo "MPI_Allreduce (float sum, in place), 2 ranks on loopback:"
echo
echo "| bytes | time per call | bus bandwidth |"
echo "|---|---|---|"
awk '{ printf "| %d | %.1f us | %.2f GB/s |\n", $1, $2 * 1e6, $3 }' allreduce.txt
# latency: the fastest of the messages up to 256 bytes; bandwidth: the largest message's
awk '$1 <= 256 && (lat == "" || $2 < lat) { lat = $2 } { bytes = $1; bw = $3 }
     END { printf "\nlatency (<= 256 bytes): %.2f us; bus bandwidth (%d bytes): %.2f GB/s\n", lat * 1e6, bytes, bw }' allreduce.txt
