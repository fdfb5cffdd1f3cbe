#pragma once
// RMSprop exactly as torch.optim.RMSprop (alpha is TensorFlow's "decay"; Inception used
// alpha 0.9, momentum 0.9, eps 1.0):
//   g = grad + wd * p;  v = alpha * v + (1 - alpha) * g^2
//   centered: m = alpha * m + (1 - alpha) * g;  avg = sqrt(v - m^2) + eps;  else avg = sqrt(v) + eps
//   momentum > 0: buf = momentum * buf + g / avg;  p -= lr * buf;  else p -= lr * g / avg
// v, m and buf start at 0. State: "square_avg.<param>", "grad_avg.<param>" (centered),
// "momentum_buffer.<param>" (momentum > 0).
#include "optim/optimizer.h"

namespace cnn {

struct RmspropOptions {
  double alpha = 0.99, eps = 1e-8, momentum = 0, weight_decay = 0;
  bool centered = false;
};

class Rmsprop : public Optimizer {
 public:
  Rmsprop(std::vector<NamedParam> params, RmspropOptions o, OptimizerCommon common = {});
  std::vector<NamedTensor> state() const override;
  void load_state(const std::string& name, const Tensor& value) override;
  void check_loaded_state() const override;
  std::string type() const override { return "rmsprop"; }

 protected:
  void update(double lr) override;

 private:
  struct Slot {
    std::string kind;             // "square_avg" | "grad_avg" | "momentum_buffer"
    std::vector<Tensor> tensors;  // one per parameter
    std::vector<std::string> names;
    std::vector<char> loaded;
  };
  Slot* slot(const std::string& kind);
  RmspropOptions o_;
  std::vector<Slot> slots_;  // square_avg, then grad_avg and momentum_buffer when used
  bool started_ = false;
};

}  // namespace cnn
