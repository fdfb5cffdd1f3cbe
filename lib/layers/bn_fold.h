#pragma once
// Folding an eval-mode BatchNorm into the convolution (or linear layer) whose output it normalizes:
//   BN(conv(x)) = gamma * (W x + b - mean) / sqrt(var + eps) + beta = W' x + b'
//   W'[o] = W[o] * s[o],  b'[o] = (b[o] - mean[o]) * s[o] + beta[o],  s = gamma / sqrt(var + eps)
// Computed in double, rounded once to float.
#include "core/tensor.h"

namespace cnn {

struct FoldedWeights {
  Tensor weight;  // shape of the conv weight (output channels first)
  Tensor bias;    // output channels
};

// bias, gamma, beta may be null (no conv bias; BN without affine parameters: gamma 1, beta 0).
FoldedWeights fold_batchnorm(const Tensor& weight, const Tensor* bias, const Tensor* gamma, const Tensor* beta,
                             const Tensor& running_mean, const Tensor& running_var, double eps);

}  // namespace cnn
