#include "optim/sgd.h"

#include "core/error.h"
#include "core/parallel.h"

namespace cnn {

Sgd::Sgd(std::vector<NamedParam> params, SgdOptions o, OptimizerCommon common)
    : Optimizer(std::move(params), common), o_(o) {
  if (o_.momentum != 0)
    for (auto& p : params_) {
      momentum_.emplace_back(p.param->value.shape());
      names_.push_back("momentum." + p.name);
    }
  loaded_.assign(momentum_.size(), 0);
}

void Sgd::update(double lr_d) {
  const float mom = float(o_.momentum);
  const float damp = float(1 - o_.dampening);
  const bool first = !started_;
  started_ = true;
  parallel_for(static_cast<int64_t>(params_.size()), [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i) {
      Param& p = *params_[i].param;
      float* w = p.value.data();
      const float* g = p.grad.data();
      const float lr = float(lr_d * lr_mult(size_t(i)));
      const float decay = decays(size_t(i)) ? float(o_.weight_decay * wd_mult(size_t(i))) : 0.f;
      const int64_t n = p.value.numel();
      if (mom == 0.f) {
        for (int64_t j = 0; j < n; ++j) w[j] -= lr * (g[j] + decay * w[j]);
        continue;
      }
      float* buf = momentum_[i].data();
      for (int64_t j = 0; j < n; ++j) {
        float d = g[j] + decay * w[j];
        buf[j] = first ? d : mom * buf[j] + damp * d;
        if (o_.nesterov) d += mom * buf[j];
        else d = buf[j];
        w[j] -= lr * d;
      }
    }
  });
}

std::vector<NamedTensor> Sgd::state() const {
  std::vector<NamedTensor> out;
  if (!started_) return out;
  for (size_t i = 0; i < momentum_.size(); ++i) out.push_back({names_[i], &momentum_[i]});
  return out;
}

void Sgd::load_state(const std::string& name, const Tensor& m) {
  if (name.rfind("momentum.", 0) != 0 || momentum_.empty())
    unknown_state(name, momentum_.empty() ? "none (momentum is 0)" : "momentum.<param>");
  const size_t i = param_index(name.substr(9), name);
  check_shape(name, m, momentum_[i]);
  momentum_[i] = m;
  loaded_[i] = 1;
  started_ = true;
}

void Sgd::check_loaded_state() const {
  bool any = false;
  for (char l : loaded_) any |= l != 0;
  if (!any) return;
  for (size_t i = 0; i < loaded_.size(); ++i)
    if (!loaded_[i]) throw RuntimeError("optimizer state '" + names_[i] + "' is missing");
}

}  // namespace cnn
