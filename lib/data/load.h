#pragma once
// Opens the dataset a recipe names.
#include <memory>

#include "config/recipe.h"
#include "data/dataset.h"

namespace cnn {

// split: "train" or "test" (image_folder: the train/ and val/ folders). Applies data.train_limit /
// data.eval_limit.
std::unique_ptr<Dataset> load_dataset(const DataSpec& spec, const std::string& split);

}  // namespace cnn
