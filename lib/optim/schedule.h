#pragma once
// Learning rate at a given optimizer step (schedules advance per step, not per epoch).
#include <cstdint>

#include "config/recipe.h"

namespace cnn {

// step: 0-based optimizer step; steps_per_epoch >= 1.
double learning_rate(const ScheduleSpec& s, double base_lr, int64_t step, int64_t steps_per_epoch, int64_t epochs);

}  // namespace cnn
