#pragma once
// The training loss of a classification net after a forward pass: softmax cross-entropy of the
// main output plus each side head's, weighted (GoogLeNet: main + 0.3 aux1 + 0.3 aux2). Writes the
// gradients into the net's output and head gradients, ready for backward().
#include <cstdint>

#include "graph/net.h"

namespace cnn {

struct StepLoss {
  double total = 0;     // weighted sum, what is minimized
  double main = 0;      // the main output's loss
  int64_t correct = 0;  // top-1 hits of the main output
};

// aux_weight < 0: each head's weight from the model; otherwise this weight for every head.
StepLoss classification_loss(Net& net, const int32_t* labels, int64_t n, float label_smoothing, double aux_weight = -1);

// Soft-target cross-entropy (timm's SoftTargetCrossEntropy; torch's cross_entropy with class
// probabilities as the target): loss_i = sum_k -t[i, k] log softmax(z_i)_k, mean over the batch,
// gradient (p - t) / n; for the main output and every side head (same targets, weighted as
// above). `targets`: n x K rows; `correct` counts top-1 hits against `labels`.
StepLoss soft_target_loss(Net& net, const float* targets, const int32_t* labels, int64_t n, double aux_weight = -1);

}  // namespace cnn
