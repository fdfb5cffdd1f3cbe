#!/usr/bin/env bash
# The test command: install dependencies, configure, build from scratch (Release, all warnings),
# run the whole suite with ctest; then the unit tests and the fuzz replays again, built with
# -DCNN_SANITIZE=ON (ASan + UBSan, any finding fails) in a second build directory.
# CNN_SANITIZE_TESTS=0 leaves out the second stage (a quicker local run; CI runs both). Tests run
# on all cores (CTEST_JOBS=N overrides): at -j1 the suite alone took 9 of CI's 30 minutes.
# CI (.ci/run) calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release
cmake --build "$BUILD_DIR" -j"$(nproc)"
(cd "$BUILD_DIR" && ctest --output-on-failure -j"${CTEST_JOBS:-$(nproc)}" "$@")

if [ "${CNN_SANITIZE_TESTS:-1}" = 1 ]; then
  # Left out under the sanitizers (all of them ran above): the CLI tests (the cnn binary is not
  # built here; they run the same library code as the unit tests); the tests whose time is
  # PyTorch's or Python's (train-step parity, torchvision's transforms, pytorch-grad-cam's maps, the
  # CIFAR-10 files made from ../shared's JPEGs); and the big-model sweeps: forward and backward,
  # ONNX export and CAM of every zoo model (ResNet-152, VGG-19, Inception v3, DenseNet-201: the
  # layers, kernels and graph code they run are tested at small sizes here) and the 14,000 single
  # bit flips of a checkpoint (the CRC path is tested by the other checkpoint-integrity cases).
  # Measured on a loaded 2-core machine, these 9 cases were 87% of the sanitizer suite's time.
  SAN_EXCLUDE='^cli\.|parity with PyTorch|vs torchvision|pytorch-grad-cam|cifar10: the real data set'
  SAN_EXCLUDE+='|zoo: counts and state_dict|zoo inception/densenet: forward|zoo: configs build|every zoo config exports'
  SAN_EXCLUDE+='|explain: default layer and method on the zoo|a flipped bit anywhere'
  # The include-layering check reads source files with std::regex (no library code): 45 s at -O0.
  SAN_EXCLUDE+='|layering: layers/ never includes'
  SAN_DIR=${SANITIZE_BUILD_DIR:-build-sanitize}
  start=$(date +%s)
  # -O1, as ASan's documentation advises: compiles much faster than -O3 under instrumentation.
  cmake -S . -B "$SAN_DIR" -DCMAKE_BUILD_TYPE=Sanitize -DCMAKE_CXX_FLAGS_SANITIZE="-O1 -DNDEBUG" \
    -DCMAKE_C_FLAGS_SANITIZE="-O1 -DNDEBUG" -DCNN_SANITIZE=ON
  cmake --build "$SAN_DIR" -j"$(nproc)" --target cnn_tests \
    fuzz_model_yaml fuzz_recipe_yaml fuzz_safetensors fuzz_npy fuzz_idx fuzz_cifar10 fuzz_image fuzz_checkpoint
  built=$(date +%s)
  (cd "$SAN_DIR" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
     ctest --output-on-failure -j"${CTEST_JOBS:-$(nproc)}" -E "$SAN_EXCLUDE" "$@")
  echo "sanitizer stage: build $((built - start)) s, tests $(($(date +%s) - built)) s"
fi
