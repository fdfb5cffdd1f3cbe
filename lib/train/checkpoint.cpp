#include "train/checkpoint.h"

#include <charconv>
#include <cmath>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "optim/optimizer.h"

namespace cnn {

// Every optimizer state tensor is "optimizer.<name>" with <name> from Optimizer::state(); SGD's
// "momentum.<param>" keeps the names of checkpoints written before other optimizers existed.
static const char* kOptimPrefix = "optimizer.";
// Format 2 adds per-tensor and metadata CRC-32s (io/safetensors.h), which a format-2 file must have.
static const char* kFormat = "cnn-checkpoint-2";

void save_checkpoint(const std::string& path, const Net& net, const Optimizer* optimizer, const CheckpointMeta& meta,
                     const std::vector<NamedTensor>& extra) {
  std::vector<NamedTensor> tensors;
  for (const auto& p : net.params()) tensors.push_back({p.name, &p.param->value});
  for (const auto& b : net.buffers()) tensors.push_back({b.name, &b.buffer->value});
  std::vector<std::string> optim_names;
  if (optimizer) {
    auto st = optimizer->state();
    optim_names.reserve(st.size());
    for (auto& s : st) optim_names.push_back(kOptimPrefix + s.name);
    for (size_t i = 0; i < st.size(); ++i) tensors.push_back({optim_names[i], st[i].tensor});
  }
  tensors.insert(tensors.end(), extra.begin(), extra.end());
  std::map<std::string, std::string> md{{"format", kFormat},
                                        {"epoch", std::to_string(meta.epoch)},
                                        {"step", std::to_string(meta.step)},
                                        {"best_metric", fmt::format("{}", meta.best_metric)},
                                        {"model_name", net.spec().name},
                                        {"config", meta.config},
                                        {"model", meta.model},
                                        {"epoch_step", std::to_string(meta.epoch_step)},
                                        {"epoch_loss_sum", fmt::format("{}", meta.epoch_loss_sum)},
                                        {"epoch_seconds", fmt::format("{}", meta.epoch_seconds)},
                                        {"epoch_correct", std::to_string(meta.epoch_correct)},
                                        {"epoch_seen", std::to_string(meta.epoch_seen)},
                                        {"rng_state", fmt::format("{} {} {} {}", meta.rng_state[0], meta.rng_state[1],
                                                                  meta.rng_state[2], meta.rng_state[3])}};
  if (meta.micro_step > 0) {  // between two micro-batches (train.accumulate)
    md["micro_step"] = std::to_string(meta.micro_step);
    md["micro_steps"] = std::to_string(meta.micro_steps);
    md["step_trained"] = std::to_string(meta.step_trained);
    md["step_seen"] = std::to_string(meta.step_seen);
    md["step_correct"] = std::to_string(meta.step_correct);
    md["step_loss_sum"] = fmt::format("{}", meta.step_loss_sum);
    md["step_last_loss"] = fmt::format("{}", meta.step_last_loss);
  }
  if (!meta.class_names.empty()) md["class_names"] = nlohmann::json(meta.class_names).dump();
  write_safetensors(path, tensors, md, /*checksums=*/true);
}

namespace {

// read_safetensors, refusing a checkpoint of ours whose checksums are gone (a damaged key).
SafetensorsFile read_verified(const std::string& path) {
  SafetensorsFile f = read_safetensors(path);
  auto it = f.metadata.find("format");
  if (it != f.metadata.end() && it->second == kFormat && !f.checksummed)
    throw RuntimeError(path + ": a " + kFormat + " file without its checksums (the file is corrupt)");
  return f;
}

bool is_extra_entry(const std::string& name) {
  return name.rfind(kEmaPrefix, 0) == 0 || name.rfind(kAccumulatePrefix, 0) == 0;
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// Copies every parameter and buffer of `net` from `f` by name. Entries "optimizer.*" are
// skipped (their names go into `optimizer_entries`). Every missing, unexpected or mis-shaped
// tensor is named in one ConfigError. With `lenient_counters`, a missing BatchNorm
// "*.num_batches_tracked" is not an error (state_dicts saved before PyTorch 0.4.1 lack it, as
// do hand-written ones); the buffer keeps its value.
void load_net_tensors(const std::string& path, SafetensorsFile& f, Net& net, bool lenient_counters,
                      std::vector<std::string>* optimizer_entries, const std::set<std::string>& optional_nodes = {}) {
  std::vector<std::string> missing, unexpected, misshaped;
  std::set<std::string> used;
  auto take = [&](const std::string& name, Tensor& dst, bool counter) {
    auto it = f.tensors.find(name);
    if (it == f.tensors.end()) {
      const bool optional = optional_nodes.count(name.substr(0, name.rfind('.'))) != 0;
      if (!(counter && lenient_counters) && !optional) missing.push_back(name);
      return;
    }
    used.insert(name);
    if (it->second.shape() != dst.shape()) {
      auto dims = [](const Shape& s) { return s.empty() ? std::string("[] (a scalar)") : fmt::format("[{}]", shape_str(s)); };
      misshaped.push_back(name + " " + dims(it->second.shape()) + ", the model has " + dims(dst.shape()));
      return;
    }
    dst = it->second;
  };
  auto is_counter = [](const std::string& name) {
    static const std::string suffix = ".num_batches_tracked";
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  for (const auto& p : net.params()) take(p.name, p.param->value, false);
  for (const auto& b : net.buffers()) take(b.name, b.buffer->value, is_counter(b.name));
  for (const auto& name : f.order) {
    if (used.count(name)) continue;
    if (name.rfind(kOptimPrefix, 0) == 0) {
      if (optimizer_entries) optimizer_entries->push_back(name);
      continue;
    }
    if (is_extra_entry(name)) continue;  // load_checkpoint's extra
    unexpected.push_back(name);
  }
  if (missing.empty() && unexpected.empty() && misshaped.empty()) return;
  std::string msg = path + ": does not match model '" + net.spec().name + "':";
  std::string sep = " ";
  if (!missing.empty()) {
    msg += sep + std::to_string(missing.size()) + " missing: " + join_names(missing);
    sep = "; ";
  }
  if (!unexpected.empty()) {
    msg += sep + std::to_string(unexpected.size()) + " unexpected: " + join_names(unexpected);
    sep = "; ";
  }
  if (!misshaped.empty()) msg += sep + std::to_string(misshaped.size()) + " mis-shaped: " + join_names(misshaped);
  // A whole-model mismatch is usually a prefix: DataParallel's "module.", a wrapper's "model.".
  if (used.empty() && !unexpected.empty()) {
    const std::string& first = unexpected.front();
    size_t dot = first.find('.');
    if (dot != std::string::npos) {
      std::string prefix = first.substr(0, dot + 1);
      bool all = true;
      for (const auto& n : unexpected) all = all && n.rfind(prefix, 0) == 0;
      if (all && unexpected.size() > 1)
        msg += " (every tensor in the file starts with '" + prefix + "': saved from a wrapper module?)";
    }
  }
  throw ConfigError(msg);
}

}  // namespace

std::set<std::string> side_head_nodes(const Net& net) {
  std::set<std::string> out;
  for (const auto& row : net.summary())
    if (row.head) out.insert(row.name);
  return out;
}

namespace {

// The file's "ema.*" tensors under the model's names (train.ema's average), for --ema.
SafetensorsFile ema_as_weights(const std::string& path, const SafetensorsFile& f) {
  SafetensorsFile out;
  out.metadata = f.metadata;
  const std::string prefix = kEmaPrefix;
  for (const auto& name : f.order) {
    if (name.rfind(prefix, 0) != 0 || name == prefix + "n_averaged") continue;
    out.order.push_back(name.substr(prefix.size()));
    out.tensors[out.order.back()] = f.tensors.at(name);
  }
  if (out.order.empty())
    throw ConfigError(path + ": has no EMA weights (it was written with train.ema off, or is not a checkpoint of "
                             "ours): drop --ema");
  return out;
}

}  // namespace

void load_weights(const std::string& path, Net& net, WeightsChoice choice) {
  SafetensorsFile f = read_verified(path);
  if (choice == WeightsChoice::ema) f = ema_as_weights(path, f);
  // torchvision ships GoogLeNet / Inception v3 weights without their auxiliary heads
  load_net_tensors(path, f, net, /*lenient_counters=*/true, nullptr, side_head_nodes(net));
}

CheckpointMeta load_checkpoint(const std::string& path, Net& net, Optimizer* optimizer,
                               std::map<std::string, Tensor>* extra) {
  SafetensorsFile f = read_verified(path);
  if (extra)
    for (const auto& [name, t] : f.tensors)
      if (is_extra_entry(name)) (*extra)[name] = t;
  std::vector<std::string> optimizer_entries;
  load_net_tensors(path, f, net, /*lenient_counters=*/false, &optimizer_entries);
  if (optimizer) {
    try {
      for (const auto& name : optimizer_entries)
        optimizer->load_state(name.substr(std::string(kOptimPrefix).size()), f.tensors[name]);
      optimizer->check_loaded_state();
    } catch (const RuntimeError& e) {
      throw RuntimeError(path + ": " + e.what());
    }
  }
  return checkpoint_meta(f.metadata, path);
}

CheckpointMeta read_checkpoint_meta(const std::string& path) {
  return checkpoint_meta(read_verified(path).metadata, path);
}

namespace {

// Strict readers of the numeric metadata fields: a field that is present must be exactly a
// number of the right kind; a corrupt one is named instead of read as 0 (which would silently
// restart a run). Absent fields keep their defaults (PyTorch state_dicts have none).
class MetaFields {
 public:
  MetaFields(const std::map<std::string, std::string>& md, const std::string& path) : md_(md), path_(path) {}

  void integer(const char* key, int64_t& out) const {
    const std::string* v = find(key);
    if (!v) return;
    auto r = std::from_chars(v->data(), v->data() + v->size(), out);
    if (v->empty() || r.ec != std::errc() || r.ptr != v->data() + v->size() || out < 0) bad(key, *v, "an integer >= 0");
  }
  void real(const char* key, double& out, bool finite) const {
    const std::string* v = find(key);
    if (!v) return;
    auto r = std::from_chars(v->data(), v->data() + v->size(), out);
    if (v->empty() || r.ec != std::errc() || r.ptr != v->data() + v->size() || std::isnan(out) ||
        (finite && !std::isfinite(out)))
      bad(key, *v, finite ? "a finite number" : "a number");
  }
  void words(const char* key, std::array<uint64_t, 4>& out) const {
    const std::string* v = find(key);
    if (!v) return;
    const char* p = v->data();
    const char* end = v->data() + v->size();
    for (size_t i = 0; i < out.size(); ++i) {
      if (i > 0) {
        if (p == end || *p != ' ') bad(key, *v, "4 unsigned integers separated by spaces");
        ++p;
      }
      auto r = std::from_chars(p, end, out[i]);
      if (r.ec != std::errc() || r.ptr == p) bad(key, *v, "4 unsigned integers separated by spaces");
      p = r.ptr;
    }
    if (p != end) bad(key, *v, "4 unsigned integers separated by spaces");
  }

 private:
  const std::string* find(const char* key) const {
    auto it = md_.find(key);
    return it == md_.end() ? nullptr : &it->second;
  }
  [[noreturn]] void bad(const char* key, const std::string& value, const char* expected) const {
    std::string shown = value.size() > 40 ? value.substr(0, 40) + "..." : value;
    throw RuntimeError(fmt::format("{}checkpoint field '{}' is '{}', expected {} (the checkpoint is corrupt)",
                                   path_.empty() ? "" : path_ + ": ", key, shown, expected));
  }
  const std::map<std::string, std::string>& md_;
  const std::string& path_;
};

}  // namespace

CheckpointMeta checkpoint_meta(const std::map<std::string, std::string>& metadata, const std::string& path) {
  const auto& md = metadata;
  const MetaFields fields(md, path);
  CheckpointMeta meta;
  fields.integer("epoch", meta.epoch);
  fields.integer("step", meta.step);
  fields.real("best_metric", meta.best_metric, /*finite=*/false);
  fields.integer("epoch_step", meta.epoch_step);
  fields.integer("epoch_correct", meta.epoch_correct);
  fields.integer("epoch_seen", meta.epoch_seen);
  fields.real("epoch_loss_sum", meta.epoch_loss_sum, /*finite=*/false);
  fields.real("epoch_seconds", meta.epoch_seconds, /*finite=*/true);
  fields.words("rng_state", meta.rng_state);
  fields.integer("micro_step", meta.micro_step);
  fields.integer("micro_steps", meta.micro_steps);
  fields.integer("step_trained", meta.step_trained);
  fields.integer("step_seen", meta.step_seen);
  fields.integer("step_correct", meta.step_correct);
  fields.real("step_loss_sum", meta.step_loss_sum, /*finite=*/false);
  fields.real("step_last_loss", meta.step_last_loss, /*finite=*/false);
  if (auto it = md.find("config"); it != md.end()) meta.config = it->second;
  if (auto it = md.find("model"); it != md.end()) meta.model = it->second;
  if (auto it = md.find("class_names"); it != md.end()) {
    try {
      meta.class_names = nlohmann::json::parse(it->second).get<std::vector<std::string>>();
    } catch (const nlohmann::json::exception&) {
      meta.class_names.clear();  // not ours: the names are optional
    }
  }
  return meta;
}

}  // namespace cnn
