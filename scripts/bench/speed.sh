#!/usr/bin/env bash
# Speed and memory of cnn against PyTorch (and, for inference, ONNX Runtime) on the same networks,
# same batch, same thread count, synthetic data: the ten workloads of README's performance table,
#
#   lenet5-train            LeNet-5 train b64          configs/models/lenet5.yaml
#   resnet20-train          ResNet-20 train b128       configs/models/resnet20-cifar.yaml
#   resnet18-cifar-train    ResNet-18-CIFAR train b128 configs/models/resnet18-cifar.yaml
#   resnet50-train          ResNet-50 train b32        configs/models/resnet50.yaml (224x224)
#   resnet50-infer-b32      ResNet-50 infer b32
#   resnet50-infer-b1       ResNet-50 infer b1
#   mobilenet-v1-infer-b32  MobileNet v1 infer b32     configs/models/mobilenet_v1.yaml
#   mobilenet-v1-infer-b1   MobileNet v1 infer b1
#   vgg16-infer             VGG-16 infer b8            configs/models/vgg16.yaml
#   resnet20-infer          ResNet-20 infer b128
#
# and one extra case, run only when named in --cases: lenet5-infer (b64).
# PyTorch runs the same networks (scripts/bench/torch_models.py; torchvision's resnet50 and
# vgg16); the script refuses to compare when a model's parameter count differs from
# `cnn summary`'s total_params. ONNX Runtime (scripts/bench/ort_bench.js: onnxruntime-node's CPU
# execution provider, intra-op threads = --threads, inter-op 1, graph optimizations at ORT's
# default, all) runs each inference case on `cnn export`'s file of the same network (freshly
# initialized weights, `--init-seed 1 --batch <batch>`; scripts/bench/ort_check.sh shows that ORT
# computes what cnn computes on such a file). ORT is a benchmark reference only, installed by
# scripts/bench/setup_ort.sh into $ORT_DIR (default ~/.cache/cnn-bench/ort); without it the
# cnn/ORT column says "n/a (scripts/bench/setup_ort.sh)" and everything else runs as before.
#
# For each case the engines run alternately (cnn, torch, ort, then ort, torch, cnn, ... so slow
# drift of the machine hits all alike), `--rounds` times each, every run timing at least
# `--seconds` after its warm-up steps. The table gives the median images/s per engine, the ratios
# cnn/torch and cnn/ORT (> 1: cnn is faster; cnn/torch also by round: the median and range of the
# ratios of the two runs of each round, timed next to each other), each engine's peak RSS (the
# largest over its runs of GNU time's %M, the process's maximum resident set size: what the whole process held, interpreter and libraries
# included) and the convolution kernels cnn planned (`cnn bench --layers`). The header gives the
# CPU, cnn's banner, the ISA cnn runs and its measured FMA peak (`cnn bench --peak`), torch's
# version and CPU capability, ORT's version, the thread count, the rounds, the load average and
# the cross-CPU round trip measured before each round (`cnn bench --round-trip`: the host's phase).
#
#   scripts/bench/speed.sh                       # all ten, 2 threads, 3 rounds x >= 3 s
#   scripts/bench/speed.sh --markdown            # header and table as Markdown (README's table)
#   scripts/bench/speed.sh --quick --cases lenet5-train,resnet20-train   # smoke test
#   scripts/bench/speed.sh --coretype env,SkylakeX   # one cnn column per OpenBLAS kernel
#
# Options:
#   --threads N      threads for both engines (default 2)
#   --rounds N       runs per engine and case (default 3)
#   --seconds S      minimum timed seconds per run (default 3)
#   --quick          1 round of >= 0.5 s, 1 warm-up step (rough numbers; checks that all works)
#   --cases LIST     comma-separated case ids (default: the ten above; they run and appear in
#                    the order listed above); --list prints the ids
#   --no-torch       no PyTorch runs, no parameter comparison
#   --no-ort         no ONNX Runtime runs and no cnn/ORT column
#   --markdown       print the header and table as Markdown
#   --coretype LIST  comma-separated OPENBLAS_CORETYPE values for cnn, one cnn column each:
#                    a kernel name (Haswell, SkylakeX, Cooperlake, ...), `env` (keep the
#                    environment's setting; the default) or `auto` (unset: OpenBLAS detects)
#
# Needs build/cnn (override with CNN=...), GNU time at /usr/bin/time (Debian package `time`,
# installed by scripts/setup.sh), /usr/bin/python3 (or PYTHON=...; with torch and torchvision
# unless --no-torch) and, for the ORT column, node with onnxruntime-node (NODE=... overrides
# `node`; ORT_DIR=... where setup_ort.sh put it). The torch runs get
#   OMP_NUM_THREADS=<threads> OPENBLAS_NUM_THREADS=1
#   GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736
# (and OPENBLAS_CORETYPE=<the kernel cnn chose> when cnn replaced OpenBLAS's own pick: see
# core/blas_core.h) and torch.set_num_threads(<threads>); cnn gets --threads <threads> and, per --coretype,
# OPENBLAS_CORETYPE; CNN_ISA from the environment reaches cnn unchanged; ORT gets
# `ort_bench.js --threads <threads>` and nothing else.
# Progress goes to stderr, the header and table to stdout.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cnn="${CNN:-$root/build/cnn}"
python="${PYTHON:-/usr/bin/python3}"
node="${NODE:-node}"
ort_dir="${ORT_DIR:-$HOME/.cache/cnn-bench/ort}"
gnu_time=/usr/bin/time

# id | label | cnn config | torch model | batch | train? | in the default set?
all_cases=(
  "lenet5-train|LeNet-5 train b64|configs/models/lenet5.yaml|lenet5|64|1|1"
  "resnet20-train|ResNet-20 train b128|configs/models/resnet20-cifar.yaml|resnet20|128|1|1"
  "resnet18-cifar-train|ResNet-18-CIFAR train b128|configs/models/resnet18-cifar.yaml|resnet18-cifar|128|1|1"
  "resnet50-train|ResNet-50 train b32|configs/models/resnet50.yaml|resnet50|32|1|1"
  "resnet50-infer-b32|ResNet-50 infer b32|configs/models/resnet50.yaml|resnet50|32|0|1"
  "resnet50-infer-b1|ResNet-50 infer b1|configs/models/resnet50.yaml|resnet50|1|0|1"
  "mobilenet-v1-infer-b32|MobileNet v1 infer b32|configs/models/mobilenet_v1.yaml|mobilenet_v1|32|0|1"
  "mobilenet-v1-infer-b1|MobileNet v1 infer b1|configs/models/mobilenet_v1.yaml|mobilenet_v1|1|0|1"
  "vgg16-infer|VGG-16 infer b8|configs/models/vgg16.yaml|vgg16|8|0|1"
  "resnet20-infer|ResNet-20 infer b128|configs/models/resnet20-cifar.yaml|resnet20|128|0|1"
  "lenet5-infer|LeNet-5 infer b64|configs/models/lenet5.yaml|lenet5|64|0|0"
)

threads=2
rounds=3
seconds=3
warmup=3
markdown=0
coretypes="env"
case_list=""
with_torch=1
with_ort=1

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
die() { echo "speed.sh: $*" >&2; exit 1; }
usage_error() { echo "speed.sh: $*" >&2; exit 2; }
need_arg() { [[ $# -ge 2 && -n "$2" ]] || usage_error "$1 needs a value"; }
say() { echo "$@" >&2; }
list_cases() { for c in "${all_cases[@]}"; do IFS='|' read -r id label _ <<< "$c"; printf '%-24s %s\n' "$id" "$label"; done; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --threads) need_arg "$@"; threads="$2"; shift 2 ;;
    --rounds) need_arg "$@"; rounds="$2"; shift 2 ;;
    --seconds) need_arg "$@"; seconds="$2"; shift 2 ;;
    --quick) rounds=1; seconds=0.5; warmup=1; shift ;;
    --cases) need_arg "$@"; case_list="$2"; shift 2 ;;
    --no-torch) with_torch=0; shift ;;
    --no-ort) with_ort=0; shift ;;
    --markdown) markdown=1; shift ;;
    --coretype) need_arg "$@"; coretypes="$2"; shift 2 ;;
    --list) list_cases; exit 0 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; usage_error "unknown option: $1" ;;
  esac
done
[[ "$threads" =~ ^[1-9][0-9]*$ ]] || usage_error "--threads must be a positive integer"
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || usage_error "--rounds must be a positive integer"
[[ "$seconds" =~ ^[0-9]*\.?[0-9]+$ ]] || usage_error "--seconds must be a number"
IFS=',' read -r -a cores <<< "$coretypes"
[[ ${#cores[@]} -gt 0 ]] || usage_error "--coretype needs at least one value"

# The selected cases, in the order of all_cases.
cases=()
if [[ -z "$case_list" ]]; then
  for c in "${all_cases[@]}"; do [[ "${c##*|}" == 1 ]] && cases+=("$c"); done
else
  IFS=',' read -r -a wanted <<< "$case_list"
  for w in "${wanted[@]}"; do
    grep -q -x -F "$w" < <(for c in "${all_cases[@]}"; do echo "${c%%|*}"; done) \
      || usage_error "unknown case '$w'; known: $(for c in "${all_cases[@]}"; do printf '%s ' "${c%%|*}"; done)"
  done
  for c in "${all_cases[@]}"; do
    for w in "${wanted[@]}"; do [[ "${c%%|*}" == "$w" ]] && { cases+=("$c"); break; }; done
  done
fi

[[ -x "$cnn" ]] || die "no cnn binary at $cnn; build it first (scripts/test.sh, or cmake -S . -B build && cmake --build build --target cnn)"
[[ -x "$gnu_time" ]] || die "no GNU time at $gnu_time (Debian package 'time'; scripts/setup.sh installs it)"
torch_version="-"; torchvision_version="-"
if (( with_torch )); then
  [[ -x "$python" ]] || die "no Python at $python (set PYTHON=/path/to/python with torch, or use --no-torch)"
  versions="$("$python" -c 'import torch, torchvision; print(torch.__version__, torchvision.__version__)' 2>/dev/null)" \
    || die "$python cannot import torch and torchvision (set PYTHON=..., or use --no-torch)"
  read -r torch_version torchvision_version <<< "$versions"
fi
# ONNX Runtime: "off" (--no-ort), "missing" (not installed: the column says how to install it) or
# its version. Loading the package also loads its native binding, so a broken install is caught.
ort_state=off; node_version="-"
if (( with_ort )); then
  ort_state=missing
  if ort_v="$(ORT_DIR="$ort_dir" "$node" -e '
const p = { paths: [require("path").join(process.env.ORT_DIR, "node_modules")] };
require(require.resolve("onnxruntime-node", p));
console.log(require(require.resolve("onnxruntime-node/package.json", p)).version, process.version);
' 2>/dev/null)"; then
    read -r ort_state node_version <<< "$ort_v"
  else
    say "note: no ONNX Runtime (onnxruntime-node in $ort_dir/node_modules, run by '$node'):"
    say "      the cnn/ORT column says n/a; scripts/bench/setup_ort.sh installs it"
  fi
fi
ort_ready() { [[ "$ort_state" != off && "$ort_state" != missing ]]; }

if (( threads > $(nproc) )); then
  say "warning: --threads $threads exceeds the $(nproc) CPUs here; timings will be oversubscribed"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
records="$work/records.tsv"   # case id <TAB> engine <TAB> peak RSS KiB <TAB> json
: > "$work/round_trips.tsv"   # case id <TAB> round <TAB> cross-CPU round trip ns
meta="$work/meta.tsv"         # case id <TAB> key <TAB> value (params, kernels)
: > "$records"; : > "$meta"

# cnn with the i-th --coretype value, under GNU time (peak RSS in KiB to $work/rss):
#   cnn_env <i> <cnn args...>
cnn_env() {
  local core="${cores[$1]}"; shift
  local set_core=(); case "$core" in
    env) ;;
    auto) set_core=(-u OPENBLAS_CORETYPE) ;;
    *) set_core=(OPENBLAS_CORETYPE="$core") ;;
  esac
  "$gnu_time" -f %M -o "$work/rss" env "${set_core[@]}" "$cnn" --threads "$threads" "$@"
}

# torch's linear layers run OpenBLAS too: when cnn replaces a kernel OpenBLAS picked badly
# ("chosen by cnn" in its banner, set below), torch gets the same kernel through OPENBLAS_CORETYPE.
torch_core=""
torch_env() {
  local set_core=(); [[ -n "$torch_core" ]] && set_core=(OPENBLAS_CORETYPE="$torch_core")
  "$gnu_time" -f %M -o "$work/rss" env "${set_core[@]}" OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS=1 \
    GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736 "$python" "$@"
}

ort_env() {
  "$gnu_time" -f %M -o "$work/rss" env ORT_DIR="$ort_dir" "$node" "$@"
}

rss_kib() { tail -n 1 "$work/rss"; }

# First JSON line of a run's stdout, or die with its output: json_of <what> <out> <err>
json_of() {
  grep -m1 '^{' "$2" || { cat "$2" "$3" >&2; die "$1 printed no JSON"; }
}

# JSON line of `cnn bench ... --json`: run_cnn <coretype index> <bench args...>
run_cnn() {
  local ci="$1"; shift
  if ! cnn_env "$ci" bench "$@" --json >"$work/cnn.out" 2>"$work/cnn.err"; then
    cat "$work/cnn.err" >&2
    die "cnn bench failed (coretype ${cores[$ci]}): $cnn --threads $threads bench $*"
  fi
  json_of "cnn bench" "$work/cnn.out" "$work/cnn.err"
}

run_torch() {
  if ! torch_env "$here/torch_bench.py" --threads "$threads" "$@" >"$work/torch.out" 2>"$work/torch.err"; then
    cat "$work/torch.err" >&2
    die "torch_bench.py failed: $*"
  fi
  json_of "torch_bench.py" "$work/torch.out" "$work/torch.err"
}

# JSON line of ort_bench.js on the ONNX file of the current case: run_ort <ort_bench.js args...>
run_ort() {
  if ! ort_env "$here/ort_bench.js" --threads "$threads" "$@" >"$work/ort.out" 2>"$work/ort.err"; then
    cat "$work/ort.err" >&2
    die "ort_bench.js failed: $*"
  fi
  json_of "ort_bench.js" "$work/ort.out" "$work/ort.err"
}

# `cnn export`'s ONNX file of a case's network at its batch (fresh weights; speed does not
# depend on them): export_onnx <config> <batch> <out>
export_onnx() {
  "$cnn" export --config "$root/$1" --init-seed 1 --batch "$2" --out "$3" >/dev/null 2>"$work/cnn.err" \
    || { cat "$work/cnn.err" >&2; die "cnn export failed for $1 (batch $2)"; }
}

# A number field of a one-line JSON object, rounded: field <name> <json>
field() { sed -n "s/.*\"$1\": *\([0-9.]*\).*/\1/p" <<< "$2" | awk '{ printf "%.1f\n", $1 }'; }

# Same network on both sides: cnn summary's total_params against torch_models.py's count.
check_params() {
  local seen=" " c id label config tmodel n_cnn n_torch
  for c in "${cases[@]}"; do
    IFS='|' read -r id label config tmodel _ <<< "$c"
    "$cnn" summary --config "$root/$config" --json >"$work/summary.json" 2>"$work/cnn.err" \
      || { cat "$work/cnn.err" >&2; die "cnn summary failed for $config"; }
    n_cnn="$("$python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["total_params"])' \
      "$work/summary.json")" || die "cnn summary --json gave no total_params for $config"
    printf '%s\tparams\t%s\n' "$id" "$n_cnn" >> "$meta"
    (( with_torch )) || continue
    [[ "$seen" == *" $tmodel "* ]] && continue
    seen+="$tmodel "
    n_torch="$("$python" "$here/torch_models.py" --params "$tmodel")" || die "torch_models.py failed for $tmodel"
    [[ "$n_cnn" == "$n_torch" ]] || die "refusing to compare: $config has $n_cnn parameters (cnn summary)" \
      "but PyTorch's $tmodel has $n_torch (scripts/bench/torch_models.py builds a different network)"
    say "  $label: $n_cnn parameters on both sides"
  done
}

# The kernels cnn plans for a case (`--layers`: convolutions, and BatchNorms packed into them),
# counted: "direct avx512 x19, depthwise x13".
# One untimed step with --layers (first --coretype), also a check that the case runs.
probe_kernels() {
  local id="$1" config="$2" batch="$3"; shift 3
  local json
  json="$(run_cnn 0 --config "$root/$config" --batch "$batch" "$@" --iters 1 --warmup 0 --layers)"
  "$python" -c '
import collections, json, sys
ks = collections.Counter(l["kernel"] for l in json.loads(sys.argv[1]).get("layers", []) if l.get("kernel"))
print(", ".join(f"{k} x{n}" for k, n in sorted(ks.items(), key=lambda kv: -kv[1])) or "-")
' "$json" | sed "s/^/$id\tkernels\t/" >> "$meta"
}

load_start="$(cut -d' ' -f1 /proc/loadavg)"
if awk -v l="$load_start" 'BEGIN { exit !(l > 0.5) }'; then
  say "warning: load average is $load_start before starting; other work on this machine will skew"
  say "         the numbers (torch's OpenMP threads suffer the most from contention)"
fi

say "speed: parameter counts"
check_params

# cnn's banner ("cnn 0.1.0 | threads 2 | ...") per coretype, from a tiny run without --json
# (which prints it to stderr); its warnings (e.g. a slow OpenBLAS kernel) go to stderr.
for ci in "${!cores[@]}"; do
  if ! cnn_env "$ci" bench --config "$root/configs/models/lenet5.yaml" --batch 1 --iters 1 --warmup 0 \
      >/dev/null 2>"$work/cnn.err"; then
    cat "$work/cnn.err" >&2
    die "cnn bench failed (coretype ${cores[$ci]})"
  fi
  printf '%s\t%s\n' "${cores[$ci]}" "$(grep -m1 '^cnn ' "$work/cnn.err" || echo '?')" >> "$work/banners.tsv"
  grep '^warning' "$work/cnn.err" | sed "s/^/  cnn [${cores[$ci]}]: /" >&2 || true
done
# "... | OpenBLAS 0.3.21 kernel SkylakeX (chosen by cnn: OpenBLAS detected Prescott) | ..."
if [[ -z "${OPENBLAS_CORETYPE:-}" ]]; then
  torch_core="$(head -n 1 "$work/banners.tsv" | sed -n 's/.* kernel \([A-Za-z0-9]*\) (chosen by cnn.*/\1/p')"
fi

say "speed: FMA peak (cnn bench --peak)"
peak_json="$("$cnn" --threads "$threads" bench --peak --json 2>"$work/cnn.err" | grep -m1 '^{')" \
  || { cat "$work/cnn.err" >&2; die "cnn bench --peak failed"; }

torch_base_kib="-"
if (( with_torch )); then
  torch_env -c 'import torch, torchvision' >/dev/null 2>&1 && torch_base_kib="$(rss_kib)"
fi
ort_base_kib="-"
if ort_ready; then
  ort_env -e 'require(require.resolve("onnxruntime-node",
                { paths: [require("path").join(process.env.ORT_DIR, "node_modules")] }))' \
    >/dev/null 2>&1 && ort_base_kib="$(rss_kib)"
fi

say "speed: kernels (one untimed step per case with --layers)"
for c in "${cases[@]}"; do
  IFS='|' read -r id label config tmodel batch train _ <<< "$c"
  train_flag=(); [[ "$train" == 1 ]] && train_flag=(--train)
  probe_kernels "$id" "$config" "$batch" "${train_flag[@]}"
  say "  $label: $(grep -P "^$id\tkernels\t" "$meta" | cut -f3)"
done

n_runs=0
for c in "${cases[@]}"; do
  IFS='|' read -r _ _ _ _ _ train _ <<< "$c"
  n_runs=$(( n_runs + rounds * (${#cores[@]} + with_torch) ))
  if [[ "$train" == 0 ]] && ort_ready; then n_runs=$(( n_runs + rounds )); fi
done
say "speed: $n_runs timed runs of >= ${seconds} s (threads $threads, rounds $rounds)"
for c in "${cases[@]}"; do
  IFS='|' read -r id label config tmodel batch train _ <<< "$c"
  train_flag=(); [[ "$train" == 1 ]] && train_flag=(--train)
  common=(--batch "$batch" "${train_flag[@]}" --iters 2 --warmup "$warmup" --min-seconds "$seconds")
  engines=(cnn); (( with_torch )) && engines+=(torch)
  if [[ "$train" == 0 ]] && ort_ready; then
    engines+=(ort)
    export_onnx "$config" "$batch" "$work/model.onnx"
  fi
  for ((r = 1; r <= rounds; r++)); do
    # the host's phase before the round: how far apart it has put the CPUs (docs/design.md)
    trip_json="$("$cnn" --threads "$threads" bench --round-trip --json 2>"$work/cnn.err" | grep -m1 '^{')" \
      || { cat "$work/cnn.err" >&2; die "cnn bench --round-trip failed"; }
    trip="$(field round_trip_ns "$trip_json" | cut -d. -f1)"
    printf '%s\t%s\t%s\n' "$id" "$r" "$trip" >> "$work/round_trips.tsv"
    say "  $label round $r: cross-CPU round trip $trip ns"
    # alternate who goes first: cnn-torch-ort, ort-torch-cnn, ...
    order=("${engines[@]}")
    if (( r % 2 == 0 )); then order=(); for ((e = ${#engines[@]} - 1; e >= 0; e--)); do order+=("${engines[$e]}"); done; fi
    for engine in "${order[@]}"; do
      if [[ "$engine" == cnn ]]; then
        for ci in "${!cores[@]}"; do
          json="$(run_cnn "$ci" --config "$root/$config" "${common[@]}")"
          printf '%s\tcnn%d\t%s\t%s\n' "$id" "$ci" "$(rss_kib)" "$json" >> "$records"
          say "  $label round $r cnn[${cores[$ci]}]: $(field images_per_s "$json") img/s, peak RSS $(( $(rss_kib) / 1024 )) MiB"
        done
      elif [[ "$engine" == torch ]]; then
        json="$(run_torch --model "$tmodel" "${common[@]}")"
        printf '%s\ttorch\t%s\t%s\n' "$id" "$(rss_kib)" "$json" >> "$records"
        say "  $label round $r torch: $(field images_per_s "$json") img/s, peak RSS $(( $(rss_kib) / 1024 )) MiB"
      else
        json="$(run_ort --model "$work/model.onnx" "${common[@]}")"
        printf '%s\tort\t%s\t%s\n' "$id" "$(rss_kib)" "$json" >> "$records"
        say "  $label round $r ort: $(field images_per_s "$json") img/s, peak RSS $(( $(rss_kib) / 1024 )) MiB"
      fi
    done
  done
  rm -f "$work/model.onnx"
done

cpu_model="$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)"
cpu_isa="$(grep -o -w -m1 -E 'avx512f' /proc/cpuinfo | head -1 || true)"
[[ -n "$cpu_isa" ]] || cpu_isa="$(grep -o -w -m1 -E 'avx2' /proc/cpuinfo | head -1 || true)"
torch_cap="-"
if (( with_torch )); then
  torch_cap="$("$python" -c '
import torch
cap = getattr(getattr(torch.backends, "cpu", None), "get_cpu_capability", None)
print(cap() if cap else next((l.split(":", 1)[1].strip() for l in torch.__config__.show().splitlines()
                              if "CPU capability" in l), "?"))' 2>/dev/null || echo '?')"
fi
printf '%s\n' "${cases[@]}" > "$work/cases.txt"

"$python" "$here/speed_report.py" --records "$records" --meta "$meta" --cases "$work/cases.txt" \
  --banners "$work/banners.tsv" --markdown "$markdown" --threads "$threads" --rounds "$rounds" \
  --seconds "$seconds" --warmup "$warmup" --nproc "$(nproc)" --cpu "${cpu_model:-?}" \
  --cpu-isa "${cpu_isa:-?}" --peak "$peak_json" --cnn-isa-env "${CNN_ISA:-}" \
  --torch "$torch_version" --torchvision "$torchvision_version" --torch-cap "$torch_cap" \
  --torch-base-kib "$torch_base_kib" --ort "$ort_state" --ort-base-kib "$ort_base_kib" \
  --node-version "$node_version" --env-core "${OPENBLAS_CORETYPE:-}" --torch-core "$torch_core" \
  --load-start "$load_start" --load-end "$(cut -d' ' -f1 /proc/loadavg)" --round-trips "$work/round_trips.tsv"
