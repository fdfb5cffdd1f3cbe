#include "train/ema.h"

// torch rounds decay * avg and (1 - decay) * param before adding them: no fused multiply-add here
// (-march=native would contract them).
#pragma GCC optimize("fp-contract=off")

#include <utility>

#include "core/error.h"

namespace cnn {

namespace {

bool is_counter(const std::string& name) {
  static const std::string suffix = ".num_batches_tracked";
  return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

template <class F>
void for_each_tensor(const Net& net, F&& f) {
  size_t i = 0;
  for (const auto& p : net.params()) f(i++, p.name, p.param->value);
  for (const auto& b : net.buffers()) f(i++, b.name, b.buffer->value);
}

}  // namespace

Ema make_ema(const Net& net) {
  Ema ema;
  for_each_tensor(net, [&](size_t, const std::string&, const Tensor& t) { ema.values.push_back(t); });
  return ema;
}

void update_ema(Ema& ema, const Net& net, double decay, bool copy) {
  const bool first = ema.n_averaged[0] == 0.f;
  const float d = float(decay), c = float(1.0 - decay);
  for_each_tensor(net, [&](size_t i, const std::string& name, const Tensor& t) {
    Tensor& avg = ema.values[i];
    if (first || copy || is_counter(name)) {
      avg = t;
      return;
    }
    float* a = avg.data();
    const float* w = t.data();
    for (int64_t j = 0; j < t.numel(); ++j) {
      const float x = d * a[j], y = c * w[j];  // decay * avg + (1 - decay) * param, as torch rounds it
      a[j] = x + y;
    }
  });
  ema.n_averaged[0] = copy ? 0.f : ema.n_averaged[0] + 1.f;
}

// By copies, so the net's tensors keep their storage (layers may hold on to it).
void swap_ema(Ema& ema, Net& net) {
  Tensor tmp;
  auto exchange = [&](Tensor& t, Tensor& avg) {
    tmp = t;
    t = avg;
    avg = tmp;
  };
  size_t i = 0;
  for (const auto& p : net.params()) exchange(p.param->value, ema.values[i++]);
  for (const auto& b : net.buffers()) exchange(b.buffer->value, ema.values[i++]);
}

std::vector<NamedTensor> ema_entries(const Ema& ema, const Net& net, std::vector<std::string>& names) {
  names.clear();
  for_each_tensor(net, [&](size_t, const std::string& name, const Tensor&) { names.push_back("ema." + name); });
  names.push_back("ema.n_averaged");
  std::vector<NamedTensor> out;
  for (size_t i = 0; i < ema.values.size(); ++i) out.push_back({names[i], &ema.values[i]});
  out.push_back({names.back(), &ema.n_averaged});
  return out;
}

void load_ema(Ema& ema, const Net& net, const std::map<std::string, Tensor>& entries, const std::string& path) {
  auto get = [&](const std::string& name, Tensor& dst) {
    auto it = entries.find(name);
    if (it == entries.end())
      throw RuntimeError(path + ": no '" + name + "' (train.ema is on: was the checkpoint written without it?)");
    if (it->second.shape() != dst.shape())
      throw RuntimeError(path + ": '" + name + "' has shape " + shape_str(it->second.shape()) + ", the model's is " +
                         shape_str(dst.shape()));
    dst = it->second;
  };
  for_each_tensor(net, [&](size_t i, const std::string& name, const Tensor&) { get("ema." + name, ema.values[i]); });
  get("ema.n_averaged", ema.n_averaged);
}

}  // namespace cnn
