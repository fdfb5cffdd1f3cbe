#pragma once
// Evaluation in eval mode over a whole dataset: loss, top-1/top-5 accuracy, confusion matrix.
#include <vector>

#include "config/recipe.h"
#include "data/dataset.h"
#include "graph/net.h"

namespace cnn {

struct EvalResult {
  int64_t count = 0;
  double loss = 0;
  double top1 = 0;                // percent
  double top5 = 0;                // percent (equals 100 when there are at most 5 classes)
  int classes = 0;
  std::vector<int64_t> confusion; // classes x classes: row = true label, column = prediction
};

EvalResult evaluate(Net& net, const ImageDataset& data, const std::vector<TransformSpec>& transforms,
                    int64_t batch_size, float label_smoothing = 0.f);

}  // namespace cnn
