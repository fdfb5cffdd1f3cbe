#include "io/summary_report.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace cnn {

namespace {
struct Totals {
  int64_t params = 0, buffers = 0, macs = 0, activations = 0;
};
Totals totals(const std::vector<LayerSummary>& rows) {
  Totals t;
  for (const auto& r : rows) {
    t.params += r.params;
    t.buffers += r.buffers;
    t.macs += r.macs;
    t.activations += numel_of(r.output);
  }
  return t;
}
std::string with_commas(int64_t v) {
  std::string s = std::to_string(v), out;
  int n = 0;
  for (auto it = s.rbegin(); it != s.rend(); ++it) {
    if (n && n % 3 == 0 && *it != '-') out.insert(out.begin(), ',');
    out.insert(out.begin(), *it);
    ++n;
  }
  return out;
}
std::string mib(double bytes) { return fmt::format("{:.2f} MiB", bytes / (1024.0 * 1024.0)); }
}  // namespace

std::string summary_table(const Net& net, int64_t batch, const Net::PlannedMemory& train, const Net::PlannedMemory& eval) {
  auto rows = net.summary();
  size_t wname = 5, wtype = 4;
  for (const auto& r : rows) {
    wname = std::max(wname, r.name.size());
    wtype = std::max(wtype, r.type.size());
  }
  std::string out = fmt::format("model {}  input {}\n", net.spec().name, shape_str(net.spec().input));
  std::string header = fmt::format("{:<{}}  {:<{}}  {:>16}  {:>12}  {:>15}\n", "layer", wname + 2, "type", wtype, "output",
                                   "params", "MACs");
  out += header + std::string(header.size() - 1, '-') + "\n";
  bool any_head = false;
  for (const auto& r : rows) {
    any_head |= r.head;
    out += fmt::format("{:<{}}  {:<{}}  {:>16}  {:>12}  {:>15}\n", r.name + (r.head ? " *" : ""), wname + 2, r.type,
                       wtype, shape_str(r.output), with_commas(r.params), with_commas(r.macs));
  }
  out += std::string(header.size() - 1, '-') + "\n";
  Totals t = totals(rows);
  const int64_t input = numel_of(net.spec().input);
  if (any_head) {
    int64_t head_params = 0, head_macs = 0;
    for (const auto& r : rows)
      if (r.head) head_params += r.params, head_macs += r.macs;
    out += fmt::format("* side head (training only; dropped at eval and export): {} params, {} MACs included below\n",
                       with_commas(head_params), with_commas(head_macs));
  }
  out += fmt::format("total params:      {}  (all trainable; plus {} buffer values such as BN running stats)\n",
                     with_commas(t.params), with_commas(t.buffers));
  out += fmt::format("total MACs:        {}  ({:.3f} G multiply-adds of conv and linear layers per image)\n",
                     with_commas(t.macs), t.macs / 1e9);
  out += fmt::format("total FLOPs:       {}  (= 2 x MACs)\n", with_commas(2 * t.macs));
  out += fmt::format("memory at batch {} (planned buffers; input {} more, and in training the optimizer's state):\n", batch,
                     mib(4.0 * input * batch));
  out += fmt::format("  training  {:>14}  (activations and gradients {}, parameters with gradients {}, workspace {})\n",
                     mib(double(train.total())), mib(double(train.activations)), mib(double(train.params)),
                     mib(double(train.workspace)));
  out += fmt::format("  inference {:>14}  (activations {}, parameters {}, workspace {})\n", mib(double(eval.total())),
                     mib(double(eval.activations)), mib(double(eval.params)), mib(double(eval.workspace)));
  return out;
}

std::string summary_json(const Net& net, int64_t batch, const Net::PlannedMemory& train, const Net::PlannedMemory& eval) {
  auto rows = net.summary();
  Totals t = totals(rows);
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& r : rows)
    layers.push_back({{"name", r.name}, {"type", r.type}, {"output", r.output}, {"params", r.params},
                      {"buffers", r.buffers}, {"macs", r.macs}, {"head", r.head}});
  nlohmann::json j{{"model", net.spec().name},
                   {"input", net.spec().input},
                   {"batch", batch},
                   {"layers", layers},
                   {"total_params", t.params},
                   {"total_buffers", t.buffers},
                   {"total_macs", t.macs},
                   {"total_flops", 2 * t.macs},
                   {"activation_bytes", 4 * t.activations * batch},
                   {"param_bytes", 4 * (t.params + t.buffers)}};
  for (const auto& [key, m] : {std::pair<const char*, const Net::PlannedMemory&>{"planned_training", train}, {"planned_inference", eval}})
    j[key] = {{"total_bytes", m.total()}, {"activation_bytes", m.activations}, {"param_bytes", m.params},
              {"workspace_bytes", m.workspace}};
  return j.dump(2) + "\n";
}

}  // namespace cnn
