#include "train/init_weights.h"

#include <map>
#include <set>

#include <fmt/format.h>

#include "core/error.h"
#include "io/safetensors.h"
#include "train/checkpoint.h"

namespace cnn {

namespace {

std::string list(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::string dims(const Shape& s) { return fmt::format("[{}]", shape_str(s)); }

}  // namespace

std::string mapped_key(const std::string& key, const std::vector<std::pair<std::string, std::string>>& weights_map) {
  for (const auto& [from, to] : weights_map)
    if (key.rfind(from, 0) == 0) return to + key.substr(from.size());
  return key;
}

std::string WeightsReport::note(const std::string& path) const {
  std::string parts;
  auto add = [&](const std::string& s) { parts += (parts.empty() ? "" : "; ") + s; };
  if (!misshaped.empty()) add(fmt::format("{} of another shape: {}", misshaped.size(), list(misshaped)));
  if (!missing.empty()) add(fmt::format("{} missing: {}", missing.size(), list(missing)));
  if (parts.empty() && unused.empty()) return "";
  std::string line = fmt::format("note: {}: loaded {} tensors", path, loaded);
  if (!parts.empty()) line += "; initialized fresh: " + parts;
  if (!unused.empty()) line += fmt::format("; ignored {} not in the model: {}", unused.size(), list(unused));
  return line;
}

WeightsReport load_fitting_weights(const std::string& path, Net& net,
                                   const std::vector<std::pair<std::string, std::string>>& weights_map) {
  SafetensorsFile f = read_safetensors(path);
  std::map<std::string, const Tensor*> by_key;  // renamed key -> tensor
  std::vector<std::string> keys;                // renamed, in file order
  for (const auto& name : f.order) {
    if (name.rfind("optimizer.", 0) == 0 || name.rfind(kEmaPrefix, 0) == 0 || name.rfind(kAccumulatePrefix, 0) == 0)
      continue;  // a training checkpoint's own state
    const std::string key = mapped_key(name, weights_map);
    if (by_key.emplace(key, &f.tensors.at(name)).second) keys.push_back(key);
  }
  WeightsReport r;
  std::set<std::string> used;
  auto take = [&](const std::string& name, Tensor& dst, bool optional) {
    auto it = by_key.find(name);
    if (it == by_key.end()) {
      if (!optional) r.missing.push_back(name);
      return;
    }
    used.insert(name);
    if (it->second->shape() != dst.shape()) {
      r.misshaped.push_back(fmt::format("{} {}, the model has {}", name, dims(it->second->shape()), dims(dst.shape())));
      return;
    }
    dst = *it->second;
    ++r.loaded;
  };
  static const std::string counter = ".num_batches_tracked";
  auto is_counter = [&](const std::string& n) {
    return n.size() >= counter.size() && n.compare(n.size() - counter.size(), counter.size(), counter) == 0;
  };
  for (const auto& p : net.params()) take(p.name, p.param->value, false);
  for (const auto& b : net.buffers()) take(b.name, b.buffer->value, is_counter(b.name));
  for (const auto& k : keys)
    if (!used.count(k)) r.unused.push_back(k);
  if (r.loaded == 0)
    throw ConfigError(fmt::format("{}: no tensor fits model '{}' ({} in the file, e.g. '{}'; the model's first: '{}'); "
                                  "rename keys with train.weights_map",
                                  path, net.spec().name, keys.size(), keys.empty() ? "" : keys.front(),
                                  net.params().empty() ? "" : net.params().front().name));
  return r;
}

}  // namespace cnn
