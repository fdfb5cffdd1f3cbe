#pragma once
// An 8-bit image with interleaved channels (H x W x C, as PIL holds it): what datasets decode into
// and what the 8-bit transforms work on. Its buffer grows only, so a worker reusing one Image
// allocates nothing in the steady state.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace cnn {

struct Image {
  int64_t height = 0, width = 0, channels = 0;
  std::vector<uint8_t> pixels;  // at least height * width * channels

  void reshape(int64_t h, int64_t w, int64_t c) {
    height = h, width = w, channels = c;
    if (pixels.size() < size_t(h * w * c)) pixels.resize(size_t(h * w * c));
  }
  int64_t numel() const { return height * width * channels; }
  uint8_t* data() { return pixels.data(); }
  const uint8_t* data() const { return pixels.data(); }
};

}  // namespace cnn
