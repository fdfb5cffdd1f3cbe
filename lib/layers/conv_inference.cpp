#include "layers/conv_inference.h"

#include "core/parallel.h"
#include "kernels/activation.h"
#include "layers/bn_fold.h"

namespace cnn {

void prepare_conv_inference(ConvInference& ci, const InferenceFusion* f, const Tensor& weight, const Tensor* bias) {
  ci = ConvInference{};
  if (!f) return;
  ci.on = true;
  ci.residual = f->residual;
  ci.clamp = f->clamp, ci.lo = f->lo, ci.hi = f->hi;
  ci.w = weight.data();
  ci.b = bias ? bias->data() : nullptr;
  if (!f->bn) return;
  const BatchNormFold& bn = *f->bn;
  FoldedWeights folded = fold_batchnorm(weight, bias, bn.gamma, bn.beta, *bn.mean, *bn.var, bn.eps);
  ci.weight = std::move(folded.weight);
  ci.bias = std::move(folded.bias);
  ci.w = ci.weight.data();
  ci.b = ci.bias.data();
}

void finish_fused_outputs(const ConvInference& ci, const float* residual, float* y, int64_t n) {
  if (!residual && !ci.clamp) return;
  parallel_elementwise(n, [&](int64_t b, int64_t e) {
    add_and_clamp(y + b, residual ? residual + b : nullptr, e - b, ci.clamp, ci.lo, ci.hi);
  });
}

}  // namespace cnn
