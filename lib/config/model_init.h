#pragma once
// The model's top-level `init:` section (docs/config.md "Initialization"): schemes by parameter
// kind (conv, linear, bias, bn), per-layer overrides, and LSUV.
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/model_spec.h"

namespace cnn::cfg {

// The scheme names, in the order the docs list them.
const std::vector<std::string>& init_scheme_names();

// Parses `init:` (an undefined or null node gives an empty InitSpec). `nodes` are the expanded
// model's nodes: per-layer keys must name one of them ("fc") or a parameter of one ("fc.bias").
// Errors are ConfigErrors at file:line:col naming the dotted field ("init.layers.fc").
InitSpec parse_init(const YAML::Node& init, const std::string& file, const std::vector<NodeSpec>& nodes);

}  // namespace cnn::cfg
