// The recipe field table: one line per field (recipe_field.h explains what a line drives). Keys
// are listed in messages and written into the resolved recipe in this order. Checks that involve
// two fields are `and_then` hooks of the later one.
#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "config/recipe_field.h"
#include "config/recipe_transforms.h"
#include "config/yaml_util.h"

namespace cnn::cfg {

namespace {

const std::vector<std::string> kParamGroupKeys = {"match", "lr_mult", "wd_mult"};
const std::string kNamesExpected = "a parameter name or prefix, or a list of them, e.g. [conv1, layer1]";

// The fields each optimizer uses besides the common ones (type, lr, weight_decay,
// no_decay_bn_bias, grad_clip_norm); setting another type's field is an error.
const FieldVariants kOptimizerFields = {{"sgd", {"momentum", "dampening", "nesterov"}},
                                        {"rmsprop", {"alpha", "eps", "momentum", "centered"}},
                                        {"adam", {"betas", "eps", "amsgrad"}},
                                        {"adamw", {"betas", "eps", "amsgrad"}}};
// The fields each schedule uses besides type and warmup_epochs (others are ignored, not written).
const FieldVariants kScheduleFields = {
    {"constant", {}},
    {"step", {"step_epochs", "gamma"}},
    {"multistep", {"milestones", "gamma"}},
    {"exponential", {"gamma"}},
    {"cosine", {"min_lr"}},
    {"onecycle", {"pct_start", "div_factor", "final_div_factor", "anneal_strategy", "three_phase"}}};

bool positive(double v) { return v > 0; }
bool non_negative(double v) { return v >= 0; }
bool in_0_1(double v) { return v >= 0 && v <= 1; }       // [0, 1]
bool in_0_1_open(double v) { return v >= 0 && v < 1; }   // [0, 1)
bool in_0_1_left_open(double v) { return v > 0 && v <= 1; }  // (0, 1]
bool aux_weight_ok(double v) { return v >= 0 || v == -1; }

// Datasets decoded from image files (data.channels and max_image_pixels apply).
bool decodes_files(DatasetKind dataset) { return dataset == DatasetKind::image_folder || dataset == DatasetKind::csv; }

// data.root's default follows the dataset.
void dataset_defaults(const RecipeReader&, const YAML::Node&, Recipe& r) {
  switch (r.data.dataset) {
    case DatasetKind::mnist: r.data.root = "data/mnist"; break;
    case DatasetKind::fashion_mnist: r.data.root = "/usr/share/datasets/fashion-mnist"; break;
    case DatasetKind::cifar10: r.data.root = "data/cifar-10-batches-bin"; break;
    case DatasetKind::image_folder: r.data.root = "data/imagenet"; break;
    case DatasetKind::csv: r.data.root = "data"; break;
  }
}

void check_class_names(const RecipeReader& rd, const YAML::Node& data, Recipe& r) {
  if (!r.data.class_names.empty() && r.data.dataset != DatasetKind::image_folder)
    throw ConfigError(loc_of(data["class_names"], rd.file()), "data.class_names",
                      fmt::format("only used by dataset image_folder, not {}", name_of(r.data.dataset)));
}

// The smallest divisor of `n` that is >= k (n itself at most).
int64_t divisor_at_least(int64_t n, int64_t k) {
  for (int64_t d = std::max<int64_t>(k, 1); d < n; ++d)
    if (n % d == 0) return d;
  return n;
}

// train.accumulate: micro-batches per optimizer step; they must split data.batch_size evenly.
void check_accumulate(const RecipeReader& rd, const YAML::Node& train, Recipe& r) {
  const int64_t k = r.train.accumulate, batch = r.data.batch_size;
  if (batch % k != 0)
    throw ConfigError(loc_of(train["accumulate"], rd.file()), "train.accumulate",
                      fmt::format("{} micro-batches do not divide data.batch_size {} evenly (expected a divisor of "
                                  "it, e.g. {})",
                                  k, batch, divisor_at_least(batch, k)));
}

void check_channels(const RecipeReader& rd, const YAML::Node& data, Recipe& r) {
  const int64_t c = r.data.channels;
  if (c != 1 && c != 3)
    throw ConfigError(loc_of(data["channels"], rd.file()), "data.channels",
                      fmt::format("expected 1 (grayscale) or 3 (RGB), got {}", c));
  if (c != 3 && !decodes_files(r.data.dataset))
    throw ConfigError(loc_of(data["channels"], rd.file()), "data.channels",
                      fmt::format("only used by datasets image_folder and csv ({} has its own)",
                                  name_of(r.data.dataset)));
}

// The type's defaults (adam's lr, adamw's weight decay); a field of another type is an error.
void optimizer_type(const RecipeReader& rd, const YAML::Node& opt, Recipe& r) {
  OptimizerSpec& o = r.train.optimizer;
  if (o.type == OptimizerType::adam || o.type == OptimizerType::adamw) o.lr = 1e-3;
  if (o.type == OptimizerType::adamw) o.weight_decay = 1e-2;
  const std::vector<std::string>* used = nullptr;
  for (const auto& [t, f] : kOptimizerFields)
    if (t == name_of(o.type)) used = &f;
  for (auto it = opt.begin(); it != opt.end(); ++it) {
    const std::string k = it->first.Scalar();
    std::vector<std::string> users;
    for (const auto& [t, f] : kOptimizerFields)
      if (std::find(f.begin(), f.end(), k) != f.end()) users.push_back(t);
    if (users.empty() || std::find(used->begin(), used->end(), k) != used->end()) continue;
    throw ConfigError(loc_of(it->second, rd.file()), "train.optimizer." + k,
                      fmt::format("not used by {} (only by {})", name_of(o.type), join(users)));
  }
}

void check_nesterov(const RecipeReader& rd, const YAML::Node& opt, Recipe& r) {
  const OptimizerSpec& o = r.train.optimizer;
  if (o.nesterov && (o.momentum <= 0 || o.dampening != 0))
    throw ConfigError(loc_of(opt["nesterov"], rd.file()), "train.optimizer.nesterov",
                      fmt::format("Nesterov momentum requires momentum > 0 and dampening 0 (got momentum {}, "
                                  "dampening {})",
                                  format_double(o.momentum), format_double(o.dampening)));
}

void check_milestones(const RecipeReader& rd, const YAML::Node& sched, Recipe& r) {
  if (r.train.schedule.type == ScheduleType::multistep && r.train.schedule.milestones.empty())
    throw ConfigError(loc_of(sched["milestones"].IsDefined() ? sched["milestones"] : sched["type"], rd.file()),
                      "train.schedule.milestones", "multistep needs milestones: a list of epochs, e.g. [30, 60, 80]");
}

RecipeField milestones() {
  return custom(
      "train.schedule.milestones",
      [](const RecipeReader& rd, const YAML::Node& sched, const RecipeField& f, Recipe& r) {
        const YAML::Node n = sched[f.key];
        if (!n.IsDefined() || n.IsNull()) return;
        const std::string expected = "a list of increasing epochs >= 1, e.g. [30, 60, 80]";
        if (!n.IsSequence()) rd.fail(n, f.path, expected);
        std::vector<int64_t>& out = r.train.schedule.milestones;
        for (const auto& item : n) {
          int64_t m = 0;
          if (!item.IsScalar() || !RecipeReader::parse_int(item.Scalar(), m) || m < 1 ||
              (!out.empty() && m <= out.back()))
            rd.fail(n, f.path, expected);
          out.push_back(m);
        }
      },
      [](YAML::Emitter& e, const Recipe& r) {
        e << YAML::Flow << YAML::BeginSeq;
        for (int64_t m : r.train.schedule.milestones) e << m;
        e << YAML::EndSeq;
      });
}

RecipeField betas() {
  return custom(
      "train.optimizer.betas",
      [](const RecipeReader& rd, const YAML::Node& opt, const RecipeField& f, Recipe& r) {
        const YAML::Node n = opt[f.key];
        if (!n.IsDefined()) return;
        double b1 = 0, b2 = 0;
        if (!n.IsSequence() || n.size() != 2 || !n[0].IsScalar() || !n[1].IsScalar() ||
            !RecipeReader::parse_double(n[0].Scalar(), b1) || !RecipeReader::parse_double(n[1].Scalar(), b2) ||
            !in_0_1_open(b1) || !in_0_1_open(b2))
          rd.fail(n, f.path, "a list of 2 numbers in [0, 1), e.g. [0.9, 0.999]");
        r.train.optimizer.beta1 = b1, r.train.optimizer.beta2 = b2;
      },
      [](YAML::Emitter& e, const Recipe& r) {
        e << YAML::Flow << YAML::BeginSeq << format_double(r.train.optimizer.beta1)
          << format_double(r.train.optimizer.beta2) << YAML::EndSeq;
      });
}

RecipeField transforms(const std::string& path, FieldRef<std::vector<TransformSpec>> at) {
  return custom(
             path,
             [at](const RecipeReader& rd, const YAML::Node& data, const RecipeField& f, Recipe& r) {
               at(r) = parse_transforms(data, f.key, rd.file());
             },
             [at](YAML::Emitter& e, const Recipe& r) { emit_transforms(e, field_value(at, r)); })
      .open_below();
}

RecipeField weights_map() {
  return custom(
      "train.weights_map",
      [](const RecipeReader& rd, const YAML::Node& train, const RecipeField& f, Recipe& r) {
        const YAML::Node n = train[f.key];
        if (!n.IsDefined() || n.IsNull()) return;
        const std::string expected = "a mapping of key prefixes, e.g. {\"classifier.\": \"fc.\"}";
        if (!n.IsMap()) rd.fail(n, f.path, expected);
        for (auto it = n.begin(); it != n.end(); ++it) {
          if (!it->first.IsScalar() || !it->second.IsScalar() || it->first.Scalar().empty()) rd.fail(n, f.path, expected);
          r.train.weights_map.emplace_back(it->first.Scalar(), it->second.Scalar());
        }
      },
      [](YAML::Emitter& e, const Recipe& r) {
        e << YAML::Flow << YAML::BeginMap;
        for (const auto& [from, to] : r.train.weights_map) e << YAML::Key << from << YAML::Value << to;
        e << YAML::EndMap;
      });
}

RecipeField param_groups() {
  return custom(
      "train.param_groups",
      [](const RecipeReader& rd, const YAML::Node& train, const RecipeField& f, Recipe& r) {
        const YAML::Node n = train[f.key];
        if (!n.IsDefined() || n.IsNull()) return;
        if (!n.IsSequence()) rd.fail(n, f.path, "a list of {match: <name>, lr_mult: x, wd_mult: y}");
        for (size_t i = 0; i < n.size(); ++i) {
          const std::string path = fmt::format("{}.{}", f.path, i);
          const YAML::Node g = n[i];
          if (!g.IsMap()) rd.fail(g, path, "a mapping {match: <name>, lr_mult: x, wd_mult: y}");
          check_keys(g, kParamGroupKeys, rd.file(), path);
          ParamGroupSpec pg;
          pg.match = rd.get_string(g, "match", path + ".match", "");
          if (pg.match.empty())
            throw ConfigError(loc_of(g, rd.file()), path + ".match", "missing: the parameter name or prefix it applies to");
          pg.lr_mult = rd.get_number(g, "lr_mult", path + ".lr_mult", pg.lr_mult, non_negative, "a number >= 0");
          pg.wd_mult = rd.get_number(g, "wd_mult", path + ".wd_mult", pg.wd_mult, non_negative, "a number >= 0");
          r.train.param_groups.push_back(pg);
        }
      },
      [](YAML::Emitter& e, const Recipe& r) {
        e << YAML::BeginSeq;
        for (const auto& g : r.train.param_groups)
          e << YAML::Flow << YAML::BeginMap << YAML::Key << "match" << YAML::Value << g.match << YAML::Key
            << "lr_mult" << YAML::Value << format_double(g.lr_mult) << YAML::Key << "wd_mult" << YAML::Value
            << format_double(g.wd_mult) << YAML::EndMap;
        e << YAML::EndSeq;
      });
}

// Read by load_recipe itself (the model document and its arguments); listed for the key checks
// and --set.
RecipeField model_field(const std::string& path) { return custom(path, nullptr, nullptr); }

std::vector<RecipeField> make_fields() {
  const std::string off = "a number >= 0 (0: off)";
  return {
      model_field("model"),
      model_field("model_args"),
      section("data"),
      choice("data.dataset", CNN_RECIPE_AT(data.dataset), "dataset").and_then(dataset_defaults),
      text("data.root", CNN_RECIPE_AT(data.root)),
      transforms("data.train_transforms", CNN_RECIPE_AT(data.train_transforms)),
      transforms("data.eval_transforms", CNN_RECIPE_AT(data.eval_transforms)),
      integer("data.batch_size", CNN_RECIPE_AT(data.batch_size), 1),
      integer("data.eval_batch_size", CNN_RECIPE_AT(data.eval_batch_size), 0),
      integer("data.workers", CNN_RECIPE_AT(data.workers), 0),
      integer("data.train_limit", CNN_RECIPE_AT(data.train_limit), 0),
      integer("data.eval_limit", CNN_RECIPE_AT(data.eval_limit), 0),
      text("data.class_names", CNN_RECIPE_AT(data.class_names))
          .when([](const Recipe& r) { return !r.data.class_names.empty(); })
          .and_then(check_class_names),
      choice("data.bad_images", CNN_RECIPE_AT(data.bad_images), "policy"),
      choice("data.eval_tta", CNN_RECIPE_AT(data.eval_tta), "test-time augmentation"),
      section("data.mixup"),
      number("data.mixup.alpha", CNN_RECIPE_AT(data.mix.mixup_alpha), non_negative, off),
      section("data.cutmix"),
      number("data.cutmix.alpha", CNN_RECIPE_AT(data.mix.cutmix_alpha), non_negative, off),
      number("data.mix_prob", CNN_RECIPE_AT(data.mix.prob), in_0_1, "a number in [0, 1]"),
      number("data.mix_switch_prob", CNN_RECIPE_AT(data.mix.switch_prob), in_0_1, "a number in [0, 1]"),
      integer("data.max_image_pixels", CNN_RECIPE_AT(data.max_image_pixels), 1),
      integer("data.channels", CNN_RECIPE_AT(data.channels), 1)
          .when([](const Recipe& r) { return decodes_files(r.data.dataset); })
          .and_then(check_channels),

      section("train"),
      integer("train.epochs", CNN_RECIPE_AT(train.epochs), 0),
      section("train.optimizer", &kOptimizerFields,
              [](const Recipe& r) -> const std::string& { return name_of(r.train.optimizer.type); }),
      choice("train.optimizer.type", CNN_RECIPE_AT(train.optimizer.type), "optimizer")
          .and_then(optimizer_type),
      number("train.optimizer.lr", CNN_RECIPE_AT(train.optimizer.lr), positive, "a number > 0"),
      number("train.optimizer.momentum", CNN_RECIPE_AT(train.optimizer.momentum), in_0_1, "a number in [0, 1]"),
      number("train.optimizer.dampening", CNN_RECIPE_AT(train.optimizer.dampening), in_0_1, "a number in [0, 1]"),
      boolean("train.optimizer.nesterov", CNN_RECIPE_AT(train.optimizer.nesterov)).and_then(check_nesterov),
      number("train.optimizer.weight_decay", CNN_RECIPE_AT(train.optimizer.weight_decay), non_negative, "a number >= 0"),
      number("train.optimizer.alpha", CNN_RECIPE_AT(train.optimizer.alpha), in_0_1, "a number in [0, 1]"),
      number("train.optimizer.eps", CNN_RECIPE_AT(train.optimizer.eps), non_negative, "a number >= 0"),
      boolean("train.optimizer.centered", CNN_RECIPE_AT(train.optimizer.centered)),
      betas(),
      boolean("train.optimizer.amsgrad", CNN_RECIPE_AT(train.optimizer.amsgrad)),
      boolean("train.optimizer.no_decay_bn_bias", CNN_RECIPE_AT(train.optimizer.no_decay_bn_bias)),
      number("train.optimizer.grad_clip_norm", CNN_RECIPE_AT(train.optimizer.grad_clip_norm), non_negative, off),
      section("train.schedule", &kScheduleFields,
              [](const Recipe& r) -> const std::string& { return name_of(r.train.schedule.type); }),
      choice("train.schedule.type", CNN_RECIPE_AT(train.schedule.type), "schedule"),
      integer("train.schedule.step_epochs", CNN_RECIPE_AT(train.schedule.step_epochs), 1),
      number("train.schedule.gamma", CNN_RECIPE_AT(train.schedule.gamma), in_0_1_left_open, "a number in (0, 1]"),
      milestones().and_then(check_milestones),
      number("train.schedule.min_lr", CNN_RECIPE_AT(train.schedule.min_lr), non_negative, "a number >= 0"),
      number("train.schedule.pct_start", CNN_RECIPE_AT(train.schedule.pct_start), in_0_1_left_open,
             "a number in (0, 1]"),
      number("train.schedule.div_factor", CNN_RECIPE_AT(train.schedule.div_factor), positive, "a number > 0"),
      number("train.schedule.final_div_factor", CNN_RECIPE_AT(train.schedule.final_div_factor), positive,
             "a number > 0"),
      choice("train.schedule.anneal_strategy", CNN_RECIPE_AT(train.schedule.anneal_strategy), "anneal strategy"),
      boolean("train.schedule.three_phase", CNN_RECIPE_AT(train.schedule.three_phase)),
      number("train.schedule.warmup_epochs", CNN_RECIPE_AT(train.schedule.warmup_epochs), non_negative,
             "a number >= 0"),
      number("train.label_smoothing", CNN_RECIPE_AT(train.label_smoothing), in_0_1_open, "a number in [0, 1)"),
      uinteger("train.seed", CNN_RECIPE_AT(train.seed)),
      integer("train.log_every", CNN_RECIPE_AT(train.log_every), 0),
      integer("train.eval_every", CNN_RECIPE_AT(train.eval_every), 1),
      choice("train.best_metric", CNN_RECIPE_AT(train.best_metric), "metric"),
      number("train.aux_weight", CNN_RECIPE_AT(train.aux_weight), aux_weight_ok,
             "a number >= 0 (or -1: the model's head weights)")
          .when([](const Recipe& r) { return r.train.aux_weight >= 0; }),  // unset: each head's own weight
      text("train.init_from", CNN_RECIPE_AT(train.init_from))
          .when([](const Recipe& r) { return !r.train.init_from.empty(); }),
      boolean("train.init_strict", CNN_RECIPE_AT(train.init_strict)),
      weights_map(),
      names("train.freeze", CNN_RECIPE_AT(train.freeze), kNamesExpected),
      names("train.unfreeze", CNN_RECIPE_AT(train.unfreeze), kNamesExpected),
      boolean("train.freeze_bn", CNN_RECIPE_AT(train.freeze_bn)),
      param_groups(),
      section("train.ema"),
      number("train.ema.decay", CNN_RECIPE_AT(train.ema.decay), in_0_1_open, "a number in [0, 1) (0: off), e.g. 0.9998"),
      integer("train.ema.every", CNN_RECIPE_AT(train.ema.every), 1),
      integer("train.ema.warmup", CNN_RECIPE_AT(train.ema.warmup), 0),
      boolean("train.sync_bn", CNN_RECIPE_AT(train.sync_bn)),
      integer("train.accumulate", CNN_RECIPE_AT(train.accumulate), 1).and_then(check_accumulate),
      number("train.drop_path_rate", CNN_RECIPE_AT(train.drop_path_rate), in_0_1_open, "a number in [0, 1) (0: off)"),

      text("output", CNN_RECIPE_AT(output)),
      boolean("report", CNN_RECIPE_AT(report)),
  };
}

}  // namespace

const std::vector<RecipeField>& recipe_fields() {
  static const std::vector<RecipeField> fields = make_fields();
  return fields;
}

}  // namespace cnn::cfg
