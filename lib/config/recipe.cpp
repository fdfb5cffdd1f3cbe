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
#include "config/yaml_util.h"

namespace cnn {

namespace {

namespace fs = std::filesystem;
using cfg::describe;
using cfg::loc_of;

const std::vector<std::string> kTopKeys = {"model", "data", "train", "output"};
const std::vector<std::string> kDataKeys = {"dataset",    "root",       "train_transforms", "eval_transforms",
                                            "batch_size", "eval_batch_size", "workers",      "train_limit",
                                            "eval_limit"};
const std::vector<std::string> kTrainKeys = {"epochs", "optimizer", "schedule", "label_smoothing", "seed", "log_every",
                                             "eval_every", "best_metric"};
const std::vector<std::string> kBestMetrics = {"test_acc", "test_top5", "test_loss"};
const std::vector<std::string> kScheduleKeys = {"type", "step_epochs", "gamma", "min_lr", "warmup_epochs"};
const std::vector<std::string> kSchedules = {"constant", "step", "cosine"};
const std::vector<std::string> kOptimizerKeys = {"type", "lr", "momentum", "dampening", "nesterov", "weight_decay"};
const std::vector<std::string> kDatasets = {"mnist", "fashion_mnist"};
const std::vector<std::string> kPlannedDatasets = {"cifar10", "image_folder"};
const std::vector<std::string> kTransforms = {"normalize"};
const std::vector<std::string> kOptimizers = {"sgd"};

// The keys --set may name (checked against this, not the document, so absent fields can be set).
cfg::Schema recipe_schema() {
  cfg::Schema s;
  auto leaves = [](const std::vector<std::string>& keys) {
    cfg::Schema sec;
    for (const auto& k : keys) sec.fields[k] = cfg::Schema{};
    return sec;
  };
  s.fields["model"] = cfg::Schema{};
  s.fields["output"] = cfg::Schema{};
  s.fields["data"] = leaves(kDataKeys);
  s.fields["data"].fields["train_transforms"].open = true;
  s.fields["data"].fields["eval_transforms"].open = true;
  s.fields["train"] = leaves(kTrainKeys);
  s.fields["train"].fields["optimizer"] = leaves(kOptimizerKeys);
  s.fields["train"].fields["schedule"] = leaves(kScheduleKeys);
  return s;
}

std::string default_root(const std::string& dataset) {
  if (dataset == "fashion_mnist") return "/usr/share/datasets/fashion-mnist";
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

std::vector<TransformSpec> parse_transforms(const Reader& rd, const YAML::Node& data, const std::string& key) {
  std::vector<TransformSpec> out;
  const std::string path = "data." + key;
  const YAML::Node list = data[key];
  if (!list.IsDefined() || list.IsNull()) return out;
  if (!list.IsSequence()) rd.fail(list, path, "a list of transforms, e.g. [{normalize: {mean: [0.5], std: [0.5]}}]");
  for (size_t i = 0; i < list.size(); ++i) {
    const YAML::Node item = list[i];
    std::string ipath = path + "." + std::to_string(i);
    std::string type;
    YAML::Node args, type_node;
    type_node.reset(item);
    if (item.IsScalar()) {
      type = item.Scalar();
    } else if (item.IsMap() && item.size() == 1) {
      type_node.reset(item.begin()->first);
      type = type_node.Scalar();
      args.reset(item.begin()->second);
    } else {
      rd.fail(item, ipath, "a transform: a name or a mapping {name: {args}}");
    }
    if (std::find(kTransforms.begin(), kTransforms.end(), type) == kTransforms.end())
      throw ConfigError(loc_of(type_node, rd.file()), ipath,
                        fmt::format("unknown transform '{}'{}; known: {}", type, cfg::did_you_mean(type, kTransforms),
                                    cfg::join(kTransforms)));
    TransformSpec t;
    t.type = type;
    std::string apath = ipath + "." + type;
    const YAML::Node& cargs = args;
    if (!cargs.IsMap()) rd.fail(item, apath, "arguments {mean: [...], std: [...]}");
    cfg::check_keys(cargs, std::vector<std::string>{"mean", "std"}, rd.file(), apath);
    for (const char* k : {"mean", "std"})
      if (!cargs[k].IsDefined())
        throw ConfigError(loc_of(cargs, rd.file()), apath, fmt::format("missing required argument '{}'", k));
    t.mean = rd.get_numbers(cargs["mean"], apath + ".mean", false);
    t.std = rd.get_numbers(cargs["std"], apath + ".std", true);
    if (t.mean.size() != t.std.size())
      throw ConfigError(loc_of(cargs["std"], rd.file()), apath,
                        fmt::format("'mean' has {} values but 'std' has {}: give one per channel", t.mean.size(),
                                    t.std.size()));
    out.push_back(std::move(t));
  }
  return out;
}

void emit_transforms(YAML::Emitter& e, const std::vector<TransformSpec>& ts) {
  e << YAML::Flow << YAML::BeginSeq;
  for (const auto& t : ts) {
    e << YAML::BeginMap << YAML::Key << t.type << YAML::Value << YAML::BeginMap;
    for (auto [k, v] : {std::pair{"mean", &t.mean}, std::pair{"std", &t.std}}) {
      e << YAML::Key << k << YAML::Value << YAML::BeginSeq;
      for (double x : *v) e << cfg::format_double(x);
      e << YAML::EndSeq;
    }
    e << YAML::EndMap << YAML::EndMap;
  }
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
  e << YAML::Key << "train_transforms" << YAML::Value;
  emit_transforms(e, d.train_transforms);
  e << YAML::Key << "eval_transforms" << YAML::Value;
  emit_transforms(e, d.eval_transforms);
  e << YAML::Key << "batch_size" << YAML::Value << d.batch_size;
  e << YAML::Key << "eval_batch_size" << YAML::Value << d.eval_batch_size;
  e << YAML::Key << "workers" << YAML::Value << d.workers;
  e << YAML::Key << "train_limit" << YAML::Value << d.train_limit;
  e << YAML::Key << "eval_limit" << YAML::Value << d.eval_limit;
  e << YAML::EndMap;
  const TrainSpec& t = r.train;
  const OptimizerSpec& o = t.optimizer;
  e << YAML::Key << "train" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "epochs" << YAML::Value << t.epochs;
  e << YAML::Key << "optimizer" << YAML::Value << YAML::Flow << YAML::BeginMap;
  e << YAML::Key << "type" << YAML::Value << o.type;
  e << YAML::Key << "lr" << YAML::Value << cfg::format_double(o.lr);
  e << YAML::Key << "momentum" << YAML::Value << cfg::format_double(o.momentum);
  e << YAML::Key << "dampening" << YAML::Value << cfg::format_double(o.dampening);
  e << YAML::Key << "nesterov" << YAML::Value << (o.nesterov ? "true" : "false");
  e << YAML::Key << "weight_decay" << YAML::Value << cfg::format_double(o.weight_decay);
  e << YAML::EndMap;
  const ScheduleSpec& sc = t.schedule;
  e << YAML::Key << "schedule" << YAML::Value << YAML::Flow << YAML::BeginMap;
  e << YAML::Key << "type" << YAML::Value << sc.type;
  e << YAML::Key << "step_epochs" << YAML::Value << sc.step_epochs;
  e << YAML::Key << "gamma" << YAML::Value << cfg::format_double(sc.gamma);
  e << YAML::Key << "min_lr" << YAML::Value << cfg::format_double(sc.min_lr);
  e << YAML::Key << "warmup_epochs" << YAML::Value << cfg::format_double(sc.warmup_epochs);
  e << YAML::EndMap;
  e << YAML::Key << "label_smoothing" << YAML::Value << cfg::format_double(t.label_smoothing);
  e << YAML::Key << "seed" << YAML::Value << t.seed;
  e << YAML::Key << "log_every" << YAML::Value << t.log_every;
  e << YAML::Key << "eval_every" << YAML::Value << t.eval_every;
  e << YAML::Key << "best_metric" << YAML::Value << t.best_metric;
  e << YAML::EndMap;
  e << YAML::Key << "output" << YAML::Value << r.output;
  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
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
    cfg::apply_model_overrides(mdoc, model_overrides, 1, "model.");
    r.model = cfg::build_model(mdoc, r.model_path, model_overrides.empty() ? mtext : cfg::emit_yaml(mdoc),
                               fs::path(r.model_path).stem().string());
    if (!model_overrides.empty()) inline_model = cfg::detached_copy(mdoc);
  } else if (model.IsMap()) {
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
    if (std::find(kPlannedDatasets.begin(), kPlannedDatasets.end(), d.dataset) != kPlannedDatasets.end())
      throw ConfigError(loc_of(n, file), "data.dataset",
                        fmt::format("unsupported dataset '{}' (not implemented yet); supported: {}", d.dataset,
                                    cfg::join(kDatasets)));
    throw ConfigError(loc_of(n, file), "data.dataset",
                      fmt::format("unknown dataset '{}'{}; supported: {}", d.dataset,
                                  cfg::did_you_mean(d.dataset, kDatasets), cfg::join(kDatasets)));
  }
  d.root = rd.get_string(data, "root", "data.root", default_root(d.dataset));
  d.train_transforms = parse_transforms(rd, data, "train_transforms");
  d.eval_transforms = parse_transforms(rd, data, "eval_transforms");
  d.batch_size = rd.get_int(data, "batch_size", "data.batch_size", d.batch_size, 1);
  d.eval_batch_size = rd.get_int(data, "eval_batch_size", "data.eval_batch_size", d.eval_batch_size, 0);
  d.workers = rd.get_int(data, "workers", "data.workers", d.workers, 0);
  d.train_limit = rd.get_int(data, "train_limit", "data.train_limit", d.train_limit, 0);
  d.eval_limit = rd.get_int(data, "eval_limit", "data.eval_limit", d.eval_limit, 0);

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
  if (std::find(kBestMetrics.begin(), kBestMetrics.end(), t.best_metric) == kBestMetrics.end())
    throw ConfigError(loc_of(train["best_metric"], file), "train.best_metric",
                      fmt::format("unknown metric '{}'{}; supported: {}", t.best_metric,
                                  cfg::did_you_mean(t.best_metric, kBestMetrics), cfg::join(kBestMetrics)));
  const YAML::Node opt = rd.section(train, "optimizer", "train.optimizer", kOptimizerKeys);
  OptimizerSpec& o = t.optimizer;
  o.type = rd.get_string(opt, "type", "train.optimizer.type", o.type);
  if (std::find(kOptimizers.begin(), kOptimizers.end(), o.type) == kOptimizers.end())
    throw ConfigError(loc_of(opt["type"], file), "train.optimizer.type",
                      fmt::format("unknown optimizer '{}'{}; supported: {}", o.type,
                                  cfg::did_you_mean(o.type, kOptimizers), cfg::join(kOptimizers)));
  o.lr = rd.get_number(opt, "lr", "train.optimizer.lr", o.lr, [](double v) { return v > 0; }, "a number > 0");
  o.momentum = rd.get_number(opt, "momentum", "train.optimizer.momentum", o.momentum,
                             [](double v) { return v >= 0 && v <= 1; }, "a number in [0, 1]");
  o.dampening = rd.get_number(opt, "dampening", "train.optimizer.dampening", o.dampening,
                              [](double v) { return v >= 0 && v <= 1; }, "a number in [0, 1]");
  o.nesterov = rd.get_bool(opt, "nesterov", "train.optimizer.nesterov", o.nesterov);
  o.weight_decay = rd.get_number(opt, "weight_decay", "train.optimizer.weight_decay", o.weight_decay,
                                 [](double v) { return v >= 0; }, "a number >= 0");
  if (o.nesterov && (o.momentum <= 0 || o.dampening != 0))
    throw ConfigError(loc_of(opt["nesterov"], file), "train.optimizer.nesterov",
                      fmt::format("Nesterov momentum requires momentum > 0 and dampening 0 (got momentum {}, "
                                  "dampening {})",
                                  cfg::format_double(o.momentum), cfg::format_double(o.dampening)));

  const YAML::Node sched = rd.section(train, "schedule", "train.schedule", kScheduleKeys);
  ScheduleSpec& sc = t.schedule;
  sc.type = rd.get_string(sched, "type", "train.schedule.type", sc.type);
  if (std::find(kSchedules.begin(), kSchedules.end(), sc.type) == kSchedules.end())
    throw ConfigError(loc_of(sched["type"], file), "train.schedule.type",
                      fmt::format("unknown schedule '{}'{}; supported: {}", sc.type,
                                  cfg::did_you_mean(sc.type, kSchedules), cfg::join(kSchedules)));
  sc.step_epochs = rd.get_int(sched, "step_epochs", "train.schedule.step_epochs", sc.step_epochs, 1);
  sc.gamma = rd.get_number(sched, "gamma", "train.schedule.gamma", sc.gamma,
                           [](double v) { return v > 0 && v <= 1; }, "a number in (0, 1]");
  sc.min_lr = rd.get_number(sched, "min_lr", "train.schedule.min_lr", sc.min_lr,
                            [](double v) { return v >= 0; }, "a number >= 0");
  sc.warmup_epochs = rd.get_number(sched, "warmup_epochs", "train.schedule.warmup_epochs", sc.warmup_epochs,
                                   [](double v) { return v >= 0; }, "a number >= 0");

  r.output = rd.get_string(doc, "output", "output", r.output);
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

}  // namespace cnn
