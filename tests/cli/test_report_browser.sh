#!/usr/bin/env bash
# The report of a real run (LeNet-5, one MNIST epoch) in a real browser: headless Chromium
# (Debian's `chromium`, installed by scripts/setup.sh) loads report.html from disk and
# tests/cli/report_browser.py asserts that it made no network request, logged no console error,
# drew every chart (screenshot regions not blank), and that the chart points equal metrics.jsonl.
# Skipped (77) when Chromium or MNIST is absent.
source "$(dirname "$0")/lib.sh" "$@"
PY=/usr/bin/python3
CHROMIUM=$(command -v chromium || true)
[ -n "$CHROMIUM" ] || skip "chromium is not installed (Debian package chromium; scripts/setup.sh installs it)"
[ -f "$SHARED_DATA/mnist/train-images-idx3-ubyte.gz" ] || skip "MNIST not found at $SHARED_DATA/mnist"
"$PY" -c "import PIL" 2>/dev/null || skip "$PY with PIL is not available"
HERE=$(cd "$(dirname "$0")" && pwd)
cd "$WORK"
out=$("$CNN" train --config "$SRC/configs/recipes/mnist-lenet5.yaml" --set train.epochs=1 \
      --set data.root="$SHARED_DATA/mnist" --set output=run 2>&1) || { echo "$out"; fail "training failed"; finish; }
printf '%s\n' "$out" | tail -n 2
[ -f run/report.html ] || { fail "no run/report.html"; finish; }
timeout 120 "$PY" "$HERE/report_browser.py" "$CHROMIUM" run/report.html run/metrics.jsonl screenshot.png \
  || fail "browser checks"
finish
