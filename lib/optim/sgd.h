#pragma once
// SGD with momentum, dampening, Nesterov and L2 weight decay, exactly as torch.optim.SGD:
//   g = grad + wd * p;  buf = g (first step) or momentum * buf + (1 - dampening) * g;
//   g = nesterov ? g + momentum * buf : buf;  p -= lr * g
// State: "momentum.<param>" (only with momentum > 0).
#include <string>
#include <vector>

#include "optim/optimizer.h"

namespace cnn {

struct SgdOptions {
  double lr = 0.01, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false;
};

class Sgd : public Optimizer {
 public:
  Sgd(std::vector<NamedParam> params, SgdOptions o, OptimizerCommon common = {});
  std::vector<NamedTensor> state() const override;
  void load_state(const std::string& name, const Tensor& value) override;
  void check_loaded_state() const override;
  std::string type() const override { return "sgd"; }
  const SgdOptions& options() const { return o_; }

 protected:
  void update(double lr) override;

 private:
  SgdOptions o_;
  std::vector<Tensor> momentum_;
  std::vector<std::string> names_;  // "momentum.<param>"
  std::vector<char> loaded_;
  bool started_ = false;
};

}  // namespace cnn
