#!/usr/bin/env bash
# Eval-mode parity with PyTorch: for each torchvision model whose config exists, the logits of
# `cnn predict` on torchvision's weights (a hand-written safetensors state_dict) must match
# torchvision's to max |diff| <= 1e-4 * max(1, max |logit|). tests/parity/make_parity.py writes
# the reference files into $CNN_PARITY_DIR (default: ./parity, i.e. the build tree under ctest)
# and reuses them while its stamp matches. Models without a config yet are reported as skipped;
# with none at all, the test is skipped (77). The training-step parity is a C++ test:
# tests/parity/test_train_step_parity.cpp.
source "$(dirname "$0")/lib.sh" "$@"
PY=/usr/bin/python3
[ -x "$PY" ] || skip "$PY is not available"
"$PY" -c "import torch, torchvision, numpy" 2>/dev/null || skip "torch/torchvision/numpy are not importable by $PY"
PARITY_DIR=${CNN_PARITY_DIR:-$PWD/parity}
mkdir -p "$PARITY_DIR" || fail "cannot create $PARITY_DIR"
MODELS=${CNN_PARITY_MODELS:-resnet18,resnet50,googlenet,densenet121,squeezenet1_1,mobilenet_v2,alexnet,vgg11_bn,inception_v3}

"$PY" "$SRC/tests/parity/make_parity.py" --src "$SRC" --out "$PARITY_DIR" --models "$MODELS" | tee "$WORK/made.txt"
rc=${PIPESTATUS[0]}
[ "$rc" = 77 ] && skip "no config of the parity models exists yet"
[ "$rc" = 0 ] || { fail "make_parity.py failed (exit $rc)"; finish; }

summary=()
for m in $(sed -n 's/^ready //p' "$WORK/made.txt"); do
  d=$PARITY_DIR/$m
  if ! "$CNN" predict --config "$SRC/configs/models/$m.yaml" --weights "$d/weights.safetensors" \
      --npy "$d/input.npy" --out "$WORK/$m.npy" >"$WORK/$m.log" 2>&1; then
    fail "$m: cnn predict failed: $(tail -n 3 "$WORK/$m.log")"
    summary+=("$m: predict failed")
    continue
  fi
  line=$("$PY" - "$WORK/$m.npy" "$d/logits.npy" <<'PY'
import sys
import numpy as np
ours, ref = np.load(sys.argv[1]), np.load(sys.argv[2])
if ours.shape != ref.shape:
    print("FAIL shape %s, torch %s" % (ours.shape, ref.shape)); sys.exit(0)
diff = float(np.abs(ours.astype(np.float64) - ref).max())
peak = float(np.abs(ref).max())
tol = 1e-4 * max(1.0, peak)
ok = diff <= tol and np.isfinite(ours).all()
print("%s max abs diff %.3g (max |logit| %.3g, tolerance %.3g; relative to max |logit| %.2g)"
      % ("ok" if ok else "FAIL", diff, peak, tol, diff / peak if peak > 0 else 0.0))
PY
)
  echo "$m: $line"
  summary+=("$m: $line")
  case $line in ok*) ;; *) fail "$m: $line" ;; esac
done
grep '^skipped' "$WORK/made.txt" | while read -r l; do echo "$l"; done
echo "--- parity summary"
printf '%s\n' "${summary[@]}"
finish
