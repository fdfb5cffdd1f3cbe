#!/usr/bin/env bash
# Screenshot of part of a run's report.html for the README (docs/img/report-*.png): headless
# Chromium (Debian's `chromium`) renders the page from disk WIDTH CSS pixels wide; PIL keeps
# HEIGHT pixels from TOP down, scales them by SCALE and reduces them to a 256-colour palette
# (charts are flat colours: tens of KB instead of hundreds).
# Usage: scripts/report_screenshot.sh RUN_DIR/report.html OUT.png [WIDTH HEIGHT [SCALE [TOP]]]
set -euo pipefail
[ $# -ge 2 ] || { sed -n 2,6p "$0"; exit 2; }
page=$(realpath "$1") out=$2 width=${3:-1400} height=${4:-1420} scale=${5:-0.8} top=${6:-0}
[ -f "$page" ] || { echo "error: '$1' does not exist" >&2; exit 2; }
command -v chromium >/dev/null || { echo "error: chromium is not installed (scripts/setup.sh installs it)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# --no-sandbox: Chromium refuses to run as root with its sandbox (CI and containers run as root).
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size="$width,$((top + height))" \
  --screenshot="$tmp/full.png" "file://$page" >/dev/null 2>&1
/usr/bin/python3 - "$tmp/full.png" "$out" "$scale" "$top" <<'PY'
import sys
from PIL import Image
src, dst, scale, top = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
im = Image.open(src).convert("RGB")
im = im.crop((0, top, im.width, im.height))
im = im.resize((round(im.width * scale), round(im.height * scale)), Image.LANCZOS)
im.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(dst, optimize=True)
print(f"{dst}: {im.width}x{im.height}")
PY
