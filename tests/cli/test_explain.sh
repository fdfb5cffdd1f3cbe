#!/usr/bin/env bash
# `cnn explain`: overlays (PNG at the model's input size) and raw maps (.npy at the layer's size)
# for image files and an .npy batch, --top/--class/--layer/--method, the default method (CAM for
# ResNet-20's global pooling + linear, Grad-CAM for LeNet-5), and bad input: an image that does
# not decode, unknown or non-spatial layers, CAM where it does not apply, weights that do not fit,
# a class out of range: one error line, exit code, and no output directory left behind.
source "$(dirname "$0")/lib.sh" "$@"
PY=/usr/bin/python3
"$PY" -c "import numpy" 2>/dev/null || skip "$PY with numpy is not available"
CNN=$(cd "$(dirname "$CNN")" && pwd)/$(basename "$CNN")
SRC=$(cd "$SRC" && pwd)
cd "$WORK"
LENET=$SRC/configs/models/lenet5.yaml
RESNET=$SRC/configs/models/resnet20-cifar.yaml
"$CNN" export -c "$LENET" --init-seed 1 --out lenet.safetensors >/dev/null 2>&1 || fail "export lenet"
"$CNN" export -c "$RESNET" --init-seed 1 --out resnet.safetensors >/dev/null 2>&1 || fail "export resnet"
"$PY" - <<'PY' || { fail "writing the fixtures failed"; finish; }
import numpy as np
rng = np.random.default_rng(0)
for i in range(2):  # binary PGM, 28 x 28
    img = rng.integers(0, 256, (28, 28), dtype=np.uint8)
    open("digit%d.pgm" % i, "wb").write(b"P5 28 28 255\n" + img.tobytes())
open("broken.png", "wb").write(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
np.save("batch.npy", rng.standard_normal((3, 1, 28, 28)).astype(np.float32))
np.save("cifar.npy", rng.standard_normal((2, 3, 32, 32)).astype(np.float32))
PY

# PNG width x height from the IHDR chunk; .npy shape.
png_size() { "$PY" -c "import struct,sys; d=open(sys.argv[1],'rb').read(24); print('%dx%d' % struct.unpack('>II', d[16:24]))" "$1"; }
npy_shape() { "$PY" -c "import numpy,sys; print('x'.join(map(str, numpy.load(sys.argv[1]).shape)))" "$1"; }

"$CNN" explain -c "$LENET" --weights lenet.safetensors digit0.pgm digit1.pgm --top 2 --out ex1 >out1.txt 2>err1.txt \
  || fail "explain images: $(cat err1.txt)"
grep -q "^Grad-CAM of layer '5' (16x5x5)" out1.txt || fail "LeNet-5's default: Grad-CAM of the last pool: $(head -1 out1.txt)"
n=$(ls ex1/*.png 2>/dev/null | wc -l)
[ "$n" = 4 ] || fail "2 images x top 2: expected 4 overlays, got $n"
for f in ex1/*.png; do
  [ "$(png_size "$f")" = 28x28 ] || fail "$f: expected a 28x28 overlay, got $(png_size "$f")"
  [ "$(npy_shape "${f%.png}.npy")" = 5x5 ] || fail "${f%.png}.npy: expected the 5x5 raw map"
done
grep -q "map: .* -> ex1/digit0_" out1.txt || fail "the maps are not listed: $(cat out1.txt)"

"$CNN" explain -c "$LENET" --weights lenet.safetensors --npy batch.npy --layer conv2 --class 3 --out ex2 >out2.txt 2>&1 \
  || fail "explain npy: $(cat out2.txt)"
[ "$(ls ex2/*_3_gradcam.npy 2>/dev/null | wc -l)" = 3 ] || fail "--npy with 3 samples, --class 3: expected 3 maps: $(ls ex2)"
[ "$(npy_shape ex2/batch_0_class_3_gradcam.npy)" = 10x10 ] || fail "--layer conv2: expected a 10x10 map"

"$CNN" explain -c "$RESNET" --weights resnet.safetensors --npy cifar.npy --out ex3 >out3.txt 2>&1 || fail "resnet20: $(cat out3.txt)"
grep -q "^CAM of layer 'layer3.2.then.0' (64x8x8)" out3.txt || fail "ResNet-20's default: CAM of layer3: $(head -1 out3.txt)"
"$CNN" explain -c "$RESNET" --weights resnet.safetensors --npy cifar.npy --method gradcam --layer layer2 --out ex4 >out4.txt 2>&1 \
  || fail "resnet20 gradcam layer2: $(cat out4.txt)"
grep -q "^Grad-CAM of layer 'layer2.2.then.0' (32x16x16)" out4.txt || fail "--layer layer2: $(head -1 out4.txt)"

expect_error 1 "broken.png" -- "$CNN" explain -c "$LENET" --weights lenet.safetensors digit0.pgm broken.png --out bad1
expect_error 2 "no layer 'conv'.*conv1" -- "$CNN" explain -c "$LENET" --weights lenet.safetensors digit0.pgm --layer conv --out bad2
expect_error 2 "fc1.*not a C x H x W" -- "$CNN" explain -c "$LENET" --weights lenet.safetensors digit0.pgm --layer fc1 --out bad3
expect_error 2 "--method cam.*gradcam" -- "$CNN" explain -c "$LENET" --weights lenet.safetensors digit0.pgm --method cam --out bad4
expect_error 2 "resnet.safetensors.*does not match" -- "$CNN" explain -c "$LENET" --weights resnet.safetensors digit0.pgm --out bad5
expect_error 2 "--class 10.*10 classes" -- "$CNN" explain -c "$LENET" --weights lenet.safetensors digit0.pgm --class 10 --out bad6
expect_error 2 "image files or --npy" -- "$CNN" explain -c "$LENET" --weights lenet.safetensors --out bad7
for d in bad1 bad2 bad3 bad4 bad5 bad6 bad7; do [ ! -e "$d" ] || fail "$d was created by a failing explain"; done
finish
