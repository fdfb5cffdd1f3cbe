#!/usr/bin/env bash
# Installs ONNX Runtime (npm package onnxruntime-node, CPU build) for scripts/bench/speed.sh's
# cnn/ORT column and scripts/bench/ort_check.sh. A benchmark reference only, like python3-torch:
# cnn never links or loads it, and no build or test downloads it.
#
#   scripts/bench/setup_ort.sh            # into ~/.cache/cnn-bench/ort (or $ORT_DIR)
#   ORT_DIR=/some/dir scripts/bench/setup_ort.sh
#
# The package's CPU binaries (libonnxruntime.so and its Node binding) are inside the npm tarball;
# its install script would download GPU binaries, so it runs with --ignore-scripts. The version is
# pinned ($ORT_VERSION overrides it) so measurements from different days run the same ORT.
# Needs node and npm (Debian's nodejs and npm; installed with apt-get when missing and run as
# root). About 290 MiB on disk.
set -euo pipefail

ort_dir="${ORT_DIR:-$HOME/.cache/cnn-bench/ort}"
ort_version="${ORT_VERSION:-1.30.0}"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    apt-get update && apt-get install -y --no-install-recommends nodejs npm
  else
    echo "setup_ort.sh: node and npm are needed (Debian: apt-get install nodejs npm)" >&2
    exit 1
  fi
fi

mkdir -p "$ort_dir"
# A package.json of our own, so npm installs here and not into an enclosing project.
[[ -f "$ort_dir/package.json" ]] ||
  printf '{ "name": "cnn-bench-ort", "private": true }\n' > "$ort_dir/package.json"
npm install --prefix "$ort_dir" --ignore-scripts --no-audit --no-fund --save-exact \
  "onnxruntime-node@$ort_version"

# Check that the CPU binding loads and report what is installed.
NODE_PATH="$ort_dir/node_modules" node -e '
const ort = require("onnxruntime-node");
console.log(`onnxruntime-node ${require("onnxruntime-node/package.json").version} ready in ${process.argv[1]} ` +
            `(node ${process.version}; CPU execution provider: ${ort.listSupportedBackends().some(b => b.name === "cpu") ? "yes" : "no"})`);
' "$ort_dir"
