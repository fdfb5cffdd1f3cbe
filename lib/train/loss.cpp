#include "train/loss.h"

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

}  // namespace cnn
