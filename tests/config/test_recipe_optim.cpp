// train.optimizer and train.schedule fields: parsing, per-type defaults, range checks naming
// file:line:col and the field, fields another optimizer type uses, did-you-mean, --set, and the
// resolved YAML (only the fields the type uses) reloading to the same values.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "config/recipe.h"
#include "config_test_util.h"

using cnn::load_recipe_string;
using cnn::AnnealStrategy;
using cnn::OptimizerType;
using cnn::ScheduleType;
using cnn::Recipe;
using cnn::testing::config_error;

namespace {

const std::string kFixtures = std::string(CNN_SOURCE_DIR) + "/tests/config/fixtures";

Recipe from_string(const std::string& text, const std::vector<std::string>& overrides = {}) {
  return load_recipe_string(text, "r.yaml", kFixtures, overrides);
}

std::string err(const std::string& text, const std::vector<std::string>& overrides = {}) {
  return config_error([&] { from_string(text, overrides); });
}

Recipe with_train(const std::string& train_yaml, const std::vector<std::string>& overrides = {}) {
  return from_string("model: lenet5.yaml\ntrain:\n" + train_yaml, overrides);
}

Recipe reload(const Recipe& r) { return load_recipe_string(r.resolved_yaml, "resolved.yaml", kFixtures); }

void check_same_optim(const Recipe& a, const Recipe& b) {
  const auto &o = a.train.optimizer, &p = b.train.optimizer;
  CHECK(o.type == p.type);
  CHECK(o.lr == p.lr);
  CHECK(o.momentum == p.momentum);
  CHECK(o.dampening == p.dampening);
  CHECK(o.nesterov == p.nesterov);
  CHECK(o.weight_decay == p.weight_decay);
  CHECK(o.alpha == p.alpha);
  CHECK(o.eps == p.eps);
  CHECK(o.centered == p.centered);
  CHECK(o.beta1 == p.beta1);
  CHECK(o.beta2 == p.beta2);
  CHECK(o.amsgrad == p.amsgrad);
  CHECK(o.no_decay_bn_bias == p.no_decay_bn_bias);
  CHECK(o.grad_clip_norm == p.grad_clip_norm);
  const auto &s = a.train.schedule, &t = b.train.schedule;
  CHECK(s.type == t.type);
  CHECK(s.warmup_epochs == t.warmup_epochs);
  CHECK(a.resolved_yaml == b.resolved_yaml);
}

}  // namespace

TEST_CASE("optimizer: defaults per type", "[config][recipe][optim]") {
  const auto sgd = with_train("  optimizer: {type: sgd}\n").train.optimizer;
  CHECK(sgd.lr == 0.01);
  CHECK(sgd.weight_decay == 0.0);
  CHECK_FALSE(sgd.no_decay_bn_bias);
  CHECK(sgd.grad_clip_norm == 0.0);
  const auto rms = with_train("  optimizer: {type: rmsprop}\n").train.optimizer;
  CHECK(rms.lr == 0.01);
  CHECK(rms.alpha == 0.99);
  CHECK(rms.eps == 1e-8);
  CHECK(rms.momentum == 0.0);
  CHECK_FALSE(rms.centered);
  const auto adam = with_train("  optimizer: {type: adam}\n").train.optimizer;
  CHECK(adam.lr == 0.001);
  CHECK(adam.beta1 == 0.9);
  CHECK(adam.beta2 == 0.999);
  CHECK(adam.eps == 1e-8);
  CHECK(adam.weight_decay == 0.0);
  CHECK_FALSE(adam.amsgrad);
  const auto adamw = with_train("  optimizer: {type: adamw}\n").train.optimizer;
  CHECK(adamw.lr == 0.001);
  CHECK(adamw.weight_decay == 0.01);  // torch.optim.AdamW's default
}

TEST_CASE("optimizer: every field parses and the resolved YAML reloads", "[config][recipe][optim]") {
  SECTION("sgd") {
    Recipe r = with_train("  optimizer: {type: sgd, lr: 0.1, momentum: 0.9, dampening: 0, nesterov: true, "
                          "weight_decay: 1.0e-4, no_decay_bn_bias: true, grad_clip_norm: 5}\n");
    const auto& o = r.train.optimizer;
    CHECK(o.nesterov);
    CHECK(o.no_decay_bn_bias);
    CHECK(o.grad_clip_norm == 5.0);
    CHECK(r.resolved_yaml.find("optimizer: {type: sgd, lr: 0.1, momentum: 0.9, dampening: 0.0, nesterov: true, "
                               "weight_decay: 0.0001, no_decay_bn_bias: true, grad_clip_norm: 5.0}") !=
          std::string::npos);
    check_same_optim(r, reload(r));
  }
  SECTION("rmsprop, Inception's settings") {
    Recipe r = with_train("  optimizer: {type: rmsprop, lr: 0.045, alpha: 0.9, momentum: 0.9, eps: 1.0, centered: "
                          "true, weight_decay: 4.0e-5}\n");
    const auto& o = r.train.optimizer;
    CHECK(o.type == OptimizerType::rmsprop);
    CHECK(o.alpha == 0.9);
    CHECK(o.eps == 1.0);
    CHECK(o.momentum == 0.9);
    CHECK(o.centered);
    CHECK(r.resolved_yaml.find("{type: rmsprop, lr: 0.045, alpha: 0.9, eps: 1.0, momentum: 0.9, centered: true, "
                               "weight_decay: 4e-05") != std::string::npos);
    CHECK(r.resolved_yaml.find("betas") == std::string::npos);
    check_same_optim(r, reload(r));
  }
  SECTION("adam and adamw") {
    for (const std::string type : {"adam", "adamw"}) {
      Recipe r = with_train("  optimizer: {type: " + type + ", lr: 3.0e-4, betas: [0.8, 0.99], eps: 1.0e-6, "
                            "amsgrad: true, weight_decay: 0.05}\n");
      const auto& o = r.train.optimizer;
      CHECK(o.beta1 == 0.8);
      CHECK(o.beta2 == 0.99);
      CHECK(o.eps == 1e-6);
      CHECK(o.amsgrad);
      CHECK(o.weight_decay == 0.05);
      CHECK(r.resolved_yaml.find("betas: [0.8, 0.99]") != std::string::npos);
      CHECK(r.resolved_yaml.find("momentum") == std::string::npos);
      check_same_optim(r, reload(r));
    }
  }
  SECTION("--set switches the type and sets new fields") {
    Recipe r = with_train("  epochs: 1\n", {"train.optimizer.type=adamw", "train.optimizer.betas=[0.9,0.95]",
                                            "train.optimizer.grad_clip_norm=1"});
    CHECK(r.train.optimizer.type == OptimizerType::adamw);
    CHECK(r.train.optimizer.beta2 == 0.95);
    CHECK(r.train.optimizer.grad_clip_norm == 1.0);
    check_same_optim(r, reload(r));
  }
}

TEST_CASE("optimizer errors", "[config][recipe][optim][errors]") {
  // A field of another optimizer type, set explicitly.
  CHECK(err("model: lenet5.yaml\ntrain:\n  optimizer: {type: sgd, betas: [0.9, 0.99]}\n") ==
        "r.yaml:3:33: train.optimizer.betas: not used by sgd (only by adam, adamw)");
  CHECK(err("model: lenet5.yaml\ntrain:\n  optimizer: {type: adam, momentum: 0.9}\n") ==
        "r.yaml:3:37: train.optimizer.momentum: not used by adam (only by sgd, rmsprop)");
  CHECK(err("model: lenet5.yaml\ntrain:\n  optimizer: {momentum: 0.9, nesterov: true}\n",
            {"train.optimizer.type=rmsprop"}) ==
        "r.yaml:3:40: train.optimizer.nesterov: not used by rmsprop (only by sgd)");
  CHECK(err("model: lenet5.yaml\n", {"train.optimizer.alpha=0.9"}) ==
        "--set: train.optimizer.alpha: not used by sgd (only by rmsprop)");
  CHECK(err("model: lenet5.yaml\ntrain:\n  optimizer: {type: adamw, centered: true}\n") ==
        "r.yaml:3:38: train.optimizer.centered: not used by adamw (only by rmsprop)");
  // Unknown type and keys, with did-you-mean.
  CHECK(err("model: lenet5.yaml\ntrain:\n  optimizer: {type: rmsporp}\n") ==
        "r.yaml:3:21: train.optimizer.type: unknown optimizer 'rmsporp' (did you mean 'rmsprop'?); supported: sgd, "
        "rmsprop, adam, adamw");
  CHECK(err("model: lenet5.yaml\ntrain:\n  optimizer: {type: adam, beta: [0.9, 0.9]}\n") ==
        "r.yaml:3:27: train.optimizer: unknown key 'beta' (did you mean 'betas'?); expected one of: type, lr, "
        "momentum, dampening, nesterov, weight_decay, alpha, eps, centered, betas, amsgrad, no_decay_bn_bias, "
        "grad_clip_norm");
  CHECK_THAT(err("model: lenet5.yaml\n", {"train.optimizer.grad_clip_nrom=1"}),
             Catch::StartsWith("--set: unknown key 'train.optimizer.grad_clip_nrom' (did you mean "
                               "'train.optimizer.grad_clip_norm'?)"));
  // Values.
  CHECK(err("model: lenet5.yaml\ntrain:\n  optimizer: {type: adam, betas: [0.9]}\n") ==
        "r.yaml:3:34: train.optimizer.betas: expected a list of 2 numbers in [0, 1), e.g. [0.9, 0.999], got [0.9]");
  CHECK(err("model: lenet5.yaml\ntrain:\n  optimizer: {type: adam, betas: [0.9, 1.0]}\n") ==
        "r.yaml:3:34: train.optimizer.betas: expected a list of 2 numbers in [0, 1), e.g. [0.9, 0.999], got [0.9, "
        "1.0]");
  CHECK(err("model: lenet5.yaml\ntrain:\n  optimizer: {type: rmsprop, alpha: 1.5}\n") ==
        "r.yaml:3:37: train.optimizer.alpha: expected a number in [0, 1], got 1.5");
  CHECK(err("model: lenet5.yaml\ntrain:\n  optimizer: {type: rmsprop, eps: -1}\n") ==
        "r.yaml:3:35: train.optimizer.eps: expected a number >= 0, got -1");
  CHECK(err("model: lenet5.yaml\ntrain:\n  optimizer: {grad_clip_norm: -1}\n") ==
        "r.yaml:3:31: train.optimizer.grad_clip_norm: expected a number >= 0 (0: off), got -1");
  CHECK(err("model: lenet5.yaml\ntrain:\n  optimizer: {no_decay_bn_bias: maybe}\n") ==
        "r.yaml:3:33: train.optimizer.no_decay_bn_bias: expected true or false, got 'maybe'");
  CHECK(err("model: lenet5.yaml\ntrain:\n  optimizer: {type: adam, amsgrad: 2}\n") ==
        "r.yaml:3:36: train.optimizer.amsgrad: expected true or false, got 2");
}

TEST_CASE("schedule: every type parses and the resolved YAML keeps its fields", "[config][recipe][schedule]") {
  SECTION("multistep") {
    Recipe r = with_train("  schedule: {type: multistep, milestones: [30, 60, 80], gamma: 0.2, warmup_epochs: 0.5}\n");
    const auto& s = r.train.schedule;
    CHECK(s.milestones == std::vector<int64_t>{30, 60, 80});
    CHECK(s.gamma == 0.2);
    CHECK(s.warmup_epochs == 0.5);
    CHECK(r.resolved_yaml.find("schedule: {type: multistep, milestones: [30, 60, 80], gamma: 0.2, warmup_epochs: "
                               "0.5}") != std::string::npos);
    Recipe again = reload(r);
    CHECK(again.train.schedule.milestones == s.milestones);
    check_same_optim(r, again);
  }
  SECTION("exponential") {
    Recipe r = with_train("  schedule: {type: exponential, gamma: 0.94}\n");
    CHECK(r.train.schedule.gamma == 0.94);
    CHECK(r.resolved_yaml.find("schedule: {type: exponential, gamma: 0.94, warmup_epochs: 0.0}") != std::string::npos);
    check_same_optim(r, reload(r));
  }
  SECTION("onecycle") {
    Recipe r = with_train("  schedule: {type: onecycle, pct_start: 0.25, div_factor: 10, final_div_factor: 100, "
                          "anneal_strategy: linear, three_phase: true}\n");
    const auto& s = r.train.schedule;
    CHECK(s.pct_start == 0.25);
    CHECK(s.div_factor == 10.0);
    CHECK(s.final_div_factor == 100.0);
    CHECK(s.anneal_strategy == AnnealStrategy::linear);
    CHECK(s.three_phase);
    Recipe again = reload(r);
    CHECK(again.train.schedule.pct_start == 0.25);
    CHECK(again.train.schedule.anneal_strategy == AnnealStrategy::linear);
    CHECK(again.train.schedule.three_phase);
    check_same_optim(r, again);
  }
  SECTION("defaults") {
    const auto s = with_train("  schedule: {type: onecycle}\n").train.schedule;
    CHECK(s.pct_start == 0.3);
    CHECK(s.div_factor == 25.0);
    CHECK(s.final_div_factor == 1e4);
    CHECK(s.anneal_strategy == AnnealStrategy::cos);
    CHECK_FALSE(s.three_phase);
  }
  SECTION("fields of other schedules are ignored (so --set can switch the type)") {
    Recipe r = with_train("  schedule: {type: step, step_epochs: 2, gamma: 0.5}\n", {"train.schedule.type=cosine"});
    CHECK(r.train.schedule.type == ScheduleType::cosine);
    CHECK(r.resolved_yaml.find("schedule: {type: cosine, min_lr: 0.0, warmup_epochs: 0.0}") != std::string::npos);
    check_same_optim(r, reload(r));
  }
}

TEST_CASE("schedule errors", "[config][recipe][schedule][errors]") {
  CHECK(err("model: lenet5.yaml\ntrain:\n  schedule: {type: multistp}\n") ==
        "r.yaml:3:20: train.schedule.type: unknown schedule 'multistp' (did you mean 'multistep'?); supported: "
        "constant, step, multistep, exponential, cosine, onecycle");
  CHECK(err("model: lenet5.yaml\ntrain:\n  schedule: {type: multistep}\n") ==
        "r.yaml:3:20: train.schedule.milestones: multistep needs milestones: a list of epochs, e.g. [30, 60, 80]");
  CHECK(err("model: lenet5.yaml\ntrain:\n  schedule: {type: multistep, milestones: [60, 30]}\n") ==
        "r.yaml:3:43: train.schedule.milestones: expected a list of increasing epochs >= 1, e.g. [30, 60, 80], got "
        "[60, 30]");
  CHECK(err("model: lenet5.yaml\ntrain:\n  schedule: {type: multistep, milestones: 30}\n") ==
        "r.yaml:3:43: train.schedule.milestones: expected a list of increasing epochs >= 1, e.g. [30, 60, 80], got 30");
  CHECK(err("model: lenet5.yaml\ntrain:\n  schedule: {type: onecycle, pct_start: 0}\n") ==
        "r.yaml:3:41: train.schedule.pct_start: expected a number in (0, 1], got 0");
  CHECK(err("model: lenet5.yaml\ntrain:\n  schedule: {type: onecycle, anneal_strategy: cosine}\n") ==
        "r.yaml:3:47: train.schedule.anneal_strategy: unknown anneal strategy 'cosine'; supported: cos, linear");
  CHECK(err("model: lenet5.yaml\ntrain:\n  schedule: {type: onecycle, div_factor: 0}\n") ==
        "r.yaml:3:42: train.schedule.div_factor: expected a number > 0, got 0");
  CHECK(err("model: lenet5.yaml\ntrain:\n  schedule: {type: onecycle, pct_strat: 0.3}\n") ==
        "r.yaml:3:30: train.schedule: unknown key 'pct_strat' (did you mean 'pct_start'?); expected one of: type, step_epochs, "
        "gamma, milestones, min_lr, pct_start, div_factor, final_div_factor, anneal_strategy, three_phase, "
        "warmup_epochs");
}
