#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "command.h"
#include "config/recipe.h"
#include "core/error.h"
#include "data/load.h"
#include "graph/net.h"
#include "io/safetensors.h"
#include "report/class_metrics.h"
#include "train/checkpoint.h"
#include "train/evaluator.h"
#include "train/model_classes.h"

namespace fs = std::filesystem;

namespace cnn::cli {
namespace {

void print_confusion(const EvalResult& r, const std::vector<ClassStats>& stats) {
  size_t width = 5;
  for (const ClassStats& s : stats) width = std::max(width, s.name.size());
  fmt::print("confusion matrix (rows: true class, columns: predicted class index)\n{:>{}}", "", width);
  for (int c = 0; c < r.classes; ++c) fmt::print(" {:>6}", c);
  fmt::print("\n");
  for (int t = 0; t < r.classes; ++t) {
    fmt::print("{:>{}}", stats[size_t(t)].name, width);
    for (int c = 0; c < r.classes; ++c) fmt::print(" {:>6}", r.confusion[size_t(t * r.classes + c)]);
    fmt::print("\n");
  }
}

void print_class_table(const std::vector<ClassStats>& stats) {
  size_t width = 5;
  for (const ClassStats& s : stats) width = std::max(width, s.name.size());
  fmt::print("{:>5}  {:<{}}  {:>9}  {:>7}  {:>6}  {:>7}\n", "class", "name", width, "precision", "recall", "F1",
             "support");
  for (const ClassStats& s : stats)
    fmt::print("{:>5}  {:<{}}  {:>8.2f}%  {:>6.2f}%  {:>6.4f}  {:>7}\n", s.index, s.name, width, 100 * s.precision,
               100 * s.recall, s.f1, s.support);
}

// confusion.csv/.json and classes.csv/.json in `dir`.
void write_tables(const std::string& dir, const EvalResult& r, const std::vector<std::string>& names,
                  const std::vector<ClassStats>& stats) {
  fs::create_directories(dir);
  const fs::path d(dir);
  write_file_atomic((d / "confusion.csv").string(), confusion_csv(r.confusion, r.classes, names));
  write_file_atomic((d / "confusion.json").string(), confusion_json(r.confusion, r.classes, names));
  write_file_atomic((d / "classes.csv").string(), class_stats_csv(stats));
  write_file_atomic((d / "classes.json").string(), class_stats_json(stats));
  fmt::print("wrote confusion.csv, confusion.json, classes.csv, classes.json to {}\n", dir);
}

}  // namespace

Run add_eval(CLI::App& app) {
  auto* cmd = app.add_subcommand("eval", "evaluate a checkpoint on the recipe's test set");
  struct Opts {
    std::string config, checkpoint, weights, out;
    std::vector<std::string> sets;
    bool no_confusion = false, ema = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("--config,-c", o->config, "recipe YAML")->required();
  auto* ck = cmd->add_option("--checkpoint", o->checkpoint, "a checkpoint of ours (.safetensors)");
  cmd->add_option("--weights", o->weights, "weights only: a checkpoint or a PyTorch state_dict (.safetensors)")
      ->excludes(ck);
  add_set_option(cmd, o->sets);
  add_ema_flag(cmd, o->ema);
  cmd->add_flag("--no-confusion", o->no_confusion, "do not print the confusion matrix and per-class table");
  cmd->add_option("--out,-o", o->out, "also write confusion.csv/.json and classes.csv/.json into this directory");
  return [o] {
    if (o->checkpoint.empty() && o->weights.empty())
      throw ConfigError("eval: --checkpoint <file> or --weights <file> is required");
    Recipe recipe = load_recipe_file(o->config, o->sets);
    const std::unique_ptr<Dataset> test = load_dataset(recipe.data, "test");
    std::string note;
    recipe = fit_model_to_classes(recipe, test->num_classes(), note);
    Net net(recipe.model);
    check_model_classes(net, recipe, test->num_classes());
    if (o->ema) load_weights(o->weights.empty() ? o->checkpoint : o->weights, net, WeightsChoice::ema);
    else if (!o->weights.empty()) load_weights(o->weights, net);
    else load_checkpoint(o->checkpoint, net);
    print_banner();
    if (!note.empty()) fmt::print("{}\n", note);
    const int64_t batch = recipe.data.eval_batch_size > 0 ? recipe.data.eval_batch_size : recipe.data.batch_size;
    EvalResult r = evaluate(net, *test, recipe.data.eval_transforms, batch, 0.f, eval_options_of(recipe));
    for (const auto& m : r.skipped) fmt::print(stderr, "warning: skipped unreadable image: {}\n", m);
    fmt::print("{}{} on {} test ({} images{}): loss {:.4f}  top-1 {:.2f}%  top-5 {:.2f}%\n", recipe.model.name,
               o->ema ? " (EMA weights)" : "", name_of(recipe.data.dataset), r.count,
               r.skipped.empty() ? "" : fmt::format(", {} unreadable skipped", r.skipped.size()), r.loss, r.top1,
               r.top5);
    const std::vector<ClassStats> stats = class_stats(r.confusion, r.classes, test->class_names());
    if (!o->no_confusion) {
      print_confusion(r, stats);
      print_class_table(stats);
    }
    if (!o->out.empty()) write_tables(o->out, r, test->class_names(), stats);
    return 0;
  };
}

}  // namespace cnn::cli
