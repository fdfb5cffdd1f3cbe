#include "data/dataset.h"

#include <algorithm>

namespace cnn {

void MemoryDataset::read(int64_t i, Image& out) const {
  const int64_t C = d_.channels, HW = d_.height * d_.width;
  out.reshape(d_.height, d_.width, C);
  const uint8_t* src = d_.pixels.data() + i * d_.sample_size();
  uint8_t* dst = out.data();
  if (C == 1) {
    std::copy(src, src + HW, dst);
    return;
  }
  for (int64_t k = 0; k < HW; ++k)
    for (int64_t c = 0; c < C; ++c) dst[k * C + c] = src[c * HW + k];
}

}  // namespace cnn
