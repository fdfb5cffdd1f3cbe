#!/usr/bin/env bash
# Demo: install, build, train LeNet-5 on Fashion-MNIST for two epochs, evaluate, summarize.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target cnn
recipe=configs/recipes/fashion-mnist-lenet5.yaml
./build/cnn summary --config configs/models/lenet5.yaml
./build/cnn train --config "$recipe" --set output=runs/demo --overwrite
./build/cnn eval --config "$recipe" --checkpoint runs/demo/best.safetensors
