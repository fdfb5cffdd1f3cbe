#!/usr/bin/env bash
# The report of a 1000-class run (issue 14: the confusion matrix "still usable for 1000"): a
# synthetic image_folder with 1000 classes (ImageNet-1k's count; 2 training and 1 test image of
# 8x8 pixels each), a tiny net trained for one epoch, then `cnn report`. The confusion matrices
# show the 30 classes with the most errors and say so, the per-class table has all 1000 rows, the
# most-confused pairs are the largest off-diagonal counts of `cnn eval --out`'s full matrix, and
# the page stays small.
source "$(dirname "$0")/lib.sh" "$@"
PY=/usr/bin/python3
"$PY" -c "import numpy, PIL" 2>/dev/null || skip "$PY with numpy and PIL is not available"
HERE=$(cd "$(dirname "$0")" && pwd)
cd "$WORK"
"$PY" - <<'PY' || { fail "writing the 1000-class data set failed"; finish; }
import os
import numpy as np
from PIL import Image
rng = np.random.default_rng(0)
for split, n in (("train", 2), ("val", 1)):
    for c in range(1000):
        d = f"data/{split}/c{c:04d}"
        os.makedirs(d)
        for i in range(n):
            # class c: a colour from its index plus noise, so that some classes are learnt
            base = np.array([c % 10, (c // 10) % 10, c // 100]) * 25
            img = np.clip(base + rng.integers(0, 30, (8, 8, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(img).save(f"{d}/{i}.png")
PY
cat > model.yaml <<'Y'
name: tiny-1000
input: [3, 8, 8]
layers:
  - {conv: {out: 16, k: 3, pad: 1}, name: conv1}
  - relu
  - global_avgpool
  - flatten
  - {linear: {out: 1000}, name: fc}
Y
cat > recipe.yaml <<'Y'
model: model.yaml
data: {dataset: image_folder, root: data, batch_size: 50, train_transforms: [{resize: {size: [8, 8]}}],
       eval_transforms: [{resize: {size: [8, 8]}}]}
train: {epochs: 1, optimizer: {type: sgd, lr: 0.5, momentum: 0.9}}
output: run
Y
out=$("$CNN" --threads 2 train --config recipe.yaml --no-report 2>&1) || { echo "$out"; fail "training failed"; finish; }
start=$(date +%s%N)
"$CNN" --threads 2 report run --samples 4 > rep.txt 2>&1 || { cat rep.txt; fail "cnn report failed"; finish; }
echo "report of 1000 classes: $((($(date +%s%N) - start) / 1000000)) ms"
"$CNN" eval --config recipe.yaml --checkpoint run/best.safetensors --out tables >/dev/null 2>&1 || fail "eval --out"
"$PY" "$HERE/report_structure.py" run/report.html 1000 4 || fail "report structure"
"$PY" - <<'PY' || fail "the 1000-class confusion matrix"
import csv, json, os, re
import xml.dom.minidom
html = open("run/report.html", encoding="utf-8").read()
m = json.load(open("tables/confusion.json"))["matrix"]
assert len(m) == 1000 and all(len(r) == 1000 for r in m)
errors = [sum(m[k]) - m[k][k] + sum(m[t][k] for t in range(1000)) - m[k][k] for k in range(1000)]
assert sum(errors) > 0, "the model made no error: nothing to reduce by"
for name in ("confusion_counts.svg", "confusion_normalized.svg"):
    svg = xml.dom.minidom.parse(os.path.join("run", name))
    cells = [r for r in svg.getElementsByTagName("rect") if r.getAttribute("class") == "cell"]
    assert len(cells) == 30 * 30, (name, len(cells))
    size = float(svg.documentElement.getAttribute("width"))
    assert size < 800, (name, "width", size)
assert "showing the 30 of 1000 classes with the most errors" in html, "no note on the reduction"
# The classes shown are 30 with the most errors: none left out has more errors than one shown;
# each cell's count is the full matrix's.
svg = open("run/confusion_counts.svg").read()
shown = sorted(set(int(x) for x in re.findall(r'data-true="(\d+)"', svg)))
assert len(shown) == 30, shown
for t, p, c in re.findall(r'data-true="(\d+)" data-predicted="(\d+)" data-count="(\d+)"', svg):
    assert m[int(t)][int(p)] == int(c), (t, p, c)
assert min(errors[k] for k in shown) >= max(errors[k] for k in range(1000) if k not in shown), "not the top-30 by errors"
size = os.path.getsize("run/report.html")
assert size < 3_000_000, "report.html is %d bytes" % size
print("ok: 30 of 1000 classes shown (by errors), 1000 per-class rows, report.html %d KB" % (size // 1024))
PY
finish
