#include "train/checkpoint.h"

#include <set>
#include <sstream>

#include <fmt/format.h>

#include "core/error.h"
#include "optim/optimizer.h"

namespace cnn {

// Every optimizer state tensor is "optimizer.<name>" with <name> from Optimizer::state(); SGD's
// "momentum.<param>" keeps the names of checkpoints written before other optimizers existed.
static const char* kOptimPrefix = "optimizer.";

void save_checkpoint(const std::string& path, const Net& net, const Optimizer* optimizer, const CheckpointMeta& meta) {
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
  std::map<std::string, std::string> md{{"format", "cnn-checkpoint-1"},
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
  write_safetensors(path, tensors, md);
}

static int64_t to_int(const std::map<std::string, std::string>& md, const std::string& key) {
  auto it = md.find(key);
  if (it == md.end()) return 0;
  try {
    return std::stoll(it->second);
  } catch (...) {
    return 0;
  }
}

CheckpointMeta load_checkpoint(const std::string& path, Net& net, Optimizer* optimizer) {
  SafetensorsFile f = read_safetensors(path);
  std::vector<std::string> problems;
  std::set<std::string> used;
  auto take = [&](const std::string& name, Tensor& dst) {
    auto it = f.tensors.find(name);
    if (it == f.tensors.end()) {
      problems.push_back("missing '" + name + "'");
      return;
    }
    used.insert(name);
    if (it->second.shape() != dst.shape()) {
      problems.push_back("'" + name + "' has shape " + shape_str(it->second.shape()) + ", the model expects " +
                         shape_str(dst.shape()));
      return;
    }
    dst = it->second;
  };
  for (const auto& p : net.params()) take(p.name, p.param->value);
  for (const auto& b : net.buffers()) take(b.name, b.buffer->value);
  for (const auto& name : f.order) {
    if (used.count(name)) continue;
    if (name.rfind(kOptimPrefix, 0) == 0) continue;
    problems.push_back("unexpected '" + name + "'");
  }
  if (!problems.empty()) {
    std::string msg;
    for (size_t i = 0; i < problems.size() && i < 8; ++i) msg += (i ? "; " : "") + problems[i];
    if (problems.size() > 8) msg += "; and " + std::to_string(problems.size() - 8) + " more";
    throw ConfigError(path + ": does not match model '" + net.spec().name + "': " + msg);
  }
  if (optimizer) {
    try {
      for (const auto& name : f.order)
        if (!used.count(name) && name.rfind(kOptimPrefix, 0) == 0)
          optimizer->load_state(name.substr(std::string(kOptimPrefix).size()), f.tensors[name]);
      optimizer->check_loaded_state();
    } catch (const RuntimeError& e) {
      throw RuntimeError(path + ": " + e.what());
    }
  }
  CheckpointMeta meta;
  meta.epoch = to_int(f.metadata, "epoch");
  meta.step = to_int(f.metadata, "step");
  if (auto it = f.metadata.find("best_metric"); it != f.metadata.end()) meta.best_metric = std::atof(it->second.c_str());
  if (auto it = f.metadata.find("config"); it != f.metadata.end()) meta.config = it->second;
  meta.epoch_step = to_int(f.metadata, "epoch_step");
  meta.epoch_correct = to_int(f.metadata, "epoch_correct");
  meta.epoch_seen = to_int(f.metadata, "epoch_seen");
  if (auto it = f.metadata.find("epoch_loss_sum"); it != f.metadata.end()) meta.epoch_loss_sum = std::atof(it->second.c_str());
  if (auto it = f.metadata.find("epoch_seconds"); it != f.metadata.end()) meta.epoch_seconds = std::atof(it->second.c_str());
  if (auto it = f.metadata.find("rng_state"); it != f.metadata.end()) {
    std::istringstream in(it->second);
    for (auto& w : meta.rng_state) in >> w;
  }
  if (auto it = f.metadata.find("model"); it != f.metadata.end()) meta.model = it->second;
  return meta;
}

}  // namespace cnn
