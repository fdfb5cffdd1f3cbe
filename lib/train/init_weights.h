#pragma once
// Starting a training run from other weights (--weights, train.init_from): every tensor of the
// file that fits the model is loaded; the ones whose shape differs (a classifier for another
// class count) or that are missing keep their fresh initialization and are named in one note.
// Keys can be renamed by prefix first (train.weights_map), for state_dicts from other code.
#include <string>
#include <utility>
#include <vector>

#include "graph/net.h"

namespace cnn {

struct WeightsReport {
  int64_t loaded = 0;                  // tensors copied into the model
  std::vector<std::string> misshaped;  // "fc.weight [1000, 512], the model has [5, 512]"
  std::vector<std::string> missing;    // model tensors the file lacks
  std::vector<std::string> unused;     // file tensors the model lacks (after renaming)
  // One line naming what was left fresh and what was ignored; "" when everything matched.
  std::string note(const std::string& path) const;
};

// `weights_map`: (from, to) prefixes; a key starting with `from` gets `to` instead (the first
// match applies). "optimizer.*" entries are ignored. Throws ConfigError when no tensor fits (the
// wrong file, or keys that need a weights_map).
WeightsReport load_fitting_weights(const std::string& path, Net& net,
                                   const std::vector<std::pair<std::string, std::string>>& weights_map);

// The key after the first matching prefix rename.
std::string mapped_key(const std::string& key, const std::vector<std::pair<std::string, std::string>>& weights_map);

}  // namespace cnn
