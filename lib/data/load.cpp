#include "data/load.h"

#include <filesystem>
#include <optional>

#include "core/error.h"
#include "data/cifar10.h"
#include "data/csv_dataset.h"
#include "data/image_folder.h"
#include "data/mnist.h"

namespace cnn {

namespace fs = std::filesystem;

namespace {

std::unique_ptr<Dataset> load_image_folder(const DataSpec& spec, const std::string& split, int64_t limit) {
  // Labels come from train/'s class folders, also for val/ (when train/ exists).
  std::vector<std::string> classes;
  if (split != "train") {
    std::error_code ec;
    if (fs::is_directory(fs::path(spec.root) / "train", ec))
      classes = class_folders(spec.root, "train");
  }
  return std::make_unique<ImageFolderDataset>(spec.root, split == "train" ? "train" : "val", classes,
                                              spec.class_names, limit, DecodeLimits{spec.max_image_pixels},
                                              int(spec.channels));
}

std::unique_ptr<Dataset> load_csv(const DataSpec& spec, const std::string& split, int64_t limit) {
  // Labels come from train.csv, also for val.csv (when train.csv exists).
  const fs::path root(spec.root.empty() ? "." : spec.root);
  const std::string train_csv = (root / "train.csv").string();
  std::optional<CsvClasses> classes;
  std::error_code ec;
  if (split != "train" && fs::is_regular_file(train_csv, ec)) classes = csv_classes(read_csv_rows(train_csv), train_csv);
  return std::make_unique<CsvDataset>((root / (split == "train" ? "train.csv" : "val.csv")).string(),
                                      classes ? &*classes : nullptr, limit, int(spec.channels),
                                      DecodeLimits{spec.max_image_pixels});
}

}  // namespace

std::unique_ptr<Dataset> load_dataset(const DataSpec& spec, const std::string& split) {
  const int64_t limit = split == "train" ? spec.train_limit : spec.eval_limit;
  switch (spec.dataset) {
    case DatasetKind::mnist:
    case DatasetKind::fashion_mnist:
      return std::make_unique<MemoryDataset>(load_mnist(spec.root, split == "train" ? "train" : "t10k",
                                                        spec.dataset == DatasetKind::fashion_mnist, limit));
    case DatasetKind::cifar10: return std::make_unique<MemoryDataset>(load_cifar10(spec.root, split, limit));
    case DatasetKind::image_folder: return load_image_folder(spec, split, limit);
    case DatasetKind::csv: return load_csv(spec, split, limit);
  }
  throw ConfigError("data.dataset: no loader for dataset value " + std::to_string(int(spec.dataset)));
}

}  // namespace cnn
