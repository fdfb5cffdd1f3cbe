#pragma once
// Class names for predictions and exported models: from a names file, a checkpoint's metadata
// (the training set's names), or the dataset a recipe names.
#include <optional>
#include <string>
#include <vector>

#include "config/recipe.h"

namespace cnn {

// One name per line (blank lines skipped); throws RuntimeError naming the file when unreadable.
std::vector<std::string> read_class_names_file(const std::string& path);

// The fixed names of mnist, fashion_mnist and cifar10; empty for other datasets (image_folder's
// come from its directories, which a checkpoint records).
std::vector<std::string> builtin_class_names(DatasetKind dataset);

// The first non-empty of: the names file (if `file` is not empty), the checkpoint's recorded
// names (if `checkpoint` is not empty and has them), the dataset's built-in names (if given).
std::vector<std::string> resolve_class_names(const std::string& file, const std::string& checkpoint,
                                             std::optional<DatasetKind> dataset);

}  // namespace cnn
