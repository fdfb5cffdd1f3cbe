// train(): determinism, the run directory (config.yaml, metrics.jsonl, last/best checkpoints),
// learning, evaluation of best.safetensors, checkpoint errors, --resume and the NaN guard.
// Everything runs on a tiny synthetic dataset in MNIST IDX format (raw, not gzipped) written to a
// temporary directory: 256 train / 128 test 28x28 images, each class a bright square at its own
// place on a noisy background, and a model of about 2,000 parameters, so each run takes tens of
// milliseconds (most of it the fsyncs of the atomic checkpoint writes).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/recipe.h"
#include "core/error.h"
#include "core/interrupt.h"
#include "core/parallel.h"
#include "data/load.h"
#include "graph/net.h"
#include "io/safetensors.h"
#include "train/checkpoint.h"
#include "train/evaluator.h"
#include "train/trainer.h"
#include "train_test_util.h"

using namespace cnn;
namespace fs = std::filesystem;

using namespace cnn::train_test;

TEST_CASE("train is deterministic for a seed and thread count, another seed differs", "[train]") {
  set_num_threads(2);
  const Recipe a = make_recipe("det-a"), b = make_recipe("det-b"), c = make_recipe("det-c", {"train.seed=2"});
  const TrainResult ra = run(a), rb = run(b), rc = run(c);
  REQUIRE(ra.epochs.size() == 3);
  REQUIRE(rb.epochs.size() == 3);
  REQUIRE(rc.epochs.size() == 3);
  for (size_t i = 0; i < ra.epochs.size(); ++i) check_same_records(ra.epochs[i], rb.epochs[i]);
  CHECK(same_bits(ra.best_test_acc, rb.best_test_acc));
  check_same_tensors(out_file(a, "last.safetensors"), out_file(b, "last.safetensors"), "same seed, final weights");
  check_same_tensors(out_file(a, "best.safetensors"), out_file(b, "best.safetensors"), "same seed, best weights");

  CHECK_FALSE(same_bits(ra.epochs[0].train_loss, rc.epochs[0].train_loss));
  CHECK(any_tensor_differs(out_file(a, "last.safetensors"), out_file(c, "last.safetensors")));
}

TEST_CASE("train writes config.yaml, metrics.jsonl, last and best checkpoints", "[train]") {
  set_num_threads(2);
  const Recipe r = make_recipe("outputs");
  const TrainResult res = run(r);
  REQUIRE(res.epochs.size() == 3);
  CHECK(res.output_dir == r.output);
  for (const char* f : {"config.yaml", "metrics.jsonl", "last.safetensors", "best.safetensors", "banner.txt"}) {
    INFO(f);
    CHECK(fs::is_regular_file(out_file(r, f)));
  }
  // No temporary files left behind by the atomic writes.
  for (const auto& e : fs::directory_iterator(r.output)) {
    INFO("unexpected file in the run directory: " << e.path());
    CHECK((e.path().filename() == "config.yaml" || e.path().filename() == "metrics.jsonl" ||
           e.path().filename() == "last.safetensors" || e.path().filename() == "best.safetensors" ||
           e.path().filename() == "banner.txt"));
  }
  std::ifstream banner(out_file(r, "banner.txt"));  // the training process's banner (cnn report shows it)
  std::string first_line;
  std::getline(banner, first_line);
  CHECK(first_line.rfind("cnn ", 0) == 0);

  // metrics.jsonl: one JSON object per epoch, with the values of the returned records.
  const auto lines = read_metrics(out_file(r, "metrics.jsonl"));
  REQUIRE(lines.size() == 3);
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto& j = lines[i];
    const EpochRecord& rec = res.epochs[i];
    for (const char* key : {"epoch", "train_loss", "train_acc", "test_loss", "test_acc", "lr", "images_per_s", "seconds"}) {
      INFO("line " << i + 1 << " key " << key << ": " << j.dump());
      CHECK(j.contains(key));
    }
    CHECK(j.value("epoch", -1) == int64_t(i + 1));
    CHECK(j.value("train_loss", -1.0) == rec.train_loss);
    CHECK(j.value("train_acc", -1.0) == rec.train_acc);
    CHECK(j.value("test_loss", -1.0) == rec.test_loss);
    CHECK(j.value("test_acc", -1.0) == rec.test_acc);
    CHECK(j.value("lr", -1.0) == rec.lr);
    CHECK(j.value("images_per_s", -1.0) > 0);
    CHECK(j.value("seconds", -1.0) > 0);
  }
  // lr of the last step of each epoch under the step schedule (step_epochs 2, gamma 0.5).
  CHECK(res.epochs[0].lr == Approx(0.05));
  CHECK(res.epochs[1].lr == Approx(0.05));
  CHECK(res.epochs[2].lr == Approx(0.025));
  CHECK(res.epochs[2].step == 3 * (kTrain / 32));

  // config.yaml reloads into the same recipe.
  const Recipe back = load_recipe_file(out_file(r, "config.yaml"));
  CHECK(back.resolved_yaml == r.resolved_yaml);
  CHECK(back.output == r.output);
  CHECK(back.data.root == r.data.root);
  CHECK(back.train.epochs == r.train.epochs);
  CHECK(back.train.optimizer.lr == r.train.optimizer.lr);
  CHECK(back.train.optimizer.weight_decay == r.train.optimizer.weight_decay);
  CHECK(back.train.schedule.type == r.train.schedule.type);
  CHECK(back.model.nodes.size() == r.model.nodes.size());

  // Checkpoint metadata: the last one is at the final epoch, the best one at the best epoch.
  Net net(r.model);
  const CheckpointMeta last = load_checkpoint(out_file(r, "last.safetensors"), net);
  CHECK(last.epoch == 3);
  CHECK(last.step == res.epochs.back().step);
  CHECK(last.config == r.resolved_yaml);
  CHECK(last.best_metric == Approx(res.best_test_acc));
}

TEST_CASE("train learns the synthetic task: loss falls, accuracy gets high", "[train]") {
  set_num_threads(2);
  const Recipe r = make_recipe("learn", {"train.epochs=5", "train.schedule.type=constant"});
  const TrainResult res = run(r);
  REQUIRE(res.epochs.size() == 5);
  std::ostringstream curve;
  for (const auto& e : res.epochs)
    curve << "epoch " << e.epoch << ": train_loss " << e.train_loss << " train_acc " << e.train_acc << " test_loss "
          << e.test_loss << " test_acc " << e.test_acc << "\n";
  INFO(curve.str());
  CHECK(std::log(10.0) * 0.95 > res.epochs.back().train_loss);
  CHECK(res.epochs.back().train_loss < 0.5 * res.epochs.front().train_loss);
  CHECK(res.epochs.back().test_loss < res.epochs.front().test_loss);
  CHECK(res.epochs.back().test_acc >= 90.0);
  CHECK(res.epochs.back().train_acc >= 90.0);
  double best = -1;
  for (const auto& e : res.epochs) best = std::max(best, e.test_acc);
  CHECK(res.best_test_acc == best);
}

TEST_CASE("evaluate() on best.safetensors reproduces the best epoch's test accuracy", "[train]") {
  set_num_threads(2);
  const Recipe r = make_recipe("best", {"train.epochs=4"});
  const TrainResult res = run(r);
  REQUIRE(res.epochs.size() == 4);
  // The best epoch is the first one reaching the highest test accuracy (strictly better replaces).
  const EpochRecord* best = &res.epochs[0];
  for (const auto& e : res.epochs)
    if (e.test_acc > best->test_acc) best = &e;
  CHECK(res.best_test_acc == best->test_acc);

  Net net(r.model);
  const CheckpointMeta meta = load_checkpoint(out_file(r, "best.safetensors"), net);
  CHECK(meta.epoch == best->epoch);
  const std::unique_ptr<Dataset> test_set = load_dataset(r.data, "test");
  REQUIRE(test_set->size() == kTest);
  const EvalResult ev = evaluate(net, *test_set, r.data.eval_transforms, r.data.eval_batch_size);
  CHECK(ev.count == kTest);
  CHECK(ev.top1 == best->test_acc);
  CHECK(ev.loss == Approx(best->test_loss).epsilon(1e-9));

  // And last.safetensors reproduces the last epoch.
  Net net2(r.model);
  load_checkpoint(out_file(r, "last.safetensors"), net2);
  const EvalResult ev2 = evaluate(net2, *test_set, r.data.eval_transforms, r.data.eval_batch_size);
  CHECK(ev2.top1 == res.epochs.back().test_acc);
}

TEST_CASE("load_checkpoint errors: mismatched model (ConfigError), truncated file (RuntimeError)", "[train]") {
  set_num_threads(2);
  const Recipe r = make_recipe("ckpt-errors", {"train.epochs=1"});
  const std::string last = out_file(r, "last.safetensors");
  if (!fs::exists(last)) run(r);  // once for all sections

  SECTION("a wider conv: the mis-shaped tensors are named") {
    const Recipe other = make_recipe("unused", {"model.layers.0.conv.out=6"});
    Net net(other.model);
    const std::string msg = config_error_message([&] { load_checkpoint(last, net); });
    INFO(msg);
    CHECK_THAT(msg, Catch::Contains("conv1.weight"));
    CHECK_THAT(msg, Catch::Contains(last));
  }
  SECTION("a model without batchnorm: the unexpected tensors are named") {
    const Recipe other = make_recipe("unused", {}, /*batchnorm=*/false);
    Net net(other.model);
    const std::string msg = config_error_message([&] { load_checkpoint(last, net); });
    INFO(msg);
    CHECK_THAT(msg, Catch::Contains("bn1.weight"));
  }
  SECTION("a truncated file: RuntimeError naming the file") {
    const std::string cut = (fs::path(r.output) / "truncated.safetensors").string();
    fs::copy_file(last, cut, fs::copy_options::overwrite_existing);
    const auto size = fs::file_size(cut);
    REQUIRE(size > 100);
    for (auto keep : {size - 4, size / 2, uintmax_t(20), uintmax_t(5)}) {
      fs::copy_file(last, cut, fs::copy_options::overwrite_existing);
      fs::resize_file(cut, keep);
      Net net(r.model);
      const std::string msg = runtime_error_message([&] { load_checkpoint(cut, net); });
      INFO("kept " << keep << " of " << size << " bytes: " << msg);
      CHECK_THAT(msg, Catch::StartsWith(cut) || Catch::Contains("'" + cut + "'"));
      CHECK_THAT(msg, !Catch::StartsWith("<no RuntimeError") && !Catch::StartsWith("<not a RuntimeError"));
    }
  }
}

TEST_CASE("a fresh run into a directory holding a run is refused, overwrite starts over", "[train]") {
  set_num_threads(2);
  const Recipe r = make_recipe("refuse", {"train.epochs=1"});
  run(r);
  const std::string last = out_file(r, "last.safetensors");
  const auto before = fs::last_write_time(last);
  const Recipe zero = make_recipe("refuse", {"train.epochs=0"});
  const std::string msg = config_error_message([&] { run(zero); });
  CHECK(msg == "output '" + r.output + "' already holds a run (last.safetensors); continue it with --resume " + last +
                   ", start over with --overwrite, or set another output");
  CHECK(fs::last_write_time(last) == before);
  CHECK(read_metrics(out_file(r, "metrics.jsonl")).size() == 1);
  TrainOptions o;
  o.overwrite = true;
  CHECK(train(r, o).epochs.size() == 1);
}

TEST_CASE("resume: a finished run trains nothing", "[train]") {
  set_num_threads(2);
  const Recipe r = make_recipe("resume-done", {"train.epochs=2"});
  run(r);
  const std::string last = out_file(r, "last.safetensors");
  const auto before = fs::last_write_time(last);
  const TrainResult again = run(r, last);
  CHECK(again.epochs.empty());
  CHECK(read_metrics(out_file(r, "metrics.jsonl")).size() == 2);
  CHECK(fs::last_write_time(last) == before);
}

TEST_CASE("resume: 2 epochs then resume to 4 equals 4 straight epochs", "[train]") {
  set_num_threads(2);
  // The step schedule does not depend on train.epochs, so both runs see the same lr at every
  // step; momentum buffers, BN running stats and the step count travel in the checkpoint, and
  // shuffling and dropout are keyed by (seed, epoch).
  const Recipe straight = make_recipe("resume-straight", {"train.epochs=4", "train.schedule.step_epochs=1"});
  const Recipe first = make_recipe("resume-split", {"train.epochs=2", "train.schedule.step_epochs=1"});
  const Recipe second = make_recipe("resume-split", {"train.epochs=4", "train.schedule.step_epochs=1"});
  const TrainResult rs = run(straight);
  const TrainResult r1 = run(first);
  const TrainResult r2 = run(second, out_file(first, "last.safetensors"));
  REQUIRE(rs.epochs.size() == 4);
  REQUIRE(r1.epochs.size() == 2);
  REQUIRE(r2.epochs.size() == 2);
  {
    INFO("the first two epochs of both runs are the same training");
    check_same_records(r1.epochs[0], rs.epochs[0]);
    check_same_records(r1.epochs[1], rs.epochs[1]);
  }
  {
    INFO("RESUME MISMATCH: epochs 3-4 after resuming from epoch 2 must equal epochs 3-4 of the straight run "
         "(model weights, BN buffers and optimizer momentum all restored; shuffling keyed by (seed, epoch))");
    check_same_records(r2.epochs[0], rs.epochs[2]);
    check_same_records(r2.epochs[1], rs.epochs[3]);
    check_same_tensors(out_file(second, "last.safetensors"), out_file(straight, "last.safetensors"),
                       "RESUME MISMATCH: final weights/momentum after 2 + 2 epochs vs 4 straight epochs");
  }
  CHECK(r2.best_test_acc == rs.best_test_acc);
  check_same_tensors(out_file(second, "best.safetensors"), out_file(straight, "best.safetensors"),
                     "best checkpoint after 2 + 2 epochs vs 4 straight epochs");
  // metrics.jsonl of the resumed run holds all four epochs, in order.
  const auto lines = read_metrics(out_file(second, "metrics.jsonl"));
  REQUIRE(lines.size() == 4);
  for (size_t i = 0; i < lines.size(); ++i) CHECK(lines[i].value("epoch", -1) == int64_t(i + 1));
  // Step records too: the same steps with the same losses as the straight run.
  const auto steps = read_metrics(out_file(second, "metrics.jsonl"), "step");
  const auto steps_straight = read_metrics(out_file(straight, "metrics.jsonl"), "step");
  REQUIRE(!steps.empty());
  REQUIRE(steps.size() == steps_straight.size());
  for (size_t i = 0; i < steps.size(); ++i) {
    CHECK(steps[i]["step"] == steps_straight[i]["step"]);
    CHECK(steps[i]["train_loss"] == steps_straight[i]["train_loss"]);
  }
  Net net(second.model);
  const CheckpointMeta m = load_checkpoint(out_file(second, "last.safetensors"), net);
  CHECK(m.epoch == 4);
  CHECK(m.step == rs.epochs.back().step);
}

TEST_CASE("train stops on a non-finite loss, naming the step and the last good checkpoint", "[train]") {
  set_num_threads(2);
  SECTION("diverging from the first epoch: no checkpoint yet") {
    const Recipe r = make_recipe("nan", {"train.optimizer.lr=1e6", "train.epochs=3"}, /*batchnorm=*/false);
    const std::string msg = runtime_error_message([&] { run(r); });
    INFO(msg);
    CHECK_THAT(msg, Catch::Matches(".*at epoch 1 step [0-9]+.*"));
    CHECK_THAT(msg, Catch::Contains("last good checkpoint: none"));
    CHECK_FALSE(fs::exists(out_file(r, "last.safetensors")));
  }
  SECTION("diverging after a good epoch: names last.safetensors") {
    const Recipe good = make_recipe("nan-later", {"train.epochs=1"}, /*batchnorm=*/false);
    run(good);
    const std::string last = out_file(good, "last.safetensors");
    const Recipe bad = make_recipe("nan-later", {"train.optimizer.lr=1e6", "train.epochs=3"}, /*batchnorm=*/false);
    const std::string msg = runtime_error_message([&] { run(bad, last); });
    INFO(msg);
    CHECK_THAT(msg, Catch::Matches(".*at epoch [23] step [0-9]+.*"));
    CHECK_THAT(msg, Catch::Contains("last good checkpoint: " + last));
    // The good checkpoint is still the one from epoch 1.
    Net net(good.model);
    CHECK(load_checkpoint(last, net).epoch == 1);
  }
}


TEST_CASE("checkpoints keep the best test accuracy exactly (resume compares against it)", "[train]") {
  set_num_threads(2);
  // 99 test images: accuracies like 100 * 67 / 99 = 67.6767... have no short decimal form. (Fails
  // while lib/train/checkpoint.cpp writes best_metric with std::to_string, i.e. 6 decimals.)
  const Recipe r = make_recipe("best-metric", {"train.epochs=1", "data.eval_limit=99"});
  const TrainResult res = run(r);
  REQUIRE(res.epochs.size() == 1);
  Net net(r.model);
  const CheckpointMeta meta = load_checkpoint(out_file(r, "last.safetensors"), net);
  INFO("best_metric in the checkpoint: " << meta.best_metric << " (" << std::to_string(meta.best_metric)
       << "), best test_acc of the run: " << res.best_test_acc
       << ". A rounded value makes a resumed run treat an epoch with the same accuracy as a new best.");
  CHECK(same_bits(meta.best_metric, res.best_test_acc));
}

TEST_CASE("an interrupt mid-epoch saves last.safetensors, resuming gives the uninterrupted run", "[train]") {
  set_num_threads(2);
  // Dropout is in the model, so the saved Rng state matters as well as the batch position.
  const std::vector<std::string> common{"train.epochs=3", "train.log_every=3"};
  const Recipe straight = make_recipe("interrupt-straight", common);
  const Recipe cut = make_recipe("interrupt-cut", common);
  const TrainResult rs = run(straight);

  // Ask to stop at the second progress line of epoch 2 (as Ctrl-C would), from inside the run.
  REQUIRE(interrupted_in_epoch_2(cut, 2));
  Net probe(cut.model);
  const CheckpointMeta m = load_checkpoint(out_file(cut, "last.safetensors"), probe);
  CHECK(m.epoch == 1);
  CHECK(m.epoch_step == 6);

  const TrainResult rr = run(cut, out_file(cut, "last.safetensors"));
  REQUIRE(rr.epochs.size() == 2);
  check_same_records(rr.epochs[0], rs.epochs[1]);
  check_same_records(rr.epochs[1], rs.epochs[2]);
  check_same_tensors(out_file(cut, "last.safetensors"), out_file(straight, "last.safetensors"),
                     "weights after an interrupted and resumed run vs a straight run");
  const auto steps = read_metrics(out_file(cut, "metrics.jsonl"), "step");
  const auto steps_straight = read_metrics(out_file(straight, "metrics.jsonl"), "step");
  REQUIRE(steps.size() == steps_straight.size());
  for (size_t i = 0; i < steps.size(); ++i) CHECK(steps[i]["train_loss"] == steps_straight[i]["train_loss"]);
}

TEST_CASE("augmented training gives the same run with 0 or 3 loader workers, also interrupted and resumed",
          "[train][loader]") {
  set_num_threads(2);
  const std::string augment =
      "data.train_transforms=[{random_crop: {size: 28, pad: 2}}, {hflip: {p: 0.5}}, "
      "{normalize: {mean: [0.15], std: [0.3]}}, {random_erasing: {p: 0.5}}]";
  const Recipe inline_run = make_recipe("workers-0", {augment, "data.workers=0", "train.log_every=3"});
  const Recipe threaded = make_recipe("workers-3", {augment, "data.workers=3", "train.log_every=3"});
  const Recipe cut = make_recipe("workers-3-cut", {augment, "data.workers=3", "train.log_every=3"});
  const TrainResult a = run(inline_run), b = run(threaded);
  REQUIRE(a.epochs.size() == 3);
  for (size_t i = 0; i < a.epochs.size(); ++i) check_same_records(a.epochs[i], b.epochs[i]);
  check_same_tensors(out_file(inline_run, "last.safetensors"), out_file(threaded, "last.safetensors"),
                     "final weights, 0 vs 3 workers");
  // Augmentation changes the run (the transforms are applied).
  const TrainResult plain = run(make_recipe("workers-plain", {"train.log_every=3"}));
  CHECK_FALSE(same_bits(plain.epochs[0].train_loss, a.epochs[0].train_loss));

  // Interrupted in epoch 2 with workers filling ahead, then resumed: the straight run.
  REQUIRE(interrupted_in_epoch_2(cut, 1));
  const TrainResult rr = run(cut, out_file(cut, "last.safetensors"));
  REQUIRE(rr.epochs.size() == 2);
  check_same_records(rr.epochs[0], a.epochs[1]);
  check_same_records(rr.epochs[1], a.epochs[2]);
  check_same_tensors(out_file(cut, "last.safetensors"), out_file(inline_run, "last.safetensors"),
                     "weights after an interrupted and resumed 3-worker run vs a straight inline run");
}
