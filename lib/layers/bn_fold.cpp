#include "layers/bn_fold.h"

#include <cmath>
#include <string>

#include "core/error.h"

namespace cnn {

FoldedWeights fold_batchnorm(const Tensor& weight, const Tensor* bias, const Tensor* gamma, const Tensor* beta,
                             const Tensor& running_mean, const Tensor& running_var, double eps) {
  const int64_t C = weight.ndim() ? weight.dim(0) : 0;
  auto check = [&](const Tensor* t, const char* what) {
    if (t && t->numel() != C)
      throw RuntimeError(std::string("fold_batchnorm: ") + what + " has " + std::to_string(t->numel()) +
                         " values for " + std::to_string(C) + " output channels");
  };
  check(bias, "the bias");
  check(gamma, "gamma");
  check(beta, "beta");
  check(&running_mean, "running_mean");
  check(&running_var, "running_var");
  FoldedWeights f{Tensor(weight.shape()), Tensor({C})};
  const int64_t per = C ? weight.numel() / C : 0;
  for (int64_t o = 0; o < C; ++o) {
    const double s = (gamma ? double((*gamma)[o]) : 1.0) / std::sqrt(double(running_var[o]) + eps);
    for (int64_t i = 0; i < per; ++i) f.weight[o * per + i] = float(double(weight[o * per + i]) * s);
    const double b = bias ? double((*bias)[o]) : 0.0;
    f.bias[o] = float((b - double(running_mean[o])) * s + (beta ? double((*beta)[o]) : 0.0));
  }
  return f;
}

}  // namespace cnn
