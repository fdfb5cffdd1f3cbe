#pragma once
// The `data.train_transforms` / `data.eval_transforms` lists of a recipe: parsing with errors at
// file:line:col naming the dotted field, and emitting them back (the resolved recipe reloads to the
// same specs).
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/recipe.h"

namespace cnn::cfg {

// Every transform name, in the order docs/config.md lists them.
const std::vector<std::string>& transform_names();

// True for transforms that work on 8-bit HWC images (before the conversion to float).
bool is_byte_transform(const std::string& type);

// True for the automatic augmentation policies (randaugment, trivialaugment, autoaugment).
bool is_auto_augment(const std::string& type);

// `data[key]` as a transform list ("" or null: empty). `path` is "data.<key>".
std::vector<TransformSpec> parse_transforms(const YAML::Node& data, const std::string& key, const std::string& file);

void emit_transforms(YAML::Emitter& e, const std::vector<TransformSpec>& transforms);

}  // namespace cnn::cfg
