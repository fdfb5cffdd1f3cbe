#!/usr/bin/env bash
# Checks that ONNX Runtime computes what cnn computes on `cnn export`'s file, so that the cnn/ORT
# column of scripts/bench/speed.sh compares the same network: for each model, freshly initialized
# weights with perturbed BN statistics (tests/export/perturb_bn.py), `cnn export` to ONNX at the
# batch, `cnn predict --npy` and ORT (scripts/bench/ort_bench.js --input/--output) on the same
# N(0, 1) batch, compared by tests/export/compare.py: max |diff| <= 1e-4 * max |logit|.
#
#   scripts/bench/ort_check.sh                                  # resnet50 and mobilenet_v1, batch 2
#   scripts/bench/ort_check.sh --batch 1 configs/models/vgg16.yaml
#
# Needs build/cnn (CNN=...), /usr/bin/python3 with numpy, node and onnxruntime-node
# (scripts/bench/setup_ort.sh; ORT_DIR=... as there). Exit 0 when all match, 1 on a mismatch or
# failure, 3 when onnxruntime-node is not installed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cnn="${CNN:-$root/build/cnn}"
python=/usr/bin/python3
batch=2
models=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --batch) batch="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "ort_check.sh: unknown option $1" >&2; exit 2 ;;
    *) models+=("$1"); shift ;;
  esac
done
[[ ${#models[@]} -gt 0 ]] || models=(configs/models/resnet50.yaml configs/models/mobilenet_v1.yaml)
[[ -x "$cnn" ]] || { echo "ort_check.sh: no cnn binary at $cnn" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Runs a command quietly; on failure prints its output and stops: quiet <cmd...>
quiet() {
  "$@" >"$work/log" 2>&1 || { cat "$work/log" >&2; echo "ort_check.sh: failed: $*" >&2; exit 1; }
}

status=0
for config in "${models[@]}"; do
  name="$(basename "$config" .yaml)"
  [[ "$config" = /* ]] || config="$root/$config"
  quiet "$cnn" export --config "$config" --init-seed 1 --out "$work/init.safetensors"
  quiet "$python" "$root/tests/export/perturb_bn.py" "$work/init.safetensors" "$work/w.safetensors"
  quiet "$cnn" export --config "$config" --checkpoint "$work/w.safetensors" --batch "$batch" --out "$work/m.onnx"
  shape="$("$cnn" summary --config "$config" --json 2>/dev/null |
    "$python" -c 'import json, sys; print(" ".join(map(str, json.load(sys.stdin)["input"])))')"
  "$python" -c '
import sys, numpy as np
x = np.random.RandomState(0).randn(*map(int, sys.argv[2:])).astype(np.float32)
np.save(sys.argv[1] + "/x.npy", x)
x.astype("<f4").tofile(sys.argv[1] + "/x.f32")' "$work" "$batch" $shape
  quiet "$cnn" predict --config "$config" --weights "$work/w.safetensors" --npy "$work/x.npy" --out "$work/cnn.npy"
  rc=0
  node "$here/ort_bench.js" --model "$work/m.onnx" --batch "$batch" --threads 2 \
    --input "$work/x.f32" --output "$work/ort.f32" >/dev/null || rc=$?
  (( rc == 3 )) && exit 3
  (( rc == 0 )) || { echo "ort_check.sh: ORT failed on $name" >&2; status=1; continue; }
  "$python" -c '
import sys, numpy as np
ref = np.load(sys.argv[1])
np.save(sys.argv[3], np.fromfile(sys.argv[2], dtype="<f4").reshape(ref.shape))' \
    "$work/cnn.npy" "$work/ort.f32" "$work/ort.npy"
  "$python" "$root/tests/export/compare.py" "$work/ort.npy" "$work/cnn.npy" "$name batch $batch (ORT vs cnn predict)" \
    || status=1
done
exit $status
