// evaluate(): test-time augmentation by mirroring averages the logits of each image and its mirror.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>

#include "config/model_spec.h"
#include "config/recipe.h"
#include "core/rng.h"
#include "data/dataset.h"
#include "graph/net.h"
#include "kernels/softmax.h"
#include "train/evaluator.h"

using namespace cnn;

namespace {
constexpr int64_t kCount = 7, kC = 2, kH = 3, kW = 5, kClasses = 3;

MemoryDataset random_dataset() {
  ImageDataset d;
  d.count = kCount;
  d.channels = kC;
  d.height = kH;
  d.width = kW;
  d.num_classes = int(kClasses);
  d.class_names = {"a", "b", "c"};
  Rng rng(7);
  for (int64_t i = 0; i < kCount * kC * kH * kW; ++i) d.pixels.push_back(uint8_t(rng.next_u32() % 256));
  for (int64_t i = 0; i < kCount; ++i) d.labels.push_back(int32_t(rng.next_u32() % kClasses));
  return MemoryDataset(std::move(d));
}
}  // namespace

TEST_CASE("eval_tta hflip: the logits are the mean over each image and its mirror", "[train][eval]") {
  const MemoryDataset data = random_dataset();
  Net net(load_model_string("name: lin\ninput: [2, 3, 5]\nlayers: [flatten, {linear: {out: 3}}]\n", "m.yaml"));
  EvalOptions tta;
  tta.hflip_tta = true;
  const EvalResult plain = evaluate(net, data, {}, 3);
  const EvalResult mirrored = evaluate(net, data, {}, 3, 0.f, tta);

  // By hand: pixels / 255, forward both orientations, average, softmax cross-entropy.
  Tensor x({kCount, kC, kH, kW}), xm({kCount, kC, kH, kW});
  const auto& px = data.images().pixels;
  for (int64_t r = 0; r < kCount * kC * kH; ++r)
    for (int64_t c = 0; c < kW; ++c) {
      x[r * kW + c] = float(px[size_t(r * kW + c)]) / 255.0f;
      xm[r * kW + c] = float(px[size_t(r * kW + kW - 1 - c)]) / 255.0f;
    }
  RunContext ctx{false, nullptr};
  Tensor avg = net.forward(x, ctx);
  const Tensor& second = net.forward(xm, ctx);
  for (int64_t i = 0; i < avg.numel(); ++i) avg[i] = 0.5f * (avg[i] + second[i]);
  const LossResult expect =
      softmax_cross_entropy(avg.data(), data.images().labels.data(), kCount, kClasses, 0.f, nullptr);

  CHECK(mirrored.count == kCount);
  CHECK(mirrored.loss == Approx(expect.loss).epsilon(1e-6));
  CHECK(mirrored.top1 == Approx(100.0 * expect.correct / kCount));
  CHECK(std::abs(mirrored.loss - plain.loss) > 1e-4);  // the mirror did change the logits
}

TEST_CASE("eval_options_of: the recipe's data and train fields", "[train][eval]") {
  const Recipe r = load_recipe_string(
      "model: {name: lin, input: [1, 2, 2], layers: [flatten, {linear: {out: 2}}]}\n"
      "data: {dataset: image_folder, bad_images: skip, workers: 3, eval_tta: hflip}\ntrain: {seed: 9}\n",
      "r.yaml", ".");
  const EvalOptions o = eval_options_of(r);
  CHECK(o.workers == 3);
  CHECK(o.seed == 9);
  CHECK(o.skip_bad);
  CHECK(o.dataset == "image_folder");
  CHECK(o.hflip_tta);
  CHECK_FALSE(eval_options_of(load_recipe_string("model: {name: lin, input: [1, 2, 2], layers: [flatten]}\n", "r.yaml",
                                                 ".")).hflip_tta);
}
