#!/usr/bin/env bash
# Downloads the official CIFAR-10 binary version (cifar-10-binary.tar.gz, 170,052,171 bytes) into
# DIR (default: data), checks the md5 the authors publish and its sha256, and unpacks it into
# DIR/cifar-10-batches-bin (use that folder as data.root). An archive already in DIR is not
# downloaded again, only verified. Exit status: 0 when the archive verifies and the six batch
# files have their exact size, 1 otherwise.
#
#   datasets/fetch_cifar10.sh [DIR]
#   CIFAR10_URL=https://host/cifar-10-binary.tar.gz datasets/fetch_cifar10.sh   # another mirror
set -euo pipefail

usage() {
  sed -n '2,10s/^# \{0,1\}//p' "$0"
}
case "${1:-}" in
  -h|--help) usage; exit 0 ;;
  -*) echo "fetch_cifar10: unknown option '$1'" >&2; usage >&2; exit 2 ;;
esac
if [ $# -gt 1 ]; then usage >&2; exit 2; fi

dir=${1:-data}
url=${CIFAR10_URL:-https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz}
archive=$dir/cifar-10-binary.tar.gz
md5_expected=c32a1d4ab5d03f1284b67883e8d87530        # published on https://www.cs.toronto.edu/~kriz/cifar.html
sha256_expected=c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd

die() { echo "fetch_cifar10: error: $*" >&2; exit 1; }

mkdir -p "$dir"
if [ ! -f "$archive" ]; then
  echo "fetch_cifar10: downloading $url"
  tmp=$archive.part
  if command -v curl >/dev/null 2>&1; then
    curl -fSL --retry 2 --connect-timeout 20 -o "$tmp" "$url" || die "download failed: $url"
  elif command -v wget >/dev/null 2>&1; then
    wget -q --tries=3 --timeout=20 -O "$tmp" "$url" || die "download failed: $url"
  else
    die "neither curl nor wget found"
  fi
  mv "$tmp" "$archive"
fi

md5=$(md5sum "$archive" | cut -d' ' -f1)
[ "$md5" = "$md5_expected" ] || die "$archive: md5 $md5, expected $md5_expected (corrupt or not the binary version; delete it and run again)"
sha=$(sha256sum "$archive" | cut -d' ' -f1)
[ "$sha" = "$sha256_expected" ] || die "$archive: sha256 $sha, expected $sha256_expected"
echo "fetch_cifar10: $archive verified (md5 and sha256)"

tar -xzf "$archive" -C "$dir" || die "$archive: cannot unpack"
out=$dir/cifar-10-batches-bin
for f in data_batch_1.bin data_batch_2.bin data_batch_3.bin data_batch_4.bin data_batch_5.bin test_batch.bin; do
  [ -f "$out/$f" ] || die "$out/$f: missing after unpacking"
  size=$(stat -c %s "$out/$f")
  [ "$size" = 30730000 ] || die "$out/$f: $size bytes, expected 30730000"
done
echo "fetch_cifar10: ready: $out (data.root: $out)"
