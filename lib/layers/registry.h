#pragma once
// The one table of layer types by config name. Adding a layer: one file in layers/ and one line
// in registry.cpp.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "layers/layer.h"

namespace cnn {

class LayerArgs;

// Builds a layer from its arguments; reads every key it accepts, then args.finish().
using LayerFactory = std::function<std::unique_ptr<Layer>(const LayerArgs&)>;

bool is_layer_type(const std::string& type);
std::vector<std::string> layer_type_names();  // sorted
// Throws ConfigError listing the known types when `args.type()` is unknown.
std::unique_ptr<Layer> make_layer(const LayerArgs& args);

}  // namespace cnn
