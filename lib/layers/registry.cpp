#include "layers/registry.h"

#include <algorithm>

#include "layers/layer_args.h"
#include "core/error.h"

namespace cnn {

#define CNN_LAYER(name, factory) std::unique_ptr<Layer> factory(const LayerArgs&);
#include "layers/layer_list.h"
#undef CNN_LAYER

namespace {
struct Entry {
  const char* name;
  std::unique_ptr<Layer> (*factory)(const LayerArgs&);
};
const Entry kLayers[] = {
#define CNN_LAYER(name, factory) {name, factory},
#include "layers/layer_list.h"
#undef CNN_LAYER
};
}  // namespace

bool is_layer_type(const std::string& type) {
  return std::any_of(std::begin(kLayers), std::end(kLayers), [&](const Entry& e) { return type == e.name; });
}

std::vector<std::string> layer_type_names() {
  std::vector<std::string> names;
  for (const auto& e : kLayers) names.emplace_back(e.name);
  std::sort(names.begin(), names.end());
  return names;
}

std::unique_ptr<Layer> make_layer(const LayerArgs& args) {
  for (const auto& e : kLayers)
    if (args.type() == e.name) return e.factory(args);
  std::string known;
  for (const auto& n : layer_type_names()) known += (known.empty() ? "" : ", ") + n;
  std::string hint = closest_match(args.type(), layer_type_names());
  args.fail("unknown layer type '" + args.type() + "'" + (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
            "; known types: " + known);
}

}  // namespace cnn
