#include "optim/adam.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/parallel.h"

namespace cnn {

namespace {
constexpr double kTwo24 = 16777216.0;
}

Adam::Adam(std::vector<NamedParam> params, AdamOptions o, OptimizerCommon common)
    : Optimizer(std::move(params), common), o_(o), step_tensor_(Shape{2}) {
  kinds_ = {"exp_avg", "exp_avg_sq"};
  if (o_.amsgrad) kinds_.push_back("max_exp_avg_sq");
  for (const auto& k : kinds_) {
    std::vector<Tensor> ts;
    std::vector<std::string> ns;
    for (const auto& p : params_) {
      ts.emplace_back(p.param->value.shape());
      ns.push_back(k + "." + p.name);
    }
    tensors_.push_back(std::move(ts));
    names_.push_back(std::move(ns));
    loaded_.emplace_back(params_.size(), 0);
  }
}

void Adam::update(double lr) {
  ++step_;
  step_tensor_[0] = float(std::floor(double(step_) / kTwo24));
  step_tensor_[1] = float(double(step_) - double(step_tensor_[0]) * kTwo24);
  const double t = double(step_);
  const double bias_correction1 = 1 - std::pow(o_.beta1, t);
  const double bias_correction2 = 1 - std::pow(o_.beta2, t);
  const float bc2_sqrt = float(std::sqrt(bias_correction2));
  const float b1 = float(o_.beta1), c1 = float(1 - o_.beta1), b2 = float(o_.beta2), c2 = float(1 - o_.beta2);
  const float eps = float(o_.eps);
  parallel_for(static_cast<int64_t>(params_.size()), [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i) {
      const size_t pi = size_t(i);
      Param& p = *params_[pi].param;
      float* w = p.value.data();
      const float* grad = p.grad.data();
      const double p_lr = lr * lr_mult(pi), p_wd = o_.weight_decay * wd_mult(pi);
      const float neg_step_size = float(-(p_lr / bias_correction1));
      const float wd = float(p_wd);
      const float shrink = float(1 - p_lr * p_wd);  // adamw
      const bool decay = decays(pi) && p_wd != 0;
      float* m = tensors_[0][pi].data();
      float* v = tensors_[1][pi].data();
      float* vmax = o_.amsgrad ? tensors_[2][pi].data() : nullptr;
      const int64_t n = p.value.numel();
      for (int64_t j = 0; j < n; ++j) {
        float g = grad[j];
        if (decay) {
          if (o_.decoupled) w[j] = w[j] * shrink;
          else g = g + wd * w[j];
        }
        m[j] = m[j] * b1;
        m[j] = m[j] + c1 * g;
        v[j] = v[j] * b2;
        v[j] = v[j] + c2 * g * g;
        float s = v[j];
        if (vmax) {
          vmax[j] = std::max(vmax[j], v[j]);
          s = vmax[j];
        }
        const float denom = std::sqrt(s) / bc2_sqrt + eps;
        w[j] = w[j] + neg_step_size * m[j] / denom;
      }
    }
  });
}

std::vector<NamedTensor> Adam::state() const {
  std::vector<NamedTensor> out;
  if (step_ == 0) return out;
  out.push_back({"step", &step_tensor_});
  for (size_t k = 0; k < kinds_.size(); ++k)
    for (size_t i = 0; i < params_.size(); ++i) out.push_back({names_[k][i], &tensors_[k][i]});
  return out;
}

void Adam::load_state(const std::string& name, const Tensor& value) {
  if (name == "step") {
    check_shape(name, value, step_tensor_);
    const double hi = value[0], lo = value[1];
    if (!(hi >= 0) || !(lo >= 0) || lo >= kTwo24 || hi != std::floor(hi) || lo != std::floor(lo))
      throw RuntimeError("optimizer state 'step' does not hold a step count");
    step_ = int64_t(hi) * int64_t(kTwo24) + int64_t(lo);
    step_tensor_ = value;
    step_loaded_ = true;
    return;
  }
  const auto dot = name.find('.');
  const std::string kind = dot == std::string::npos ? "" : name.substr(0, dot);
  const auto it = std::find(kinds_.begin(), kinds_.end(), kind);
  if (it == kinds_.end()) {
    std::string kept = "step";
    for (const auto& k : kinds_) kept += ", " + k + ".<param>";
    unknown_state(name, kept);
  }
  const size_t k = size_t(it - kinds_.begin());
  const size_t i = param_index(name.substr(dot + 1), name);
  check_shape(name, value, tensors_[k][i]);
  tensors_[k][i] = value;
  loaded_[k][i] = 1;
}

void Adam::check_loaded_state() const {
  bool any = step_loaded_;
  for (const auto& l : loaded_)
    for (char c : l) any |= c != 0;
  if (!any) return;
  if (!step_loaded_) throw RuntimeError("optimizer state 'step' is missing");
  for (size_t k = 0; k < loaded_.size(); ++k)
    for (size_t i = 0; i < loaded_[k].size(); ++i)
      if (!loaded_[k][i]) throw RuntimeError("optimizer state '" + names_[k][i] + "' is missing");
}

}  // namespace cnn
