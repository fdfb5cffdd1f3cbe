#pragma once
// Parameter initialization: PyTorch's layer defaults, and the schemes of torch.nn.init that a
// model's `init:` section selects (layers/init_scheme.h). Fans are computed from the
// tensor's shape exactly as torch.nn.init._calculate_fan_in_and_fan_out does: for a weight of
// shape [out, in/groups, k...], fan_in = in/groups * prod(k), fan_out = out * prod(k).
#include <cstdint>
#include <string>
#include <utility>

#include "layers/init_scheme.h"
#include "layers/layer.h"

namespace cnn {

// PyTorch's default for Conv and Linear weights and biases: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
// (kaiming_uniform with a = sqrt(5) gives the same bound for weights).
void init_pytorch_default(Param& p, Rng& rng);
void init_uniform(Tensor& t, float lo, float hi, Rng& rng);
void init_normal(Tensor& t, float mean, float std, Rng& rng);

// {fan_in, fan_out} of a tensor with at least 2 dimensions (throws std::invalid_argument otherwise).
std::pair<int64_t, int64_t> tensor_fans(const Shape& shape);
// torch.nn.init.calculate_gain: linear/conv*/sigmoid 1, tanh 5/3, relu sqrt(2),
// leaky_relu sqrt(2 / (1 + a^2)), selu 3/4.
double init_gain(const std::string& nonlinearity, double a);
// torch.nn.init.orthogonal_: the tensor viewed as rows = shape[0] by cols = numel / rows gets
// orthonormal rows (rows <= cols) or columns (rows > cols), from the QR decomposition of a
// standard normal matrix with the signs of R's diagonal folded in; then times gain.
void init_orthogonal(Tensor& t, double gain, Rng& rng);

// Applies `s` to `p`. "default" gives PyTorch's default for the parameter's kind (BN: weight 1,
// bias 0). Schemes that need fans on a parameter with fewer than 2 dimensions throw ConfigError
// located at s.loc / s.path.
void apply_init_scheme(Param& p, const InitScheme& s, Rng& rng);

}  // namespace cnn
