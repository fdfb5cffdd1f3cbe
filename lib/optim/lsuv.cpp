#include "optim/lsuv.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "core/rng.h"
#include "data/loader.h"
#include "data/transforms.h"

namespace cnn {

void run_lsuv(Net& net, const Dataset& train_set, const DataSpec& data, uint64_t seed,
              const std::function<void(const std::string&)>& log) {
  const LsuvSpec& o = net.spec().init.lsuv;
  if (!o.enabled || train_set.size() == 0) return;
  const int64_t n = std::min(train_set.size(), o.batch > 0 ? o.batch : data.batch_size);
  std::vector<int64_t> order(static_cast<size_t>(train_set.size()));
  std::iota(order.begin(), order.end(), 0);
  Rng shuffle_rng(hash_keys(seed, 1, 0x5f));  // the trainer's shuffle of epoch 1
  shuffle(order.data(), uint64_t(order.size()), shuffle_rng);
  order.resize(size_t(n));
  const Pipeline pipeline(data.train_transforms, train_set.channels(), "data.train_transforms");
  const Shape sample =
      checked_sample_shape(pipeline, train_set, net.spec().input, name_of(data.dataset), "data.train_transforms");
  // Epoch 1's augmentation of these samples, as the trainer's first batch has it.
  Loader loader(train_set, pipeline, sample, {n, 0, seed, data.bad_images == BadImages::skip, 0});
  loader.start(1, order);
  const Batch* batch = loader.next();
  const auto layers = net.lsuv(batch->images, o.tol, o.iters);
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
