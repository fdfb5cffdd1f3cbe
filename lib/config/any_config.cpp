#include "config/any_config.h"

#include <fstream>

#include <yaml-cpp/yaml.h>

#include "config/recipe.h"
#include "core/error.h"

namespace cnn {

ModelSpec load_model_or_recipe(const std::string& path, const std::vector<std::string>& overrides) {
  std::optional<DatasetKind> dataset;
  return load_model_or_recipe(path, overrides, dataset);
}

ModelSpec load_model_or_recipe(const std::string& path, const std::vector<std::string>& overrides,
                               std::optional<DatasetKind>& dataset) {
  AnyConfig c = load_any_config(path, overrides);
  dataset = c.recipe ? std::optional(c.recipe->data.dataset) : std::nullopt;
  return std::move(c.model);
}

AnyConfig load_any_config(const std::string& path, const std::vector<std::string>& overrides) {
  bool is_model = true;
  try {
    YAML::Node doc = YAML::LoadFile(path);
    is_model = !doc.IsMap() || doc["layers"] || !doc["model"];
  } catch (const YAML::Exception&) {
    // let the model loader report the problem with file:line:col
  }
  if (is_model) return {load_model_file(path, overrides), std::nullopt};
  std::vector<std::string> recipe_overrides;
  for (const auto& o : overrides) {
    const std::string key = o.substr(0, o.find('='));
    const bool recipe_key = key.rfind("model.", 0) == 0 || key.rfind("data.", 0) == 0 ||
                            key.rfind("train.", 0) == 0 || key == "output" || key == "model";
    recipe_overrides.push_back(recipe_key ? o : "model." + o);
  }
  AnyConfig c;
  c.recipe = load_recipe_file(path, recipe_overrides);
  c.model = c.recipe->model;
  return c;
}

}  // namespace cnn
