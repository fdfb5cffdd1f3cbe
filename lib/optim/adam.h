#pragma once
// Adam and AdamW exactly as torch.optim.Adam / AdamW (single-tensor path), with t the step count:
//   adam:  g = grad + wd * p            adamw: p *= 1 - lr * wd;  g = grad
//   m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g^2
//   amsgrad: vmax = max(vmax, v), used for v below
//   p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// State: "exp_avg.<param>", "exp_avg_sq.<param>", "max_exp_avg_sq.<param>" (amsgrad) and "step"
// (t as a 2-element tensor [t / 2^24, t % 2^24], exact in float32).
#include "optim/optimizer.h"

namespace cnn {

struct AdamOptions {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  bool amsgrad = false;
  bool decoupled = false;  // true: AdamW
};

class Adam : public Optimizer {
 public:
  Adam(std::vector<NamedParam> params, AdamOptions o, OptimizerCommon common = {});
  std::vector<NamedTensor> state() const override;
  void load_state(const std::string& name, const Tensor& value) override;
  void check_loaded_state() const override;
  std::string type() const override { return o_.decoupled ? "adamw" : "adam"; }
  int64_t steps() const { return step_; }

 protected:
  void update(double lr) override;

 private:
  AdamOptions o_;
  std::vector<std::string> kinds_;               // exp_avg, exp_avg_sq[, max_exp_avg_sq]
  std::vector<std::vector<Tensor>> tensors_;     // [kind][param]
  std::vector<std::vector<std::string>> names_;  // [kind][param]
  std::vector<std::vector<char>> loaded_;
  int64_t step_ = 0;
  Tensor step_tensor_;                            // state() view of step_
  bool step_loaded_ = false;
};

}  // namespace cnn
