#pragma once
// Uniform random test values in [-1, 1) from the engine's Rng.
#include <vector>

#include "core/rng.h"

namespace cnn::test {

inline std::vector<float> random_vec(size_t n, Rng& rng) {
  std::vector<float> v(n);
  for (auto& x : v) x = rng.uniform(-1.f, 1.f);
  return v;
}

}  // namespace cnn::test
