#!/usr/bin/env bash
# Runs the libFuzzer targets of tests/fuzz (issue 15): builds them with clang-14 under
# ASan+UBSan in build-fuzz/, then fuzzes each for --seconds N (default 600) with libFuzzer's
# -rss_limit_mb=2048 -malloc_limit_mb=512 (an allocation sized from a hostile header is a
# finding). Usage: scripts/fuzz.sh [TARGET ...] [--seconds N] [--jobs J]
# Corpora grow in build-fuzz/corpus/<target> (seeded from tests/fuzz/corpus and the configs);
# crashes land in build-fuzz/findings/<target>/: fix the bug, then copy the input to
# tests/fuzz/regressions/<target>/ so that ctest's fuzz.<target> replays it on every run.
# Needs clang-14 and libclang-rt-14-dev (CNN_SETUP_FUZZ=1 bash scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
ALL=(model_yaml recipe_yaml safetensors npy idx cifar10 image checkpoint)
seconds=600
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --help|-h) sed -n 2,10p "$0"; exit 0 ;;
    *) [[ " ${ALL[*]} " == *" $1 "* ]] || { echo "error: unknown target '$1' (targets: ${ALL[*]})" >&2; exit 2; }
       targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${ALL[@]}")
command -v clang++-14 >/dev/null || { echo "error: clang++-14 not found: CNN_SETUP_FUZZ=1 bash scripts/setup.sh" >&2; exit 2; }

BUILD=${FUZZ_BUILD_DIR:-build-fuzz}
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
CC=clang-14 CXX=clang++-14 cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DCNN_SANITIZE=ON -DCNN_FUZZ=ON \
  "${launcher[@]}" >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target $(printf 'fuzz_%s ' "${targets[@]}")

summary=()
for t in "${targets[@]}"; do
  corpus=$BUILD/corpus/$t findings=$BUILD/findings/$t
  mkdir -p "$corpus" "$findings"
  cp -n tests/fuzz/corpus/$t/* "$corpus"/ 2>/dev/null || true
  case $t in
    model_yaml) cp -n configs/models/*.yaml "$corpus"/ ;;
    recipe_yaml) cp -n configs/recipes/*.yaml "$corpus"/ ;;
  esac
  log=$BUILD/fuzz_$t.log
  echo "fuzzing $t for ${seconds}s (log: $log)"
  set +e
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0 UBSAN_OPTIONS=print_stacktrace=1 \
    "$BUILD/tests/fuzz/fuzz_$t" "$corpus" -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=512 \
    -timeout=10 -artifact_prefix="$findings/" -print_final_stats=1 >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
  crashes=$(find "$findings" -type f | wc -l)
  summary+=("$(printf '%-12s %10s execs  %3s findings  exit %s' "$t" "${execs:-?}" "$crashes" "$rc")")
done
printf '%s\n' "${summary[@]}"
