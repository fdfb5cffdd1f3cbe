// train.accumulate (issue 12): K micro-batches of data.batch_size / K give the full batch's
// update; the optimizer, schedule and counters see one step; a checkpoint taken between two
// micro-batches resumes to the bits of the uninterrupted run; bad values are refused.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "config/recipe.h"
#include "core/interrupt.h"
#include "core/parallel.h"
#include "core/rng.h"
#include "dist/data_parallel.h"
#include "graph/net.h"
#include "io/safetensors.h"
#include "train/checkpoint.h"
#include "train/loss.h"
#include "train/trainer.h"
#include "train_test_util.h"

using namespace cnn;
using namespace cnn::train_test;

namespace {

// The largest |a - b| over every tensor two files share, relative to the largest |a|.
double worst_relative_difference(const std::string& a_path, const std::string& b_path) {
  const SafetensorsFile a = read_safetensors(a_path), b = read_safetensors(b_path);
  double worst = 0, scale = 0;
  for (const auto& [name, ta] : a.tensors) {
    const Tensor& tb = b.tensors.at(name);
    REQUIRE(ta.shape() == tb.shape());
    for (int64_t i = 0; i < ta.numel(); ++i) {
      worst = std::max(worst, std::fabs(double(ta[i]) - double(tb[i])));
      scale = std::max(scale, std::fabs(double(ta[i])));
    }
  }
  return scale > 0 ? worst / scale : worst;
}

enum class Stop {
  never,
  first_micro_batch,  // an interrupt pending from the start: the run stops after one micro-batch
  epoch_2_line_1,     // at the first progress line of epoch 2: a step boundary
};

// Runs `r` (resuming from `resume` when given); true when it stopped with Interrupted.
bool run_interrupted(const Recipe& r, const std::string& resume, Stop stop) {
  TrainOptions o;
  o.resume = resume;
  o.progress = Progress::lines;
  o.log = [&](const std::string& text) {
    if (stop == Stop::epoch_2_line_1 && text.rfind("  epoch 2/", 0) == 0) request_interrupt();
  };
  if (stop == Stop::first_micro_batch) request_interrupt();
  bool stopped = false;
  try {
    train(r, o);
  } catch (const Interrupted&) {
    stopped = true;
  }
  clear_interrupt();
  return stopped;
}

CheckpointMeta meta_of(const Recipe& r) { return read_checkpoint_meta(out_file(r, "last.safetensors")); }

}  // namespace

TEST_CASE("accumulated micro-batch gradients equal the full batch's (no BatchNorm)", "[train][accumulate]") {
  set_num_threads(2);
  const Recipe r = make_recipe("acc-grad", {}, /*batchnorm=*/false);
  Net net(r.model);
  net.init(3);
  const int64_t B = 16, C = 28 * 28;
  Tensor images({B, 1, 28, 28});
  Rng rng(7);
  for (int64_t i = 0; i < images.numel(); ++i) images[i] = float(rng.uniform()) * 2 - 1;
  std::vector<int32_t> labels(B);
  for (int64_t i = 0; i < B; ++i) labels[size_t(i)] = int32_t(i % 10);

  // Dropout draws its mask element by element from one stream: one stream for the full batch and
  // the same stream run through the micro-batches in order give the same masks.
  Rng full_rng(11);
  RunContext ctx{true, &full_rng};
  net.zero_grad();
  net.forward(images, ctx);
  const StepLoss full = classification_loss(net, labels.data(), B, 0.1f);
  net.backward(ctx);
  std::vector<Tensor> full_grads;
  for (const auto& p : net.params()) full_grads.push_back(p.param->grad);

  for (const int64_t K : {2, 4, 16}) {
    const int64_t m = B / K;
    Rng micro_rng(11);
    RunContext mctx{true, &micro_rng};
    net.zero_grad();
    double loss_sum = 0;
    Tensor micro({m, 1, 28, 28});
    for (int64_t k = 0; k < K; ++k) {
      std::copy(images.data() + k * m * C, images.data() + (k + 1) * m * C, micro.data());
      net.forward(micro, mctx);
      const StepLoss l = classification_loss(net, labels.data() + k * m, m, 0.1f);
      loss_sum += l.total * double(m);
      dist::scale_loss_gradients(net, double(m) / double(B));  // what the trainer does
      net.backward(mctx);
    }
    INFO("K = " << K);
    CHECK(loss_sum / double(B) == Approx(full.total).epsilon(1e-7));  // per-sample losses are float
    // The loss gradients are the same bits (p - y) / m * (m / B) with m / B a power of two; only
    // the order of the float additions over samples in the weight gradients differs.
    for (size_t i = 0; i < full_grads.size(); ++i) {
      const Tensor& g = net.params()[i].param->grad;
      double worst = 0, scale = 0;
      for (int64_t j = 0; j < g.numel(); ++j) {
        worst = std::max(worst, std::fabs(double(g[j]) - double(full_grads[i][j])));
        scale = std::max(scale, std::fabs(double(full_grads[i][j])));
      }
      INFO(net.params()[i].name << ": worst difference " << worst << " of a largest " << scale);
      CHECK(worst <= 1e-6 * scale);
    }
  }
}

TEST_CASE("train.accumulate 4 trains as the full batch: weights within float rounding, same steps and lr",
          "[train][accumulate]") {
  set_num_threads(2);
  const Recipe full = make_recipe("acc-full", {"train.epochs=2", "train.log_every=3"}, /*batchnorm=*/false);
  const Recipe acc =
      make_recipe("acc-4", {"train.epochs=2", "train.log_every=3", "train.accumulate=4"}, /*batchnorm=*/false);
  const TrainResult rf = run(full), ra = run(acc);
  REQUIRE(ra.epochs.size() == rf.epochs.size());
  for (size_t e = 0; e < rf.epochs.size(); ++e) {
    CHECK(ra.epochs[e].step == rf.epochs[e].step);  // optimizer steps, not micro-batches
    CHECK(same_bits(ra.epochs[e].lr, rf.epochs[e].lr));
    CHECK(ra.epochs[e].train_loss == Approx(rf.epochs[e].train_loss).epsilon(1e-5));
    CHECK(ra.epochs[e].test_acc == rf.epochs[e].test_acc);
  }
  const auto steps_full = read_metrics(out_file(full, "metrics.jsonl"), "step");
  const auto steps_acc = read_metrics(out_file(acc, "metrics.jsonl"), "step");
  REQUIRE(steps_acc.size() == steps_full.size());
  for (size_t i = 0; i < steps_full.size(); ++i) {
    CHECK(steps_acc[i]["step"] == steps_full[i]["step"]);
    CHECK(steps_acc[i]["losses"].size() == steps_full[i]["losses"].size());
  }
  // 16 SGD steps with momentum: the summation-order differences stay at float rounding.
  const double worst = worst_relative_difference(out_file(full, "last.safetensors"), out_file(acc, "last.safetensors"));
  INFO("worst relative weight difference " << worst);
  CHECK(worst < 1e-5);
  CHECK(worst > 0);  // not the same computation (else this test would not test accumulation)
}

TEST_CASE("interrupted between micro-batches and resumed: the uninterrupted run's bits", "[train][accumulate]") {
  set_num_threads(2);
  // BatchNorm (statistics per micro-batch), dropout, momentum, EMA, mixup and a frozen layer: all
  // of them must continue exactly.
  const std::vector<std::string> common = {"train.epochs=2",           "train.log_every=3",
                                           "train.accumulate=4",       "train.ema={decay: 0.9, every: 1}",
                                           "data.mixup={alpha: 0.2}",  "train.freeze=[conv1]"};
  const Recipe straight = make_recipe("acc-straight", common);
  const TrainResult rs = run(straight);
  const Recipe cut = make_recipe("acc-cut", common);

  const std::string last = out_file(cut, "last.safetensors");
  // Stopped after the first micro-batch of the run (batch 1 of epoch 1: no step done yet).
  REQUIRE(run_interrupted(cut, "", Stop::first_micro_batch));
  CheckpointMeta m = meta_of(cut);
  CHECK(m.epoch == 0);
  CHECK(m.epoch_step == 0);
  CHECK(m.micro_step == 1);
  CHECK(m.micro_steps == 4);
  CHECK(m.step == 0);
  REQUIRE(read_safetensors(last).tensors.count("accumulate.fc.weight"));
  // Resumed and stopped again one micro-batch later, twice: the step is at its last micro-batch.
  REQUIRE(run_interrupted(cut, last, Stop::first_micro_batch));
  REQUIRE(run_interrupted(cut, last, Stop::first_micro_batch));
  m = meta_of(cut);
  CHECK(m.epoch_step == 0);
  CHECK(m.micro_step == 3);
  // Resumed, stopped at a step boundary in epoch 2 (after its step 3), then once more after one
  // micro-batch of step 4, then resumed to the end.
  REQUIRE(run_interrupted(cut, last, Stop::epoch_2_line_1));
  m = meta_of(cut);
  CHECK(m.epoch == 1);
  CHECK(m.epoch_step == 3);
  CHECK(m.micro_step == 0);
  CHECK(read_safetensors(last).tensors.count("accumulate.fc.weight") == 0);
  REQUIRE(run_interrupted(cut, last, Stop::first_micro_batch));
  m = meta_of(cut);
  CHECK(m.epoch == 1);
  CHECK(m.epoch_step == 3);
  CHECK(m.micro_step == 1);
  CHECK(m.step == 11);
  const TrainResult rr = run(cut, out_file(cut, "last.safetensors"));
  REQUIRE(rr.epochs.size() == 1);  // epoch 2 (epoch 1 ended in an earlier part)
  check_same_records(rr.epochs[0], rs.epochs[1]);
  const auto epochs = read_metrics(out_file(cut, "metrics.jsonl"));
  const auto epochs_straight = read_metrics(out_file(straight, "metrics.jsonl"));
  REQUIRE(epochs.size() == 2);
  CHECK(epochs[0]["train_loss"] == epochs_straight[0]["train_loss"]);
  CHECK(epochs[0]["test_acc"] == epochs_straight[0]["test_acc"]);
  check_same_tensors(out_file(cut, "last.safetensors"), out_file(straight, "last.safetensors"),
                     "weights after interruptions between micro-batches vs a straight run");
  const auto steps = read_metrics(out_file(cut, "metrics.jsonl"), "step");
  const auto steps_straight = read_metrics(out_file(straight, "metrics.jsonl"), "step");
  REQUIRE(steps.size() == steps_straight.size());
  for (size_t i = 0; i < steps.size(); ++i) CHECK(steps[i]["losses"] == steps_straight[i]["losses"]);
  // The finished run's checkpoint holds no step in progress.
  CHECK(meta_of(cut).micro_step == 0);
  CHECK(read_safetensors(out_file(cut, "last.safetensors")).tensors.count("accumulate.fc.weight") == 0);
}

TEST_CASE("train.accumulate errors: not a divisor of the batch, below 1, changed mid-step on resume",
          "[train][accumulate]") {
  CHECK(config_error_message([] { make_recipe("x", {"train.accumulate=3"}); }) ==
        "--set: train.accumulate: 3 micro-batches do not divide data.batch_size 32 evenly (expected a "
        "divisor of it, e.g. 4)");
  CHECK(config_error_message([] { make_recipe("x", {"train.accumulate=0"}); }).find("train.accumulate") !=
        std::string::npos);
  const Recipe r = make_recipe("acc-change", {"train.epochs=1", "train.accumulate=4"});
  REQUIRE(run_interrupted(r, "", Stop::first_micro_batch));
  const Recipe other = make_recipe("acc-change", {"train.epochs=1", "train.accumulate=2"});
  const std::string msg = config_error_message([&] { run(other, out_file(r, "last.safetensors")); });
  CHECK(msg.find("train.accumulate: ") == 0);
  CHECK(msg.find("after micro-batch 1 of 4 of a step; resume it with train.accumulate: 4") != std::string::npos);
}
