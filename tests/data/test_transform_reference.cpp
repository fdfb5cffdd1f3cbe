// Exact pixel values against torchvision's PIL path (torchvision 0.14, Pillow 9.4): decoding
// (JPEG via libjpeg-turbo as PIL, grayscale, CMYK, EXIF ignored), resize (bilinear, antialiased),
// center crop, resized crop, padded crop, flip, brightness/contrast/saturation, ToTensor +
// Normalize, the ImageNet eval pipeline, and RandomResizedCrop's fallback. References come from
// tests/data/make_transform_reference.py, run once per build tree into <build>/test-data.
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <sstream>

#include "config/recipe.h"
#include "data/decode.h"
#include "data/image_ops.h"
#include "data/transforms.h"
#include "data_test_util.h"
#include "io/npy.h"

using namespace cnn;
using namespace cnn::test;

namespace {

// The reference folder, generated on first use (skips without torchvision or the shared data).
std::string reference_dir() {
  if (!fs::exists(shared_data("imagenet-sample/train")))
    skip_test("imagenet-sample not found at " + shared_data("imagenet-sample"));
  return python_reference_dir(std::string(CNN_SOURCE_DIR) + "/tests/data/make_transform_reference.py",
                              "transform-ref", "meta.json", std::string(" ") + CNN_SHARED_DATA);
}

std::vector<std::pair<std::string, std::string>> inputs(const std::string& dir) {
  std::vector<std::pair<std::string, std::string>> out;
  std::istringstream in(read_bytes(dir + "/inputs.txt"));
  std::string name, path;
  while (in >> name >> path) out.emplace_back(name, fs::path(path).is_relative() ? dir + "/" + path : path);
  REQUIRE(out.size() >= 8);
  return out;
}

Image image_from_npy(const std::string& path) {
  const Tensor t = read_npy(path);
  REQUIRE(t.ndim() == 3);
  Image img;
  img.reshape(t.dim(0), t.dim(1), t.dim(2));
  for (int64_t i = 0; i < t.numel(); ++i) img.pixels[size_t(i)] = uint8_t(t[i]);
  return img;
}

// Exact equality; on failure reports the count and the largest difference.
void check_same(const Image& got, const std::string& ref_path) {
  INFO("reference " << ref_path);
  const Tensor ref = read_npy(ref_path);
  REQUIRE(ref.ndim() == 3);
  REQUIRE(got.height == ref.dim(0));
  REQUIRE(got.width == ref.dim(1));
  REQUIRE(got.channels == ref.dim(2));
  int64_t differ = 0;
  float worst = 0;
  for (int64_t i = 0; i < ref.numel(); ++i) {
    const float d = std::fabs(float(got.pixels[size_t(i)]) - ref[i]);
    if (d > 0) ++differ, worst = std::max(worst, d);
  }
  INFO(differ << " of " << ref.numel() << " values differ, by up to " << worst);
  CHECK(differ == 0);
}

void check_same(const std::vector<float>& got, const std::string& ref_path, const Shape& shape) {
  INFO("reference " << ref_path);
  const Tensor ref = read_npy(ref_path);
  REQUIRE(ref.shape() == shape);
  int64_t differ = 0;
  float worst = 0;
  for (int64_t i = 0; i < ref.numel(); ++i) {
    const float d = std::fabs(got[size_t(i)] - ref[i]);
    if (d > 0) ++differ, worst = std::max(worst, d);
  }
  INFO(differ << " of " << ref.numel() << " values differ, by up to " << worst);
  CHECK(differ == 0);
}

TransformSpec spec(const std::string& type, std::vector<int64_t> size = {}) {
  TransformSpec t;
  t.type = type;
  t.size = std::move(size);
  return t;
}

TransformSpec imagenet_normalize() {
  TransformSpec n = spec("normalize");
  n.mean = {0.485, 0.456, 0.406};
  n.std = {0.229, 0.224, 0.225};
  return n;
}

// Runs a one-step (or more) pipeline's 8-bit part on a copy of `src`.
Image run_bytes(const std::vector<TransformSpec>& specs, const Image& src) {
  const Pipeline p(specs, 3, "t");
  Image img = src;
  TransformScratch s;
  Rng rng(1);
  p.apply_bytes(img, s, rng);
  return img;
}

}  // namespace

TEST_CASE("transforms vs torchvision: decoding JPEG and PNG gives PIL's RGB pixels", "[data][transforms][torch]") {
  const std::string dir = reference_dir();
  std::vector<uint8_t> buffer;
  for (const auto& [name, path] : inputs(dir)) {
    INFO(name << ": " << path);
    Image img;
    load_image_file(path, img, buffer);
    check_same(img, dir + "/" + name + ".decoded.npy");
  }
}

TEST_CASE("transforms vs torchvision: resize, center crop, resized crop, padded crop, flip", "[data][transforms][torch]") {
  const std::string dir = reference_dir();
  for (const auto& [name, path] : inputs(dir)) {
    INFO(name);
    const std::string base = dir + "/" + name;
    const Image src = image_from_npy(base + ".decoded.npy");
    const int64_t h = src.height, w = src.width;
    check_same(run_bytes({spec("resize", {256})}, src), base + ".resize256.npy");
    check_same(run_bytes({spec("resize", {24})}, src), base + ".resize24.npy");
    check_same(run_bytes({spec("center_crop", {224})}, src), base + ".center224.npy");
    {
      Image crop, out;
      ResizeScratch rs;
      crop_pad(src, h / 5, w / 7, std::max<int64_t>(1, h / 2), std::max<int64_t>(1, w / 3), crop);
      resize_bilinear(crop, 224, 224, out, rs);
      check_same(out, base + ".resized_crop.npy");
    }
    if (std::max(h, w) >= 600) continue;  // the reference has only the ops above for large images
    check_same(run_bytes({spec("resize", {std::max<int64_t>(1, h / 3), w + 7})}, src), base + ".resize_hw.npy");
    check_same(run_bytes({spec("resize", {h * 2 + 1, w * 3})}, src), base + ".resize_up.npy");
    check_same(run_bytes({spec("center_crop", {std::min<int64_t>(h, 31), std::min<int64_t>(w, 20) + 1})}, src),
               base + ".center_odd.npy");
    TransformSpec flip = spec("hflip");
    flip.p = 1.0;
    check_same(run_bytes({flip}, src), base + ".hflip.npy");
    Image padded;
    crop_pad(src, 1 - 4, 7 - 4, 32, 32, padded);
    check_same(padded, base + ".pad_crop.npy");
  }
}

TEST_CASE("transforms vs torchvision: brightness, contrast, saturation", "[data][transforms][torch]") {
  const std::string dir = reference_dir();
  for (const auto& [name, path] : inputs(dir)) {
    const std::string base = dir + "/" + name;
    const Image src = image_from_npy(base + ".decoded.npy");
    if (std::max(src.height, src.width) >= 600) continue;
    INFO(name);
    const std::vector<std::pair<std::string, std::function<void(Image&)>>> ops = {
        {"brightness0.6", [](Image& i) { adjust_brightness(i, 0.6f); }},
        {"brightness1.4", [](Image& i) { adjust_brightness(i, 1.4f); }},
        {"contrast0.5", [](Image& i) { adjust_contrast(i, 0.5f); }},
        {"contrast1.7", [](Image& i) { adjust_contrast(i, 1.7f); }},
        {"saturation0.3", [](Image& i) { adjust_saturation(i, 0.3f); }},
        {"saturation1.8", [](Image& i) { adjust_saturation(i, 1.8f); }},
    };
    for (const auto& [op, fn] : ops) {
      Image img = src;
      fn(img);
      check_same(img, base + "." + op + ".npy");
    }
  }
}

TEST_CASE("transforms vs torchvision: ToTensor + Normalize and the resize 256 / center crop 224 eval pipeline",
          "[data][transforms][torch]") {
  const std::string dir = reference_dir();
  for (const auto& [name, path] : inputs(dir)) {
    INFO(name);
    const std::string base = dir + "/" + name;
    const Image src = image_from_npy(base + ".decoded.npy");
    Rng rng(1);
    if (std::max(src.height, src.width) < 600) {
      const Pipeline p({imagenet_normalize()}, 3, "t");
      std::vector<float> out(size_t(src.numel()));
      p.apply_floats(src, rng, out.data());
      check_same(out, base + ".normalize.npy", {3, src.height, src.width});
    }
    const Pipeline eval({spec("resize", {256}), spec("center_crop", {224}), imagenet_normalize()}, 3, "t");
    CHECK(eval.output_shape(0, 0) == Shape{3, 224, 224});
    Image img = src;
    TransformScratch s;
    eval.apply_bytes(img, s, rng);
    std::vector<float> out(size_t(3 * 224 * 224));
    eval.apply_floats(img, rng, out.data());
    check_same(out, base + ".eval_pipeline.npy", {3, 224, 224});
  }
}

TEST_CASE("transforms vs torchvision: RandomResizedCrop falls back to the centred crop within the ratio range",
          "[data][transforms][torch]") {
  const std::string dir = reference_dir();
  const std::string meta = read_bytes(dir + "/meta.json");
  TransformSpec t = spec("random_resized_crop", {8});
  t.scale[0] = 0.9, t.scale[1] = 1.0;
  t.ratio[0] = t.ratio[1] = 1.0;
  Rng rng(5);
  int64_t top = -1, left = -1, h = -1, w = -1;
  random_resized_crop_params(t, 10, 100, rng, top, left, h, w);
  std::ostringstream got;
  got << "\"rrc_fallback_100x10\": [" << top << ", " << left << ", " << h << ", " << w << "]";
  CHECK_THAT(meta, Catch::Contains(got.str()));
  t.ratio[0] = 3.0 / 4.0, t.ratio[1] = 4.0 / 3.0;
  random_resized_crop_params(t, 100, 10, rng, top, left, h, w);
  std::ostringstream got2;
  got2 << "\"rrc_fallback_10x100\": [" << top << ", " << left << ", " << h << ", " << w << "]";
  CHECK_THAT(meta, Catch::Contains(got2.str()));
}
