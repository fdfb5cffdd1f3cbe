#include "kernels/softmax.h"

#include <algorithm>
#include <cmath>

namespace cnn {

void softmax_rows(const float* logits, int64_t N, int64_t K, float* probs) {
  for (int64_t i = 0; i < N; ++i) {
    const float* z = logits + i * K;
    float* p = probs + i * K;
    float m = *std::max_element(z, z + K);
    double s = 0;
    for (int64_t k = 0; k < K; ++k) s += (p[k] = std::exp(z[k] - m));
    const float inv = static_cast<float>(1.0 / s);
    for (int64_t k = 0; k < K; ++k) p[k] *= inv;
  }
}

LossResult softmax_cross_entropy(const float* logits, const int32_t* labels, int64_t N, int64_t K,
                                 float label_smoothing, float* dlogits) {
  LossResult r;
  const double eps = label_smoothing;
  double total = 0;
  for (int64_t i = 0; i < N; ++i) {
    const float* z = logits + i * K;
    const int32_t y = labels[i];
    int64_t arg = 0;
    for (int64_t k = 1; k < K; ++k)
      if (z[k] > z[arg]) arg = k;
    if (arg == y) ++r.correct;
    const double m = z[arg];
    double s = 0, sum_z = 0;
    for (int64_t k = 0; k < K; ++k) {
      s += std::exp(z[k] - m);
      sum_z += z[k];
    }
    const double lse = m + std::log(s);
    // -log p_k = lse - z_k
    total += (1 - eps) * (lse - z[y]) + eps * (lse - sum_z / K);
    if (dlogits) {
      float* d = dlogits + i * K;
      const double invN = 1.0 / N;
      for (int64_t k = 0; k < K; ++k) {
        const double p = std::exp(z[k] - lse);
        const double q = eps / K + (k == y ? 1 - eps : 0);
        d[k] = static_cast<float>((p - q) * invN);
      }
    }
  }
  r.loss = total / N;
  return r;
}

int64_t topk_correct(const float* logits, const int32_t* labels, int64_t N, int64_t K, int k) {
  int64_t hits = 0;
  for (int64_t i = 0; i < N; ++i) {
    const float* z = logits + i * K;
    const float target = z[labels[i]];
    int64_t above = 0;  // logits strictly greater than the label's, ties broken by index
    for (int64_t j = 0; j < K; ++j)
      if (z[j] > target || (z[j] == target && j < labels[i])) ++above;
    if (above < k) ++hits;
  }
  return hits;
}

}  // namespace cnn
