#include "train/class_names.h"

#include <fstream>

#include "core/error.h"
#include "data/mnist.h"
#include "train/checkpoint.h"

namespace cnn {

std::vector<std::string> read_class_names_file(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw RuntimeError(path + ": cannot open the class names file (one name per line)");
  std::vector<std::string> names;
  for (std::string line; std::getline(f, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) names.push_back(line);
  }
  return names;
}

std::vector<std::string> builtin_class_names(DatasetKind dataset) {
  switch (dataset) {
    case DatasetKind::mnist: return mnist_class_names(false);
    case DatasetKind::fashion_mnist: return mnist_class_names(true);
    case DatasetKind::cifar10:
      return {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
    case DatasetKind::image_folder:
    case DatasetKind::csv: break;
  }
  return {};
}

std::vector<std::string> resolve_class_names(const std::string& file, const std::string& checkpoint,
                                             std::optional<DatasetKind> dataset) {
  if (!file.empty()) return read_class_names_file(file);
  if (!checkpoint.empty()) {
    std::vector<std::string> names = read_checkpoint_meta(checkpoint).class_names;
    if (!names.empty()) return names;
  }
  return dataset ? builtin_class_names(*dataset) : std::vector<std::string>{};
}

}  // namespace cnn
