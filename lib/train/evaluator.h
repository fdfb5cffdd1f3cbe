#pragma once
// Evaluation in eval mode over a whole dataset: loss, top-1/top-5 accuracy, confusion matrix.
#include <string>
#include <vector>

#include "config/recipe.h"
#include "data/dataset.h"
#include "graph/net.h"

namespace cnn {

struct SampleOutcome {
  int64_t index = 0;              // in the dataset
  int32_t label = 0, predicted = 0;
  float prob = 0;                 // softmax probability of the prediction
  float loss = 0;                 // cross-entropy of the true label (no label smoothing)
};

struct EvalResult {
  int64_t count = 0;              // images evaluated (skipped ones excluded)
  double loss = 0;
  double top1 = 0;                // percent
  double top5 = 0;                // percent (equals 100 when there are at most 5 classes)
  double loss_sum = 0;            // the sums behind loss, top1 and top5 (a data-parallel run adds them up)
  int64_t correct_top1 = 0, correct_top5 = 0;
  int classes = 0;
  std::vector<int64_t> confusion; // classes x classes: row = true label, column = prediction
  std::vector<std::string> skipped;  // unreadable images left out (data.bad_images: skip), one message each
  std::vector<SampleOutcome> samples;  // with EvalOptions::per_sample: one per image, in index order
};

struct EvalOptions {
  int64_t workers = 0;            // loader threads (data.workers)
  uint64_t seed = 1;              // for random eval transforms (train.seed)
  bool skip_bad = false;          // data.bad_images: skip
  std::string dataset = "data";   // names the dataset in errors
  bool hflip_tta = false;         // data.eval_tta: hflip: logits averaged over each image and its mirror
  bool per_sample = false;        // fill EvalResult::samples (the report's highest-loss images)
  int shard = 0, shards = 1;      // this process evaluates its share of the samples (dist::shard_of)
};

// The options a recipe's data and train sections give (data.workers, train.seed,
// data.bad_images, data.dataset, data.eval_tta).
EvalOptions eval_options_of(const Recipe& recipe);

// Samples go through `transforms` (data.eval_transforms) in index order, epoch key 0.
EvalResult evaluate(Net& net, const Dataset& data, const std::vector<TransformSpec>& transforms,
                    int64_t batch_size, float label_smoothing = 0.f, const EvalOptions& options = {});

}  // namespace cnn
