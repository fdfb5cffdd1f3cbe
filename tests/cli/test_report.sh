#!/usr/bin/env bash
# `cnn report` and the report at the end of `cnn train` (a short LeNet-5 MNIST run), checked
# without a browser (tests/cli/report_structure.py: CSP, no script or URL, data-URI images of
# their stated size, one row per class, the .svg/.png files); `cnn report --out/--samples`;
# `--no-report` and `report: false`; `cnn eval --out` tables; bad input (a directory without
# metrics, a checkpoint that does not fit): one error line, nothing written. Also the terminal
# fixes of issue 14: "1 epoch", `--set` taking one value, the banner on summary/predict/export.
# The browser checks are test_report_browser.sh.
source "$(dirname "$0")/lib.sh" "$@"
PY=/usr/bin/python3
[ -f "$SHARED_DATA/mnist/train-images-idx3-ubyte.gz" ] || skip "MNIST not found at $SHARED_DATA/mnist"
"$PY" -c "import numpy, PIL" 2>/dev/null || skip "$PY with numpy and PIL is not available"
HERE=$(cd "$(dirname "$0")" && pwd)
cd "$WORK"
RECIPE=$SRC/configs/recipes/mnist-lenet5.yaml
small=(--set train.epochs=1 --set data.root="$SHARED_DATA/mnist" --set data.train_limit=3000 --set data.eval_limit=2000)

out=$("$CNN" train --config "$RECIPE" "${small[@]}" --set output=run 2>&1) || { echo "$out"; fail "training failed"; finish; }
echo "$out" | tail -n 3
printf '%s\n' "$out" | grep -q "for 1 epoch -> run" || fail "the start line should say '1 epoch': $(printf '%s\n' "$out" | grep '^training')"
printf '%s\n' "$out" | grep -qE "^report: run/report.html \([0-9]+ files, [0-9.]+ s\)" || fail "train wrote no report"
secs=$(printf '%s\n' "$out" | sed -n 's/^report: .*files, \([0-9.]*\) s)$/\1/p')
echo "report at the end of training: $secs s"
"$PY" -c "import sys; sys.exit(0 if float('$secs') < 10 else 1)" || fail "the report took $secs s"
"$PY" "$HERE/report_structure.py" run/report.html 10 16 || fail "report structure"

# cnn report into another place, fewer samples; the run directory's files stay as they were.
before=$(stat -c %Y run/report.html)
"$CNN" report run --out elsewhere/page.html --samples 4 >rep.txt 2>&1 || fail "cnn report: $(cat rep.txt)"
"$PY" "$HERE/report_structure.py" elsewhere/page.html 10 4 || fail "report --out --samples 4 structure"
[ "$(stat -c %Y run/report.html)" = "$before" ] || fail "cnn report --out touched run/report.html"

# Another layer for the maps.
"$CNN" report run --out layer/page.html --layer conv2 --samples 2 >rep2.txt 2>&1 || fail "report --layer: $(cat rep2.txt)"
grep -q "layer &#39;conv2&#39; (16x10x10" layer/page.html || fail "report --layer conv2: the feature maps are not conv2's"
expect_error 2 "no layer 'nope'" -- "$CNN" report run --out bad2/page.html --layer nope
[ ! -e bad2 ] || fail "a failed report created bad2/"

# Every step's own loss is in metrics.jsonl ("losses" of the step records, none dropped) and drawn.
"$PY" - <<'PY' || fail "per-step losses in metrics.jsonl"
import json
recs = [json.loads(l) for l in open("run/metrics.jsonl") if l.strip()]
steps = [r for r in recs if r["type"] == "step"]
losses = [v for r in steps for v in r["losses"]]
last = [r for r in recs if r["type"] == "epoch"][-1]["step"]
assert len(losses) == last, (len(losses), last)
assert steps[-1]["step"] == last
ends = {r["step"] for r in recs if r["type"] == "epoch"}
for r in steps:  # the mean of full batches (an epoch's last batch may be smaller: weighted by size)
    if r["step"] not in ends:
        assert abs(sum(r["losses"]) / len(r["losses"]) - r["train_loss"]) < 1e-6 * max(1, r["train_loss"]), r
PY
grep -q 'data-series="train loss (each step)"' run/loss_step.svg || fail "loss_step.svg does not draw each step's loss"

# The banner recorded at training time (banner.txt), not the machine making the report.
[ -s run/banner.txt ] || fail "training wrote no run/banner.txt"
grep -q "^cnn .* | threads" run/banner.txt || fail "run/banner.txt: $(cat run/banner.txt)"
cp run/banner.txt banner.orig
echo "cnn 0.0.1 | threads 64 | recorded elsewhere" > run/banner.txt
"$CNN" report run --out later/page.html --samples 1 >/dev/null 2>&1 || fail "cnn report for the banner"
grep -q "cnn 0.0.1 | threads 64 | recorded elsewhere" later/page.html || fail "the report does not show banner.txt"
grep -q "banner at training time" later/page.html || fail "the report does not label the training banner"
cp banner.orig run/banner.txt

# A report that cannot be written: one error naming the file, exit 1, no page. (As root, a
# directory without write permission is writable: the command then runs as nobody.)
as_user() { if [ "$(id -u)" = 0 ]; then setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; else "$@"; fi; }
chmod 755 "$WORK"
mkdir ro && chmod 555 ro
expect_error 1 "^error: cannot write 'ro/[a-z_]+\.(svg|png)': Permission denied$" -- as_user "$CNN" report run --out ro/page.html
[ -z "$(ls ro)" ] || fail "a failed report left files in ro/: $(ls ro)"
expect_error 1 "^error: cannot write the report: cannot create directory 'ro/sub': Permission denied$" -- \
  as_user "$CNN" report run --out ro/sub/page.html

# At the end of `cnn train` a report that cannot be written is one warning naming the file, on
# stderr; the run itself succeeded: exit 0, its checkpoints and metrics in place. Here
# run4/report.html is a directory made beforehand, so the page (written last) cannot take its name.
mkdir -p run4/report.html
"$CNN" train --config "$RECIPE" "${small[@]}" --set output=run4 >train4.out 2>train4.err
rc=$?
[ "$rc" = 0 ] || fail "train whose report fails: expected exit 0, got $rc: $(cat train4.err)"
grep -q "^best test accuracy .*checkpoints and metrics in run4$" train4.out || fail "train4: no final line: $(tail -2 train4.out)"
for f in best.safetensors last.safetensors metrics.jsonl config.yaml; do
  [ -s "run4/$f" ] || fail "train whose report fails: run4/$f missing"
done
# stderr: the banner (and the BLAS warning it may add), then the one warning.
[ "$(grep -vc '^cnn .* | threads\|^warning: OpenBLAS' train4.err)" = 1 ] \
  || fail "train whose report fails: expected the banner and one line on stderr, got: $(cat train4.err)"
grep -qE "^warning: no report: cannot write 'run4/report.html': Is a directory \(try cnn report run4\)$" train4.err \
  || fail "train whose report fails: warning: $(cat train4.err)"
grep -q "^error:\|^report: " train4.out && fail "train whose report fails printed an error or a report line: $(cat train4.out)"
[ -z "$(find run4 -name '*.tmp.*')" ] || fail "a failed report left temporaries: $(find run4 -name '*.tmp.*')"
"$CNN" eval --config run4/config.yaml --checkpoint run4/best.safetensors >/dev/null 2>&1 \
  || fail "the checkpoint of the run whose report failed does not evaluate"

# A model whose class count comes from the data (a `classes` argument the recipe leaves unset):
# the report at the end of `cnn train` is of the model as trained (3 outputs), not as its file
# reads (10), so it is written, without a warning.
"$PY" - <<'PY' || fail "writing the 3-class image folder"
import os
import numpy as np
from PIL import Image
rng = np.random.default_rng(0)
for split, n in (("train", 8), ("val", 4)):
    for c in ("a", "b", "c"):
        os.makedirs(f"folder/{split}/{c}")
        for i in range(n):
            Image.fromarray(rng.integers(0, 256, (12, 12, 3), dtype=np.uint8)).save(f"folder/{split}/{c}/{i}.png")
PY
cat > classes10.yaml <<'Y'
name: tiny-classes
input: [3, 12, 12]
args: {classes: 10}
layers:
  - {conv: {out: 4, k: 3, pad: 1}, name: conv1}
  - relu
  - global_avgpool
  - flatten
  - {linear: {out: $classes}, name: fc}
Y
cat > folder.yaml <<'Y'
model: classes10.yaml
data: {dataset: image_folder, root: folder, batch_size: 4,
       train_transforms: [{center_crop: {size: 12}}], eval_transforms: [{center_crop: {size: 12}}]}
train: {epochs: 1, optimizer: {type: sgd, lr: 0.01}}
output: run5
Y
"$CNN" train --config folder.yaml >train5.out 2>train5.err || fail "train on the 3-class folder: $(cat train5.err)"
grep -q "^model tiny-classes: classes 3 (the 3 classes of data.dataset image_folder" train5.out \
  || fail "the model did not get the folder's 3 classes: $(cat train5.out)"
grep "^warning" train5.err | grep -v "^warning: OpenBLAS" && fail "train on the 3-class folder warned: $(cat train5.err)"
grep -qE "^report: run5/report.html \([0-9]+ files" train5.out || fail "no report for a model fitted to 3 classes"
[ -f run5/report.html ] && { "$PY" "$HERE/report_structure.py" run5/report.html 3 || fail "run5 report structure"; }

# Turned off.
"$CNN" train --config "$RECIPE" "${small[@]}" --set output=run2 --no-report >/dev/null 2>&1 || fail "train --no-report"
[ ! -e run2/report.html ] || fail "--no-report wrote a report"
"$CNN" train --config "$RECIPE" "${small[@]}" --set output=run3 --set report=false >/dev/null 2>&1 || fail "report=false"
[ ! -e run3/report.html ] || fail "report: false wrote a report"
grep -q "^report: false" run3/config.yaml || fail "the resolved config does not record report: false"
grep -q "aux_weight" run/config.yaml && fail "the resolved config shows aux_weight although it is unset"

# Bad input.
mkdir empty
expect_error 1 "empty/metrics.jsonl" -- "$CNN" report empty
[ -z "$(ls empty)" ] || fail "a failed report wrote into empty/: $(ls empty)"
"$CNN" export -c "$SRC/configs/models/resnet20-cifar.yaml" --init-seed 1 --out other.safetensors >/dev/null 2>&1
expect_error 2 "other.safetensors.*does not match" -- "$CNN" report run --checkpoint other.safetensors --out bad/page.html
[ ! -e bad ] || fail "a failed report created bad/"

# cnn eval: per-class table with full names, and --out tables.
ev=$("$CNN" eval --config "$RECIPE" "${small[@]}" --checkpoint run/best.safetensors --out tables 2>&1) || fail "eval --out: $ev"
printf '%s\n' "$ev" | grep -qE "^class +name +precision +recall +F1 +support" || fail "eval prints no per-class table"
[ "$(wc -l < tables/confusion.csv)" = 11 ] || fail "confusion.csv: expected a header and 10 rows"
[ "$(wc -l < tables/classes.csv)" = 11 ] || fail "classes.csv: expected a header and 10 rows"
"$PY" - <<'PY' || fail "eval --out JSON"
import json
c = json.load(open("tables/confusion.json"))
k = json.load(open("tables/classes.json"))
assert len(c["matrix"]) == 10 and all(len(r) == 10 for r in c["matrix"])
assert sum(map(sum, c["matrix"])) == 2000, sum(map(sum, c["matrix"]))
for row in k:
    assert row["support"] == sum(c["matrix"][row["class"]]), row
    assert abs(row["recall"] - c["matrix"][row["class"]][row["class"]] / row["support"]) < 1e-12
PY

# --set takes one value: the image after it is an image, not a second override.
"$PY" -c "
import numpy as np
open('digit.pgm', 'wb').write(b'P5 28 28 255\n' + np.zeros((28, 28), np.uint8).tobytes())"
pr=$("$CNN" predict --config "$RECIPE" --weights run/best.safetensors --set data.root=unused digit.pgm 2>&1) \
  || fail "predict --set x=1 image: $pr"
printf '%s\n' "$pr" | grep -q "^digit.pgm" || fail "predict did not predict digit.pgm: $pr"
for cmd in "summary -c $SRC/configs/models/lenet5.yaml" \
           "export -c $SRC/configs/models/lenet5.yaml --init-seed 1 --out e.safetensors" \
           "predict --config $RECIPE --weights run/best.safetensors digit.pgm"; do
  # shellcheck disable=SC2086
  "$CNN" $cmd 2>&1 >/dev/null | grep -q "^cnn .* | threads" || fail "no banner on: cnn $cmd"
done
finish
