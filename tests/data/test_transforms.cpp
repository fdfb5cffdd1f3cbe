// What each random transform does, checked on its output (the exact pixel arithmetic is checked
// against torchvision in test_transform_reference.cpp): crops come from the padded image, flips
// mirror, erasing and cutout fill one rectangle, RandomResizedCrop's boxes stay in the image and
// the ranges, color jitter draws its factors from the ranges, shapes are computed as torchvision.
#include <catch2/catch.hpp>
#include <cmath>
#include <set>

#include "config/recipe.h"
#include "core/rng.h"
#include "data/image_ops.h"
#include "data/transforms.h"

using namespace cnn;

namespace {

Image random_image(int64_t h, int64_t w, int64_t c, uint64_t seed) {
  Image img;
  img.reshape(h, w, c);
  Rng rng(seed);
  for (int64_t i = 0; i < img.numel(); ++i) img.pixels[size_t(i)] = uint8_t(1 + rng.below(255));  // never 0
  return img;
}

TransformSpec spec(const std::string& type, std::vector<int64_t> size = {}) {
  TransformSpec t;
  t.type = type;
  t.size = std::move(size);
  return t;
}

uint8_t at(const Image& img, int64_t y, int64_t x, int64_t c) {
  if (y < 0 || x < 0 || y >= img.height || x >= img.width) return 0;
  return img.pixels[size_t((y * img.width + x) * img.channels + c)];
}

}  // namespace

TEST_CASE("random_crop: a window of the zero-padded image, every offset occurs", "[data][transforms]") {
  const Image src = random_image(8, 10, 3, 1);
  TransformSpec t = spec("random_crop", {8, 10});
  t.pad = 2;
  const Pipeline p({t}, 3, "t");
  std::set<std::pair<int64_t, int64_t>> offsets;
  TransformScratch s;
  for (uint64_t k = 0; k < 400; ++k) {
    Image img = src;
    Rng rng(k);
    p.apply_bytes(img, s, rng);
    REQUIRE(img.height == 8);
    REQUIRE(img.width == 10);
    // Find the offset from the first row/column that is not padding, then check every pixel.
    bool found = false;
    for (int64_t dy = -2; dy <= 2 && !found; ++dy)
      for (int64_t dx = -2; dx <= 2 && !found; ++dx) {
        bool ok = true;
        for (int64_t y = 0; y < 8 && ok; ++y)
          for (int64_t x = 0; x < 10 && ok; ++x)
            for (int64_t c = 0; c < 3 && ok; ++c) ok = at(img, y, x, c) == at(src, y + dy, x + dx, c);
        if (ok) found = true, offsets.insert({dy, dx});
      }
    CHECK(found);
  }
  CHECK(offsets.size() == 25);  // 5 x 5 offsets of the 12 x 14 padded image
}

TEST_CASE("hflip mirrors with probability p, p = 0 and 1 are exact", "[data][transforms]") {
  const Image src = random_image(5, 7, 3, 2);
  Image mirrored = src;
  hflip(mirrored);
  for (int64_t y = 0; y < 5; ++y)
    for (int64_t x = 0; x < 7; ++x)
      for (int64_t c = 0; c < 3; ++c) CHECK(at(mirrored, y, x, c) == at(src, y, 6 - x, c));
  TransformScratch s;
  for (double p : {0.0, 0.5, 1.0}) {
    TransformSpec t = spec("hflip");
    t.p = p;
    const Pipeline pipe({t}, 3, "t");
    int flipped = 0;
    for (uint64_t k = 0; k < 1000; ++k) {
      Image img = src;
      Rng rng(k);
      pipe.apply_bytes(img, s, rng);
      const bool is_flipped = img.pixels == mirrored.pixels;
      CHECK((is_flipped || img.pixels == src.pixels));
      flipped += is_flipped;
    }
    if (p == 0.0) CHECK(flipped == 0);
    if (p == 1.0) CHECK(flipped == 1000);
    if (p == 0.5) CHECK(std::abs(flipped - 500) < 60);
  }
}

TEST_CASE("random_erasing and cutout fill one rectangle, the rest is unchanged", "[data][transforms]") {
  const Image src = random_image(20, 30, 3, 3);
  TransformSpec erase = spec("random_erasing");
  erase.p = 1.0, erase.scale[0] = 0.02, erase.scale[1] = 0.33, erase.ratio[0] = 0.3, erase.ratio[1] = 3.3;
  erase.value = -7.0;
  TransformSpec cut = spec("cutout", {8});
  cut.p = 1.0;
  for (const TransformSpec& t : {erase, cut}) {
    const Pipeline p({t}, 3, "t");
    const Pipeline plain({}, 3, "t");
    const float fill = t.type == "cutout" ? 0.0f : -7.0f;
    int erased_samples = 0;
    for (uint64_t k = 0; k < 200; ++k) {
      Rng rng(k), rng0(k);
      std::vector<float> out(size_t(src.numel())), ref(size_t(src.numel()));
      p.apply_floats(src, rng, out.data());
      plain.apply_floats(src, rng0, ref.data());
      int64_t y0 = 99, y1 = -1, x0 = 99, x1 = -1, changed = 0;
      for (int64_t c = 0; c < 3; ++c)
        for (int64_t y = 0; y < 20; ++y)
          for (int64_t x = 0; x < 30; ++x) {
            const size_t i = size_t((c * 20 + y) * 30 + x);
            if (out[i] == ref[i]) continue;
            CHECK(out[i] == fill);
            ++changed;
            y0 = std::min(y0, y), y1 = std::max(y1, y), x0 = std::min(x0, x), x1 = std::max(x1, x);
          }
      if (!changed) continue;  // random_erasing gives up after 10 tries that do not fit
      ++erased_samples;
      const int64_t h = y1 - y0 + 1, w = x1 - x0 + 1;
      CHECK(changed == 3 * h * w);  // a full rectangle in every channel
      if (t.type == "cutout") {
        CHECK(h <= 8);
        CHECK(w <= 8);
      } else {
        CHECK(h * w <= int64_t(std::ceil(0.33 * 600 * 1.5)));
      }
    }
    CHECK(erased_samples > 150);
  }
}

TEST_CASE("random_resized_crop: boxes inside the image, area and ratio in range", "[data][transforms]") {
  TransformSpec t = spec("random_resized_crop", {16});
  Rng rng(11);
  for (auto [H, W] : {std::pair<int64_t, int64_t>{375, 500}, {500, 333}, {56, 75}, {224, 224}}) {
    for (int k = 0; k < 500; ++k) {
      int64_t top, left, h, w;
      random_resized_crop_params(t, H, W, rng, top, left, h, w);
      REQUIRE(top >= 0);
      REQUIRE(left >= 0);
      REQUIRE(top + h <= H);
      REQUIRE(left + w <= W);
      const double area = double(h * w) / double(H * W), ratio = double(w) / double(h);
      CHECK(area >= 0.08 * 0.8);
      CHECK(ratio >= 0.75 * 0.85);
      CHECK(ratio <= 4.0 / 3.0 * 1.15);
    }
  }
  const Pipeline p({t}, 3, "t");
  Image img = random_image(30, 40, 3, 4);
  TransformScratch s;
  p.apply_bytes(img, s, rng);
  CHECK(img.height == 16);
  CHECK(img.width == 16);
}

TEST_CASE("color_jitter: fixed ranges equal the functional ops, off is the identity", "[data][transforms]") {
  const Image src = random_image(9, 11, 3, 5);
  TransformScratch s;
  Rng rng(1);
  TransformSpec off = spec("color_jitter");
  Image img = src;
  Pipeline({off}, 3, "t").apply_bytes(img, s, rng);
  CHECK(img.pixels == src.pixels);
  TransformSpec b = spec("color_jitter");
  b.brightness[0] = b.brightness[1] = 0.7;
  img = src;
  Pipeline({b}, 3, "t").apply_bytes(img, s, rng);
  Image ref = src;
  adjust_brightness(ref, 0.7f);
  CHECK(img.pixels == ref.pixels);
}

TEST_CASE("transform output shapes follow torchvision's size rules", "[data][transforms]") {
  const Pipeline resize({spec("resize", {256})}, 3, "t");
  CHECK(resize.output_shape(375, 500) == Shape{3, 256, 341});  // int(256 * 500 / 375)
  CHECK(resize.output_shape(500, 333) == Shape{3, 384, 256});
  CHECK(resize.output_shape(0, 0) == Shape{3, 0, 0});            // varies with the input
  const Pipeline eval({spec("resize", {256}), spec("center_crop", {224})}, 3, "t");
  CHECK(eval.output_shape(0, 0) == Shape{3, 224, 224});
  const Pipeline cifar({spec("random_crop", {32}), spec("hflip")}, 3, "t");
  CHECK(cifar.output_shape(32, 32) == Shape{3, 32, 32});
  TransformSpec n = spec("normalize");
  n.mean = {0.5, 0.5};
  n.std = {1, 1};
  CHECK_THROWS_WITH(Pipeline({n}, 3, "data.eval_transforms"),
                    "data.eval_transforms.0.normalize: mean and std need 1 or 3 values for this 3-channel dataset");
}
