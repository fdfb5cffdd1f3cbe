#!/usr/bin/env bash
# `cnn export --format safetensors` gives weights PyTorch loads: for resnet18 and googlenet (with
# its auxiliary heads), the exported file loads into torchvision's model of the same name with
# load_state_dict(strict=True) (same keys, shapes and dtypes: num_batches_tracked as int64) and
# that model's eval logits equal `cnn predict`'s: max |diff| <= 1e-4 * max |logit|.
# Weights come from tests/export/make_weights.py (cached in $CNN_EXPORT_DIR). Skips (77) without torch.
source "$(dirname "$0")/lib.sh" "$@"
PY=/usr/bin/python3
EX=$SRC/tests/export
[ -x "$PY" ] || skip "$PY is not available"
"$PY" -c "import numpy, torch, torchvision" 2>/dev/null || skip "numpy/torch/torchvision are not importable by $PY"
DIR=${CNN_EXPORT_DIR:-$PWD/export_ref}
# name: re-export torch-made weights after cnn loaded them; name:init: cnn's own initialization
# (--init-seed), so every name and shape comes from our side.
MODELS=${CNN_EXPORT_ST_MODELS:-resnet18,googlenet,resnet18:init}
"$PY" "$EX/make_weights.py" --src "$SRC" --out "$DIR" --models "$(echo "$MODELS" | tr , '\n' | sed 's/:init$//' | sort -u | paste -sd,)" ||
  { fail "make_weights.py failed"; finish; }
for item in ${MODELS//,/ }; do
  m=${item%%:*}
  cfg=$SRC/configs/models/$m.yaml
  d=$DIR/$m
  source_args=(--checkpoint "$d/weights.safetensors")
  [ "$item" = "$m:init" ] && source_args=(--init-seed 5)
  if ! "$CNN" export -c "$cfg" "${source_args[@]}" --format safetensors --out "$WORK/$m.safetensors" \
      >"$WORK/export.log" 2>&1; then
    fail "$m: export failed: $(tail -n 1 "$WORK/export.log")"
    continue
  fi
  "$CNN" predict -c "$cfg" --checkpoint "$WORK/$m.safetensors" --npy "$d/input.npy" --out "$WORK/$m.ours.npy" >/dev/null 2>&1 ||
    { fail "$m: predict on the exported file failed"; continue; }
  if ! "$PY" "$EX/torch_logits.py" "$m" "$WORK/$m.safetensors" "$d/input.npy" "$WORK/$m.torch.npy" >"$WORK/torch.log" 2>&1; then
    fail "$m: torchvision did not load the export: $(tail -n 1 "$WORK/torch.log")"
    continue
  fi
  cat "$WORK/torch.log"
  line=$("$PY" "$EX/compare.py" "$WORK/$m.ours.npy" "$WORK/$m.torch.npy" "$item: cnn predict vs torchvision") || fail "$line"
  echo "$line"
done
finish
