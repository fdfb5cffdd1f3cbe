#pragma once
// SGD with momentum, dampening, Nesterov and L2 weight decay, exactly as torch.optim.SGD:
//   g = grad + wd * p;  buf = g (first step) or momentum * buf + (1 - dampening) * g;
//   g = nesterov ? g + momentum * buf : buf;  p -= lr * g
#include <string>
#include <vector>

#include "graph/net.h"
#include "io/safetensors.h"

namespace cnn {

struct SgdOptions {
  double lr = 0.01, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false;
};

class Sgd {
 public:
  Sgd(std::vector<NamedParam> params, SgdOptions o);
  void step(double lr);  // lr: this step's learning rate (schedules set it)
  // Momentum buffers by parameter name (checkpointed); empty before the first step.
  std::vector<NamedTensor> state() const;
  void load_state(const std::string& param_name, const Tensor& momentum);
  const SgdOptions& options() const { return o_; }

 private:
  std::vector<NamedParam> params_;
  SgdOptions o_;
  std::vector<Tensor> momentum_;
  bool started_ = false;
};

}  // namespace cnn
