#pragma once
// Commands that take "a model or a recipe" (summary, bench) load either: a document with a
// top-level `layers` key is a model; otherwise it is a recipe and its model is used.
#include <optional>
#include <string>
#include <vector>

#include "config/model_spec.h"
#include "config/recipe.h"

namespace cnn {

struct AnyConfig {
  ModelSpec model;
  std::optional<Recipe> recipe;  // set when the file is a recipe (its model is `model`)
};
AnyConfig load_any_config(const std::string& path, const std::vector<std::string>& overrides);

// `overrides` use model paths for a model file (input=[...]) and recipe paths for a recipe
// (model.input=[...]); a model-relative override like "input=..." given for a recipe is applied
// to its model.
ModelSpec load_model_or_recipe(const std::string& path, const std::vector<std::string>& overrides);

// The same, and the recipe's dataset (none for a model file), e.g. for its class names.
ModelSpec load_model_or_recipe(const std::string& path, const std::vector<std::string>& overrides,
                               std::optional<DatasetKind>& dataset);

}  // namespace cnn
