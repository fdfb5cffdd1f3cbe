#!/usr/bin/env bash
# Splits ../shared/data/imagenet-sample (10 classes, ImageNet layout) into two image folders of
# 5 classes each, for the fine-tuning demo (configs/recipes/imagenet-sample-*.yaml, README):
#   DEST/pretrain/{train,val}/<wnid>  tench, English springer, cassette player, chain saw, church
#   DEST/finetune/{train,val}/<wnid>  French horn, garbage truck, gas pump, golf ball, parachute
# Class folders are symbolic links into SRC (nothing is copied); each half gets its classes.txt.
# Usage: scripts/imagenet_sample_split.sh [SRC] [DEST]
#        (defaults: ../shared/data/imagenet-sample and data/imagenet-sample-split)
set -euo pipefail
SRC=$(realpath "${1:-../shared/data/imagenet-sample}")
DEST=${2:-data/imagenet-sample-split}
[ -f "$SRC/classes.txt" ] && [ -d "$SRC/train" ] && [ -d "$SRC/val" ] ||
  { echo "error: $SRC: not the imagenet-sample folder (expected classes.txt, train/ and val/)" >&2; exit 2; }
mapfile -t classes < "$SRC/classes.txt"
[ "${#classes[@]}" = 10 ] || { echo "error: $SRC/classes.txt: expected 10 classes, got ${#classes[@]}" >&2; exit 2; }
for half in pretrain finetune; do
  rm -rf "${DEST:?}/$half"
  mkdir -p "$DEST/$half/train" "$DEST/$half/val"
  : > "$DEST/$half/classes.txt"
done
for i in "${!classes[@]}"; do
  half=pretrain; [ "$i" -ge 5 ] && half=finetune
  wnid=${classes[$i]%% *}
  ln -s "$SRC/train/$wnid" "$DEST/$half/train/$wnid"
  ln -s "$SRC/val/$wnid" "$DEST/$half/val/$wnid"
  echo "${classes[$i]}" >> "$DEST/$half/classes.txt"
done
echo "wrote $DEST/pretrain and $DEST/finetune (5 classes each)"
