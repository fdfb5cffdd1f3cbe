#include "optim/rmsprop.h"

#include <cmath>

#include "core/error.h"
#include "core/parallel.h"

namespace cnn {

Rmsprop::Rmsprop(std::vector<NamedParam> params, RmspropOptions o, OptimizerCommon common)
    : Optimizer(std::move(params), common), o_(o) {
  std::vector<std::string> kinds{"square_avg"};
  if (o_.centered) kinds.push_back("grad_avg");
  if (o_.momentum > 0) kinds.push_back("momentum_buffer");
  for (const auto& k : kinds) {
    Slot s;
    s.kind = k;
    for (const auto& p : params_) {
      s.tensors.emplace_back(p.param->value.shape());
      s.names.push_back(k + "." + p.name);
    }
    s.loaded.assign(params_.size(), 0);
    slots_.push_back(std::move(s));
  }
}

Rmsprop::Slot* Rmsprop::slot(const std::string& kind) {
  for (auto& s : slots_)
    if (s.kind == kind) return &s;
  return nullptr;
}

void Rmsprop::update(double lr_d) {
  started_ = true;
  const float alpha = float(o_.alpha), c = float(1 - o_.alpha), eps = float(o_.eps), mom = float(o_.momentum);

  Slot* sq = slot("square_avg");
  Slot* ga = slot("grad_avg");
  Slot* mb = slot("momentum_buffer");
  parallel_for(static_cast<int64_t>(params_.size()), [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i) {
      Param& p = *params_[size_t(i)].param;
      float* w = p.value.data();
      const float* grad = p.grad.data();
      const float decay = decays(size_t(i)) ? float(o_.weight_decay * wd_mult(size_t(i))) : 0.f;
      const float neg_lr = float(-(lr_d * lr_mult(size_t(i))));
      float* v = sq->tensors[size_t(i)].data();
      float* m = ga ? ga->tensors[size_t(i)].data() : nullptr;
      float* buf = mb ? mb->tensors[size_t(i)].data() : nullptr;
      const int64_t n = p.value.numel();
      for (int64_t j = 0; j < n; ++j) {
        const float g = decay != 0.f ? grad[j] + decay * w[j] : grad[j];
        v[j] = v[j] * alpha;
        v[j] = v[j] + c * g * g;
        float avg;
        if (m) {
          m[j] = m[j] * alpha;
          m[j] = m[j] + c * g;
          avg = std::sqrt(v[j] + -1.f * m[j] * m[j]);
        } else {
          avg = std::sqrt(v[j]);
        }
        avg = avg + eps;
        if (buf) {
          buf[j] = buf[j] * mom;
          buf[j] = buf[j] + g / avg;
          w[j] = w[j] + neg_lr * buf[j];
        } else {
          w[j] = w[j] + neg_lr * g / avg;
        }
      }
    }
  });
}

std::vector<NamedTensor> Rmsprop::state() const {
  std::vector<NamedTensor> out;
  if (!started_) return out;
  for (const auto& s : slots_)
    for (size_t i = 0; i < s.tensors.size(); ++i) out.push_back({s.names[i], &s.tensors[i]});
  return out;
}

void Rmsprop::load_state(const std::string& name, const Tensor& value) {
  const auto dot = name.find('.');
  Slot* s = dot == std::string::npos ? nullptr : slot(name.substr(0, dot));
  if (!s) {
    std::string kept;
    for (const auto& sl : slots_) kept += (kept.empty() ? "" : ", ") + sl.kind + ".<param>";
    unknown_state(name, kept);
  }
  const size_t i = param_index(name.substr(dot + 1), name);
  check_shape(name, value, s->tensors[i]);
  s->tensors[i] = value;
  s->loaded[i] = 1;
  started_ = true;
}

void Rmsprop::check_loaded_state() const {
  bool any = false;
  for (const auto& s : slots_)
    for (char l : s.loaded) any |= l != 0;
  if (!any) return;
  for (const auto& s : slots_)
    for (size_t i = 0; i < s.loaded.size(); ++i)
      if (!s.loaded[i]) throw RuntimeError("optimizer state '" + s.names[i] + "' is missing");
}

}  // namespace cnn
