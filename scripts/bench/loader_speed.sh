#!/usr/bin/env bash
# Data-loading speed of cnn against torchvision on ../shared/data/imagenet-sample/train (210 real
# ImageNet JPEGs, mostly 224x224, ten at original resolution): decoded + augmented images/s with
# RandomResizedCrop 224, horizontal flip, ToTensor + Normalize, batch 32, shuffled, the same
# number of loader workers on both sides (cnn: threads; torch DataLoader: processes, persistent).
# The two run alternately, `--rounds` times each; the table shows the median and the ratio.
#
#   scripts/bench/loader_speed.sh                    # workers 2, 3 rounds
#   scripts/bench/loader_speed.sh --workers 0,1,2 --markdown
#
# Options:
#   --workers LIST   comma-separated worker counts (default 2); 0: cnn builds batches on its
#                    thread pool (--threads), torch in the main process
#   --rounds N       runs per side and worker count (default 3)
#   --epochs N       timed epochs per run, after one warm-up epoch (default 3)
#   --threads N      cnn --threads and torch OMP_NUM_THREADS (default 2)
#   --root DIR       an ImageFolder root with train/ (default ../shared/data/imagenet-sample)
#   --markdown       print the table as Markdown
#
# Needs build/cnn (or CNN=path) and /usr/bin/python3 with torchvision (or PYTHON=...). torch runs
# with OMP_NUM_THREADS=<threads> OPENBLAS_NUM_THREADS=1.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cnn="${CNN:-$root/build/cnn}"
python="${PYTHON:-/usr/bin/python3}"
workers_list=2 rounds=3 epochs=3 threads=2 markdown=0
data="$root/../shared/data/imagenet-sample"
while [ $# -gt 0 ]; do
  case "$1" in
    --workers) workers_list=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --root) data=$2; shift 2 ;;
    --markdown) markdown=1; shift ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) echo "error: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -x "$cnn" ] || { echo "error: $cnn not found: build first (scripts/test.sh or cmake) or set CNN=" >&2; exit 1; }
[ -d "$data/train" ] || { echo "error: $data/train not found (--root)" >&2; exit 1; }
"$python" -c "import torchvision" 2>/dev/null || { echo "error: $python has no torchvision (set PYTHON=)" >&2; exit 1; }

recipe="$root/configs/recipes/imagenet-resnet50.yaml"
json_field() { "$python" -c "import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])['$1'])"; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

rows=()
for w in ${workers_list//,/ }; do
  ours=() theirs=()
  for ((r = 1; r <= rounds; r++)); do
    run_cnn() {
      "$cnn" --threads "$threads" bench --data --config "$recipe" --set data.root="$data" --set data.batch_size=32 \
        --set data.workers="$w" --epochs "$epochs" --json 2>/dev/null | json_field images_per_s
    }
    run_torch() {
      OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=1 "$python" "$here/torch_loader_bench.py" "$data" \
        --workers "$w" --batch 32 --epochs "$epochs" | json_field images_per_s
    }
    if ((r % 2)); then ours+=("$(run_cnn)"); theirs+=("$(run_torch)"); else theirs+=("$(run_torch)"); ours+=("$(run_cnn)"); fi
    echo "workers $w round $r: cnn ${ours[-1]} img/s, torch ${theirs[-1]} img/s" >&2
  done
  mo=$(median "${ours[@]}") mt=$(median "${theirs[@]}")
  rows+=("$w|$(printf '%.0f' "$mo")|$(printf '%.0f' "$mt")|$(awk -v a="$mo" -v b="$mt" 'BEGIN {printf "%.2fx", a / b}')")
done

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load average $(cut -d' ' -f1 /proc/loadavg)"
echo "cnn: $("$cnn" --version) --threads $threads; torch: $("$python" -c 'import torch, torchvision; print(torch.__version__, "torchvision", torchvision.__version__)') OMP_NUM_THREADS=$threads"
echo "data: $data/train ($(find "$data/train" -type f | wc -l) images); RandomResizedCrop 224, flip, normalize; batch 32; median of $rounds rounds of $epochs epochs"
if ((markdown)); then
  echo
  echo "| workers | cnn img/s | torchvision img/s | cnn / torchvision |"
  echo "|--:|--:|--:|--:|"
  for row in "${rows[@]}"; do IFS='|' read -r a b c d <<<"$row"; echo "| $a | $b | $c | $d |"; done
else
  printf '%-8s %12s %18s %10s\n' workers "cnn img/s" "torchvision img/s" ratio
  for row in "${rows[@]}"; do IFS='|' read -r a b c d <<<"$row"; printf '%-8s %12s %18s %10s\n' "$a" "$b" "$c" "$d"; done
fi
