// The batch loader: batches depend only on (seed, epoch, sample index), never on the number of
// worker threads; resuming mid-epoch gives the same batches; unreadable samples are skipped or
// fatal, naming the file, the same way with any number of workers.
#include <catch2/catch.hpp>
#include <cstring>
#include <numeric>

#include "config/recipe.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "data/loader.h"

using namespace cnn;

namespace {

ImageDataset random_images(int64_t n, int64_t c, int64_t h, int64_t w, uint64_t seed) {
  ImageDataset d;
  d.count = n, d.channels = c, d.height = h, d.width = w, d.num_classes = 10;
  Rng rng(seed);
  d.pixels.resize(size_t(n * c * h * w));
  for (auto& p : d.pixels) p = uint8_t(rng.below(256));
  for (int64_t i = 0; i < n; ++i) d.labels.push_back(int32_t(i % 10));
  return d;
}

TransformSpec spec(const std::string& type) {
  TransformSpec t;
  t.type = type;
  return t;
}

std::vector<TransformSpec> augmenting_pipeline() {
  TransformSpec crop = spec("random_crop");
  crop.size = {6};
  crop.pad = 2;
  TransformSpec flip = spec("hflip");
  TransformSpec jitter = spec("color_jitter");
  jitter.brightness[0] = 0.6, jitter.brightness[1] = 1.4;
  jitter.saturation[0] = 0.5, jitter.saturation[1] = 1.5;
  TransformSpec norm = spec("normalize");
  norm.mean = {0.5, 0.4, 0.3};
  norm.std = {0.2, 0.25, 0.3};
  TransformSpec erase = spec("random_erasing");
  erase.scale[0] = 0.02, erase.scale[1] = 0.33, erase.ratio[0] = 0.3, erase.ratio[1] = 3.3;
  return {crop, flip, jitter, norm, erase};
}

struct EpochData {
  std::vector<std::vector<float>> images;
  std::vector<std::vector<int32_t>> labels;
};

EpochData run_epoch(Loader& loader, uint64_t epoch, const std::vector<int64_t>& order, int64_t first = 0) {
  EpochData out;
  loader.start(epoch, order, first);
  while (const Batch* b = loader.next()) {
    out.images.emplace_back(b->images.data(), b->images.data() + b->images.numel());
    out.labels.push_back(b->labels);
  }
  return out;
}

// Fails sample i when i % 7 == 3, like a corrupt file.
class FlakyDataset : public Dataset {
 public:
  explicit FlakyDataset(ImageDataset d) : mem_(std::move(d)) {}
  int64_t size() const override { return mem_.size(); }
  int32_t label(int64_t i) const override { return mem_.label(i); }
  int num_classes() const override { return mem_.num_classes(); }
  const std::vector<std::string>& class_names() const override { return mem_.class_names(); }
  int64_t channels() const override { return mem_.channels(); }
  int64_t height() const override { return mem_.height(); }
  int64_t width() const override { return mem_.width(); }
  std::string sample_name(int64_t i) const override { return "img" + std::to_string(i) + ".jpg"; }
  void read(int64_t i, Image& out) const override {
    if (i % 7 == 3) throw BadSampleError(sample_name(i) + ": corrupt JPEG data");
    mem_.read(i, out);
  }

 private:
  MemoryDataset mem_;
};

}  // namespace

TEST_CASE("loader: batches are identical for 0, 1, 2 and 5 workers, and differ between epochs", "[data][loader]") {
  set_num_threads(2);
  const MemoryDataset data(random_images(53, 3, 8, 8, 7));
  const Pipeline pipeline(augmenting_pipeline(), 3, "t");
  std::vector<int64_t> order(53);
  std::iota(order.begin(), order.end(), 0);
  Rng rng(3);
  shuffle(order.data(), order.size(), rng);
  std::vector<EpochData> e1, e2;
  for (int64_t workers : {0, 1, 2, 5}) {
    Loader loader(data, pipeline, {3, 6, 6}, {8, workers, 42, false, 0});
    e1.push_back(run_epoch(loader, 1, order));
    e2.push_back(run_epoch(loader, 2, order));
    REQUIRE(loader.batches() == 7);
  }
  REQUIRE(e1[0].images.size() == 7);
  CHECK(e1[0].images.back().size() == size_t(5 * 3 * 36));  // 53 = 6 * 8 + 5
  for (size_t w = 1; w < e1.size(); ++w) {
    CHECK(e1[w].images == e1[0].images);
    CHECK(e1[w].labels == e1[0].labels);
    CHECK(e2[w].images == e2[0].images);
  }
  CHECK(e1[0].labels == e2[0].labels);   // same order
  CHECK(e1[0].images != e2[0].images);   // other augmentations
  // The labels follow the order.
  for (size_t b = 0; b < 7; ++b)
    for (size_t i = 0; i < e1[0].labels[b].size(); ++i) CHECK(e1[0].labels[b][i] == int32_t(order[b * 8 + i] % 10));
  // A sample's result does not depend on its batch: the same sample in another position.
  std::vector<int64_t> reversed(order.rbegin(), order.rend());
  Loader loader(data, pipeline, {3, 6, 6}, {8, 2, 42, false, 0});
  const EpochData r = run_epoch(loader, 1, reversed);
  const size_t S = 3 * 36;
  for (size_t i = 0; i < 53; ++i) {
    const size_t j = 52 - i;  // position of the same sample in `reversed`
    const float* a = e1[0].images[i / 8].data() + (i % 8) * S;
    const float* b = r.images[j / 8].data() + (j % 8) * S;
    CHECK(std::memcmp(a, b, S * sizeof(float)) == 0);
  }
}

TEST_CASE("loader: starting at batch k gives the epoch's batches from k on, abandoning an epoch is safe",
          "[data][loader]") {
  const MemoryDataset data(random_images(40, 3, 8, 8, 9));
  const Pipeline pipeline(augmenting_pipeline(), 3, "t");
  std::vector<int64_t> order(40);
  std::iota(order.begin(), order.end(), 0);
  for (int64_t workers : {0, 3}) {
    Loader loader(data, pipeline, {3, 6, 6}, {4, workers, 5, false, 0});
    const EpochData full = run_epoch(loader, 3, order);
    loader.start(3, order, 0);
    loader.next();  // abandoned after one batch, with workers still filling ahead
    const EpochData tail = run_epoch(loader, 3, order, 6);
    REQUIRE(tail.images.size() == 4);
    for (size_t b = 0; b < 4; ++b) CHECK(tail.images[b] == full.images[b + 6]);
  }
}

TEST_CASE("loader: unreadable samples are left out (skip) or stop the run naming the file (fatal)",
          "[data][loader][errors]") {
  const FlakyDataset data(random_images(30, 3, 6, 6, 1));
  TransformSpec norm = spec("normalize");
  norm.mean = {0.5};
  norm.std = {0.5};
  const Pipeline pipeline({norm}, 3, "t");
  std::vector<int64_t> order(30);
  std::iota(order.begin(), order.end(), 0);
  EpochData first;
  for (int64_t workers : {0, 2}) {
    Loader skip(data, pipeline, {3, 6, 6}, {10, workers, 1, true, 0});
    skip.start(1, order);
    std::vector<std::string> skipped;
    std::vector<int64_t> sizes;
    EpochData got;
    while (const Batch* b = skip.next()) {
      sizes.push_back(b->size);
      skipped.insert(skipped.end(), b->skipped.begin(), b->skipped.end());
      got.labels.push_back(b->labels);
      got.images.emplace_back(b->images.data(), b->images.data() + b->images.numel());
      CHECK(b->images.dim(0) == b->size);
    }
    // Samples 3, 10, 17, 24 are bad: batches of 10 lose 1, 2, 1.
    CHECK(sizes == std::vector<int64_t>{9, 8, 9});
    CHECK(skipped == std::vector<std::string>{"img3.jpg: corrupt JPEG data", "img10.jpg: corrupt JPEG data",
                                              "img17.jpg: corrupt JPEG data", "img24.jpg: corrupt JPEG data"});
    CHECK(got.labels[0] == std::vector<int32_t>{0, 1, 2, 4, 5, 6, 7, 8, 9});
    if (workers == 0) first = got;
    else CHECK(got.images == first.images);

    Loader fatal(data, pipeline, {3, 6, 6}, {10, workers, 1, false, 0});
    fatal.start(1, order);
    try {
      fatal.next();
      FAIL("no error");
    } catch (const BadSampleError& e) {
      CHECK(std::string(e.what()) ==
            "img3.jpg: corrupt JPEG data (set data.bad_images: skip to leave unreadable images out)");
    }
  }
}

TEST_CASE("loader: a sample of the wrong size after the transforms names the sample", "[data][loader][errors]") {
  const MemoryDataset data(random_images(4, 3, 8, 8, 1));
  const Pipeline pipeline({}, 3, "t");
  Loader loader(data, pipeline, {3, 6, 6}, {2, 0, 1, false, 0});
  loader.start(1, {0, 1, 2, 3});
  CHECK_THROWS_WITH(loader.next(),
                    "sample 0: after the transforms the image is 3x8x8 (C x H x W), the model expects 3x6x6");
  Shape s;
  CHECK_THROWS_WITH(s = checked_sample_shape(pipeline, data, {3, 6, 6}, "cifar10", "data.train_transforms"),
                    "data.train_transforms: samples of dataset 'cifar10' come out 3x8x8 but the model input is 3x6x6 "
                    "(set the model's input or change the transforms)");
}
