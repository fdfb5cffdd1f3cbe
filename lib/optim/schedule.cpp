#include "optim/schedule.h"

#include <algorithm>
#include <cmath>

namespace cnn {

double learning_rate(const ScheduleSpec& s, double base_lr, int64_t step, int64_t steps_per_epoch, int64_t epochs) {
  const double warmup = s.warmup_epochs * double(steps_per_epoch);
  if (step < warmup) return base_lr * std::min(1.0, (double(step) + 1) / warmup);
  const double epoch = double(step) / double(steps_per_epoch);  // fractional epochs done
  if (s.type == "step") return base_lr * std::pow(s.gamma, std::floor(epoch / double(s.step_epochs)));
  if (s.type == "cosine") {
    const double total = double(epochs * steps_per_epoch) - warmup;
    const double t = total > 0 ? std::min(1.0, (double(step) - warmup) / total) : 1.0;
    return s.min_lr + (base_lr - s.min_lr) * 0.5 * (1 + std::cos(M_PI * t));
  }
  return base_lr;
}

}  // namespace cnn
