#!/usr/bin/env bash
# scripts/bench/speed.sh and its PyTorch twins: every torch_models.py network has exactly the
# parameter count `cnn summary` gives for the config it stands for; a short run of two LeNet-5
# cases prints the header and a Markdown table with images/s, ratio, peak RSS and kernels;
# --no-torch drops the torch columns; bad options exit 2; a parameter mismatch makes the script
# refuse to compare. ONNX Runtime: without it (ORT_DIR pointing nowhere) the cnn/ORT column of an
# inference row says "n/a (scripts/bench/setup_ort.sh)" and the run succeeds; with it (installed
# by scripts/bench/setup_ort.sh; that part is skipped otherwise, as in CI) the ORT columns are
# filled and scripts/bench/ort_check.sh finds ORT's LeNet-5 output equal to `cnn predict`'s.
# Timings here are meaningless (tiny runs on a shared machine): only the plumbing is checked.
source "$(dirname "$0")/lib.sh" "$@"
PY=/usr/bin/python3
[ -x "$PY" ] || skip "$PY is not available"
"$PY" -c "import torch, torchvision" 2>/dev/null || skip "torch/torchvision are not importable by $PY"
[ -x /usr/bin/time ] || skip "GNU time (/usr/bin/time, Debian package 'time') is not installed"
SPEED=$SRC/scripts/bench/speed.sh
export CNN

# torch_models.py key -> cnn config
pairs=(lenet5:lenet5 resnet20:resnet20-cifar resnet18-cifar:resnet18-cifar resnet50:resnet50
       mobilenet_v1:mobilenet_v1 vgg16:vgg16)
for p in "${pairs[@]}"; do
  "$CNN" summary --config "$SRC/configs/models/${p#*:}.yaml" --json > "$WORK/${p%%:*}.json" \
    || fail "cnn summary failed for ${p#*:}"
done
PYTHONPATH=$SRC/scripts/bench "$PY" - "$WORK" "${pairs[@]}" <<'PY' || fail "a PyTorch twin differs from cnn's config"
import json, sys
import torch
import torch_models
work, pairs = sys.argv[1], sys.argv[2:]
bad = 0
for p in pairs:
    key = p.split(":")[0]
    cnn = json.load(open(f"{work}/{key}.json"))
    model = torch_models.build(key).eval()
    n = torch_models.count_params(model)
    with torch.no_grad():
        out = model(torch.zeros(1, *model.input_shape))
    ok = n == cnn["total_params"] and list(model.input_shape) == cnn["input"] \
        and out.shape[1] == torch_models.num_classes(model)
    bad += not ok
    print(f"{key}: torch {n:,} params, cnn {cnn['total_params']:,}, input {cnn['input']}: "
          f"{'ok' if ok else 'MISMATCH'}")
sys.exit(1 if bad else 0)
PY

# ONNX Runtime not installed here (ORT_DIR points nowhere): its columns are there, the inference
# row's cnn/ORT cell says how to install it, the train row has none. Two rounds: the "by round"
# cell gives the median of the rounds' ratios and their range.
out=$(ORT_DIR=$WORK/no-ort "$SPEED" --quick --rounds 2 --seconds 0.05 --cases lenet5-infer,lenet5-train --markdown \
  2>"$WORK/err") || fail "speed.sh --quick failed: $(tail -n 5 "$WORK/err")"
echo "$out"
for pattern in '^- machine: [0-9]+ CPUs' '^- cnn: cnn ' '^- cnn ISA: [a-z0-9]+ .*FMA peak .*[0-9]+ GFLOP/s' \
    '^- torch: [0-9]' '^- parameters \(equal on both sides\): lenet5.yaml 61,706$' '^- load average' \
    '^- ONNX Runtime: not installed \(inference rows: n/a \(scripts/bench/setup_ort.sh\)\)$' \
    '^- cross-CPU round trip before each round, ns .*: LeNet-5 train b64 [0-9]+/[0-9]+; LeNet-5 infer b64 [0-9]+/[0-9]+$' \
    '^\| case \| cnn img/s \| torch img/s \| ORT img/s \| cnn/torch \| cnn/torch by round \| cnn/ORT \| cnn peak RSS MiB \| torch peak RSS MiB \| ORT peak RSS MiB \| cnn kernels \|$'; do
  printf '%s\n' "$out" | grep -qE -- "$pattern" || fail "no line matching /$pattern/"
done
grep -q 'setup_ort.sh installs it' "$WORK/err" || fail "no note on stderr that ORT is missing"
# rows in the table's order (train before infer), every cnn and torch cell filled
ips='[0-9.,]+ \| [0-9.,]+ \| - \| [0-9]+\.[0-9]{2}x \| [0-9]+\.[0-9]{2}x \([0-9]+\.[0-9]{2}-[0-9]+\.[0-9]{2}\)'
rss='[0-9,]+ \| [0-9,]+ \| - \| [a-z].* x[0-9]+ \|$'
printf '%s\n' "$out" | grep -E '^\| LeNet-5' | head -n 1 | grep -qE "^\| LeNet-5 train b64 \| $ips \| - \| $rss" \
  || fail "LeNet-5 train row missing or malformed"
printf '%s\n' "$out" | grep -qE "^\| LeNet-5 infer b64 \| $ips \| n/a \(scripts/bench/setup_ort.sh\) \| $rss" \
  || fail "LeNet-5 infer row missing or malformed"

out=$("$SPEED" --quick --seconds 0.05 --cases lenet5-infer --no-torch --no-ort 2>"$WORK/err") \
  || fail "speed.sh --no-torch failed: $(tail -n 5 "$WORK/err")"
printf '%s\n' "$out" | grep -q torch && fail "--no-torch output mentions torch"
printf '%s\n' "$out" | grep -qE '^LeNet-5 infer b64 +[0-9.,]+ +[0-9,]+ +[a-z].* x[0-9]+$' || fail "--no-torch row malformed"

# ONNX Runtime installed (only where scripts/bench/setup_ort.sh was run): filled ORT columns, and
# ORT's output on the exported file equals cnn's.
if command -v node >/dev/null && node -e 'require(require.resolve("onnxruntime-node", { paths: [
    (process.env.ORT_DIR || require("os").homedir() + "/.cache/cnn-bench/ort") + "/node_modules"] }))' 2>/dev/null; then
  out=$("$SPEED" --quick --seconds 0.05 --cases lenet5-infer --no-torch --markdown 2>"$WORK/err") \
    || fail "speed.sh with ORT failed: $(tail -n 5 "$WORK/err")"
  printf '%s\n' "$out" | grep -E '^- ONNX Runtime|^\|'
  printf '%s\n' "$out" | grep -qE '^- ONNX Runtime: onnxruntime-node [0-9]' || fail "no ONNX Runtime header line"
  printf '%s\n' "$out" | grep -qE '^\| LeNet-5 infer b64 \| [0-9.,]+ \| [0-9.,]+ \| [0-9]+\.[0-9]{2}x \| [0-9,]+ \| [0-9,]+ \| [a-z]' \
    || fail "inference row with ORT malformed"
  "$SRC/scripts/bench/ort_check.sh" configs/models/lenet5.yaml > "$WORK/check" 2>&1 \
    || fail "ort_check.sh lenet5: $(tail -n 3 "$WORK/check")"
  cat "$WORK/check"
else
  echo "ORT part skipped: onnxruntime-node is not installed (scripts/bench/setup_ort.sh)"
fi

for bad in "--cases nope" "--rounds 0" "--seconds x" "--bogus"; do
  # shellcheck disable=SC2086
  "$SPEED" $bad >/dev/null 2>"$WORK/err"; rc=$?
  [ "$rc" = 2 ] || fail "speed.sh $bad: exit $rc, expected 2"
  grep -q '^speed.sh: ' "$WORK/err" || fail "speed.sh $bad: no 'speed.sh: ...' message"
done

# A cnn whose summary reports another parameter count: the script must refuse to compare.
cat > "$WORK/cnn" <<EOF
#!/usr/bin/env bash
[ "\$1" = summary ] && { echo '{"total_params": 1}'; exit 0; }
exec "$CNN" "\$@"
EOF
chmod +x "$WORK/cnn"
CNN=$WORK/cnn "$SPEED" --quick --cases lenet5-train >/dev/null 2>"$WORK/err"; rc=$?
[ "$rc" = 1 ] || fail "parameter mismatch: exit $rc, expected 1"
grep -q 'refusing to compare: .*lenet5.yaml has 1 parameters' "$WORK/err" \
  || fail "parameter mismatch not reported: $(cat "$WORK/err")"
finish
