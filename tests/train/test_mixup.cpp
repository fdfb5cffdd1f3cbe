// data.mixup / data.cutmix: Beta draws, per-sample mixing (timm's Mixup, mode 'elem'), soft
// targets with label smoothing, the soft-target loss against the hard-label one, and runs that
// stay identical with any number of loader workers and across a resume.
#include <catch2/catch.hpp>

#include <cmath>

#include "config/model_spec.h"
#include "core/rng.h"
#include "graph/net.h"
#include "train/loss.h"
#include "train/mixup.h"
#include "train_test_util.h"

using namespace cnn;
using namespace cnn::train_test;

TEST_CASE("beta_sample: Beta(a, a) has mean 1/2 and variance 1 / (4 (2a + 1))", "[train][mixup]") {
  for (double a : {0.2, 1.0, 2.0}) {
    INFO("alpha " << a);
    Rng rng(3);
    const int N = 20000;
    double sum = 0, sq = 0;
    for (int i = 0; i < N; ++i) {
      const double x = beta_sample(a, rng);
      REQUIRE(x >= 0);
      REQUIRE(x <= 1);
      sum += x, sq += x * x;
    }
    const double mean = sum / N, var = sq / N - mean * mean;
    CHECK(mean == Approx(0.5).margin(0.01));
    CHECK(var == Approx(1.0 / (4 * (2 * a + 1))).epsilon(0.05));
  }
}

TEST_CASE("mix_batch: mixup blends sample i with n-1-i, cutmix pastes a box of 1 - lambda of the area",
          "[train][mixup]") {
  const int64_t n = 6, C = 2, H = 8, W = 10;
  auto batch = [&] {
    Tensor t({n, C, H, W});
    for (int64_t i = 0; i < n; ++i)
      for (int64_t k = 0; k < C * H * W; ++k) t[i * C * H * W + k] = float(i);
    return t;
  };
  MixSpec mixup;
  mixup.mixup_alpha = 0.4;
  Tensor x = batch();
  const std::vector<float> lam = mix_batch(x, n, mixup, {1, 1, 0});
  for (int64_t i = 0; i < n; ++i) {
    INFO("sample " << i << " lambda " << lam[size_t(i)]);
    CHECK(lam[size_t(i)] > 0.f);
    CHECK(lam[size_t(i)] <= 1.f);
    const float want = float(i) * lam[size_t(i)] + float(n - 1 - i) * float(1.0 - double(lam[size_t(i)]));
    CHECK(x[i * C * H * W + 7] == Approx(want).margin(1e-5));
  }
  Tensor again = batch();
  CHECK(mix_batch(again, n, mixup, {1, 1, 0}) == lam);  // keyed, not stateful
  Tensor other = batch();
  CHECK(mix_batch(other, n, mixup, {1, 1, 1}) != lam);

  MixSpec cutmix;
  cutmix.cutmix_alpha = 1.0;
  Tensor y = batch();
  const std::vector<float> lc = mix_batch(y, n, cutmix, {1, 2, 0});
  int changed_samples = 0;
  for (int64_t i = 0; i < n; ++i) {
    int64_t pasted = 0;
    for (int64_t k = 0; k < C * H * W; ++k) pasted += y[i * C * H * W + k] != float(i);
    if (i != n - 1 - i) CHECK(double(pasted) / double(C * H * W) == Approx(1.0 - lc[size_t(i)]).margin(1e-6));
    changed_samples += pasted > 0;
  }
  CHECK(changed_samples > 0);

  MixSpec never = mixup;
  never.prob = 0;
  Tensor z = batch();
  CHECK(mix_batch(z, n, never, {1, 1, 0}) == std::vector<float>(size_t(n), 1.f));
}

TEST_CASE("mixed targets with label smoothing, unmixed soft targets give the hard-label loss and gradient",
          "[train][mixup]") {
  const int32_t labels[4] = {0, 2, 1, 2};
  float t[4 * 3];
  mixed_targets(labels, {0.75f, 1.f, 1.f, 0.25f}, 4, 3, 0.3f, t);
  // row 0: 0.75 * smooth(0) + 0.25 * smooth(labels[3] = 2); off 0.1, on 0.8
  CHECK(t[0] == Approx(0.75 * 0.8 + 0.25 * 0.1));
  CHECK(t[1] == Approx(0.1));
  CHECK(t[2] == Approx(0.75 * 0.1 + 0.25 * 0.8));
  for (int i = 0; i < 4; ++i) CHECK(t[3 * i] + t[3 * i + 1] + t[3 * i + 2] == Approx(1.0));

  Net net(load_model_string("input: [4, 1, 1]\nlayers: [flatten, {linear: {out: 3}, name: fc}]\n", "m.yaml"));
  net.init(2);
  Tensor x({4, 4, 1, 1});
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = std::sin(float(i));
  RunContext ctx{true, nullptr};
  net.forward(x, ctx);
  const StepLoss hard = classification_loss(net, labels, 4, 0.3f);
  const Tensor hard_grad = net.output_grad();
  mixed_targets(labels, std::vector<float>(4, 1.f), 4, 3, 0.3f, t);
  const StepLoss soft = soft_target_loss(net, t, labels, 4);
  CHECK(soft.total == Approx(hard.total).epsilon(1e-6));
  CHECK(soft.correct == hard.correct);
  for (int64_t i = 0; i < hard_grad.numel(); ++i) CHECK(net.output_grad()[i] == Approx(hard_grad[i]).margin(1e-7));
}

TEST_CASE("mixup and cutmix runs: the same with 0 or 3 loader workers and after a resume", "[train][mixup]") {
  const std::vector<std::string> mix = {"data.mixup={alpha: 0.2}", "data.cutmix={alpha: 1.0}"};
  auto with = [&](std::vector<std::string> o) {
    o.insert(o.end(), mix.begin(), mix.end());
    return o;
  };
  const Recipe a = make_recipe("mix-w0", with({"train.epochs=3"}));
  const Recipe b = make_recipe("mix-w3", with({"train.epochs=3", "data.workers=3"}));
  const TrainResult ra = run(a), rb = run(b);
  for (size_t e = 0; e < ra.epochs.size(); ++e) check_same_records(ra.epochs[e], rb.epochs[e]);
  check_same_tensors(out_file(a, "last.safetensors"), out_file(b, "last.safetensors"), "workers 0 vs 3");

  const Recipe first = make_recipe("mix-resumed", with({"train.epochs=1"}));
  run(first);
  const Recipe rest = make_recipe("mix-resumed", with({"train.epochs=3"}));
  run(rest, out_file(first, "last.safetensors"));
  check_same_tensors(out_file(a, "last.safetensors"), out_file(rest, "last.safetensors"), "resumed");
  // mixing changes training
  const Recipe plain = make_recipe("mix-off", {"train.epochs=3"});
  run(plain);
  CHECK(any_tensor_differs(out_file(a, "last.safetensors"), out_file(plain, "last.safetensors")));

  CHECK(config_error_message([] { make_recipe("x", {"data.mixup={alpha: -1}"}); }) ==
        "--set: data.mixup.alpha: expected a number >= 0 (0: off), got -1");
}
