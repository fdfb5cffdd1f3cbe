#!/usr/bin/env bash
# Bad input: one 'error:' line naming the file/field, exit 2 for usage/config, 1 for runtime,
# and no partial files left behind.
source "$(dirname "$0")/lib.sh" "$@"
cd "$WORK"
mkdir -p models recipes data
cp "$SRC/configs/models/lenet5.yaml" models/

# A tiny MNIST-format dataset so these tests never need the shared data.
/usr/bin/python3 - <<'PY' || skip "python3 with gzip needed to write IDX fixtures"
import gzip, struct, os
def write(path, magic, dims, payload):
    with gzip.open(path, 'wb') as f:
        f.write(struct.pack('>I', magic) + b''.join(struct.pack('>I', d) for d in dims) + payload)
n = 64
write('data/train-images-idx3-ubyte.gz', 2051, [n, 28, 28], bytes((i * 7) % 256 for i in range(n * 784)))
write('data/train-labels-idx1-ubyte.gz', 2049, [n], bytes(i % 10 for i in range(n)))
write('data/t10k-images-idx3-ubyte.gz', 2051, [n, 28, 28], bytes((i * 3) % 256 for i in range(n * 784)))
write('data/t10k-labels-idx1-ubyte.gz', 2049, [n], bytes(i % 10 for i in range(n)))
PY
cat > recipes/ok.yaml <<'Y'
model: ../models/lenet5.yaml
data: {dataset: mnist, root: data, batch_size: 16}
train: {epochs: 1, optimizer: {type: sgd, lr: 0.01}}
output: out/ok
Y

expect_error 2 "missing\.yaml" -- "$CNN" train --config missing.yaml
printf 'model: ../models/lenet5.yaml\ndata: {dataset: mnist\n' > recipes/syntax.yaml
expect_error 2 "recipes/syntax\.yaml:[0-9]+:[0-9]+" -- "$CNN" train --config recipes/syntax.yaml
sed 's/maxpool: {k: 2}}                                # S2/maxpoool: {k: 2}}  # S2/' models/lenet5.yaml > models/bad_type.yaml
expect_error 2 "bad_type\.yaml:[0-9]+:[0-9]+.*unknown layer type 'maxpoool'.*did you mean 'maxpool'.*conv" -- "$CNN" summary --config models/bad_type.yaml
sed 's/out: 6, k: 5, pad: 2/out: six, k: 5, pad: 2/' models/lenet5.yaml > models/bad_field.yaml
expect_error 2 "bad_field\.yaml:[0-9]+:[0-9]+.*conv1.*'out'.*integer" -- "$CNN" summary --config models/bad_field.yaml
expect_error 2 "train\.epochz.*did you mean 'train\.epochs'" -- "$CNN" train --config recipes/ok.yaml --set train.epochz=3
expect_error 2 "train\.epochs" -- "$CNN" train --config recipes/ok.yaml --set train.epochs=many
expect_error 2 "bogus-flag" -- "$CNN" train --config recipes/ok.yaml --bogus-flag
[ ! -e out ] || fail "a config error left files behind: $(find out)"

# Missing and truncated dataset files: runtime errors naming the file.
expect_error 1 "nodata/train-images-idx3-ubyte" -- "$CNN" train --config recipes/ok.yaml --set data.root=nodata
mkdir -p trunc && cp data/*.gz trunc/
head -c 100 data/train-images-idx3-ubyte.gz > trunc/train-images-idx3-ubyte.gz
expect_error 1 "trunc/train-images-idx3-ubyte" -- "$CNN" train --config recipes/ok.yaml --set data.root=trunc
[ ! -e out ] || fail "a data error left files behind: $(find out)"

# A good run, then a checkpoint that does not match another model.
"$CNN" --threads 1 train --config recipes/ok.yaml >/dev/null 2>&1 || fail "training the tiny recipe failed"
[ -f out/ok/last.safetensors ] || fail "no last.safetensors"
# A second fresh run into the same output would replace that run: refused, nothing touched.
before=$(cat out/ok/last.safetensors out/ok/config.yaml out/ok/metrics.jsonl | md5sum)
expect_error 2 "output 'out/ok' already holds a run \(last\.safetensors\).*--resume out/ok/last\.safetensors.*--overwrite" \
  -- "$CNN" train --config recipes/ok.yaml --set train.epochs=0
[ "$(cat out/ok/last.safetensors out/ok/config.yaml out/ok/metrics.jsonl | md5sum)" = "$before" ] \
  || fail "a refused run changed the existing run's files"
"$CNN" --threads 1 train --config recipes/ok.yaml --overwrite >/dev/null 2>&1 || fail "--overwrite did not start over"
sed 's/out: 120/out: 100/' models/lenet5.yaml > models/other.yaml
sed 's#lenet5.yaml#other.yaml#' recipes/ok.yaml > recipes/other.yaml
expect_error 2 "last\.safetensors.*mis-shaped.*fc1\.weight" -- "$CNN" eval --config recipes/other.yaml --checkpoint out/ok/last.safetensors
# --ema on a checkpoint written without train.ema: refused by eval, predict and export, naming the file.
for cmd in "eval --config recipes/ok.yaml --checkpoint" "export --config recipes/ok.yaml --out e.onnx --checkpoint"; do
  expect_error 2 "out/ok/last\.safetensors: has no EMA weights.*drop --ema" -- "$CNN" $cmd out/ok/last.safetensors --ema
done
[ ! -e e.onnx ] || fail "a refused export left e.onnx"
# and with train.ema on, eval --ema evaluates the average
"$CNN" --threads 1 train --config recipes/ok.yaml --set 'train.ema={decay: 0.9}' --set output=out/ema >/dev/null 2>&1 \
  || fail "training with train.ema failed"
"$CNN" --threads 1 eval --config recipes/ok.yaml --checkpoint out/ema/last.safetensors --ema --no-confusion 2>/dev/null \
  | grep -q "(EMA weights) on" || fail "eval --ema did not evaluate the EMA weights"
head -c 300 out/ok/last.safetensors > cut.safetensors
expect_error 1 "cut\.safetensors" -- "$CNN" eval --config recipes/ok.yaml --checkpoint cut.safetensors
ls out/ok | grep -q tmp && fail "temporary files left in out/ok: $(ls out/ok)"

# Numeric flags say what they expect (CLI11's own checks printed "Value 0 not in range 0.000000 to
# 1797...", a 309-digit number, for `--batch 0` and `--batch abc` alike).
expect_error 2 "^error: --batch: expected a whole number >= 1, got '0'$" -- "$CNN" summary -c models/lenet5.yaml --batch 0
expect_error 2 "^error: --batch: expected a whole number >= 1, got 'abc'$" -- "$CNN" bench -c models/lenet5.yaml --batch abc
expect_error 2 "^error: --samples: expected a whole number >= 0, got '-3'$" -- "$CNN" report out/ok --samples -3
expect_error 2 "^error: --threads: expected a whole number >= 0, got '1.5'$" -- "$CNN" --threads 1.5 summary -c models/lenet5.yaml
expect_error 2 "^error: --dist-timeout: expected a number > 0, got '0'$" -- "$CNN" train --config recipes/ok.yaml --dist-timeout 0
finish
