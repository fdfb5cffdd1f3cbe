#include "data/load.h"

#include "core/error.h"
#include "data/mnist.h"

namespace cnn {

ImageDataset load_dataset(const DataSpec& spec, const std::string& split) {
  const int64_t limit = split == "train" ? spec.train_limit : spec.eval_limit;
  if (spec.dataset == "mnist" || spec.dataset == "fashion_mnist")
    return load_mnist(spec.root, split == "train" ? "train" : "t10k", spec.dataset == "fashion_mnist", limit);
  throw ConfigError("data.dataset: unsupported dataset '" + spec.dataset + "' (supported: mnist, fashion_mnist)");
}

}  // namespace cnn
