// learning_rate() against torch's schedulers (tests/optim/optim_reference.safetensors, made by
// make_optim_reference.py): constant; step, multistep, exponential (torch StepLR / MultiStepLR /
// ExponentialLR stepped per epoch: every step of an epoch uses that epoch's lr); cosine (torch
// CosineAnnealingLR with T_max = all steps, stepped per step); onecycle (torch OneCycleLR with
// total_steps = all steps, stepped per step: cos, linear, three_phase).
// The linear warm-up, base * (step + 1) / warmup_steps, is checked against the formula directly.
#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>
#include <string>

#include "optim/schedule.h"
#include "optim_reference.h"

using namespace cnn;
using namespace cnn::optim_test;

namespace {

struct SchedSetup {
  double base_lr;
  int64_t steps_per_epoch, epochs;
};

SchedSetup setup() {
  auto kv = parse_kv(ref_meta("sched"));
  return {std::stod(kv.at("base_lr")), std::stoll(kv.at("steps_per_epoch")), std::stoll(kv.at("epochs"))};
}

ScheduleSpec spec_of(const std::string& name) {
  auto kv = parse_kv(ref_meta("sched." + name));
  ScheduleSpec s;
  s.type = choice_named<ScheduleType>(kv.at("type")).value();
  if (kv.count("step_epochs")) s.step_epochs = std::stoll(kv.at("step_epochs"));
  if (kv.count("gamma")) s.gamma = std::stod(kv.at("gamma"));
  if (kv.count("min_lr")) s.min_lr = std::stod(kv.at("min_lr"));
  if (kv.count("milestones")) {
    std::stringstream ss(kv.at("milestones"));
    std::string m;
    while (std::getline(ss, m, ',')) s.milestones.push_back(std::stoll(m));
  }
  if (kv.count("pct_start")) s.pct_start = std::stod(kv.at("pct_start"));
  if (kv.count("div_factor")) s.div_factor = std::stod(kv.at("div_factor"));
  if (kv.count("final_div_factor")) s.final_div_factor = std::stod(kv.at("final_div_factor"));
  if (kv.count("anneal_strategy")) s.anneal_strategy = choice_named<AnnealStrategy>(kv.at("anneal_strategy")).value();
  if (kv.count("three_phase")) s.three_phase = kv.at("three_phase") == "1";
  return s;
}

// Relative agreement with a float32-stored reference value.
void check_lr(const std::string& what, double got, double want, double rel = 1e-6) {
  INFO(what << ": got " << got << ", want " << want);
  CHECK(std::fabs(got - want) <= rel * std::fabs(want));
}

}  // namespace

TEST_CASE("schedule: constant keeps the base lr", "[optim][schedule]") {
  const SchedSetup su = setup();
  const ScheduleSpec s = spec_of("constant");
  const Tensor& want = ref_tensor("sched.constant");
  REQUIRE(want.numel() == su.steps_per_epoch * su.epochs);
  for (int64_t step = 0; step < want.numel(); ++step)
    check_lr("constant step " + std::to_string(step),
             learning_rate(s, su.base_lr, step, su.steps_per_epoch, su.epochs), want[step]);
}

TEST_CASE("schedule: step matches torch StepLR at every step of each epoch", "[optim][schedule]") {
  const SchedSetup su = setup();
  const ScheduleSpec s = spec_of("step");
  const Tensor& want = ref_tensor("sched.step");  // per epoch
  REQUIRE(want.numel() == su.epochs);
  for (int64_t e = 0; e < su.epochs; ++e)
    for (int64_t i = 0; i < su.steps_per_epoch; ++i) {
      const int64_t step = e * su.steps_per_epoch + i;
      check_lr("step schedule, epoch " + std::to_string(e) + " step " + std::to_string(step),
               learning_rate(s, su.base_lr, step, su.steps_per_epoch, su.epochs), want[e]);
    }
}

TEST_CASE("schedule: cosine matches torch CosineAnnealingLR stepped per step", "[optim][schedule]") {
  const SchedSetup su = setup();
  const int64_t total = su.steps_per_epoch * su.epochs;
  for (const std::string name : {"cosine", "cosine_min"}) {
    SECTION(name) {
      const ScheduleSpec s = spec_of(name);
      const Tensor& want = ref_tensor("sched." + name);
      REQUIRE(want.numel() == total);
      for (int64_t step = 0; step < total; ++step)
        check_lr(name + " step " + std::to_string(step),
                 learning_rate(s, su.base_lr, step, su.steps_per_epoch, su.epochs), want[step]);
      // The schedule ends at min_lr and stays there.
      CHECK(learning_rate(s, su.base_lr, total, su.steps_per_epoch, su.epochs) == Approx(s.min_lr).margin(1e-15));
      CHECK(learning_rate(s, su.base_lr, total + 5, su.steps_per_epoch, su.epochs) ==
            Approx(s.min_lr).margin(1e-15));
    }
  }
}

TEST_CASE("schedule: linear warm-up in front of constant, step and cosine", "[optim][schedule]") {
  // Our warm-up (no torch counterpart used here): for step < W = warmup_epochs * steps_per_epoch,
  // lr = base * (step + 1) / W; afterwards the schedule, with cosine running over the remaining
  // steps (t = (step - W) / (total - W)) and step counting epochs from step 0.
  const double base = 0.1;
  const int64_t spe = 7, epochs = 6, total = spe * epochs;
  for (const std::string type : {"constant", "step", "cosine"}) {
    SECTION(type) {
      ScheduleSpec s;
      s.type = choice_named<ScheduleType>(type).value();
      s.warmup_epochs = 2;
      s.step_epochs = 3;
      s.gamma = 0.5;
      s.min_lr = 0.001;
      const double W = 2.0 * spe;
      for (int64_t step = 0; step < total + 3; ++step) {
        double want;
        if (step < W) {
          want = base * double(step + 1) / W;
        } else if (type == "constant") {
          want = base;
        } else if (type == "step") {
          want = base * std::pow(0.5, std::floor(double(step) / spe / 3));
        } else {
          const double t = std::min(1.0, (double(step) - W) / (double(total) - W));
          want = 0.001 + (base - 0.001) * 0.5 * (1 + std::cos(M_PI * t));
        }
        check_lr(type + " with warm-up, step " + std::to_string(step), learning_rate(s, base, step, spe, epochs),
                 want, 1e-12);
      }
      // The warm-up reaches the base lr exactly on its last step and is continuous into the schedule.
      CHECK(learning_rate(s, base, int64_t(W) - 1, spe, epochs) == Approx(base).epsilon(1e-12));
      if (type != "step") CHECK(learning_rate(s, base, int64_t(W), spe, epochs) == Approx(base).epsilon(1e-12));
    }
  }
}

TEST_CASE("schedule: a fractional warm-up never exceeds the base lr", "[optim][schedule]") {
  // warmup_epochs is a float (recipe field). With 0.5 epochs of 7 steps, W = 3.5 steps: the
  // warm-up must rise monotonically to the base lr, never above it. (Fails while
  // lib/optim/schedule.cpp computes base * (step + 1) / W unclamped: step 3 gets 4/3.5 * base.)
  const double base = 0.1;
  const int64_t spe = 7, epochs = 4;
  for (const std::string type : {"constant", "cosine"}) {
    ScheduleSpec s;
    s.type = choice_named<ScheduleType>(type).value();
    s.warmup_epochs = 0.5;
    double prev = 0;
    for (int64_t step = 0; step < 7; ++step) {
      const double lr = learning_rate(s, base, step, spe, epochs);
      INFO(type << " with warmup_epochs 0.5 (3.5 steps of 7): step " << step << " lr " << lr << " (base " << base
                << "); the warm-up formula base*(step+1)/W overshoots when W is not an integer");
      CHECK(lr <= base * (1 + 1e-12));
      if (step < 4) CHECK(lr >= prev);
      prev = lr;
    }
  }
}

TEST_CASE("schedule: multistep and exponential match torch stepped per epoch", "[optim][schedule]") {
  const SchedSetup su = setup();
  for (const std::string name : {"multistep", "exponential"}) {
    SECTION(name) {
      const ScheduleSpec s = spec_of(name);
      const Tensor& want = ref_tensor("sched." + name);  // per epoch
      REQUIRE(want.numel() == su.epochs);
      for (int64_t e = 0; e < su.epochs; ++e)
        for (int64_t i = 0; i < su.steps_per_epoch; ++i) {
          const int64_t step = e * su.steps_per_epoch + i;
          check_lr(name + ", epoch " + std::to_string(e) + " step " + std::to_string(step),
                   learning_rate(s, su.base_lr, step, su.steps_per_epoch, su.epochs), want[e]);
        }
    }
  }
}

TEST_CASE("schedule: onecycle matches torch OneCycleLR stepped per step", "[optim][schedule]") {
  const SchedSetup su = setup();
  const int64_t total = su.steps_per_epoch * su.epochs;
  for (const std::string name : {"onecycle", "onecycle_linear", "onecycle_three_phase"}) {
    SECTION(name) {
      const ScheduleSpec s = spec_of(name);
      REQUIRE(s.type == ScheduleType::onecycle);
      const Tensor& want = ref_tensor("sched." + name);
      REQUIRE(want.numel() == total);
      for (int64_t step = 0; step < total; ++step)
        check_lr(name + " step " + std::to_string(step),
                 learning_rate(s, su.base_lr, step, su.steps_per_epoch, su.epochs), want[step], 2e-6);
      // Starts at lr / div_factor, peaks at lr, ends at lr / div_factor / final_div_factor, stays there.
      CHECK(learning_rate(s, su.base_lr, 0, su.steps_per_epoch, su.epochs) ==
            Approx(su.base_lr / s.div_factor).epsilon(1e-12));
      const double end = su.base_lr / s.div_factor / s.final_div_factor;
      CHECK(learning_rate(s, su.base_lr, total - 1, su.steps_per_epoch, su.epochs) == Approx(end).epsilon(1e-9));
      CHECK(learning_rate(s, su.base_lr, total + 3, su.steps_per_epoch, su.epochs) == Approx(end).epsilon(1e-9));
      double peak = 0;
      for (int64_t step = 0; step < total; ++step)
        peak = std::max(peak, learning_rate(s, su.base_lr, step, su.steps_per_epoch, su.epochs));
      CHECK(peak <= su.base_lr * (1 + 1e-12));
      CHECK(peak >= su.base_lr * 0.95);
    }
  }
}

TEST_CASE("schedule: warm-up in front of multistep, exponential and onecycle", "[optim][schedule]") {
  // Epoch-based schedules count epochs from step 0; onecycle runs over the steps after the
  // warm-up (W rounded up), and the warm-up rises to onecycle's start lr / div_factor.
  const double base = 0.1;
  const int64_t spe = 7, epochs = 6, total = spe * epochs;
  for (const std::string type : {"multistep", "exponential", "onecycle"}) {
    SECTION(type) {
      ScheduleSpec s;
      s.type = choice_named<ScheduleType>(type).value();
      s.warmup_epochs = 1.5;  // W = 10.5 steps: steps 0..10 warm up
      s.milestones = {3, 5};
      s.gamma = 0.5;
      const double W = 1.5 * spe;
      ScheduleSpec plain = s;  // the same schedule without warm-up, for onecycle over fewer steps
      plain.warmup_epochs = 0;
      for (int64_t step = 0; step < total; ++step) {
        const double e = double(step / spe);
        double want;
        const double start = type == "onecycle" ? base / s.div_factor : base;
        if (step < W) want = start * std::min(1.0, double(step + 1) / W);
        else if (type == "multistep") want = base * std::pow(0.5, double((e >= 3) + (e >= 5)));
        else if (type == "exponential") want = base * std::pow(0.5, e);
        else want = learning_rate(plain, base, step - 11, 1, total - 11);  // onecycle over total - 11 steps
        check_lr(type + " with warm-up, step " + std::to_string(step), learning_rate(s, base, step, spe, epochs), want,
                 1e-12);
        CHECK(learning_rate(s, base, step, spe, epochs) <= base * (1 + 1e-12));
      }
      if (type == "onecycle") {  // continuous: the warm-up ends where onecycle starts
        CHECK(learning_rate(s, base, 10, spe, epochs) == Approx(base / s.div_factor).epsilon(1e-12));
        CHECK(learning_rate(s, base, 11, spe, epochs) == Approx(base / s.div_factor).epsilon(1e-12));
      }
    }
  }
}
