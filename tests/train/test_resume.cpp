// Resume planning (issue 15): which recipe fields may change on --resume (printed overrides) and
// which may not (refused, each named with its old and new value).
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "train/resume.h"

using namespace cnn;

TEST_CASE("resume: recipe differences are overrides or refused", "[train][resume]") {
  const std::string old_yaml =
      "model: {name: m, input: [1, 4, 4], layers: [{conv: {out: 4, k: 3}}, flatten]}\n"
      "data: {dataset: mnist, root: data, batch_size: 16, workers: 0, train_transforms: [hflip]}\n"
      "train: {epochs: 2, seed: 1, optimizer: {lr: 0.1}, schedule: {milestones: [1, 2]}}\noutput: runs/a\n";
  std::vector<std::string> refused;
  CHECK(recipe_differences(old_yaml, old_yaml, &refused).empty());
  CHECK(refused.empty());

  const std::string new_yaml =
      "model: {name: m, input: [1, 4, 4], layers: [{conv: {out: 8, k: 3}}, flatten]}\n"
      "data: {dataset: mnist, root: data, batch_size: 32, workers: 2, train_transforms: [hflip, {random_crop: {size: 4}}]}\n"
      "train: {epochs: 5, seed: 1, optimizer: {lr: 0.05}, schedule: {milestones: [1, 3]}}\noutput: runs/b\n";
  const std::vector<std::string> overrides = recipe_differences(old_yaml, new_yaml, &refused);
  CHECK(overrides == std::vector<std::string>{"data.workers: 0 -> 2", "train.epochs: 2 -> 5",
                                              "train.optimizer.lr: 0.1 -> 0.05", "train.schedule.milestones.1: 2 -> 3"});
  CHECK(refused == std::vector<std::string>{"data.batch_size: 16 -> 32",
                                            "data.train_transforms.1.random_crop.size: (absent) -> 4",
                                            "model.layers.0.conv.out: 4 -> 8"});
}

TEST_CASE("resume: the note on how the lr schedule continues when train.epochs grows", "[train][resume]") {
  TrainSpec before;
  before.epochs = 2;
  before.optimizer.lr = 0.1;
  before.schedule.type = ScheduleType::cosine;
  TrainSpec after = before;
  after.epochs = 4;
  // 10 steps an epoch; the first run ended at step 20 with lr 0 (the end of its cosine).
  const std::string cosine = schedule_continuation_note(before, after, 20, 10);
  CHECK(cosine ==
        "note: train.epochs 2 -> 4: the cosine schedule is recomputed over 4 epochs (40 steps), not appended: the lr "
        "at step 20 is 0.05 (it was 0 under the checkpoint's config; docs/config.md, \"Resuming a run\")");
  // Same epochs, same lr: nothing to say.
  CHECK(schedule_continuation_note(before, before, 20, 10).empty());
  // Per-epoch schedules do not depend on the total: they continue as they were.
  TrainSpec step_before = before;
  step_before.schedule.type = ScheduleType::step;
  step_before.schedule.step_epochs = 1;
  step_before.schedule.gamma = 0.5;
  TrainSpec step_after = step_before;
  step_after.epochs = 4;
  CHECK(schedule_continuation_note(step_before, step_after, 20, 10) ==
        "note: train.epochs 2 -> 4: the step schedule does not depend on the number of epochs; it continues unchanged "
        "from step 20 (lr 0.025)");
  // Another lr with the same epochs (cosine at step 5 of 20): named too.
  TrainSpec lower = before;
  lower.optimizer.lr = 0.01;
  CHECK(schedule_continuation_note(before, lower, 5, 10) ==
        "note: the lr schedule differs from the checkpoint's: the lr at step 5 is 0.008536 (it was 0.08536 under the "
        "checkpoint's config; docs/config.md, \"Resuming a run\")");
}
