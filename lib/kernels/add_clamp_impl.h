#pragma once
// add_and_clamp's loop (activation.h), for kernels compiled per ISA: the anonymous namespace gives
// every translation unit its own copy, vectorized with that unit's flags (an inline function
// shared between units of different ISAs could be linked as the wider one's and run on a CPU
// without it). The depthwise kernels call it on each plane they finish: at the x86-64 baseline
// it was 3.5% of a MobileNet v1 inference (1 thread, batch 32, perf).
#include <cstdint>

namespace cnn {
namespace {

inline void add_and_clamp_impl(float* y, const float* residual, int64_t n, bool clamp, float lo, float hi) {
  if (residual)
    for (int64_t i = 0; i < n; ++i) y[i] += residual[i];
  if (clamp)
    for (int64_t i = 0; i < n; ++i) {
      const float v = y[i];
      y[i] = v > lo ? (v < hi ? v : hi) : lo;
    }
}

}  // namespace
}  // namespace cnn
