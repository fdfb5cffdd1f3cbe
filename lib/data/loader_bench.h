#pragma once
// Throughput of a recipe's training data path alone (read, decode, train transforms, batch
// assembly), as `cnn bench --data` reports it; scripts/bench/loader_speed.sh compares it with
// torchvision's ImageFolder + DataLoader.
#include <cstdint>

#include "config/recipe.h"

namespace cnn {

struct LoaderBenchResult {
  int64_t images = 0;          // timed images (skipped ones excluded)
  int64_t epochs = 0;          // timed epochs
  double seconds = 0;
  double images_per_s = 0;
  int64_t skipped = 0;
};

// One untimed epoch, then whole epochs (shuffled as the trainer does) until at least `epochs`
// and `min_seconds` are done.
LoaderBenchResult bench_loader(const Recipe& recipe, int64_t epochs, double min_seconds);

}  // namespace cnn
