#!/usr/bin/env bash
# Splits CIFAR-10 (the JPEG tarball of ../shared/data/cifar10) into two image folders of 5 classes
# each, for the CIFAR-10 fine-tuning demo (configs/recipes/cifar10-split-*.yaml, README):
#   DEST/pretrain/{train,val}/<class>  airplane automobile bird cat deer: all 25,000 training
#                                      images, their 5,000 test images as val
#   DEST/finetune/{train,val}/<class>  dog frog horse ship truck: the first 100 training images
#                                      of each class by file name (0000.jpg .. 0099.jpg: 500),
#                                      all 5,000 test images as val
# The tarball is extracted once into DEST/jpg/{train,test}/<class>; the halves are symbolic links
# into it (whole class folders, and one link per image for finetune/train), nothing is copied.
# Running it again keeps the extraction (while SRC's sha256 is the one recorded) and re-links.
# Usage: scripts/cifar10_split.sh [SRC] [DEST]
#        (defaults: ../shared/data/cifar10/cifar10-jpg.tar.gz and data/cifar10-split)
set -euo pipefail
export LC_ALL=C
SRC=${1:-../shared/data/cifar10/cifar10-jpg.tar.gz}
DEST=${2:-data/cifar10-split}
PER_CLASS=100
CLASSES=(airplane automobile bird cat deer dog frog horse ship truck)
fail() { echo "error: $*" >&2; exit 2; }

[ -e "$SRC" ] || fail "$SRC: not found (expected the CIFAR-10 JPEG tarball, cifar10-jpg.tar.gz)"
[ -f "$SRC" ] || fail "$SRC: not a file (expected the CIFAR-10 JPEG tarball, cifar10-jpg.tar.gz)"
sum=$(sha256sum < "$SRC" | cut -d' ' -f1)
JPG=$DEST/jpg

# The number of .jpg files in a folder (0 when it does not exist).
count() { [ -d "$1" ] && find "$1" -maxdepth 1 -name '*.jpg' | wc -l || echo 0; }

# Extracts SRC into DEST/jpg, checking 5,000 training and 1,000 test images per class.
extract() {
  local msg
  tmp=$DEST/jpg.partial          # global: the EXIT trap reads it
  rm -rf "$tmp" "$JPG"
  mkdir -p "$tmp"
  trap 'rm -rf "$tmp"' EXIT     # nothing half-extracted stays behind on an error
  msg=$(tar -xzf "$SRC" -C "$tmp" train test 2>&1) ||
    fail "$SRC: cannot extract train/ and test/ (not the CIFAR-10 JPEG tarball?): $(printf '%s\n' "$msg" | grep -m1 .)"
  for c in "${CLASSES[@]}"; do
    local n_train n_test
    n_train=$(count "$tmp/train/$c"); n_test=$(count "$tmp/test/$c")
    [ "$n_train" = 5000 ] && [ "$n_test" = 1000 ] ||
      fail "$SRC: class $c has $n_train training and $n_test test images (expected train/$c/0000-4999.jpg and test/$c/0000-0999.jpg)"
  done
  echo "$sum" > "$tmp/.source-sha256"
  mv "$tmp" "$JPG"
  trap - EXIT
}

mkdir -p "$DEST"
if [ "$(cat "$JPG/.source-sha256" 2>/dev/null)" = "$sum" ]; then
  echo "keeping $JPG (extracted from this $SRC before)"
else
  echo "extracting $SRC into $JPG"
  extract
fi

for half in pretrain finetune; do
  rm -rf "${DEST:?}/$half"
  mkdir -p "$DEST/$half/train" "$DEST/$half/val"
done
for i in "${!CLASSES[@]}"; do
  c=${CLASSES[$i]}
  if [ "$i" -lt 5 ]; then
    ln -s "../../jpg/train/$c" "$DEST/pretrain/train/$c"
    ln -s "../../jpg/test/$c" "$DEST/pretrain/val/$c"
  else
    mkdir "$DEST/finetune/train/$c"
    mapfile -t files < <(find "$JPG/train/$c" -maxdepth 1 -name '*.jpg' -printf '%f\n' | sort)
    for f in "${files[@]:0:PER_CLASS}"; do ln -s "../../../jpg/train/$c/$f" "$DEST/finetune/train/$c/$f"; done
    ln -s "../../jpg/test/$c" "$DEST/finetune/val/$c"
  fi
done
echo "wrote $DEST/pretrain (${CLASSES[*]:0:5}: 25000 train, 5000 val)"
echo "wrote $DEST/finetune (${CLASSES[*]:5:5}: $((5 * PER_CLASS)) train, 5000 val)"
