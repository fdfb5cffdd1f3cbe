#pragma once
// The model's class count against the dataset's: a model with a `classes` argument the recipe
// does not set gets the dataset's count (timm's --num-classes); any other mismatch is an error
// saying how to set it.
#include <cstdint>
#include <string>

#include "config/recipe.h"
#include "graph/net.h"

namespace cnn {

// with_model_classes(recipe, classes); `note` receives a line saying what was set ("" if nothing).
Recipe fit_model_to_classes(const Recipe& recipe, int64_t classes, std::string& note);

// Throws ConfigError unless `net` ends in N x `classes` logits.
void check_model_classes(const Net& net, const Recipe& recipe, int64_t classes);

}  // namespace cnn
