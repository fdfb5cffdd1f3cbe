#pragma once
// Model loading steps shared by load_model_* and the recipe loader (whose `model:` may be a
// path or an inline mapping, and whose `--set model.*` overrides go to the model document).
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/model_spec.h"
#include "config/overrides.h"

namespace cnn::cfg {

// Applies overrides to a model document, using each override's path from segment `first` on
// (1 to skip "model."); `shown_prefix` ("model.") is prepended to keys in messages. Existing
// paths only, except a new argument of a layer or block element (`layers.0.conv.bias=false`),
// `name`/`repeat` of an element, or a top-level key; later checks catch misspelt ones.
void apply_model_overrides(YAML::Node doc, const std::vector<Override>& overrides, size_t first,
                           const std::string& shown_prefix);

// Parses and expands a model document located in `file`. `text` becomes ModelSpec::text;
// `default_name` is used when the document has no `name`.
ModelSpec build_model(const YAML::Node& doc, const std::string& file, const std::string& text,
                      const std::string& default_name);

// The document as YAML text.
std::string emit_yaml(const YAML::Node& doc);

}  // namespace cnn::cfg
