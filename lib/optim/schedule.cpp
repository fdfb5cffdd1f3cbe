#include "optim/schedule.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace cnn {

namespace {

double onecycle(const ScheduleSpec& s, double max_lr, double step, double total) {
  const double initial = max_lr / s.div_factor, min_lr = initial / s.final_div_factor;
  struct Phase {
    double end_step, start_lr, end_lr;
  };
  std::vector<Phase> phases;
  if (s.three_phase)
    phases = {{s.pct_start * total - 1, initial, max_lr},
              {2 * s.pct_start * total - 2, max_lr, initial},
              {total - 1, initial, min_lr}};
  else
    phases = {{s.pct_start * total - 1, initial, max_lr}, {total - 1, max_lr, min_lr}};
  double start_step = 0;
  for (size_t i = 0; i < phases.size(); ++i) {
    const Phase& p = phases[i];
    if (step <= p.end_step || i + 1 == phases.size()) {
      const double span = p.end_step - start_step;
      const double pct = span > 0 ? std::clamp((step - start_step) / span, 0.0, 1.0) : 1.0;
      if (s.anneal_strategy == AnnealStrategy::linear) return (p.end_lr - p.start_lr) * pct + p.start_lr;
      return p.end_lr + (p.start_lr - p.end_lr) / 2.0 * (std::cos(M_PI * pct) + 1);
    }
    start_step = p.end_step;
  }
  return min_lr;
}

}  // namespace

double learning_rate(const ScheduleSpec& s, double base_lr, int64_t step, int64_t steps_per_epoch, int64_t epochs) {
  const double warmup = s.warmup_epochs * double(steps_per_epoch);
  const double total = double(epochs * steps_per_epoch);
  if (step < warmup) {
    const double start = s.type == ScheduleType::onecycle ? base_lr / s.div_factor : base_lr;
    return start * std::min(1.0, (double(step) + 1) / warmup);
  }
  const int64_t epoch = step / steps_per_epoch;  // 0-based epoch of this step
  switch (s.type) {
    case ScheduleType::constant: return base_lr;
    case ScheduleType::step: return base_lr * std::pow(s.gamma, double(epoch / s.step_epochs));
    case ScheduleType::multistep: {
      const auto passed = std::upper_bound(s.milestones.begin(), s.milestones.end(), epoch) - s.milestones.begin();
      return base_lr * std::pow(s.gamma, double(passed));
    }
    case ScheduleType::exponential: return base_lr * std::pow(s.gamma, double(epoch));
    case ScheduleType::cosine: {
      const double span = total - warmup;
      const double t = span > 0 ? std::min(1.0, (double(step) - warmup) / span) : 1.0;
      return s.min_lr + (base_lr - s.min_lr) * 0.5 * (1 + std::cos(M_PI * t));
    }
    case ScheduleType::onecycle: {
      const double skip = std::ceil(warmup);
      return onecycle(s, base_lr, double(step) - skip, total - skip);
    }
  }
  return base_lr;
}

}  // namespace cnn
