#include "layers/init.h"

#include <cmath>

#include "core/rng.h"

namespace cnn {

void init_uniform(Tensor& t, float lo, float hi, Rng& rng) {
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = rng.uniform(lo, hi);
}

void init_normal(Tensor& t, float mean, float std, Rng& rng) {
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = mean + std * rng.normal();
}

void init_pytorch_default(Param& p, Rng& rng) {
  const float bound = p.fan_in > 0 ? 1.0f / std::sqrt(static_cast<float>(p.fan_in)) : 0.f;
  init_uniform(p.value, -bound, bound, rng);
}

}  // namespace cnn
