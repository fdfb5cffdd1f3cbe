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

namespace {

// One parameter's elements [0, n), every flag a local so the loops vectorize.
void sgd_step(float* w, const float* g, float* buf, int64_t n, float lr, float decay, float mom, float damp,
              bool first, bool nesterov) {
  if (!buf) {
    for (int64_t j = 0; j < n; ++j) w[j] -= lr * (g[j] + decay * w[j]);
    return;
  }
  for (int64_t j = 0; j < n; ++j) {
    const float d = g[j] + decay * w[j];
    const float b = first ? d : mom * buf[j] + damp * d;
    buf[j] = b;
    w[j] -= lr * (nesterov ? d + mom * b : b);
  }
}

}  // namespace

// Parameter by parameter, each split over elements (elementwise: any split, the same bits).
// Split by parameters instead, LeNet-5's update ran scalar loops on one thread's share of 79% of the
// weights (fc1) while the other waited: 4.7% of its training step (Zen 5, `perf`).
void Sgd::update(double lr_d) {
  const float mom = float(o_.momentum);
  const float damp = float(1 - o_.dampening);
  const bool first = !started_, nesterov = o_.nesterov;
  started_ = true;
  for (size_t i = 0; i < params_.size(); ++i) {
    Param& p = *params_[i].param;
    float* w = p.value.data();
    const float* g = p.grad.data();
    float* buf = mom == 0.f ? nullptr : momentum_[i].data();
    const float lr = float(lr_d * lr_mult(i));
    const float decay = decays(i) ? float(o_.weight_decay * wd_mult(i)) : 0.f;
    parallel_elementwise(p.value.numel(), [&](int64_t b, int64_t e) {
      sgd_step(w + b, g + b, buf ? buf + b : nullptr, e - b, lr, decay, mom, damp, first, nesterov);
    });
  }
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
