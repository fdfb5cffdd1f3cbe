#!/usr/bin/env bash
# Training and inference speed of cnn against PyTorch on the same networks, same batch,
# same thread count, synthetic data:
#
#   LeNet-5    train batch 64     ResNet-20 train batch 128
#   LeNet-5    infer batch 64     ResNet-20 infer batch 128
#
# For each case the two engines run alternately (cnn, torch, torch, cnn, ... so slow drift of
# the machine hits both alike), `--rounds` times each, every run timing at least `--seconds`;
# the table shows the median images/s per engine and the ratio cnn/torch (> 1: cnn is faster).
#
#   scripts/bench/train_speed.sh                     # 2 threads, 3 rounds x >= 3 s
#   scripts/bench/train_speed.sh --quick             # smoke test: 1 round, short runs
#   scripts/bench/train_speed.sh --markdown          # table as Markdown (for the README)
#   scripts/bench/train_speed.sh --coretype Haswell,SkylakeX   # cnn with each OpenBLAS kernel
#
# Options:
#   --threads N      threads for both engines (default 2)
#   --rounds N       runs per engine and case (default 3)
#   --seconds S      minimum timed seconds per run (default 3)
#   --quick          1 round of >= 0.5 s (numbers are rough; for checking that all works)
#   --markdown       print the header and table as Markdown
#   --coretype LIST  comma-separated OPENBLAS_CORETYPE values for cnn, one cnn column each:
#                    a kernel name (Haswell, SkylakeX, Cooperlake, ...), `env` (keep the
#                    environment's setting; the default) or `auto` (unset: OpenBLAS detects)
#
# Needs build/cnn (run scripts/test.sh or cmake first) and a Python with torch
# (default /usr/bin/python3; override with PYTHON=...). The torch runs get
#   OMP_NUM_THREADS=<threads> OPENBLAS_NUM_THREADS=1
#   GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736
# and torch.set_num_threads(<threads>); cnn gets --threads <threads> and, per --coretype,
# OPENBLAS_CORETYPE. Progress goes to stderr, the table to stdout.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cnn="${CNN:-$root/build/cnn}"
python="${PYTHON:-/usr/bin/python3}"

threads=2
rounds=3
seconds=3
warmup=3
markdown=0
coretypes=env

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
die() { echo "train_speed.sh: $*" >&2; exit 1; }
need_arg() { [[ $# -ge 2 && -n "$2" ]] || die "$1 needs a value"; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --threads) need_arg "$@"; threads="$2"; shift 2 ;;
    --rounds) need_arg "$@"; rounds="$2"; shift 2 ;;
    --seconds) need_arg "$@"; seconds="$2"; shift 2 ;;
    --quick) rounds=1; seconds=0.5; warmup=1; shift ;;
    --markdown) markdown=1; shift ;;
    --coretype) need_arg "$@"; coretypes="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done
[[ "$threads" =~ ^[1-9][0-9]*$ ]] || die "--threads must be a positive integer"
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || die "--rounds must be a positive integer"
[[ "$seconds" =~ ^[0-9]*\.?[0-9]+$ ]] || die "--seconds must be a number"

[[ -x "$cnn" ]] || die "no cnn binary at $cnn; build it first (scripts/test.sh, or cmake -S . -B build && cmake --build build --target cnn)"
[[ -x "$python" ]] || die "no Python at $python (set PYTHON=/path/to/python with torch)"
torch_version="$("$python" -c 'import torch; print(torch.__version__)' 2>/dev/null)" \
  || die "$python cannot import torch (set PYTHON=/path/to/python with torch)"
if (( threads > $(nproc) )); then
  echo "warning: --threads $threads exceeds the $(nproc) CPUs here; timings will be oversubscribed" >&2
fi

IFS=',' read -r -a cores <<< "$coretypes"
[[ ${#cores[@]} -gt 0 ]] || die "--coretype needs at least one value"

# case id | cnn config | torch model | batch | train?
cases=(
  "LeNet-5 train b64|configs/models/lenet5.yaml|lenet5|64|1"
  "ResNet-20 train b128|configs/models/resnet20-cifar.yaml|resnet20|128|1"
  "LeNet-5 infer b64|configs/models/lenet5.yaml|lenet5|64|0"
  "ResNet-20 infer b128|configs/models/resnet20-cifar.yaml|resnet20|128|0"
)

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
records="$work/records.tsv"   # case <TAB> engine <TAB> json
: > "$records"

# cnn with the i-th --coretype value: cnn_env <i> <cnn args...>
cnn_env() {
  local core="${cores[$1]}"; shift
  case "$core" in
    env) env "$cnn" --threads "$threads" "$@" ;;
    auto) env -u OPENBLAS_CORETYPE "$cnn" --threads "$threads" "$@" ;;
    *) env OPENBLAS_CORETYPE="$core" "$cnn" --threads "$threads" "$@" ;;
  esac
}

# JSON line of `cnn bench` to stdout; stderr (warnings) to $work/cnn.err.
run_cnn() {
  local ci="$1"; shift
  if ! cnn_env "$ci" bench "$@" --json >"$work/cnn.out" 2>"$work/cnn.err"; then
    cat "$work/cnn.err" >&2
    die "cnn bench failed (coretype ${cores[$ci]}): $cnn --threads $threads bench $*"
  fi
  grep -m1 '^{' "$work/cnn.out" || { cat "$work/cnn.out" "$work/cnn.err" >&2; die "cnn bench printed no JSON"; }
}

# cnn's banner ("cnn 0.1.0 | threads 2 | OpenBLAS 0.3.21 kernel Haswell | Release build") per
# coretype, from a tiny run without --json (which prints it to stderr); also checks cnn runs.
for ci in "${!cores[@]}"; do
  if ! cnn_env "$ci" bench --config "$root/configs/models/lenet5.yaml" --batch 1 --iters 1 --warmup 0 \
      >/dev/null 2>"$work/cnn.err"; then
    cat "$work/cnn.err" >&2
    die "cnn bench failed (coretype ${cores[$ci]})"
  fi
  grep -m1 '^cnn ' "$work/cnn.err" > "$work/banner.$ci" || echo '?' > "$work/banner.$ci"
done

run_torch() {
  if ! env OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS=1 \
      GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736 \
      "$python" "$here/torch_bench.py" --threads "$threads" "$@" >"$work/torch.out" 2>"$work/torch.err"; then
    cat "$work/torch.err" >&2
    die "torch_bench.py failed: $*"
  fi
  grep -m1 '^{' "$work/torch.out" || { cat "$work/torch.out" "$work/torch.err" >&2; die "torch_bench.py printed no JSON"; }
}

say() { echo "$@" >&2; }
load_start="$(cut -d' ' -f1 /proc/loadavg)"
if awk -v l="$load_start" 'BEGIN { exit !(l > 0.5) }'; then
  say "warning: load average is $load_start before starting; other work on this machine will skew"
  say "         the numbers (torch's OpenMP threads suffer the most from contention)"
fi
say "train_speed: $((${#cases[@]} * rounds * (${#cores[@]} + 1))) runs of >= ${seconds} s (threads $threads, rounds $rounds)"

for c in "${cases[@]}"; do
  IFS='|' read -r name config tmodel batch train <<< "$c"
  train_flag=(); [[ "$train" == 1 ]] && train_flag=(--train)
  common=(--batch "$batch" "${train_flag[@]}" --iters 2 --warmup "$warmup" --min-seconds "$seconds")
  for ((r = 1; r <= rounds; r++)); do
    # alternate who goes first: cnn-torch, torch-cnn, ...
    order=(cnn torch); (( r % 2 == 0 )) && order=(torch cnn)
    for engine in "${order[@]}"; do
      if [[ "$engine" == cnn ]]; then
        for ci in "${!cores[@]}"; do
          json="$(run_cnn "$ci" --config "$root/$config" "${common[@]}")"
          printf '%s\tcnn%d\t%s\n' "$name" "$ci" "$json" >> "$records"
          say "  $name round $r cnn[${cores[$ci]}]: $(jq -r '"\(.images_per_s|floor) img/s (\(.iters) iters, kernel \(.blas_core))"' <<< "$json" 2>/dev/null || echo done)"
        done
      else
        json="$(run_torch --model "$tmodel" "${common[@]}")"
        printf '%s\ttorch\t%s\n' "$name" "$json" >> "$records"
        say "  $name round $r torch: $(jq -r '"\(.images_per_s|floor) img/s (\(.iters) iters)"' <<< "$json" 2>/dev/null || echo done)"
      fi
    done
  done
done

for ci in "${!cores[@]}"; do
  printf '%s\t%s\n' "${cores[$ci]}" "$(cat "$work/banner.$ci" 2>/dev/null || echo '?')" >> "$work/banners.tsv"
done

cpu_model="$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)"
isa="$(grep -o -w -m1 -E 'avx512f' /proc/cpuinfo | head -1 || true)"
[[ -n "$isa" ]] || isa="$(grep -o -w -m1 -E 'avx2' /proc/cpuinfo | head -1 || true)"
torch_cap="$("$python" -c 'import torch; print(next((l.split(":",1)[1].strip() for l in torch.__config__.show().splitlines() if "CPU capability" in l), "?"))' 2>/dev/null || echo '?')"

"$python" - "$records" "$work/banners.tsv" "$markdown" "$threads" "$rounds" "$seconds" \
  "$(nproc)" "${cpu_model:-?}" "${isa:-?}" "$torch_version" "$torch_cap" "${OPENBLAS_CORETYPE:-}" \
  "$load_start" "$(cut -d' ' -f1 /proc/loadavg)" <<'PY'
import json, statistics, sys

(records, banners, markdown, threads, rounds, seconds, nproc, cpu, isa, torch_version,
 torch_cap, env_core, load_start, load_end) = sys.argv[1:]
markdown = markdown == "1"

cases, runs = [], {}
for line in open(records):
    case, engine, js = line.rstrip("\n").split("\t", 2)
    if case not in cases:
        cases.append(case)
    runs.setdefault((case, engine), []).append(json.loads(js))
cores = [l.rstrip("\n").split("\t", 1) for l in open(banners)]

def kernel(ci):
    seen = [r.get("blas_core", "?") for (c, e), rs in runs.items() if e == f"cnn{ci}" for r in rs]
    return max(set(seen), key=seen.count) if seen else "?"

def median_ips(case, engine):
    rs = runs.get((case, engine), [])
    return statistics.median(r["images_per_s"] for r in rs) if rs else float("nan")

warnings = []
for (case, engine), rs in runs.items():
    for r in rs:
        if int(r.get("threads", -1)) != int(threads):
            warnings.append(f"{case} {engine}: ran with {r.get('threads')} threads, not {threads}")

for ci, (core, _) in enumerate(cores):
    if core not in ("env", "auto") and kernel(ci).lower() != core.lower():
        warnings.append(f"OPENBLAS_CORETYPE={core} gave OpenBLAS kernel {kernel(ci)} "
                        "(unknown or unsupported names fall back to autodetection)")

cnn_cols = [f"cnn [{kernel(ci)}]" if len(cores) > 1 else "cnn" for ci in range(len(cores))]
header = ["case"] + [f"{c} img/s" for c in cnn_cols] + ["torch img/s"] + \
    [f"{c}/torch" if len(cores) > 1 else "ratio (cnn/torch)" for c in cnn_cols]
rows = []
for case in cases:
    t = median_ips(case, "torch")
    cs = [median_ips(case, f"cnn{ci}") for ci in range(len(cores))]
    rows.append([case] + [f"{c:,.0f}" for c in cs] + [f"{t:,.0f}"] + [f"{c / t:.2f}x" for c in cs])

kernels = ", ".join(
    f"{kernel(ci)}" + (" (OPENBLAS_CORETYPE from the environment)" if core == "env" and env_core
                       else " (OpenBLAS autodetect)" if core in ("env", "auto") else
                       " (OPENBLAS_CORETYPE=" + core + ")")
    for ci, (core, _) in enumerate(cores))
info = [
    f"machine: {nproc} CPUs, {cpu} ({isa})",
    *[f"cnn: {banner}" for _, banner in cores],
    f"cnn OpenBLAS kernel: {kernels}",
    f"torch: {torch_version} (CPU capability {torch_cap}, OMP_NUM_THREADS={threads})",
    f"threads: {threads} for both engines; {rounds} alternating round(s) of >= {seconds} s per "
    f"engine and case; median images/s",
    f"load average (1 min): {load_start} at start, {load_end} at end",
]

if markdown:
    for l in info:
        print(f"- {l}")
    print()
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join(["---"] + ["--:"] * (len(header) - 1)) + "|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
else:
    for l in info:
        print(l)
    print()
    w = [max(len(x) for x in col) for col in zip(header, *rows)]
    fmt = lambda r: "  ".join(x.ljust(w[0]) if i == 0 else x.rjust(w[i]) for i, x in enumerate(r))
    print(fmt(header))
    print("  ".join("-" * n for n in w))
    for r in rows:
        print(fmt(r))
for wmsg in warnings:
    print(f"warning: {wmsg}", file=sys.stderr)
PY
