#pragma once
// CIFAR-10 in the official binary layout (cifar-10-batches-bin/): data_batch_1.bin ...
// data_batch_5.bin (training, 10,000 records each), test_batch.bin (10,000) and batches.meta.txt
// (class names, one per line). A record is 3073 bytes: the label (0..9), then the 32x32 red,
// green and blue planes, rows top to bottom. Missing, truncated or malformed files throw
// RuntimeError naming the file.
#include <string>

#include "data/dataset.h"

namespace cnn {

// split: "train" (the five data batches in order) or "test". `limit` > 0 keeps the first
// `limit` samples (only the batch files needed are read).
ImageDataset load_cifar10(const std::string& root, const std::string& split, int64_t limit = 0);

}  // namespace cnn
