// RandAugment / TrivialAugmentWide / AutoAugment choices: drawn from the sample's Rng only
// (deterministic, the same with any number of loader workers), covering every op, sign and bin,
// and the pipeline applies exactly the drawn steps. (Pixels against torchvision:
// test_augment_reference.cpp.)
#include <catch2/catch.hpp>
#include <numeric>
#include <set>

#include "core/parallel.h"
#include "core/rng.h"
#include "data/auto_augment.h"
#include "data/loader.h"
#include "data/transforms.h"

using namespace cnn;

namespace {

TransformSpec spec(const std::string& type) {
  TransformSpec t;
  t.type = type;
  return t;
}

Image random_image(int64_t h, int64_t w, int64_t c, uint64_t seed) {
  Image img;
  img.reshape(h, w, c);
  Rng rng(seed);
  for (int64_t i = 0; i < img.numel(); ++i) img.pixels[size_t(i)] = uint8_t(rng.below(256));
  return img;
}

bool same_steps(const std::vector<AugmentStep>& a, const std::vector<AugmentStep>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].op != b[i].op || a[i].magnitude != b[i].magnitude) return false;
  return true;
}

}  // namespace

TEST_CASE("auto augment: choices come from the Rng alone and cover every op, sign and bin", "[data][augment]") {
  TransformSpec ra = spec("randaugment"), ta = spec("trivialaugment"), aa = spec("autoaugment");
  ra.num_ops = 3;
  aa.policy = AutoAugmentPolicy::cifar10;
  for (const TransformSpec* t : {&ra, &ta, &aa}) {
    INFO(t->type);
    std::set<int> ops;
    std::set<double> magnitudes;
    bool negative = false, positive = false;
    std::vector<AugmentStep> a, b;
    for (uint64_t seed = 0; seed < 3000; ++seed) {
      Rng r1(seed), r2(seed);
      choose_augment_steps(*t, 32, 32, r1, a);
      choose_augment_steps(*t, 32, 32, r2, b);
      REQUIRE(same_steps(a, b));
      if (t->type == "randaugment") REQUIRE(a.size() == 3);
      if (t->type == "trivialaugment") REQUIRE(a.size() == 1);
      if (t->type == "autoaugment") REQUIRE(a.size() <= 2);
      for (const AugmentStep& s : a) {
        ops.insert(int(s.op));
        magnitudes.insert(s.magnitude);
        negative |= s.magnitude < 0;
        positive |= s.magnitude > 0 && augment_op_signed(s.op);
      }
    }
    CHECK(negative);
    CHECK(positive);
    if (t->type != "autoaugment") {
      CHECK(ops.size() == size_t(kRandAugmentOps));  // identity .. equalize, never invert
      CHECK(ops.count(int(AugmentOp::invert)) == 0);
    } else {
      CHECK(ops.size() == 13);  // the CIFAR-10 policy: every op but identity and ShearX
    }
    // RandAugment: one magnitude per op (and its negative); TrivialAugmentWide: every bin.
    if (t->type == "trivialaugment") CHECK(magnitudes.count(135.0) + magnitudes.count(-135.0) >= 1);
    if (t->type == "randaugment") CHECK(magnitudes.count(9.0) + magnitudes.count(-9.0) >= 1);  // Rotate bin 9 of 31
  }
  // Different seeds give different choices.
  std::vector<AugmentStep> a, b;
  Rng r1(1), r2(2);
  choose_augment_steps(ra, 32, 32, r1, a);
  choose_augment_steps(ra, 32, 32, r2, b);
  CHECK_FALSE(same_steps(a, b));
}

TEST_CASE("auto augment: the pipeline applies the steps drawn from the sample's Rng, size unchanged", "[data][augment]") {
  for (const std::string type : {"randaugment", "trivialaugment", "autoaugment"}) {
    INFO(type);
    const Pipeline p({spec(type)}, 3, "t");
    CHECK(p.output_shape(21, 17) == Shape{3, 21, 17});
    int changed = 0;
    for (uint64_t seed = 0; seed < 40; ++seed) {
      const Image src = random_image(21, 17, 3, seed);
      Image got = src, want = src, tmp;
      TransformScratch s;
      Rng r1(seed), r2(seed);
      p.apply_bytes(got, s, r1);
      std::vector<AugmentStep> steps;
      choose_augment_steps(spec(type), 21, 17, r2, steps);
      for (const AugmentStep& st : steps) apply_augment_step(st, want, tmp);
      REQUIRE(got.height == 21);
      REQUIRE(got.width == 17);
      CHECK(std::equal(got.pixels.begin(), got.pixels.begin() + got.numel(), want.pixels.begin()));
      changed += !std::equal(got.pixels.begin(), got.pixels.begin() + got.numel(), src.pixels.begin());
    }
    CHECK(changed > 10);
  }
}

TEST_CASE("auto augment: loader batches are identical for 0, 1 and 3 workers", "[data][augment][loader]") {
  set_num_threads(2);
  ImageDataset d;
  d.count = 37, d.channels = 3, d.height = 12, d.width = 12, d.num_classes = 10;
  Rng rng(5);
  d.pixels.resize(size_t(37 * 3 * 12 * 12));
  for (auto& px : d.pixels) px = uint8_t(rng.below(256));
  for (int64_t i = 0; i < 37; ++i) d.labels.push_back(int32_t(i % 10));
  const MemoryDataset data(std::move(d));
  std::vector<int64_t> order(37);
  std::iota(order.begin(), order.end(), 0);
  for (const std::string type : {"randaugment", "trivialaugment", "autoaugment"}) {
    INFO(type);
    TransformSpec norm = spec("normalize");
    norm.mean = {0.5}, norm.std = {0.25};
    const Pipeline pipeline({spec("hflip"), spec(type), norm}, 3, "t");
    std::vector<std::vector<float>> first;
    for (int64_t workers : {0, 1, 3}) {
      Loader loader(data, pipeline, {3, 12, 12}, {8, workers, 42, false, 0});
      std::vector<std::vector<float>> images;
      loader.start(1, order, 0);
      while (const Batch* b = loader.next()) images.emplace_back(b->images.data(), b->images.data() + b->images.numel());
      if (workers == 0) first = images;
      CHECK(images == first);
    }
    // Another epoch draws other augmentations.
    Loader loader(data, pipeline, {3, 12, 12}, {8, 0, 42, false, 0});
    loader.start(2, order, 0);
    const Batch* b = loader.next();
    REQUIRE(b != nullptr);
    CHECK(std::vector<float>(b->images.data(), b->images.data() + b->images.numel()) != first[0]);
  }
}
