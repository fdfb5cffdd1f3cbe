#pragma once
// Checkpoints: safetensors holding parameters and buffers under their model names
// ("conv1.weight"), optimizer state under "optimizer.momentum.<name>", and __metadata__ with
// epoch, step, best metric and the resolved config text. Written atomically.
#include <cstdint>
#include <string>

#include "graph/net.h"
#include "io/safetensors.h"

namespace cnn {

class Sgd;

struct CheckpointMeta {
  int64_t epoch = 0;          // epochs completed
  int64_t step = 0;           // optimizer steps taken
  double best_metric = -1;    // best test accuracy so far (percent)
  std::string config;         // resolved recipe YAML
  std::string model;          // model YAML text
};

void save_checkpoint(const std::string& path, const Net& net, const Sgd* optimizer, const CheckpointMeta& meta);

// Loads weights (and optimizer state when `optimizer` is given and the file has it) into `net`.
// Every missing, unexpected or mis-shaped tensor is named in one ConfigError.
CheckpointMeta load_checkpoint(const std::string& path, Net& net, Sgd* optimizer = nullptr);

}  // namespace cnn
