// Data-parallel pieces that need no second process (lib/dist/data_parallel.h, the loader's and
// the evaluator's shards): shards partition every batch, their union is the single process's
// batch with the same samples and augmentations, and alone every collective is the identity.
// Several ranks: tests/cli/test_mpi_train.sh (mpirun).
#include <catch2/catch.hpp>
#include <numeric>

#include "core/rng.h"
#include "data/loader.h"
#include "dist/comm.h"
#include "dist/data_parallel.h"

using namespace cnn;

TEST_CASE("dist shard_of splits n items into contiguous shares that differ by at most one") {
  for (int ranks = 1; ranks <= 5; ++ranks) {
    for (int64_t n = 0; n <= 23; ++n) {
      int64_t next = 0, smallest = n, largest = 0;
      for (int r = 0; r < ranks; ++r) {
        const auto [lo, hi] = dist::shard_of(n, r, ranks);
        CHECK(lo == next);
        next = hi;
        smallest = std::min(smallest, hi - lo);
        largest = std::max(largest, hi - lo);
      }
      CHECK(next == n);
      CHECK(largest - smallest <= 1);
    }
  }
}

namespace {

ImageDataset random_images(int64_t n, uint64_t seed) {
  ImageDataset d;
  d.count = n, d.channels = 3, d.height = 8, d.width = 8, d.num_classes = 10;
  Rng rng(seed);
  d.pixels.resize(size_t(n * 3 * 8 * 8));
  for (auto& p : d.pixels) p = uint8_t(rng.below(256));
  for (int64_t i = 0; i < n; ++i) d.labels.push_back(int32_t(i % 10));
  return d;
}

}  // namespace

TEST_CASE("Loader shards of every batch put together are the single process's batch") {
  const MemoryDataset data(random_images(29, 5));
  TransformSpec crop;
  crop.type = "random_crop";
  crop.size = {6};
  crop.pad = 2;
  TransformSpec flip;
  flip.type = "hflip";
  const Pipeline pipeline({crop, flip}, 3, "data.train_transforms");
  std::vector<int64_t> order(29);
  std::iota(order.begin(), order.end(), 0);
  Rng shuffle_rng(3);
  shuffle(order.data(), order.size(), shuffle_rng);
  const int64_t B = 8;  // batches of 8, 8, 8, 5 over 3 ranks: shares of 2-3 and 1-2
  Loader whole(data, pipeline, {3, 6, 6}, {B, 0, 42, false, 0});
  whole.start(1, order);
  const int ranks = 3;
  std::vector<std::unique_ptr<Loader>> shards;
  for (int r = 0; r < ranks; ++r) {
    shards.push_back(std::make_unique<Loader>(data, pipeline, Shape{3, 6, 6}, LoaderOptions{B, r == 1 ? 2 : 0, 42, false, 0, r, ranks}));
    shards.back()->start(1, order);
  }
  int64_t batches = 0;
  while (const Batch* all = whole.next()) {
    std::vector<float> images;
    std::vector<int64_t> indices;
    for (int r = 0; r < ranks; ++r) {
      const Batch* part = shards[size_t(r)]->next();
      REQUIRE(part);
      const auto [lo, hi] = dist::shard_of(all->size, r, ranks);
      CHECK(part->size == hi - lo);
      images.insert(images.end(), part->images.data(), part->images.data() + part->images.numel());
      indices.insert(indices.end(), part->indices.begin(), part->indices.end());
    }
    CHECK(indices == all->indices);
    CHECK(images == std::vector<float>(all->images.data(), all->images.data() + all->images.numel()));
    ++batches;
  }
  CHECK(batches == 4);
  for (auto& s : shards) CHECK(s->next() == nullptr);
}

TEST_CASE("dist collectives alone are the identity") {
  REQUIRE(!dist::active());
  const dist::StepAgreement a = dist::agree_on_step(7, 2);
  CHECK(a.global_n == 7);
  CHECK(a.skipped == 2);
  CHECK_FALSE(a.some_rank_empty);
  CHECK(dist::agree_on_step(0, 3).some_rank_empty);
  CHECK(dist::any_rank(true));
  CHECK_FALSE(dist::any_rank(false));
  EvalResult r;
  r.count = 10, r.correct_top1 = 7, r.correct_top5 = 9, r.loss_sum = 4.0, r.loss = 0.4, r.top1 = 70, r.top5 = 90;
  r.skipped = {"a.png"};
  int64_t skipped = 0;
  dist::reduce_eval(r, skipped);
  CHECK(skipped == 1);
  CHECK(r.count == 10);
  CHECK(r.top1 == 70);
  CHECK(r.loss == 0.4);
}
