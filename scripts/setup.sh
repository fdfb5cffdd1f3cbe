#!/usr/bin/env bash
# Installs every build and test dependency from Debian's archive. Idempotent: skips what is there.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libopenblas-dev libyaml-cpp-dev libcli11-dev libfmt-dev catch2 libstb-dev zlib1g-dev
  nlohmann-json3-dev libonnx-dev libprotobuf-dev libjpeg62-turbo-dev
  libopenmpi-dev openmpi-bin  # data-parallel training (docs/distributed.md); optional at build time
  dataset-fashion-mnist
  python3-numpy python3-torch python3-torchvision python3-pil python3-opencv
  chromium  # the report's browser test (tests/cli/test_report_browser.sh)
  time   # GNU time: peak RSS in scripts/bench/speed.sh
  strace
)
if [ "${CNN_SETUP_MINIMAL:-0}" = 1 ]; then
  # build only: no torch, no datasets
  packages=(build-essential cmake pkg-config libopenblas-dev libyaml-cpp-dev libcli11-dev libfmt-dev
            catch2 libstb-dev zlib1g-dev nlohmann-json3-dev libonnx-dev libprotobuf-dev libjpeg62-turbo-dev)
fi

if [ "${CNN_SETUP_FUZZ:-0}" = 1 ]; then
  # scripts/fuzz.sh: libFuzzer comes with clang's runtime libraries
  packages+=(clang-14 libclang-rt-14-dev)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi
echo "setup: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
