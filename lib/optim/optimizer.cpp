#include "optim/optimizer.h"

#include <cmath>

#include "config/recipe.h"
#include "core/error.h"
#include "core/parallel.h"
#include "optim/adam.h"
#include "optim/rmsprop.h"
#include "optim/sgd.h"

namespace cnn {

bool is_bn_or_bias(const Param& p) {
  const std::string& k = p.init_kind;
  if (k == "bias" || k == "bn_weight" || k == "bn_bias") return true;
  return k.empty() && p.name == "bias" && p.value.ndim() == 1;
}

double clip_grad_norm(const std::vector<NamedParam>& params, double max_norm) {
  std::vector<double> sums(params.size(), 0.0);
  parallel_for(static_cast<int64_t>(params.size()), [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i) {
      const Tensor& g = params[size_t(i)].param->grad;
      double s = 0;
      for (int64_t j = 0; j < g.numel(); ++j) s += double(g[j]) * double(g[j]);
      sums[size_t(i)] = s;
    }
  });
  double total = 0;
  for (double s : sums) total += s;
  total = std::sqrt(total);
  const double coef = max_norm / (total + 1e-6);
  if (coef < 1) {
    const float c = float(coef);
    parallel_for(static_cast<int64_t>(params.size()), [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i) {
        Tensor& g = params[size_t(i)].param->grad;
        float* d = g.data();
        for (int64_t j = 0; j < g.numel(); ++j) d[j] *= c;
      }
    });
  }
  return total;
}

Optimizer::Optimizer(std::vector<NamedParam> params, OptimizerCommon common)
    : params_(std::move(params)), common_(common) {
  for (const auto& p : params_)
    decay_.push_back(p.param->decay && !(common_.no_decay_bn_bias && is_bn_or_bias(*p.param)) ? 1 : 0);
}

void Optimizer::set_multipliers(std::vector<double> lr_mult, std::vector<double> wd_mult) {
  lr_mult_ = std::move(lr_mult);
  wd_mult_ = std::move(wd_mult);
  lr_mult_.resize(params_.size(), 1.0);
  wd_mult_.resize(params_.size(), 1.0);
}

void Optimizer::step(double lr) {
  if (common_.grad_clip_norm > 0) last_grad_norm_ = clip_grad_norm(params_, common_.grad_clip_norm);
  update(lr);
}

size_t Optimizer::param_index(const std::string& name, const std::string& what) const {
  for (size_t i = 0; i < params_.size(); ++i)
    if (params_[i].name == name) return i;
  throw RuntimeError("optimizer state '" + what + "' names unknown parameter '" + name + "'");
}

void Optimizer::unknown_state(const std::string& name, const std::string& kept) const {
  throw RuntimeError("optimizer state '" + name + "' is not kept by " + type() + " with these options (it keeps: " +
                     kept + "); was the checkpoint written with another optimizer?");
}

void Optimizer::check_shape(const std::string& name, const Tensor& value, const Tensor& like) {
  if (value.shape() != like.shape())
    throw RuntimeError("optimizer state '" + name + "' has shape " + shape_str(value.shape()) + ", expected " +
                       shape_str(like.shape()) + ": it does not match the model");
}

std::unique_ptr<Optimizer> make_optimizer(const OptimizerSpec& s, const std::vector<NamedParam>& params) {
  OptimizerCommon common{s.no_decay_bn_bias, s.grad_clip_norm};
  switch (s.type) {
    case OptimizerType::sgd:
      return std::make_unique<Sgd>(params, SgdOptions{s.lr, s.momentum, s.dampening, s.weight_decay, s.nesterov},
                                   common);
    case OptimizerType::rmsprop:
      return std::make_unique<Rmsprop>(params, RmspropOptions{s.alpha, s.eps, s.momentum, s.weight_decay, s.centered},
                                       common);
    case OptimizerType::adam:
    case OptimizerType::adamw:
      return std::make_unique<Adam>(
          params, AdamOptions{s.beta1, s.beta2, s.eps, s.weight_decay, s.amsgrad, s.type == OptimizerType::adamw},
          common);
  }
  throw ConfigError("unknown optimizer type " + std::to_string(int(s.type)));
}

int state_tensors_per_param(const OptimizerSpec& s) {
  switch (s.type) {
    case OptimizerType::sgd: return s.momentum != 0 ? 1 : 0;
    case OptimizerType::rmsprop: return 1 + (s.momentum != 0 ? 1 : 0) + (s.centered ? 1 : 0);
    case OptimizerType::adam:
    case OptimizerType::adamw: return 2 + (s.amsgrad ? 1 : 0);
  }
  return 0;
}

}  // namespace cnn
