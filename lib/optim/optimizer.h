#pragma once
// The optimizer interface and its factory. Every optimizer follows torch.optim exactly (float32
// arithmetic in torch's order of operations), updates parameters in parallel, and exposes its
// state as named tensors for checkpoints:
//   "<kind>.<param>" per parameter, e.g. "momentum.conv1.weight" (sgd), "square_avg.fc.bias"
//   (rmsprop), "exp_avg.conv1.weight" (adam); "step" for the step count (adam, adamw).
// Checkpoints store them under "optimizer.<name>" (train/checkpoint.cpp).
#include <memory>
#include <string>
#include <vector>

#include "graph/net.h"
#include "io/safetensors.h"

namespace cnn {

struct OptimizerSpec;

// Options every optimizer shares (recipe: train.optimizer.no_decay_bn_bias / grad_clip_norm).
struct OptimizerCommon {
  bool no_decay_bn_bias = false;  // BN weights/biases and conv/linear biases get no weight decay
  double grad_clip_norm = 0;      // > 0: clip the global gradient L2 norm before each step
};

// A BN parameter or a bias (by Param::init_kind, or a 1-D parameter named "bias").
bool is_bn_or_bias(const Param& p);

// torch.nn.utils.clip_grad_norm_(params, max_norm): total = L2 norm of all gradients together;
// when total > max_norm every gradient is multiplied by max_norm / (total + 1e-6). Returns total.
double clip_grad_norm(const std::vector<NamedParam>& params, double max_norm);

class Optimizer {
 public:
  Optimizer(std::vector<NamedParam> params, OptimizerCommon common);
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One update with this step's learning rate (the schedule's): clips the gradients when
  // grad_clip_norm > 0, then applies the optimizer's rule to every parameter.
  void step(double lr);
  // State tensors by name (see above); empty before the first step.
  virtual std::vector<NamedTensor> state() const = 0;
  // Restores one state tensor. Throws RuntimeError for a name this optimizer does not keep
  // (e.g. state of another optimizer type) or a shape that does not match.
  virtual void load_state(const std::string& name, const Tensor& value) = 0;
  // After the load_state calls of one checkpoint: throws RuntimeError when they left the state
  // partly restored (a tensor missing).
  virtual void check_loaded_state() const {}
  virtual std::string type() const = 0;

  // The global gradient norm before clipping at the last step (-1: clipping is off).
  double last_grad_norm() const { return last_grad_norm_; }
  const std::vector<NamedParam>& params() const { return params_; }
  // Does weight decay apply to params()[i]? (Param::decay, minus BN/bias with no_decay_bn_bias.)
  bool decays(size_t i) const { return decay_[i] != 0; }
  // Per-parameter multipliers of the learning rate and weight decay (train.param_groups: torch's
  // param groups with lr = base lr x lr_mult); 1 for every parameter unless set.
  void set_multipliers(std::vector<double> lr_mult, std::vector<double> wd_mult);
  double lr_mult(size_t i) const { return lr_mult_.empty() ? 1.0 : lr_mult_[i]; }
  double wd_mult(size_t i) const { return wd_mult_.empty() ? 1.0 : wd_mult_[i]; }

 protected:
  virtual void update(double lr) = 0;
  // Index of the parameter named `name`, or throws RuntimeError naming `what`.
  size_t param_index(const std::string& name, const std::string& what) const;
  // "unknown optimizer state '<name>'" with what this optimizer keeps.
  [[noreturn]] void unknown_state(const std::string& name, const std::string& kept) const;
  static void check_shape(const std::string& name, const Tensor& value, const Tensor& like);

  std::vector<NamedParam> params_;
  std::vector<char> decay_;
  std::vector<double> lr_mult_, wd_mult_;  // empty: all 1
  OptimizerCommon common_;

 private:
  double last_grad_norm_ = -1;
};

// The optimizer train.optimizer describes, over `params`.
std::unique_ptr<Optimizer> make_optimizer(const OptimizerSpec& spec, const std::vector<NamedParam>& params);
// The state tensors (each of its parameter's size) the optimizer keeps per parameter once it has
// stepped: what a run's memory check counts before the first step.
int state_tensors_per_param(const OptimizerSpec& spec);

}  // namespace cnn
