#pragma once
// Opens the dataset a recipe names.
#include "config/recipe.h"
#include "data/dataset.h"

namespace cnn {

// split: "train" or "test". Applies data.train_limit / data.eval_limit.
ImageDataset load_dataset(const DataSpec& spec, const std::string& split);

}  // namespace cnn
