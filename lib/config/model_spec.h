#pragma once
// A model config expanded into a flat DAG: blocks instantiated, repeats unrolled, branches
// joined by merge nodes, every node named by its hierarchical path. graph/ builds a Net from it.
#include <string>
#include <vector>

#include "config/layer_args.h"
#include "core/tensor.h"

namespace cnn {

struct NodeSpec {
  std::string name;          // hierarchical path, e.g. "layer1.0.conv1"; parameters are "<name>.weight"
  std::string type;          // registry name: "conv", "relu", "add", "concat", ...
  LayerArgs args;            // path() == name, type() == type
  std::vector<int> inputs;   // indices of earlier nodes; -1 is the network input
};

struct ModelSpec {
  std::string name;
  std::string file;          // source file ("" for a string)
  std::string text;          // the YAML text it was parsed from
  Shape input;               // per-sample shape, e.g. {1, 28, 28}
  std::vector<NodeSpec> nodes;  // topological order; the last node is the output
};

// Parses and expands a model YAML file / string. Throws ConfigError with file:line:col and the
// layer path for every problem: syntax, unknown keys, unknown layer or block names (listing the
// known ones), bad block arguments, unresolved $references.
// `overrides`: dotted `key=value` pairs applied to the model document before expansion
// (e.g. "input=[3,64,64]" or "blocks.fire.args.s=8"); an unknown path is an error.
ModelSpec load_model_file(const std::string& path, const std::vector<std::string>& overrides = {});
ModelSpec load_model_string(const std::string& yaml_text, const std::string& name_for_errors,
                            const std::vector<std::string>& overrides = {});

}  // namespace cnn
