#include "train/loss.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "kernels/softmax.h"

namespace cnn {

StepLoss classification_loss(Net& net, const int32_t* labels, int64_t n, float label_smoothing, double aux_weight) {
  const Shape out = net.output_shape();
  const int64_t K = numel_of(out);
  Tensor& dmain = net.output_grad();
  const Tensor* logits = &net.output();  // the last forward's result
  LossResult main = softmax_cross_entropy(logits->data(), labels, n, K, label_smoothing, dmain.data());
  StepLoss r;
  r.main = main.loss;
  r.total = main.loss;
  r.correct = main.correct;
  for (size_t h = 0; h < net.heads().size(); ++h) {
    const double w = aux_weight >= 0 ? aux_weight : net.heads()[h].weight;
    const Tensor& hl = net.head_output(h);
    Tensor& dh = net.head_grad(h);
    const int64_t Kh = hl.numel() / n;
    LossResult lh = softmax_cross_entropy(hl.data(), labels, n, Kh, label_smoothing, dh.data());
    r.total += w * lh.loss;
    for (int64_t i = 0; i < dh.numel(); ++i) dh[i] *= float(w);
  }
  return r;
}

namespace {

// The mean soft-target loss of n x K logits; writes (p - t) / n into dlogits.
double soft_cross_entropy(const float* logits, const float* targets, int64_t n, int64_t K, float* dlogits) {
  double total = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float* z = logits + i * K;
    const float* t = targets + i * K;
    float* d = dlogits + i * K;
    float m = z[0];
    for (int64_t k = 1; k < K; ++k) m = std::max(m, z[k]);
    double sum = 0;
    for (int64_t k = 0; k < K; ++k) sum += std::exp(double(z[k] - m));
    const double lse = double(m) + std::log(sum);
    for (int64_t k = 0; k < K; ++k) {
      const double logp = double(z[k]) - lse;
      total -= double(t[k]) * logp;
      d[k] = float((std::exp(logp) - double(t[k])) / double(n));
    }
  }
  return total / double(n);
}

}  // namespace

StepLoss soft_target_loss(Net& net, const float* targets, const int32_t* labels, int64_t n, double aux_weight) {
  const int64_t K = numel_of(net.output_shape());
  StepLoss r;
  r.main = soft_cross_entropy(net.output().data(), targets, n, K, net.output_grad().data());
  r.total = r.main;
  r.correct = topk_correct(net.output().data(), labels, n, K, 1);
  for (size_t h = 0; h < net.heads().size(); ++h) {
    const double w = aux_weight >= 0 ? aux_weight : net.heads()[h].weight;
    const Tensor& hl = net.head_output(h);
    Tensor& dh = net.head_grad(h);
    if (hl.numel() != n * K)
      throw RuntimeError("side head '" + net.heads()[h].name + "' has another class count than the output: mixup and "
                         "cutmix need the same");
    r.total += w * soft_cross_entropy(hl.data(), targets, n, K, dh.data());
    for (int64_t i = 0; i < dh.numel(); ++i) dh[i] *= float(w);
  }
  return r;
}

}  // namespace cnn
