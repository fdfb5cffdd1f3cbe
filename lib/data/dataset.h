#pragma once
// In-memory image classification datasets: uint8 pixels, N x C x H x W, int32 labels.
#include <cstdint>
#include <string>
#include <vector>

namespace cnn {

struct ImageDataset {
  int64_t count = 0;
  int64_t channels = 0, height = 0, width = 0;
  std::vector<uint8_t> pixels;     // count * channels * height * width
  std::vector<int32_t> labels;     // count
  int num_classes = 0;
  std::vector<std::string> class_names;
  int64_t sample_size() const { return channels * height * width; }
};

}  // namespace cnn
