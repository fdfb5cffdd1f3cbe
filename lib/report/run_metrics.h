#pragma once
// metrics.jsonl as cnn train writes it: "type": "epoch" records (after each epoch) and
// "type": "step" records (every train.log_every steps and at each epoch's end, with every step's
// own loss in "losses"). See README.md for the keys.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/recipe.h"

namespace cnn {

struct EpochMetrics {
  int64_t epoch = 0, step = 0;
  double train_loss = 0, train_acc = 0, lr = 0, seconds = 0, images_per_s = 0;
  std::optional<double> test_loss, test_acc, test_top5;  // absent on epochs not evaluated
};

struct StepMetrics {
  int64_t epoch = 0, step = 0;
  double train_loss = 0, train_acc = 0, lr = 0;  // means over the steps since the previous record
  std::vector<double> losses;  // each of those steps' own loss, the last one at `step` (absent: empty)
};

struct RunMetrics {
  std::vector<EpochMetrics> epochs;
  std::vector<StepMetrics> steps;
  std::string text;  // the file as read
};

// RuntimeError naming the file when it is missing, unreadable, has a line that is not a JSON
// object with the expected keys (naming the line), or holds no epoch record.
RunMetrics read_run_metrics(const std::string& path);

// The index into `epochs` of the best evaluated epoch by `metric` (test_acc | test_top5:
// highest; test_loss: lowest; the first on ties), or -1 when no epoch was evaluated.
int best_epoch_index(const std::vector<EpochMetrics>& epochs, BestMetric metric);

}  // namespace cnn
