#pragma once
// MNIST and Fashion-MNIST in the IDX format (big-endian header; magic 2051 images u8 N x 28 x 28,
// 2049 labels u8 N), gzip-compressed (.gz) or raw. Missing, truncated or malformed files throw
// RuntimeError naming the file and what was expected.
#include <string>
#include <vector>

#include "data/dataset.h"

namespace cnn {

// Reads one IDX file, transparently gunzipping. Returns the decompressed bytes.
std::string read_maybe_gz(const std::string& path);

// Loads `<root>/<split>-images-idx3-ubyte[.gz]` and `<root>/<split>-labels-idx1-ubyte[.gz]`
// (split: "train" or "t10k"). Prefers the raw file when both exist. `limit` > 0 keeps the first
// `limit` samples. `fashion` sets Fashion-MNIST's class names.
// The ten class names: "0".."9", or Fashion-MNIST's ("T-shirt/top", ..., "Ankle boot").
std::vector<std::string> mnist_class_names(bool fashion);

ImageDataset load_mnist(const std::string& root, const std::string& split, bool fashion = false,
                        int64_t limit = 0);

}  // namespace cnn
