#include "data/loader_bench.h"

#include <chrono>
#include <numeric>

#include "core/rng.h"
#include "data/load.h"
#include "data/loader.h"
#include "data/transforms.h"

namespace cnn {

LoaderBenchResult bench_loader(const Recipe& recipe, int64_t epochs, double min_seconds) {
  using Clock = std::chrono::steady_clock;
  const DataSpec& ds = recipe.data;
  const std::unique_ptr<Dataset> data = load_dataset(ds, "train");
  const Pipeline pipeline(ds.train_transforms, data->channels(), "data.train_transforms");
  const Shape sample = checked_sample_shape(pipeline, *data, recipe.model.input, name_of(ds.dataset),
                                            "data.train_transforms");
  Loader loader(*data, pipeline, sample, {ds.batch_size, ds.workers, recipe.train.seed, ds.bad_images == BadImages::skip, 0});
  std::vector<int64_t> order(size_t(data->size()));
  LoaderBenchResult r;
  double checksum = 0;  // reads every batch so nothing can be skipped
  auto run_epoch = [&](int64_t epoch) {
    std::iota(order.begin(), order.end(), 0);
    Rng rng(hash_keys(recipe.train.seed, uint64_t(epoch), 0x5f));
    shuffle(order.data(), order.size(), rng);
    loader.start(uint64_t(epoch), order);
    int64_t n = 0;
    while (const Batch* b = loader.next()) {
      n += b->size;
      r.skipped += int64_t(b->skipped.size());
      if (b->size) checksum += b->images[0];
    }
    return n;
  };
  run_epoch(1);  // warm-up: file cache, thread start, buffers
  r.skipped = 0;
  const auto t0 = Clock::now();
  for (int64_t e = 2;; ++e) {
    r.images += run_epoch(e);
    ++r.epochs;
    r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    if (r.epochs >= epochs && r.seconds >= min_seconds) break;
  }
  r.images_per_s = r.seconds > 0 ? double(r.images) / r.seconds : 0;
  if (checksum == 12345.678) r.images_per_s += 0;  // keeps `checksum` alive
  return r;
}

}  // namespace cnn
