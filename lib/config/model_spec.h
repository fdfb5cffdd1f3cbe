#pragma once
// A model config expanded into a flat DAG: blocks instantiated, repeats unrolled, branches
// joined by merge nodes, every node named by its hierarchical path. graph/ builds a Net from it.
#include <string>
#include <vector>

#include "core/tensor.h"
#include "layers/init_scheme.h"
#include "layers/layer_args.h"

namespace cnn {

struct NodeSpec {
  std::string name;          // hierarchical path, e.g. "layer1.0.conv1"; parameters are "<name>.weight"
  std::string type;          // registry name: "conv", "relu", "add", "concat", ...
  LayerArgs args;            // path() == name, type() == type
  std::vector<int> inputs;   // indices of earlier nodes; -1 is the network input
};

// A side output (GoogLeNet/Inception auxiliary classifier): trained with a weighted loss,
// skipped at eval and export.
struct HeadSpec {
  std::string name;   // the element's path, e.g. "aux1"
  int node = -1;      // the node whose output is the head's logits
  double weight = 0;  // loss weight
};

struct LsuvSpec {            // Mishkin & Matas 2015; the trainer runs it once before epoch 1
  bool enabled = false;
  int64_t batch = 0;         // the first N images of epoch 1's order (0: data.batch_size)
  double tol = 0.1;          // done when |Var(output) - 1| < tol
  int64_t iters = 10;        // at most this many measurements per layer
};

struct InitSpec {
  InitScheme conv, linear, bias, bn;  // by parameter kind: conv / linear weights, their biases, BN gammas
  std::vector<std::pair<std::string, InitScheme>> layers;  // "<node>" (its weight) or "<node>.<param>"
  LsuvSpec lsuv;
  bool empty() const { return !conv.set() && !linear.set() && !bias.set() && !bn.set() && layers.empty() && !lsuv.enabled; }
};

struct ModelSpec {
  std::string name;
  std::string file;          // source file ("" for a string)
  std::string text;          // the YAML text it was parsed from
  Shape input;               // per-sample shape, e.g. {1, 28, 28}
  std::vector<NodeSpec> nodes;  // topological order; the last node is the output
  std::vector<HeadSpec> heads;  // side outputs, in order
  InitSpec init;             // top-level `init:` (empty: PyTorch's defaults)
  // The model's own `args:` after overrides (`classes`, MobileNet's `alpha`), in declaration order.
  std::vector<std::pair<std::string, std::vector<std::string>>> args;
  bool has_arg(const std::string& name) const;
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
