#include "config/recipe.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <functional>

#include <fmt/format.h>

#include "config/model_build.h"
#include "config/overrides.h"
#include "config/recipe_transforms.h"
#include "config/yaml_util.h"

namespace cnn {

namespace {

namespace fs = std::filesystem;
using cfg::describe;
using cfg::loc_of;

const std::vector<std::string> kTopKeys = {"model", "model_args", "data", "train", "output", "report"};
const std::vector<std::string> kDataKeys = {"dataset",    "root",       "train_transforms", "eval_transforms",
                                            "batch_size", "eval_batch_size", "workers",      "train_limit",
                                            "eval_limit", "class_names", "bad_images", "eval_tta",
                                            "mixup",      "cutmix",     "mix_prob",   "mix_switch_prob",
                                            "max_image_pixels", "channels"};
const std::vector<std::string> kMixKeys = {"alpha"};
const std::vector<std::string> kTrainKeys = {"epochs", "optimizer", "schedule", "label_smoothing", "seed", "log_every",
                                             "eval_every", "best_metric", "aux_weight",
                                             "init_from", "init_strict", "weights_map", "freeze", "unfreeze",
                                             "freeze_bn", "param_groups", "ema", "sync_bn",
                                             "accumulate"};
const std::vector<std::string> kEmaKeys = {"decay", "every", "warmup"};
const std::vector<std::string> kParamGroupKeys = {"match", "lr_mult", "wd_mult"};
const std::vector<std::string> kBestMetrics = {"test_acc", "test_top5", "test_loss"};
const std::vector<std::string> kScheduleKeys = {"type",       "step_epochs",      "gamma",           "milestones",
                                                "min_lr",     "pct_start",        "div_factor",      "final_div_factor",
                                                "anneal_strategy", "three_phase", "warmup_epochs"};
const std::vector<std::string> kSchedules = {"constant", "step", "multistep", "exponential", "cosine", "onecycle"};
const std::vector<std::string> kAnneal = {"cos", "linear"};
// The fields each schedule uses besides type and warmup_epochs (others are ignored and not emitted).
const std::vector<std::pair<std::string, std::vector<std::string>>> kScheduleFields = {
    {"constant", {}},
    {"step", {"step_epochs", "gamma"}},
    {"multistep", {"milestones", "gamma"}},
    {"exponential", {"gamma"}},
    {"cosine", {"min_lr"}},
    {"onecycle", {"pct_start", "div_factor", "final_div_factor", "anneal_strategy", "three_phase"}}};
const std::vector<std::string> kOptimizerKeys = {"type",     "lr",    "momentum",         "dampening",     "nesterov",
                                                 "weight_decay", "alpha", "eps",           "centered",      "betas",
                                                 "amsgrad",  "no_decay_bn_bias", "grad_clip_norm"};
// The fields each optimizer uses besides type, lr, weight_decay, no_decay_bn_bias, grad_clip_norm.
// Setting another type's field is an error.
const std::vector<std::pair<std::string, std::vector<std::string>>> kOptimizerFields = {
    {"sgd", {"momentum", "dampening", "nesterov"}},
    {"rmsprop", {"alpha", "eps", "momentum", "centered"}},
    {"adam", {"betas", "eps", "amsgrad"}},
    {"adamw", {"betas", "eps", "amsgrad"}}};
const std::vector<std::string> kOptimizerCommon = {"type", "lr", "weight_decay", "no_decay_bn_bias", "grad_clip_norm"};

const std::vector<std::string>& fields_of(const std::vector<std::pair<std::string, std::vector<std::string>>>& table,
                                          const std::string& type) {
  static const std::vector<std::string> none;
  for (const auto& [t, f] : table)
    if (t == type) return f;
  return none;
}
const std::vector<std::string> kDatasets = {"mnist", "fashion_mnist", "cifar10", "image_folder", "csv"};
const std::vector<std::string> kBadImages = {"fatal", "skip"};
const std::vector<std::string> kEvalTta = {"none", "hflip"};
const std::vector<std::string> kOptimizers = {"sgd", "rmsprop", "adam", "adamw"};

// The keys --set may name (checked against this, not the document, so absent fields can be set).
cfg::Schema recipe_schema() {
  cfg::Schema s;
  auto leaves = [](const std::vector<std::string>& keys) {
    cfg::Schema sec;
    for (const auto& k : keys) sec.fields[k] = cfg::Schema{};
    return sec;
  };
  s.fields["model"] = cfg::Schema{};
  s.fields["model_args"] = cfg::Schema{};
  s.fields["output"] = cfg::Schema{};
  s.fields["report"] = cfg::Schema{};
  s.fields["data"] = leaves(kDataKeys);
  s.fields["data"].fields["train_transforms"].open = true;
  s.fields["data"].fields["eval_transforms"].open = true;
  s.fields["data"].fields["mixup"] = leaves(kMixKeys);
  s.fields["data"].fields["cutmix"] = leaves(kMixKeys);
  s.fields["train"] = leaves(kTrainKeys);
  s.fields["train"].fields["optimizer"] = leaves(kOptimizerKeys);
  s.fields["train"].fields["schedule"] = leaves(kScheduleKeys);
  s.fields["train"].fields["ema"] = leaves(kEmaKeys);
  return s;
}

// Datasets decoded from image files (data.channels, max_image_pixels apply).
bool decodes_files(const std::string& dataset) { return dataset == "image_folder" || dataset == "csv"; }

std::string default_root(const std::string& dataset) {
  if (dataset == "fashion_mnist") return "/usr/share/datasets/fashion-mnist";
  if (dataset == "cifar10") return "data/cifar-10-batches-bin";
  if (dataset == "image_folder") return "data/imagenet";
  if (dataset == "csv") return "data";
  return "data/mnist";
}

// Reads typed fields of one recipe section with errors naming file:line:col and the dotted field.
class Reader {
 public:
  explicit Reader(const std::string& file) : file_(file) {}

  // A section mapping (empty when absent or null).
  YAML::Node section(const YAML::Node& parent, const std::string& key, const std::string& path,
                     const std::vector<std::string>& keys) const {
    const YAML::Node n = parent.IsMap() ? parent[key] : YAML::Node();
    if (!n.IsDefined() || n.IsNull()) return YAML::Node(YAML::NodeType::Map);
    if (!n.IsMap()) throw ConfigError(loc_of(n, file_), path, "expected a mapping, got " + describe(n));
    cfg::check_keys(n, keys, file_, path);
    return n;
  }

  [[noreturn]] void fail(const YAML::Node& n, const std::string& path, const std::string& expected) const {
    throw ConfigError(loc_of(n, file_), path, fmt::format("expected {}, got {}", expected, shown(n)));
  }

  int64_t get_int(const YAML::Node& sec, const std::string& key, const std::string& path, int64_t def,
                  int64_t min) const {
    YAML::Node n = sec[key];
    if (!n.IsDefined()) return def;
    int64_t v = 0;
    const std::string expected = fmt::format("an integer >= {}", min);
    if (!n.IsScalar() || !parse(n.Scalar(), v) || v < min) fail(n, path, expected);
    return v;
  }

  uint64_t get_uint(const YAML::Node& sec, const std::string& key, const std::string& path, uint64_t def) const {
    YAML::Node n = sec[key];
    if (!n.IsDefined()) return def;
    uint64_t v = 0;
    if (!n.IsScalar() || !parse(n.Scalar(), v)) fail(n, path, "an integer >= 0");
    return v;
  }

  double get_number(const YAML::Node& sec, const std::string& key, const std::string& path, double def,
                    const std::function<bool(double)>& ok, const std::string& expected) const {
    YAML::Node n = sec[key];
    if (!n.IsDefined()) return def;
    double v = 0;
    if (!n.IsScalar() || !parse_double(n.Scalar(), v) || !ok(v)) fail(n, path, expected);
    return v;
  }

  bool get_bool(const YAML::Node& sec, const std::string& key, const std::string& path, bool def) const {
    YAML::Node n = sec[key];
    if (!n.IsDefined()) return def;
    if (n.IsScalar()) {
      std::string s = n.Scalar();
      for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (s == "true" || s == "yes" || s == "on") return true;
      if (s == "false" || s == "no" || s == "off") return false;
    }
    fail(n, path, "true or false");
  }

  std::string get_string(const YAML::Node& sec, const std::string& key, const std::string& path,
                         const std::string& def) const {
    YAML::Node n = sec[key];
    if (!n.IsDefined() || n.IsNull()) return def;
    if (!n.IsScalar() || n.Scalar().empty()) fail(n, path, "a non-empty string");
    return n.Scalar();
  }

  // A number or a non-empty list of numbers.
  std::vector<double> get_numbers(const YAML::Node& n, const std::string& path, bool positive) const {
    const std::string expected = positive ? "a list of numbers > 0" : "a list of numbers";
    std::vector<double> out;
    auto one = [&](const YAML::Node& item) {
      double v = 0;
      if (!item.IsScalar() || !parse_double(item.Scalar(), v) || (positive && !(v > 0))) fail(n, path, expected);
      out.push_back(v);
    };
    if (n.IsSequence()) {
      for (const auto& item : n) one(item);
    } else {
      one(n);
    }
    if (out.empty()) fail(n, path, expected);
    return out;
  }

  static bool parse_double(const std::string& s, double& v) {
    std::string t = !s.empty() && s[0] == '+' ? s.substr(1) : s;
    auto r = std::from_chars(t.data(), t.data() + t.size(), v);
    return !t.empty() && r.ec == std::errc() && r.ptr == t.data() + t.size() && std::isfinite(v);
  }
  template <class T>
  static bool parse(const std::string& s, T& v) {
    std::string t = !s.empty() && s[0] == '+' ? s.substr(1) : s;
    auto r = std::from_chars(t.data(), t.data() + t.size(), v);
    return !t.empty() && r.ec == std::errc() && r.ptr == t.data() + t.size();
  }
  // Numbers unquoted, other scalars quoted: "got -1", "got 'ten'".
  static std::string shown(const YAML::Node& n) {
    double d = 0;
    if (n.IsScalar() && parse_double(n.Scalar(), d)) return n.Scalar();
    return describe(n);
  }

  const std::string& file() const { return file_; }

 private:
  const std::string& file_;
};

// Only the fields the type uses, so that the resolved YAML loads back.
void emit_optimizer(YAML::Emitter& e, const OptimizerSpec& o) {
  const std::vector<std::string>& used = fields_of(kOptimizerFields, o.type);
  auto uses = [&](const char* k) { return std::find(used.begin(), used.end(), k) != used.end(); };
  auto b = [](bool v) { return v ? "true" : "false"; };
  e << YAML::Flow << YAML::BeginMap;
  e << YAML::Key << "type" << YAML::Value << o.type;
  e << YAML::Key << "lr" << YAML::Value << cfg::format_double(o.lr);
  if (uses("alpha")) e << YAML::Key << "alpha" << YAML::Value << cfg::format_double(o.alpha);
  if (uses("betas"))
    e << YAML::Key << "betas" << YAML::Value << YAML::Flow << YAML::BeginSeq << cfg::format_double(o.beta1)
      << cfg::format_double(o.beta2) << YAML::EndSeq;
  if (uses("eps")) e << YAML::Key << "eps" << YAML::Value << cfg::format_double(o.eps);
  if (uses("momentum")) e << YAML::Key << "momentum" << YAML::Value << cfg::format_double(o.momentum);
  if (uses("dampening")) e << YAML::Key << "dampening" << YAML::Value << cfg::format_double(o.dampening);
  if (uses("nesterov")) e << YAML::Key << "nesterov" << YAML::Value << b(o.nesterov);
  if (uses("centered")) e << YAML::Key << "centered" << YAML::Value << b(o.centered);
  if (uses("amsgrad")) e << YAML::Key << "amsgrad" << YAML::Value << b(o.amsgrad);
  e << YAML::Key << "weight_decay" << YAML::Value << cfg::format_double(o.weight_decay);
  e << YAML::Key << "no_decay_bn_bias" << YAML::Value << b(o.no_decay_bn_bias);
  e << YAML::Key << "grad_clip_norm" << YAML::Value << cfg::format_double(o.grad_clip_norm);
  e << YAML::EndMap;
}

void emit_schedule(YAML::Emitter& e, const ScheduleSpec& sc) {
  const std::vector<std::string>& used = fields_of(kScheduleFields, sc.type);
  auto uses = [&](const char* k) { return std::find(used.begin(), used.end(), k) != used.end(); };
  e << YAML::Flow << YAML::BeginMap;
  e << YAML::Key << "type" << YAML::Value << sc.type;
  if (uses("step_epochs")) e << YAML::Key << "step_epochs" << YAML::Value << sc.step_epochs;
  if (uses("milestones")) {
    e << YAML::Key << "milestones" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (int64_t m : sc.milestones) e << m;
    e << YAML::EndSeq;
  }
  if (uses("gamma")) e << YAML::Key << "gamma" << YAML::Value << cfg::format_double(sc.gamma);
  if (uses("min_lr")) e << YAML::Key << "min_lr" << YAML::Value << cfg::format_double(sc.min_lr);
  if (uses("pct_start")) e << YAML::Key << "pct_start" << YAML::Value << cfg::format_double(sc.pct_start);
  if (uses("div_factor")) e << YAML::Key << "div_factor" << YAML::Value << cfg::format_double(sc.div_factor);
  if (uses("final_div_factor"))
    e << YAML::Key << "final_div_factor" << YAML::Value << cfg::format_double(sc.final_div_factor);
  if (uses("anneal_strategy")) e << YAML::Key << "anneal_strategy" << YAML::Value << sc.anneal_strategy;
  if (uses("three_phase")) e << YAML::Key << "three_phase" << YAML::Value << (sc.three_phase ? "true" : "false");
  e << YAML::Key << "warmup_epochs" << YAML::Value << cfg::format_double(sc.warmup_epochs);
  e << YAML::EndMap;
}

// A name or a list of names (`freeze: layer1` or `freeze: [conv1, bn1]`); `--set` gives "[a,b]".
std::vector<std::string> names_of(const Reader& rd, const YAML::Node& sec, const std::string& key,
                                  const std::string& path) {
  std::vector<std::string> out;
  const YAML::Node n = sec[key];
  if (!n.IsDefined() || n.IsNull()) return out;
  const std::string expected = "a parameter name or prefix, or a list of them, e.g. [conv1, layer1]";
  if (n.IsScalar()) {
    if (n.Scalar().empty()) rd.fail(n, path, expected);
    return {n.Scalar()};
  }
  if (!n.IsSequence()) rd.fail(n, path, expected);
  for (const auto& item : n) {
    if (!item.IsScalar() || item.Scalar().empty()) rd.fail(n, path, expected);
    out.push_back(item.Scalar());
  }
  return out;
}

void parse_finetuning(const Reader& rd, const YAML::Node& train, TrainSpec& t) {
  t.init_from = rd.get_string(train, "init_from", "train.init_from", t.init_from);
  t.init_strict = rd.get_bool(train, "init_strict", "train.init_strict", t.init_strict);
  if (const YAML::Node n = train["weights_map"]; n.IsDefined() && !n.IsNull()) {
    const std::string expected = "a mapping of key prefixes, e.g. {\"classifier.\": \"fc.\"}";
    if (!n.IsMap()) rd.fail(n, "train.weights_map", expected);
    for (auto it = n.begin(); it != n.end(); ++it) {
      if (!it->first.IsScalar() || !it->second.IsScalar() || it->first.Scalar().empty())
        rd.fail(n, "train.weights_map", expected);
      t.weights_map.emplace_back(it->first.Scalar(), it->second.Scalar());
    }
  }
  t.freeze = names_of(rd, train, "freeze", "train.freeze");
  t.unfreeze = names_of(rd, train, "unfreeze", "train.unfreeze");
  t.freeze_bn = rd.get_bool(train, "freeze_bn", "train.freeze_bn", t.freeze_bn);
  t.sync_bn = rd.get_bool(train, "sync_bn", "train.sync_bn", t.sync_bn);
  if (const YAML::Node n = train["param_groups"]; n.IsDefined() && !n.IsNull()) {
    if (!n.IsSequence()) rd.fail(n, "train.param_groups", "a list of {match: <name>, lr_mult: x, wd_mult: y}");
    for (size_t i = 0; i < n.size(); ++i) {
      const std::string path = fmt::format("train.param_groups.{}", i);
      const YAML::Node g = n[i];
      if (!g.IsMap()) rd.fail(g, path, "a mapping {match: <name>, lr_mult: x, wd_mult: y}");
      cfg::check_keys(g, kParamGroupKeys, rd.file(), path);
      ParamGroupSpec pg;
      pg.match = rd.get_string(g, "match", path + ".match", "");
      if (pg.match.empty())
        throw ConfigError(loc_of(g, rd.file()), path + ".match", "missing: the parameter name or prefix it applies to");
      auto nonneg = [](double v) { return v >= 0; };
      pg.lr_mult = rd.get_number(g, "lr_mult", path + ".lr_mult", pg.lr_mult, nonneg, "a number >= 0");
      pg.wd_mult = rd.get_number(g, "wd_mult", path + ".wd_mult", pg.wd_mult, nonneg, "a number >= 0");
      t.param_groups.push_back(pg);
    }
  }
}

void parse_mix(const Reader& rd, const YAML::Node& data, MixSpec& m) {
  auto alpha = [&](const char* key, double def) {
    const YAML::Node sec = rd.section(data, key, std::string("data.") + key, kMixKeys);
    return rd.get_number(sec, "alpha", std::string("data.") + key + ".alpha", def, [](double v) { return v >= 0; },
                         "a number >= 0 (0: off)");
  };
  m.mixup_alpha = alpha("mixup", m.mixup_alpha);
  m.cutmix_alpha = alpha("cutmix", m.cutmix_alpha);
  auto in01 = [](double v) { return v >= 0 && v <= 1; };
  m.prob = rd.get_number(data, "mix_prob", "data.mix_prob", m.prob, in01, "a number in [0, 1]");
  m.switch_prob = rd.get_number(data, "mix_switch_prob", "data.mix_switch_prob", m.switch_prob, in01,
                                "a number in [0, 1]");
}

void parse_ema(const Reader& rd, const YAML::Node& train, EmaSpec& ema) {
  const YAML::Node sec = rd.section(train, "ema", "train.ema", kEmaKeys);
  ema.decay = rd.get_number(sec, "decay", "train.ema.decay", ema.decay, [](double v) { return v >= 0 && v < 1; },
                            "a number in [0, 1) (0: off), e.g. 0.9998");
  ema.every = rd.get_int(sec, "every", "train.ema.every", ema.every, 1);
  ema.warmup = rd.get_int(sec, "warmup", "train.ema.warmup", ema.warmup, 0);
}

// The smallest divisor of `n` that is >= k (n itself at most).
int64_t divisor_at_least(int64_t n, int64_t k) {
  for (int64_t d = std::max<int64_t>(k, 1); d < n; ++d)
    if (n % d == 0) return d;
  return n;
}

// train.accumulate: micro-batches per optimizer step; they must split data.batch_size evenly.
void parse_accumulate(const Reader& rd, const YAML::Node& train, int64_t batch_size, int64_t& accumulate) {
  accumulate = rd.get_int(train, "accumulate", "train.accumulate", accumulate, 1);
  if (batch_size % accumulate != 0)
    throw ConfigError(loc_of(train["accumulate"], rd.file()), "train.accumulate",
                      fmt::format("{} micro-batches do not divide data.batch_size {} evenly (expected a divisor of "
                                  "it, e.g. {})",
                                  accumulate, batch_size, divisor_at_least(batch_size, accumulate)));
}

void emit_finetuning(YAML::Emitter& e, const TrainSpec& t) {
  e << YAML::Key << "ema" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "decay" << YAML::Value
    << cfg::format_double(t.ema.decay) << YAML::Key << "every" << YAML::Value << t.ema.every << YAML::Key << "warmup"
    << YAML::Value << t.ema.warmup << YAML::EndMap;
  auto seq = [&](const char* key, const std::vector<std::string>& v) {
    e << YAML::Key << key << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const auto& s : v) e << s;
    e << YAML::EndSeq;
  };
  if (!t.init_from.empty()) e << YAML::Key << "init_from" << YAML::Value << t.init_from;
  e << YAML::Key << "init_strict" << YAML::Value << (t.init_strict ? "true" : "false");
  e << YAML::Key << "weights_map" << YAML::Value << YAML::Flow << YAML::BeginMap;
  for (const auto& [from, to] : t.weights_map) e << YAML::Key << from << YAML::Value << to;
  e << YAML::EndMap;
  seq("freeze", t.freeze);
  seq("unfreeze", t.unfreeze);
  e << YAML::Key << "freeze_bn" << YAML::Value << (t.freeze_bn ? "true" : "false");
  e << YAML::Key << "sync_bn" << YAML::Value << (t.sync_bn ? "true" : "false");
  e << YAML::Key << "accumulate" << YAML::Value << t.accumulate;
  e << YAML::Key << "param_groups" << YAML::Value << YAML::BeginSeq;
  for (const auto& g : t.param_groups)
    e << YAML::Flow << YAML::BeginMap << YAML::Key << "match" << YAML::Value << g.match << YAML::Key << "lr_mult"
      << YAML::Value << cfg::format_double(g.lr_mult) << YAML::Key << "wd_mult" << YAML::Value
      << cfg::format_double(g.wd_mult) << YAML::EndMap;
  e << YAML::EndSeq;
}

// `inline_model`: the model document to embed, or null to write the model path.
std::string emit_recipe(const Recipe& r, const YAML::Node& inline_model) {
  YAML::Emitter e;
  e << YAML::BeginMap;
  e << YAML::Key << "model" << YAML::Value;
  if (inline_model.IsMap())
    e << inline_model;
  else
    e << fs::absolute(r.model_path).lexically_normal().string();
  const DataSpec& d = r.data;
  e << YAML::Key << "data" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "dataset" << YAML::Value << d.dataset;
  e << YAML::Key << "root" << YAML::Value << d.root;
  if (!d.class_names.empty()) e << YAML::Key << "class_names" << YAML::Value << d.class_names;
  e << YAML::Key << "bad_images" << YAML::Value << d.bad_images;
  e << YAML::Key << "max_image_pixels" << YAML::Value << d.max_image_pixels;
  if (decodes_files(d.dataset)) e << YAML::Key << "channels" << YAML::Value << d.channels;
  e << YAML::Key << "train_transforms" << YAML::Value;
  cfg::emit_transforms(e, d.train_transforms);
  e << YAML::Key << "eval_transforms" << YAML::Value;
  cfg::emit_transforms(e, d.eval_transforms);
  e << YAML::Key << "eval_tta" << YAML::Value << d.eval_tta;
  e << YAML::Key << "batch_size" << YAML::Value << d.batch_size;
  e << YAML::Key << "eval_batch_size" << YAML::Value << d.eval_batch_size;
  e << YAML::Key << "workers" << YAML::Value << d.workers;
  e << YAML::Key << "train_limit" << YAML::Value << d.train_limit;
  e << YAML::Key << "eval_limit" << YAML::Value << d.eval_limit;
  e << YAML::Key << "mixup" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "alpha" << YAML::Value
    << cfg::format_double(d.mix.mixup_alpha) << YAML::EndMap;
  e << YAML::Key << "cutmix" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "alpha" << YAML::Value
    << cfg::format_double(d.mix.cutmix_alpha) << YAML::EndMap;
  e << YAML::Key << "mix_prob" << YAML::Value << cfg::format_double(d.mix.prob);
  e << YAML::Key << "mix_switch_prob" << YAML::Value << cfg::format_double(d.mix.switch_prob);
  e << YAML::EndMap;
  const TrainSpec& t = r.train;
  const OptimizerSpec& o = t.optimizer;
  e << YAML::Key << "train" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "epochs" << YAML::Value << t.epochs;
  e << YAML::Key << "optimizer" << YAML::Value;
  emit_optimizer(e, o);
  e << YAML::Key << "schedule" << YAML::Value;
  emit_schedule(e, t.schedule);
  e << YAML::Key << "label_smoothing" << YAML::Value << cfg::format_double(t.label_smoothing);
  e << YAML::Key << "seed" << YAML::Value << t.seed;
  e << YAML::Key << "log_every" << YAML::Value << t.log_every;
  e << YAML::Key << "eval_every" << YAML::Value << t.eval_every;
  e << YAML::Key << "best_metric" << YAML::Value << t.best_metric;
  if (t.aux_weight >= 0)  // unset: each side head's own weight (the model's `head: {weight: w}`)
    e << YAML::Key << "aux_weight" << YAML::Value << cfg::format_double(t.aux_weight);
  emit_finetuning(e, t);
  e << YAML::EndMap;
  e << YAML::Key << "output" << YAML::Value << r.output;
  e << YAML::Key << "report" << YAML::Value << (r.report ? "true" : "false");
  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

void parse_optimizer(const Reader& rd, const YAML::Node& train, OptimizerSpec& o) {
  const std::string& file = rd.file();
  const YAML::Node opt = rd.section(train, "optimizer", "train.optimizer", kOptimizerKeys);
  o.type = rd.get_string(opt, "type", "train.optimizer.type", o.type);
  if (std::find(kOptimizers.begin(), kOptimizers.end(), o.type) == kOptimizers.end())
    throw ConfigError(loc_of(opt["type"], file), "train.optimizer.type",
                      fmt::format("unknown optimizer '{}'{}; supported: {}", o.type,
                                  cfg::did_you_mean(o.type, kOptimizers), cfg::join(kOptimizers)));
  // A field of another optimizer type, set explicitly, is an error.
  const std::vector<std::string>& used = fields_of(kOptimizerFields, o.type);
  for (auto it = opt.begin(); it != opt.end(); ++it) {
    const std::string k = it->first.Scalar();
    if (std::find(kOptimizerCommon.begin(), kOptimizerCommon.end(), k) != kOptimizerCommon.end() ||
        std::find(used.begin(), used.end(), k) != used.end())
      continue;
    std::vector<std::string> users;
    for (const auto& [t, f] : kOptimizerFields)
      if (std::find(f.begin(), f.end(), k) != f.end()) users.push_back(t);
    throw ConfigError(loc_of(it->second, file), "train.optimizer." + k,
                      fmt::format("not used by {} (only by {})", o.type, cfg::join(users)));
  }
  const bool adam = o.type == "adam" || o.type == "adamw";
  auto in01 = [](double v) { return v >= 0 && v <= 1; };
  o.lr = rd.get_number(opt, "lr", "train.optimizer.lr", adam ? 1e-3 : o.lr, [](double v) { return v > 0; },
                       "a number > 0");
  o.momentum = rd.get_number(opt, "momentum", "train.optimizer.momentum", o.momentum, in01, "a number in [0, 1]");
  o.dampening = rd.get_number(opt, "dampening", "train.optimizer.dampening", o.dampening, in01, "a number in [0, 1]");
  o.nesterov = rd.get_bool(opt, "nesterov", "train.optimizer.nesterov", o.nesterov);
  o.weight_decay = rd.get_number(opt, "weight_decay", "train.optimizer.weight_decay",
                                 o.type == "adamw" ? 1e-2 : o.weight_decay, [](double v) { return v >= 0; },
                                 "a number >= 0");
  o.alpha = rd.get_number(opt, "alpha", "train.optimizer.alpha", o.alpha, in01, "a number in [0, 1]");
  o.eps = rd.get_number(opt, "eps", "train.optimizer.eps", o.eps, [](double v) { return v >= 0; }, "a number >= 0");
  o.centered = rd.get_bool(opt, "centered", "train.optimizer.centered", o.centered);
  if (const YAML::Node n = opt["betas"]; n.IsDefined()) {
    double b1 = 0, b2 = 0;
    if (!n.IsSequence() || n.size() != 2 || !n[0].IsScalar() || !n[1].IsScalar() ||
        !Reader::parse_double(n[0].Scalar(), b1) || !Reader::parse_double(n[1].Scalar(), b2) || !(b1 >= 0 && b1 < 1) ||
        !(b2 >= 0 && b2 < 1))
      rd.fail(n, "train.optimizer.betas", "a list of 2 numbers in [0, 1), e.g. [0.9, 0.999]");
    o.beta1 = b1, o.beta2 = b2;
  }
  o.amsgrad = rd.get_bool(opt, "amsgrad", "train.optimizer.amsgrad", o.amsgrad);
  o.no_decay_bn_bias = rd.get_bool(opt, "no_decay_bn_bias", "train.optimizer.no_decay_bn_bias", o.no_decay_bn_bias);
  o.grad_clip_norm = rd.get_number(opt, "grad_clip_norm", "train.optimizer.grad_clip_norm", o.grad_clip_norm,
                                   [](double v) { return v >= 0; }, "a number >= 0 (0: off)");
  if (o.nesterov && (o.momentum <= 0 || o.dampening != 0))
    throw ConfigError(loc_of(opt["nesterov"], file), "train.optimizer.nesterov",
                      fmt::format("Nesterov momentum requires momentum > 0 and dampening 0 (got momentum {}, "
                                  "dampening {})",
                                  cfg::format_double(o.momentum), cfg::format_double(o.dampening)));
}

void parse_schedule(const Reader& rd, const YAML::Node& train, ScheduleSpec& sc) {
  const std::string& file = rd.file();
  const YAML::Node sched = rd.section(train, "schedule", "train.schedule", kScheduleKeys);
  sc.type = rd.get_string(sched, "type", "train.schedule.type", sc.type);
  if (std::find(kSchedules.begin(), kSchedules.end(), sc.type) == kSchedules.end())
    throw ConfigError(loc_of(sched["type"], file), "train.schedule.type",
                      fmt::format("unknown schedule '{}'{}; supported: {}", sc.type,
                                  cfg::did_you_mean(sc.type, kSchedules), cfg::join(kSchedules)));
  sc.step_epochs = rd.get_int(sched, "step_epochs", "train.schedule.step_epochs", sc.step_epochs, 1);
  sc.gamma = rd.get_number(sched, "gamma", "train.schedule.gamma", sc.gamma,
                           [](double v) { return v > 0 && v <= 1; }, "a number in (0, 1]");
  if (const YAML::Node n = sched["milestones"]; n.IsDefined() && !n.IsNull()) {
    const std::string expected = "a list of increasing epochs >= 1, e.g. [30, 60, 80]";
    if (!n.IsSequence()) rd.fail(n, "train.schedule.milestones", expected);
    for (const auto& item : n) {
      int64_t m = 0;
      if (!item.IsScalar() || !Reader::parse(item.Scalar(), m) || m < 1 ||
          (!sc.milestones.empty() && m <= sc.milestones.back()))
        rd.fail(n, "train.schedule.milestones", expected);
      sc.milestones.push_back(m);
    }
  }
  if (sc.type == "multistep" && sc.milestones.empty())
    throw ConfigError(loc_of(sched["milestones"].IsDefined() ? sched["milestones"] : sched["type"], file),
                      "train.schedule.milestones", "multistep needs milestones: a list of epochs, e.g. [30, 60, 80]");
  sc.min_lr = rd.get_number(sched, "min_lr", "train.schedule.min_lr", sc.min_lr,
                            [](double v) { return v >= 0; }, "a number >= 0");
  sc.pct_start = rd.get_number(sched, "pct_start", "train.schedule.pct_start", sc.pct_start,
                               [](double v) { return v > 0 && v <= 1; }, "a number in (0, 1]");
  sc.div_factor = rd.get_number(sched, "div_factor", "train.schedule.div_factor", sc.div_factor,
                                [](double v) { return v > 0; }, "a number > 0");
  sc.final_div_factor = rd.get_number(sched, "final_div_factor", "train.schedule.final_div_factor",
                                      sc.final_div_factor, [](double v) { return v > 0; }, "a number > 0");
  sc.anneal_strategy = rd.get_string(sched, "anneal_strategy", "train.schedule.anneal_strategy", sc.anneal_strategy);
  if (std::find(kAnneal.begin(), kAnneal.end(), sc.anneal_strategy) == kAnneal.end())
    throw ConfigError(loc_of(sched["anneal_strategy"], file), "train.schedule.anneal_strategy",
                      fmt::format("unknown anneal strategy '{}'{}; supported: {}", sc.anneal_strategy,
                                  cfg::did_you_mean(sc.anneal_strategy, kAnneal), cfg::join(kAnneal)));
  sc.three_phase = rd.get_bool(sched, "three_phase", "train.schedule.three_phase", sc.three_phase);
  sc.warmup_epochs = rd.get_number(sched, "warmup_epochs", "train.schedule.warmup_epochs", sc.warmup_epochs,
                                   [](double v) { return v >= 0; }, "a number >= 0");
}

// `model_args: {classes: 5}` as overrides of the model document's `args:` (before --set model.*).
std::vector<cfg::Override> model_arg_overrides(const Reader& rd, const YAML::Node& doc) {
  std::vector<cfg::Override> out;
  const YAML::Node args = doc["model_args"];
  if (!args.IsDefined() || args.IsNull()) return out;
  if (!args.IsMap()) rd.fail(args, "model_args", "a mapping of model arguments, e.g. {classes: 5}");
  for (auto it = args.begin(); it != args.end(); ++it) {
    cfg::Override o;
    o.key = "args." + it->first.Scalar();
    o.text = "model_args." + it->first.Scalar();
    o.path = {"model", "args", it->first.Scalar()};
    o.value = cfg::detached_copy(it->second);
    out.push_back(std::move(o));
  }
  return out;
}

// Every key of model_args must be an argument the model declares.
void check_model_args(const Reader& rd, const YAML::Node& doc, const YAML::Node& mdoc) {
  const YAML::Node args = doc["model_args"];
  if (!args.IsDefined() || !args.IsMap()) return;
  const YAML::Node declared = mdoc.IsMap() ? static_cast<const YAML::Node&>(mdoc)["args"] : YAML::Node();
  std::vector<std::string> names;
  if (declared.IsDefined() && declared.IsMap())
    for (auto it = declared.begin(); it != declared.end(); ++it) names.push_back(it->first.Scalar());
  for (auto it = args.begin(); it != args.end(); ++it) {
    const std::string k = it->first.Scalar();
    if (std::find(names.begin(), names.end(), k) == names.end())
      throw ConfigError(loc_of(it->first, rd.file()), "model_args." + k,
                        names.empty() ? std::string("the model declares no arguments (a top-level `args:`)")
                                      : fmt::format("the model has no argument '{}'{}; its arguments: {}", k,
                                                    cfg::did_you_mean(k, names), cfg::join(names)));
  }
}

// Does the recipe set the model's class count (model_args.classes, --set model.classes or
// model.args.classes)?
bool sets_classes(const std::vector<cfg::Override>& model_overrides) {
  for (const auto& o : model_overrides)
    if (o.path.back() == "classes" && (o.path.size() == 2 || (o.path.size() == 3 && o.path[1] == "args")))
      return true;
  return false;
}

Recipe load_recipe(const std::string& text, const std::string& file, const std::string& base_dir,
                   const std::vector<std::string>& override_texts) {
  std::vector<cfg::Override> overrides = cfg::parse_overrides(override_texts);
  std::vector<cfg::Override> model_overrides, recipe_overrides;
  for (auto& o : overrides)
    (o.path.size() > 1 && o.path[0] == "model" ? model_overrides : recipe_overrides).push_back(std::move(o));

  YAML::Node doc = cfg::parse_yaml(text, file);
  if (!doc.IsMap())
    throw ConfigError(SourceLoc{file, 0, 0}, "",
                      fmt::format("a recipe must be a mapping with at least 'model', got {}", describe(doc)));
  const cfg::Schema schema = recipe_schema();
  for (const auto& o : recipe_overrides) cfg::apply_override_with_schema(doc, o, schema, file);
  cfg::check_keys(doc, kTopKeys, file, "", "top-level key");

  Recipe r;
  Reader rd(file);
  r.source_text = text;
  r.source_name = file;
  r.base_dir = base_dir;
  r.overrides = override_texts;
  {
    std::vector<cfg::Override> from_recipe = model_arg_overrides(rd, doc);
    model_overrides.insert(model_overrides.begin(), from_recipe.begin(), from_recipe.end());
  }
  r.classes_set = sets_classes(model_overrides);

  // model: a path relative to the recipe's directory (or, from --set, to the working directory), or inline.
  const YAML::Node& cdoc = doc;  // const access never adds entries
  YAML::Node model = cdoc["model"];
  YAML::Node inline_model;  // null unless the resolved recipe embeds the model
  if (!model.IsDefined() || model.IsNull())
    throw ConfigError(SourceLoc{file, 0, 0}, "model", "missing required field: a model config path or an inline model");
  if (model.IsScalar()) {
    SourceLoc at = loc_of(model, file);
    fs::path p = model.Scalar();
    if (p.is_relative() && at.file != "--set" && !base_dir.empty()) p = fs::path(base_dir) / p;
    r.model_path = p.lexically_normal().string();
    std::string mtext;
    try {
      mtext = cfg::read_text_file(r.model_path, "model config");
    } catch (const ConfigError& e) {
      throw ConfigError(at, "model", e.what());
    }
    YAML::Node mdoc = cfg::parse_yaml(mtext, r.model_path);
    check_model_args(rd, doc, mdoc);
    cfg::apply_model_overrides(mdoc, model_overrides, 1, "model.");
    r.model = cfg::build_model(mdoc, r.model_path, model_overrides.empty() ? mtext : cfg::emit_yaml(mdoc),
                               fs::path(r.model_path).stem().string());
    if (!model_overrides.empty()) inline_model = cfg::detached_copy(mdoc);
  } else if (model.IsMap()) {
    check_model_args(rd, doc, model);
    cfg::apply_model_overrides(model, model_overrides, 1, "model.");
    std::string default_name = fs::path(file).stem().string();
    r.model = cfg::build_model(model, file, cfg::emit_yaml(model), default_name.empty() ? "model" : default_name);
    inline_model = cfg::detached_copy(model);
  } else {
    rd.fail(model, "model", "a model config path or an inline model mapping");
  }
  if (inline_model.IsMap() && !static_cast<const YAML::Node&>(inline_model)["name"].IsDefined())
    inline_model["name"] = r.model.name;

  // data
  const YAML::Node data = rd.section(doc, "data", "data", kDataKeys);
  DataSpec& d = r.data;
  d.dataset = rd.get_string(data, "dataset", "data.dataset", d.dataset);
  if (std::find(kDatasets.begin(), kDatasets.end(), d.dataset) == kDatasets.end()) {
    const YAML::Node n = data["dataset"];
    throw ConfigError(loc_of(n, file), "data.dataset",
                      fmt::format("unknown dataset '{}'{}; supported: {}", d.dataset,
                                  cfg::did_you_mean(d.dataset, kDatasets), cfg::join(kDatasets)));
  }
  d.root = rd.get_string(data, "root", "data.root", default_root(d.dataset));
  d.class_names = rd.get_string(data, "class_names", "data.class_names", d.class_names);
  if (!d.class_names.empty() && d.dataset != "image_folder")
    throw ConfigError(loc_of(data["class_names"], file), "data.class_names",
                      fmt::format("only used by dataset image_folder, not {}", d.dataset));
  d.bad_images = rd.get_string(data, "bad_images", "data.bad_images", d.bad_images);
  if (std::find(kBadImages.begin(), kBadImages.end(), d.bad_images) == kBadImages.end())
    throw ConfigError(loc_of(data["bad_images"], file), "data.bad_images",
                      fmt::format("unknown policy '{}'{}; supported: {}", d.bad_images,
                                  cfg::did_you_mean(d.bad_images, kBadImages), cfg::join(kBadImages)));
  d.max_image_pixels = rd.get_int(data, "max_image_pixels", "data.max_image_pixels", d.max_image_pixels, 1);
  d.channels = rd.get_int(data, "channels", "data.channels", d.channels, 1);
  if (d.channels != 1 && d.channels != 3)
    throw ConfigError(loc_of(data["channels"], file), "data.channels",
                      fmt::format("expected 1 (grayscale) or 3 (RGB), got {}", d.channels));
  if (d.channels != 3 && !decodes_files(d.dataset))
    throw ConfigError(loc_of(data["channels"], file), "data.channels",
                      fmt::format("only used by datasets image_folder and csv ({} has its own)", d.dataset));
  d.train_transforms = cfg::parse_transforms(data, "train_transforms", file);
  d.eval_transforms = cfg::parse_transforms(data, "eval_transforms", file);
  d.eval_tta = rd.get_string(data, "eval_tta", "data.eval_tta", d.eval_tta);
  if (std::find(kEvalTta.begin(), kEvalTta.end(), d.eval_tta) == kEvalTta.end())
    throw ConfigError(loc_of(data["eval_tta"], file), "data.eval_tta",
                      fmt::format("unknown test-time augmentation '{}'{}; supported: {}", d.eval_tta,
                                  cfg::did_you_mean(d.eval_tta, kEvalTta), cfg::join(kEvalTta)));
  d.batch_size = rd.get_int(data, "batch_size", "data.batch_size", d.batch_size, 1);
  d.eval_batch_size = rd.get_int(data, "eval_batch_size", "data.eval_batch_size", d.eval_batch_size, 0);
  d.workers = rd.get_int(data, "workers", "data.workers", d.workers, 0);
  d.train_limit = rd.get_int(data, "train_limit", "data.train_limit", d.train_limit, 0);
  d.eval_limit = rd.get_int(data, "eval_limit", "data.eval_limit", d.eval_limit, 0);
  parse_mix(rd, data, d.mix);

  // train
  const YAML::Node train = rd.section(doc, "train", "train", kTrainKeys);
  TrainSpec& t = r.train;
  t.epochs = rd.get_int(train, "epochs", "train.epochs", t.epochs, 0);
  t.label_smoothing = rd.get_number(train, "label_smoothing", "train.label_smoothing", t.label_smoothing,
                                    [](double v) { return v >= 0 && v < 1; }, "a number in [0, 1)");
  t.seed = rd.get_uint(train, "seed", "train.seed", t.seed);
  t.log_every = rd.get_int(train, "log_every", "train.log_every", t.log_every, 0);
  t.eval_every = rd.get_int(train, "eval_every", "train.eval_every", t.eval_every, 1);
  t.best_metric = rd.get_string(train, "best_metric", "train.best_metric", t.best_metric);
  t.aux_weight = rd.get_number(train, "aux_weight", "train.aux_weight", t.aux_weight,
                               [](double v) { return v >= 0 || v == -1; }, "a number >= 0 (or -1: the model's head weights)");
  if (std::find(kBestMetrics.begin(), kBestMetrics.end(), t.best_metric) == kBestMetrics.end())
    throw ConfigError(loc_of(train["best_metric"], file), "train.best_metric",
                      fmt::format("unknown metric '{}'{}; supported: {}", t.best_metric,
                                  cfg::did_you_mean(t.best_metric, kBestMetrics), cfg::join(kBestMetrics)));
  parse_optimizer(rd, train, t.optimizer);
  parse_schedule(rd, train, t.schedule);
  parse_finetuning(rd, train, t);
  parse_ema(rd, train, t.ema);
  parse_accumulate(rd, train, r.data.batch_size, t.accumulate);

  r.output = rd.get_string(doc, "output", "output", r.output);
  r.report = rd.get_bool(doc, "report", "report", r.report);
  r.resolved_yaml = emit_recipe(r, inline_model);
  return r;
}

}  // namespace

Recipe load_recipe_file(const std::string& path, const std::vector<std::string>& overrides) {
  std::string text = cfg::read_text_file(path, "recipe");
  Recipe r = load_recipe(text, path, fs::path(path).parent_path().string(), overrides);
  r.file = path;
  return r;
}

Recipe load_recipe_string(const std::string& yaml_text, const std::string& name_for_errors, const std::string& base_dir,
                          const std::vector<std::string>& overrides) {
  Recipe r = load_recipe(yaml_text, name_for_errors, base_dir, overrides);
  r.file.clear();
  return r;
}

Recipe with_model_classes(const Recipe& recipe, int64_t classes) {
  if (recipe.classes_set || !recipe.model.has_arg("classes")) return recipe;
  std::vector<std::string> overrides = recipe.overrides;
  overrides.push_back(fmt::format("model.args.classes={}", classes));
  Recipe r = load_recipe(recipe.source_text, recipe.source_name, recipe.base_dir, overrides);
  r.file = recipe.file;
  r.output = recipe.output;  // set after loading by --resume (the run's own directory)
  r.classes_from_data = true;
  return r;
}

}  // namespace cnn
