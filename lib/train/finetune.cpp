#include "train/finetune.h"

#include <set>

#include <fmt/format.h>

#include "core/error.h"
#include "train/checkpoint.h"
#include "train/init_weights.h"

namespace cnn {

bool name_matches(const std::string& pattern, const std::string& param) {
  if (pattern == "*") return true;
  return param == pattern || (param.size() > pattern.size() && param.compare(0, pattern.size(), pattern) == 0 &&
                              param[pattern.size()] == '.');
}

void load_initial_weights(Net& net, const TrainSpec& train, const std::string& weights, bool strict,
                          const std::function<void(const std::string&)>& log) {
  const std::string& path = weights.empty() ? train.init_from : weights;
  if (path.empty()) return;
  if (strict || train.init_strict) {
    load_weights(path, net);
    return;
  }
  const WeightsReport r = load_fitting_weights(path, net, train.weights_map);
  const std::string note = r.note(path);
  if (!note.empty() && log) log(note);
}

namespace {

// Every pattern of `field` must name some parameter.
void check_patterns(const std::vector<std::string>& patterns, const Net& net, const std::string& field) {
  for (const auto& pat : patterns) {
    bool any = false;
    for (const auto& p : net.params()) any = any || name_matches(pat, p.name);
    if (!any)
      throw ConfigError(fmt::format("{}: '{}' names no parameter of model '{}' (names are node paths such as '{}')",
                                    field, pat, net.spec().name,
                                    net.params().empty() ? "" : net.params().front().name.substr(
                                                                    0, net.params().front().name.rfind('.'))));
  }
}

// The node that owns a parameter: its name minus the parameter's own, and minus inner layers'
// indices for compound layers (a shortcut's BN is "layer2.0.downsample.1.weight" in node
// "layer2.0.downsample").
std::string owning_node(const Net& net, const std::string& param_name) {
  std::string node = param_name.substr(0, param_name.rfind('.'));
  while (net.node_index(node) < 0 && node.find('.') != std::string::npos) node.erase(node.rfind('.'));
  return node;
}

bool any_match(const std::vector<std::string>& patterns, const std::string& name) {
  for (const auto& p : patterns)
    if (name_matches(p, name)) return true;
  return false;
}

}  // namespace

std::unique_ptr<Optimizer> make_finetune_optimizer(Net& net, const TrainSpec& train,
                                                   const std::function<void(const std::string&)>& log) {
  check_patterns(train.freeze, net, "train.freeze");
  check_patterns(train.unfreeze, net, "train.unfreeze");
  for (size_t i = 0; i < train.param_groups.size(); ++i)
    check_patterns({train.param_groups[i].match}, net, fmt::format("train.param_groups.{}.match", i));
  const auto& params = net.params();
  if (train.freeze.empty() && train.param_groups.empty()) return make_optimizer(train.optimizer, params);

  std::vector<char> frozen(params.size(), 0);
  std::vector<NamedParam> trainable;
  std::vector<double> lr_mult, wd_mult;
  std::set<std::string> bn_trainable, bn_nodes;  // freeze_bn: BN nodes with every parameter frozen
  int64_t frozen_values = 0, all_values = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    const NamedParam& p = params[i];
    const std::string node = owning_node(net, p.name);
    frozen[i] = any_match(train.freeze, p.name) && !any_match(train.unfreeze, p.name);
    all_values += p.param->value.numel();
    const bool bn = p.param->init_kind.rfind("bn_", 0) == 0;
    if (bn) bn_nodes.insert(node);
    if (frozen[i]) {
      frozen_values += p.param->value.numel();
      continue;
    }
    if (bn) bn_trainable.insert(node);
    trainable.push_back(p);
    double lm = 1, wm = 1;
    for (const auto& g : train.param_groups)
      if (name_matches(g.match, p.name)) {
        lm = g.lr_mult, wm = g.wd_mult;
        break;
      }
    lr_mult.push_back(lm);
    wd_mult.push_back(wm);
  }
  if (trainable.empty())
    throw ConfigError(fmt::format("train.freeze: every parameter of model '{}' is frozen, so nothing would train "
                                  "(train.unfreeze names the ones to train)",
                                  net.spec().name));
  std::set<std::string> eval_nodes;
  if (train.freeze_bn)
    for (const auto& n : bn_nodes)
      if (!bn_trainable.count(n)) eval_nodes.insert(n);
  net.set_frozen(frozen, eval_nodes);
  if (!train.freeze.empty() && log)
    log(fmt::format("frozen: {} of {} parameter values ({} of {} tensors){}", frozen_values, all_values,
                    params.size() - trainable.size(), params.size(),
                    train.freeze_bn ? fmt::format("; {} BN layers in eval mode", eval_nodes.size()) : ""));
  std::unique_ptr<Optimizer> opt = make_optimizer(train.optimizer, trainable);
  opt->set_multipliers(std::move(lr_mult), std::move(wd_mult));
  return opt;
}

}  // namespace cnn
