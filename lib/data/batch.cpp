#include "data/batch.h"

#include "core/error.h"
#include "core/parallel.h"

namespace cnn {

void check_transforms(const std::vector<TransformSpec>& transforms, const ImageDataset& data,
                      const std::string& field) {
  for (const auto& t : transforms) {
    if (t.type != "normalize") throw ConfigError(field + ": unsupported transform '" + t.type + "'");
    auto ok = [&](size_t n) { return n == 1 || n == size_t(data.channels); };
    if (!ok(t.mean.size()) || !ok(t.std.size()))
      throw ConfigError(field + ".normalize: mean and std need 1 or " + std::to_string(data.channels) +
                        " values for this " + std::to_string(data.channels) + "-channel dataset");
  }
}

void make_batch(const ImageDataset& data, const int64_t* indices, int64_t n,
                const std::vector<TransformSpec>& transforms, Tensor& images, std::vector<int32_t>& labels) {
  const int64_t C = data.channels, HW = data.height * data.width, S = data.sample_size();
  images.resize({n, C, data.height, data.width});
  labels.resize(size_t(n));
  parallel_for(n, [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i) {
      const uint8_t* src = data.pixels.data() + indices[i] * S;
      float* dst = images.data() + i * S;
      for (int64_t j = 0; j < S; ++j) dst[j] = src[j] * (1.0f / 255.0f);
      for (const auto& t : transforms) {
        for (int64_t c = 0; c < C; ++c) {
          const float m = float(t.mean.size() == 1 ? t.mean[0] : t.mean[c]);
          const float inv = float(1.0 / (t.std.size() == 1 ? t.std[0] : t.std[c]));
          float* p = dst + c * HW;
          for (int64_t k = 0; k < HW; ++k) p[k] = (p[k] - m) * inv;
        }
      }
      labels[size_t(i)] = data.labels[size_t(indices[i])];
    }
  });
}

}  // namespace cnn
