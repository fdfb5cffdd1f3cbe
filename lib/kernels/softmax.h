#pragma once
// Softmax cross-entropy over N x K logits, PyTorch's CrossEntropyLoss(label_smoothing=eps,
// reduction='mean'): loss_i = (1-eps) * -log p[i, y_i] + eps/K * sum_k -log p[i, k].
#include <cstdint>

namespace cnn {

struct LossResult {
  double loss = 0;      // mean over the batch
  int64_t correct = 0;  // top-1 hits
};

// dlogits (nullable): gradient of the mean loss, (p - q) / N. Labels must be in [0, K).
LossResult softmax_cross_entropy(const float* logits, const int32_t* labels, int64_t N, int64_t K,
                                 float label_smoothing, float* dlogits);

// Row-wise softmax of N x K into probs.
void softmax_rows(const float* logits, int64_t N, int64_t K, float* probs);

// Number of rows whose label is among the k largest logits.
int64_t topk_correct(const float* logits, const int32_t* labels, int64_t N, int64_t K, int k);

}  // namespace cnn
