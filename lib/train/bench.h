#pragma once
// Throughput of a model on synthetic data, like `caffe time`: a training step (forward, softmax
// cross-entropy, backward, SGD with momentum) or an inference forward, plus per-layer times.
#include <string>
#include <vector>

#include "graph/net.h"

namespace cnn {

struct BenchOptions {
  int64_t batch = 32;
  bool train = false;
  int iters = 20;
  int warmup = 3;
  double min_seconds = 0;  // keep iterating until this much time has passed
  bool per_layer = false;  // also time each layer (in extra iterations after the timed ones)
};

struct BenchLayer {
  std::string name, type, kernel;
  double forward_ms = 0, backward_ms = 0;  // per iteration
};

struct BenchResult {
  int iters = 0;
  double seconds = 0;
  double images_per_s = 0;
  double ms_per_iter = 0;
  std::vector<BenchLayer> layers;  // measured in separate profiled iterations
};

BenchResult run_bench(Net& net, const BenchOptions& options);

}  // namespace cnn
