#!/usr/bin/env bash
# `cnn summary`: LeNet-5's layer table and totals, as text and JSON.
source "$(dirname "$0")/lib.sh" "$@"
out=$("$CNN" summary --config "$SRC/configs/models/lenet5.yaml") || fail "summary failed"
echo "$out"
printf '%s\n' "$out" | grep -qE "total params: +61,706" || fail "LeNet-5 should have 61,706 parameters"
printf '%s\n' "$out" | grep -qE "^conv1 +conv +6x28x28 +156 +117,600" || fail "conv1 row wrong"
json=$("$CNN" summary --config "$SRC/configs/models/lenet5.yaml" --json) || fail "summary --json failed"
/usr/bin/python3 - "$json" <<'PY' || fail "JSON summary wrong"
import json, sys
j = json.loads(sys.argv[1])
assert j["total_params"] == 61706, j["total_params"]
# conv1 117600 + conv2 240000 + fc1 48000 + fc2 10080 + fc3 840
assert j["total_macs"] == 416520, j["total_macs"]
assert [l["name"] for l in j["layers"]][:2] == ["conv1", "1"]
PY
out=$("$CNN" summary --config "$SRC/configs/models/lenet5.yaml" --input 1x32x32) || fail "--input failed"
printf '%s\n' "$out" | grep -qE "^conv1 +conv +6x32x32" || fail "--input 1x32x32 not applied"
finish
