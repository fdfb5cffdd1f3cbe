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

std::vector<std::string> builtin_class_names(const std::string& dataset) {
  if (dataset == "mnist" || dataset == "fashion_mnist") return mnist_class_names(dataset == "fashion_mnist");
  if (dataset == "cifar10")
    return {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
  return {};
}

std::vector<std::string> resolve_class_names(const std::string& file, const std::string& checkpoint,
                                             const std::string& dataset) {
  if (!file.empty()) return read_class_names_file(file);
  if (!checkpoint.empty()) {
    std::vector<std::string> names = read_checkpoint_meta(checkpoint).class_names;
    if (!names.empty()) return names;
  }
  return builtin_class_names(dataset);
}

}  // namespace cnn
