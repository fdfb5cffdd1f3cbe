#pragma once
// The fine-tuning part of a run's setup: initial weights (--weights / train.init_from), frozen
// parameters (train.freeze / unfreeze / freeze_bn) and per-parameter multipliers
// (train.param_groups).
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/recipe.h"
#include "graph/net.h"
#include "optim/optimizer.h"

namespace cnn {

// Does the pattern (train.freeze, param_groups.match) name the parameter `param`? A pattern is a
// parameter name ("fc.weight"), a node name or prefix of whole path segments ("layer1" matches
// "layer1.0.conv1.weight", not "layer10.weight"), or "*" (every parameter).
bool name_matches(const std::string& pattern, const std::string& param);

// `weights` ("" none) or else train.init_from: with `strict`, every tensor must match
// (load_weights); otherwise the tensors that fit are loaded and the rest named in a note to `log`.
void load_initial_weights(Net& net, const TrainSpec& train, const std::string& weights, bool strict,
                          const std::function<void(const std::string&)>& log);

// Freezes what train.freeze / unfreeze name (Net::set_frozen, BN in eval mode with freeze_bn)
// and returns the optimizer over the trainable parameters with train.param_groups' multipliers.
// A pattern that matches no parameter is a ConfigError naming the field.
std::unique_ptr<Optimizer> make_finetune_optimizer(Net& net, const TrainSpec& train,
                                                   const std::function<void(const std::string&)>& log);

}  // namespace cnn
