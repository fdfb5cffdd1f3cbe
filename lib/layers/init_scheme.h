#pragma once
// One initialization scheme of torch.nn.init, as a model's `init:` section selects it (docs/config.md
// "Initialization"; config/model_init.cpp reads it from YAML, layers/init.h applies it).
#include <string>

#include "core/error.h"

namespace cnn {

// Model-level `init:` (see docs/config.md "Initialization"). A scheme with an empty type is
// "not set": the parameter keeps PyTorch's default (or LSUV's orthogonal pre-init).
struct InitScheme {
  std::string type;                         // "" | default | xavier_uniform | xavier_normal | kaiming_uniform |
                                            // kaiming_normal | orthogonal | constant | zeros | ones | normal | uniform
  double gain = 1.0;                        // xavier_*, orthogonal
  std::string mode = "fan_in";              // kaiming_*: fan_in | fan_out
  std::string nonlinearity = "leaky_relu";  // kaiming_*: as torch.nn.init.calculate_gain
  double a = 0.0;                           // kaiming_*: negative slope (leaky_relu); uniform: lower bound
  double b = 1.0;                           // uniform: upper bound
  double mean = 0.0, std = 1.0;             // normal
  double value = 0.0;                       // constant
  SourceLoc loc;                            // where it was written (for errors found when the net is built)
  std::string path;                         // its dotted field, e.g. "init.layers.fc"
  bool set() const { return !type.empty(); }
};

}  // namespace cnn
