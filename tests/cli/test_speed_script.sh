#!/usr/bin/env bash
# scripts/bench/speed.sh and its PyTorch twins: every torch_models.py network has exactly the
# parameter count `cnn summary` gives for the config it stands for; a short run of two LeNet-5
# cases prints the header and a Markdown table with images/s, ratio, peak RSS and kernels;
# --no-torch drops the torch columns; bad options exit 2; a parameter mismatch makes the script
# refuse to compare. Timings here are meaningless (tiny runs on a shared machine): only the
# plumbing is checked.
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

out=$("$SPEED" --quick --seconds 0.05 --cases lenet5-infer,lenet5-train --markdown 2>"$WORK/err") \
  || fail "speed.sh --quick failed: $(tail -n 5 "$WORK/err")"
echo "$out"
for pattern in '^- machine: [0-9]+ CPUs' '^- cnn: cnn ' '^- cnn ISA: [a-z0-9]+ .*FMA peak .*[0-9]+ GFLOP/s' \
    '^- torch: [0-9]' '^- parameters \(equal on both sides\): lenet5.yaml 61,706$' '^- load average' \
    '^\| case \| cnn img/s \| torch img/s \| cnn/torch \| cnn peak RSS MiB \| torch peak RSS MiB \| cnn conv kernels \|$'; do
  printf '%s\n' "$out" | grep -qE -- "$pattern" || fail "no line matching /$pattern/"
done
# rows in the table's order (train before infer), every cell filled
row='[0-9.,]+ \| [0-9.,]+ \| [0-9]+\.[0-9]{2}x \| [0-9,]+ \| [0-9,]+ \| [a-z].* x[0-9]+ \|$'
printf '%s\n' "$out" | grep -E '^\| LeNet-5' | head -n 1 | grep -qE "^\| LeNet-5 train b64 \| $row" \
  || fail "LeNet-5 train row missing or malformed"
printf '%s\n' "$out" | grep -qE "^\| LeNet-5 infer b64 \| $row" || fail "LeNet-5 infer row missing or malformed"

out=$("$SPEED" --quick --seconds 0.05 --cases lenet5-infer --no-torch 2>"$WORK/err") \
  || fail "speed.sh --no-torch failed: $(tail -n 5 "$WORK/err")"
printf '%s\n' "$out" | grep -q torch && fail "--no-torch output mentions torch"
printf '%s\n' "$out" | grep -qE '^LeNet-5 infer b64 +[0-9.,]+ +[0-9,]+ +[a-z].* x[0-9]+$' || fail "--no-torch row malformed"

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
