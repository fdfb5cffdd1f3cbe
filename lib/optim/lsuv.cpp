#include "optim/lsuv.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "core/rng.h"
#include "data/batch.h"

namespace cnn {

void run_lsuv(Net& net, const ImageDataset& train_set, const DataSpec& data, uint64_t seed,
              const std::function<void(const std::string&)>& log) {
  const LsuvSpec& o = net.spec().init.lsuv;
  if (!o.enabled || train_set.count == 0) return;
  const int64_t n = std::min(train_set.count, o.batch > 0 ? o.batch : data.batch_size);
  std::vector<int64_t> order(static_cast<size_t>(train_set.count));
  std::iota(order.begin(), order.end(), 0);
  Rng shuffle_rng(hash_keys(seed, 1, 0x5f));  // the trainer's shuffle of epoch 1
  shuffle(order.data(), uint64_t(order.size()), shuffle_rng);
  Tensor images;
  std::vector<int32_t> labels;
  make_batch(train_set, order.data(), n, data.train_transforms, images, labels);
  const auto layers = net.lsuv(images, o.tol, o.iters);
  double worst = 0;
  std::string worst_name;
  int64_t scalings = 0;
  for (const auto& l : layers) {
    scalings += l.scalings;
    if (std::fabs(l.variance - 1) >= worst) worst = std::fabs(l.variance - 1), worst_name = l.name;
  }
  if (log)
    log(fmt::format("lsuv: {} layers on {} images, {} rescalings; largest |var - 1| = {:.3g}{}", layers.size(), n,
                    scalings, worst, worst_name.empty() ? "" : " (" + worst_name + ")"));
}

}  // namespace cnn
