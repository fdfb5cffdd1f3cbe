#!/usr/bin/env bash
# Downloads the four MNIST IDX files into DIR (default: data/mnist) and verifies the sha256 of
# their UNCOMPRESSED content. Files already in DIR (name.gz or the raw name) are not downloaded
# again, only verified. Exit status: 0 when all four verify, 1 otherwise.
#
#   datasets/fetch_mnist.sh [DIR]
#   MNIST_MIRRORS="https://host/a/ https://host/b/" datasets/fetch_mnist.sh   # other mirrors
set -euo pipefail

usage() {
  sed -n '2,8s/^# \{0,1\}//p' "$0"
}
case "${1:-}" in
  -h|--help) usage; exit 0 ;;
  -*) echo "fetch_mnist: unknown option '$1'" >&2; usage >&2; exit 2 ;;
esac
if [ $# -gt 1 ]; then usage >&2; exit 2; fi

dir=${1:-data/mnist}
# Tried in order. yann.lecun.com often refuses downloads now; the first is PyTorch's mirror.
read -r -a mirrors <<< "${MNIST_MIRRORS:-https://ossci-datasets.s3.amazonaws.com/mnist/ http://yann.lecun.com/exdb/mnist/}"

names=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
declare -A expected=(
  [train-images-idx3-ubyte]=374ba378bee06c633f4800ac6a495f71d1b80b0e82bf763acbfa4c7e9c379f75
  [train-labels-idx1-ubyte]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
  [t10k-images-idx3-ubyte]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
  [t10k-labels-idx1-ubyte]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
)

die() { echo "fetch_mnist: error: $*" >&2; exit 1; }

if command -v sha256sum >/dev/null 2>&1; then
  sha256_stdin() { sha256sum | cut -d' ' -f1; }
elif command -v shasum >/dev/null 2>&1; then
  sha256_stdin() { shasum -a 256 | cut -d' ' -f1; }
else
  die "neither sha256sum nor shasum found"
fi
command -v gzip >/dev/null 2>&1 || die "gzip not found"

# sha256 of a file's uncompressed content (gzip detected by its magic bytes 1f 8b, not by name).
# Prints nothing and fails when the gzip stream is corrupt or truncated.
content_sha256() {
  local f=$1 magic sum
  magic=$(head -c 2 "$f" | od -An -tx1 | tr -d ' \n')
  if [ "$magic" = "1f8b" ]; then
    sum=$(gzip -dc "$f" 2>/dev/null | sha256_stdin) || return 1
  else
    sum=$(sha256_stdin < "$f") || return 1
  fi
  echo "$sum"
}

download() {  # url out
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --retry 2 --connect-timeout 20 -o "$2" "$1"
  elif command -v wget >/dev/null 2>&1; then
    wget -q --tries=3 --timeout=20 -O "$2" "$1"
  else
    die "neither curl nor wget found"
  fi
}

mkdir -p "$dir" 2>/dev/null || die "cannot create directory '$dir'"

part=""
trap 'rm -f "${part:-}"' EXIT
failed=0
for name in "${names[@]}"; do
  want=${expected[$name]}
  existing=""
  for f in "$dir/$name" "$dir/$name.gz"; do
    if [ -f "$f" ]; then existing=$f; break; fi
  done

  if [ -n "$existing" ]; then
    if ! got=$(content_sha256 "$existing"); then
      echo "fetch_mnist: error: $existing: cannot decompress (truncated or corrupt gzip); delete it and re-run" >&2
      failed=1
    elif [ "$got" != "$want" ]; then
      echo "fetch_mnist: error: $existing: sha256 mismatch: expected $want, got $got (corrupt or incomplete; delete it and re-run)" >&2
      failed=1
    else
      echo "fetch_mnist: $existing: present, sha256 ok"
    fi
    continue
  fi

  out="$dir/$name.gz"
  part="$out.part.$$"
  ok=0
  for m in "${mirrors[@]}"; do
    url="${m%/}/$name.gz"
    echo "fetch_mnist: downloading $url"
    rm -f "$part"
    if ! download "$url" "$part"; then
      echo "fetch_mnist: warning: download failed: $url" >&2
      continue
    fi
    if ! got=$(content_sha256 "$part"); then
      echo "fetch_mnist: warning: $url: not a valid gzip file (truncated or corrupt)" >&2
      continue
    fi
    if [ "$got" != "$want" ]; then
      echo "fetch_mnist: warning: $url: sha256 mismatch: expected $want, got $got" >&2
      continue
    fi
    mv -f "$part" "$out"
    echo "fetch_mnist: $out: sha256 ok"
    ok=1
    break
  done
  rm -f "$part"
  if [ "$ok" != 1 ]; then
    echo "fetch_mnist: error: could not get a verified $name.gz from any mirror (${mirrors[*]}); see datasets/README.md" >&2
    failed=1
  fi
done

if [ "$failed" != 0 ]; then
  die "MNIST in '$dir' is incomplete or corrupt (see the messages above)"
fi
echo "fetch_mnist: MNIST ready in $dir"
