// The transform lists of a recipe: every type with its defaults and arguments, the errors (at
// file:line:col, naming the dotted field), --set on them, and the resolved YAML reloading to the
// same specs.
#include <catch2/catch.hpp>

#include "config/recipe.h"
#include "config_test_util.h"

using cnn::BadImages;
using cnn::load_recipe_string;
using cnn::Recipe;
using cnn::TransformSpec;
using cnn::testing::config_error;

namespace {

const std::string kFixtures = std::string(CNN_SOURCE_DIR) + "/tests/config/fixtures";

Recipe with_transforms(const std::string& list, const std::vector<std::string>& overrides = {}) {
  return load_recipe_string("model: lenet5.yaml\ndata:\n  dataset: cifar10\n  train_transforms: " + list + "\n", "r.yaml",
                            kFixtures, overrides);
}

std::string transform_error(const std::string& list) {
  return config_error([&] { with_transforms(list); });
}

void check_same(const TransformSpec& a, const TransformSpec& b) {
  CHECK(a.type == b.type);
  CHECK(a.mean == b.mean);
  CHECK(a.std == b.std);
  CHECK(a.size == b.size);
  CHECK(a.pad == b.pad);
  CHECK(a.p == b.p);
  for (int k = 0; k < 2; ++k) {
    CHECK(a.scale[k] == b.scale[k]);
    CHECK(a.ratio[k] == b.ratio[k]);
    CHECK(a.brightness[k] == b.brightness[k]);
    CHECK(a.contrast[k] == b.contrast[k]);
    CHECK(a.saturation[k] == b.saturation[k]);
  }
  CHECK(a.value == b.value);
}

}  // namespace

TEST_CASE("recipe transforms: every type, defaults and arguments", "[config][recipe][transforms]") {
  const Recipe r = with_transforms(
      "[{random_crop: {size: 32, pad: 4}}, hflip, {resize: {size: 36}}, {center_crop: {size: [30, 28]}},\n"
      "   {random_resized_crop: {size: 24}}, {color_jitter: {brightness: 0.4, contrast: [0.5, 1.5]}},\n"
      "   {normalize: {mean: [0.5, 0.4, 0.3], std: [0.2, 0.2, 0.2]}}, random_erasing, {cutout: {size: 8}}]");
  const auto& t = r.data.train_transforms;
  REQUIRE(t.size() == 9);
  CHECK(t[0].type == "random_crop");
  CHECK(t[0].size == std::vector<int64_t>{32});
  CHECK(t[0].pad == 4);
  CHECK(t[1].type == "hflip");
  CHECK(t[1].p == 0.5);
  CHECK(t[2].size == std::vector<int64_t>{36});
  CHECK(t[3].size == std::vector<int64_t>{30, 28});
  CHECK(t[4].scale[0] == 0.08);
  CHECK(t[4].scale[1] == 1.0);
  CHECK(t[4].ratio[0] == 0.75);
  CHECK(t[4].ratio[1] == 4.0 / 3.0);
  CHECK(t[5].brightness[0] == Approx(0.6));
  CHECK(t[5].brightness[1] == Approx(1.4));
  CHECK(t[5].contrast[0] == 0.5);
  CHECK(t[5].contrast[1] == 1.5);
  CHECK(t[5].saturation[0] == 1.0);  // off
  CHECK(t[5].saturation[1] == 1.0);
  CHECK(t[6].mean == std::vector<double>{0.5, 0.4, 0.3});
  CHECK(t[7].type == "random_erasing");  // torchvision's defaults
  CHECK(t[7].p == 0.5);
  CHECK(t[7].scale[0] == 0.02);
  CHECK(t[7].scale[1] == 0.33);
  CHECK(t[7].ratio[0] == 0.3);
  CHECK(t[7].ratio[1] == 3.3);
  CHECK(t[7].value == 0.0);
  CHECK(t[8].size == std::vector<int64_t>{8});
  CHECK(t[8].p == 1.0);
  CHECK(r.data.bad_images == BadImages::fatal);

  // The resolved YAML reloads to the same transforms.
  const Recipe again = load_recipe_string(r.resolved_yaml, "resolved.yaml", kFixtures);
  REQUIRE(again.data.train_transforms.size() == t.size());
  for (size_t i = 0; i < t.size(); ++i) check_same(again.data.train_transforms[i], t[i]);

  // --set reaches transform arguments.
  const Recipe s = with_transforms("[{random_crop: {size: 32, pad: 4}}, {hflip: {p: 0.5}}]",
                                   {"data.train_transforms.0.random_crop.pad=2", "data.train_transforms.1.hflip.p=1"});
  CHECK(s.data.train_transforms[0].pad == 2);
  CHECK(s.data.train_transforms[1].p == 1.0);
}

TEST_CASE("recipe transforms: errors name the field", "[config][recipe][transforms][errors]") {
  CHECK(transform_error("[{random_crop: {pad: 4}}]") ==
        "r.yaml:4:36: data.train_transforms.0.random_crop: missing required argument 'size'");
  CHECK(transform_error("[{random_crop: {size: 0}}]") ==
        "r.yaml:4:43: data.train_transforms.0.random_crop.size: expected a size: an integer > 0 or a list [height, "
        "width], got 0");
  CHECK(transform_error("[{random_crop: {size: 32, padding: 4}}]") ==
        "r.yaml:4:47: data.train_transforms.0.random_crop: unknown key 'padding'; expected one of: size, pad");
  CHECK(transform_error("[resize]") == "r.yaml:4:22: data.train_transforms.0.resize: missing required argument 'size'");
  CHECK(transform_error("[{hflip: {p: 1.5}}]") ==
        "r.yaml:4:34: data.train_transforms.0.hflip.p: expected a probability in [0, 1], got 1.5");
  CHECK(transform_error("[{random_resized_crop: {size: 8, scale: [0.5, 0.1]}}]") ==
        "r.yaml:4:61: data.train_transforms.0.random_resized_crop.scale: expected a range [lo, hi] of area fractions, "
        "0 < lo <= hi <= 1, got [0.5, 0.1]");
  CHECK(transform_error("[{color_jitter: {brightness: -1}}]") ==
        "r.yaml:4:50: data.train_transforms.0.color_jitter.brightness: expected a number >= 0 (factor range [max(0, 1 "
        "- x), 1 + x]) or a range [lo, hi] with 0 <= lo <= hi, got -1");
  CHECK(transform_error("[{normalize: {mean: [0.5], std: [0.5]}}, hflip]") ==
        "r.yaml:4:62: data.train_transforms.1: 'hflip' works on 8-bit images and must come before 'normalize' (the "
        "float steps normalize, random_erasing and cutout come last)");
  CHECK(transform_error("[{cutout: {size: [4, 8]}}]") ==
        "r.yaml:4:38: data.train_transforms.0.cutout.size: expected an integer > 0 (the side of the square), got [4, 8]");
  CHECK(transform_error("[{hflip: 3}]") ==
        "r.yaml:4:30: data.train_transforms.0.hflip: expected a mapping of arguments (p), got '3'");
}

TEST_CASE("recipe transforms: randaugment, trivialaugment, autoaugment with torchvision's defaults, round trip",
          "[config][recipe][transforms][augment]") {
  const Recipe r = with_transforms("[randaugment, {normalize: {mean: [0.5], std: [0.5]}}]");
  REQUIRE(r.data.train_transforms.size() == 2);
  const TransformSpec& ra = r.data.train_transforms[0];
  CHECK(ra.type == "randaugment");
  CHECK(ra.num_ops == 2);
  CHECK(ra.magnitude == 9);
  CHECK(ra.num_magnitude_bins == 31);
  const Recipe r2 = with_transforms("[{randaugment: {num_ops: 3, magnitude: 4, num_magnitude_bins: 5}}]");
  CHECK(r2.data.train_transforms[0].num_ops == 3);
  CHECK(r2.data.train_transforms[0].magnitude == 4);
  CHECK(r2.data.train_transforms[0].num_magnitude_bins == 5);
  const Recipe ta = with_transforms("[hflip, trivialaugment]");
  CHECK(ta.data.train_transforms[1].num_magnitude_bins == 31);
  CHECK(with_transforms("[{trivialaugment: {num_magnitude_bins: 8}}]").data.train_transforms[0].num_magnitude_bins == 8);
  CHECK(with_transforms("[autoaugment]").data.train_transforms[0].policy == cnn::AutoAugmentPolicy::imagenet);
  CHECK(with_transforms("[{autoaugment: cifar10}]").data.train_transforms[0].policy == cnn::AutoAugmentPolicy::cifar10);
  CHECK(with_transforms("[{autoaugment: {policy: svhn}}]").data.train_transforms[0].policy ==
        cnn::AutoAugmentPolicy::svhn);
  // The resolved recipe reloads to the same specs.
  for (const Recipe& a : {r2, with_transforms("[{autoaugment: cifar10}]"), ta}) {
    const Recipe b = load_recipe_string(a.resolved_yaml, "resolved.yaml", kFixtures);
    REQUIRE(b.data.train_transforms.size() == a.data.train_transforms.size());
    for (size_t i = 0; i < a.data.train_transforms.size(); ++i) {
      const TransformSpec &x = a.data.train_transforms[i], &y = b.data.train_transforms[i];
      check_same(x, y);
      CHECK(x.num_ops == y.num_ops);
      CHECK(x.magnitude == y.magnitude);
      CHECK(x.num_magnitude_bins == y.num_magnitude_bins);
      CHECK(x.policy == y.policy);
    }
  }
}

TEST_CASE("recipe transforms: automatic augmentation errors name the field", "[config][recipe][transforms][augment][errors]") {
  CHECK(transform_error("[{randaugment: {magnitude: 31}}]") ==
        "r.yaml:4:48: data.train_transforms.0.randaugment.magnitude: expected a bin in [0, 30] (below "
        "num_magnitude_bins = 31), got 31");
  CHECK(transform_error("[{randaugment: {num_ops: -1}}]") ==
        "r.yaml:4:46: data.train_transforms.0.randaugment.num_ops: expected an integer >= 0, got -1");
  CHECK(transform_error("[{trivialaugment: {num_magnitude_bins: 1}}]") ==
        "r.yaml:4:60: data.train_transforms.0.trivialaugment.num_magnitude_bins: expected an integer >= 2, got 1");
  CHECK(transform_error("[{autoaugment: cifar}]") ==
        "r.yaml:4:36: data.train_transforms.0.autoaugment.policy: expected a policy: imagenet | cifar10 | svhn, got "
        "'cifar'");
  CHECK(transform_error("[{autoaugment: {magnitude: 3}}]") ==
        "r.yaml:4:37: data.train_transforms.0.autoaugment: unknown key 'magnitude'; expected one of: policy");
  CHECK(transform_error("[randaugment, hflip, trivialaugment]") ==
        "r.yaml:4:42: data.train_transforms.2: 'trivialaugment' and 'randaugment' (data.train_transforms.0) are both "
        "automatic augmentation policies; use one of randaugment, trivialaugment, autoaugment per list");
  CHECK(transform_error("[{normalize: {mean: [0.5], std: [0.5]}}, autoaugment]") ==
        "r.yaml:4:62: data.train_transforms.1: 'autoaugment' works on 8-bit images and must come before 'normalize' "
        "(the float steps normalize, random_erasing and cutout come last)");
}
