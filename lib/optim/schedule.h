#pragma once
// Learning rate at a given optimizer step (train.schedule). Everything is a pure function of the
// step, so resuming needs no scheduler state. With E = step / steps_per_epoch (integer division:
// the 0-based epoch of the step), matching torch.optim.lr_scheduler:
//   constant     lr
//   step         lr * gamma^floor(E / step_epochs)        StepLR stepped per epoch
//   multistep    lr * gamma^(#milestones <= E)             MultiStepLR stepped per epoch
//   exponential  lr * gamma^E                              ExponentialLR stepped per epoch
//   cosine       min_lr + (lr - min_lr) (1 + cos(pi t)) / 2, t = (step - W) / (total - W)
//                                                          CosineAnnealingLR(T_max = total) per step
//   onecycle     OneCycleLR(max_lr = lr, total_steps = total - ceil(W), pct_start, div_factor,
//                final_div_factor, anneal_strategy, three_phase) stepped per step, on step - ceil(W);
//                momentum is not cycled (torch's cycle_momentum=False)
// where total = epochs * steps_per_epoch and W = warmup_epochs * steps_per_epoch (may be
// fractional). Steps s < W are the linear warm-up: start * min(1, (s + 1) / W), with start the lr the
// schedule begins at (lr; onecycle: lr / div_factor), so the warm-up never exceeds it. Epoch-based
// schedules count epochs from step 0 (warm-up included).
#include <cstdint>

#include "config/recipe.h"

namespace cnn {

// step: 0-based optimizer step; steps_per_epoch >= 1.
double learning_rate(const ScheduleSpec& s, double base_lr, int64_t step, int64_t steps_per_epoch, int64_t epochs);

}  // namespace cnn
