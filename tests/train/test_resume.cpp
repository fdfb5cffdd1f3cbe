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
