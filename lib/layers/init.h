#pragma once
// Parameter initialization used by layers' defaults.
#include "layers/layer.h"

namespace cnn {

// PyTorch's default for Conv and Linear weights and biases: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
// (kaiming_uniform with a = sqrt(5) gives the same bound for weights).
void init_pytorch_default(Param& p, Rng& rng);
void init_uniform(Tensor& t, float lo, float hi, Rng& rng);
void init_normal(Tensor& t, float mean, float std, Rng& rng);

}  // namespace cnn
