#include "data/load.h"

#include <filesystem>

#include "core/error.h"
#include "data/cifar10.h"
#include "data/image_folder.h"
#include "data/mnist.h"

namespace cnn {

std::unique_ptr<Dataset> load_dataset(const DataSpec& spec, const std::string& split) {
  const int64_t limit = split == "train" ? spec.train_limit : spec.eval_limit;
  if (spec.dataset == "mnist" || spec.dataset == "fashion_mnist")
    return std::make_unique<MemoryDataset>(
        load_mnist(spec.root, split == "train" ? "train" : "t10k", spec.dataset == "fashion_mnist", limit));
  if (spec.dataset == "cifar10") return std::make_unique<MemoryDataset>(load_cifar10(spec.root, split, limit));
  if (spec.dataset == "image_folder") {
    // Labels come from train/'s class folders, also for val/ (when train/ exists).
    std::vector<std::string> classes;
    if (split != "train") {
      std::error_code ec;
      if (std::filesystem::is_directory(std::filesystem::path(spec.root) / "train", ec))
        classes = class_folders(spec.root, "train");
    }
    return std::make_unique<ImageFolderDataset>(spec.root, split == "train" ? "train" : "val", classes,
                                                spec.class_names, limit, DecodeLimits{spec.max_image_pixels});
  }
  throw ConfigError("data.dataset: unsupported dataset '" + spec.dataset +
                    "' (supported: mnist, fashion_mnist, cifar10, image_folder)");
}

}  // namespace cnn
