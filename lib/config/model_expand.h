#pragma once
// Expansion of a model document's `layers` into the flat node list of a ModelSpec: blocks
// instantiated with their arguments, `$` expressions substituted, repeats unrolled, branches
// joined by merge nodes, every node named by its path (docs/config.md, "Naming").
#include <map>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/model_spec.h"

namespace cnn::cfg {

struct BlockDef {
  std::string name;
  YAML::Node body;                            // the mapping: args, layers, branches, merge, then
  std::vector<std::string> arg_names;         // in declaration order
  std::map<std::string, ArgValue> defaults;   // an argument without a default (null) is required
  SourceLoc loc;
};

// Keys of an element mapping besides its layer type, and of a branch group / block body.
inline const std::vector<std::string> kElementMetaKeys = {"name", "repeat", "head", "splice", "repeat_from", "scope"};
inline const std::vector<std::string> kGroupKeys = {"layers", "branches", "merge", "then"};
// Beside `merge: add`: stochastic depth on the first (residual) branch, `{merge: add, drop_path: 0.1}`.
inline const std::string kMergeDropPath = "drop_path";

// Expands `layers` (a sequence) of a document located in `file`.
// `heads` receives the side outputs marked with `head: <loss weight>`. `model_args` (name ""):
// the model's own `args:`, the variables of the top-level elements.
std::vector<NodeSpec> expand_layers(const YAML::Node& layers, const std::string& file,
                                    const std::map<std::string, BlockDef>& blocks, std::vector<HeadSpec>* heads = nullptr,
                                    const BlockDef* model_args = nullptr);

}  // namespace cnn::cfg
