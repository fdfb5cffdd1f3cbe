#include <fmt/format.h>

#include "command.h"
#include "config/recipe.h"
#include "core/error.h"
#include "data/load.h"
#include "graph/net.h"
#include "train/checkpoint.h"
#include "train/evaluator.h"

namespace cnn::cli {

Run add_eval(CLI::App& app) {
  auto* cmd = app.add_subcommand("eval", "evaluate a checkpoint on the recipe's test set");
  struct Opts {
    std::string config, checkpoint, weights;
    std::vector<std::string> sets;
    bool no_confusion = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("--config,-c", o->config, "recipe YAML")->required();
  auto* ck = cmd->add_option("--checkpoint", o->checkpoint, "a checkpoint of ours (.safetensors)");
  cmd->add_option("--weights", o->weights, "weights only: a checkpoint or a PyTorch state_dict (.safetensors)")
      ->excludes(ck);
  add_set_option(cmd, o->sets);
  cmd->add_flag("--no-confusion", o->no_confusion, "do not print the confusion matrix");
  return [o] {
    if (o->checkpoint.empty() && o->weights.empty())
      throw ConfigError("eval: --checkpoint <file> or --weights <file> is required");
    Recipe recipe = load_recipe_file(o->config, o->sets);
    Net net(recipe.model);
    if (!o->weights.empty()) load_weights(o->weights, net);
    else load_checkpoint(o->checkpoint, net);
    print_banner();
    const std::unique_ptr<Dataset> test = load_dataset(recipe.data, "test");
    const int64_t batch = recipe.data.eval_batch_size > 0 ? recipe.data.eval_batch_size : recipe.data.batch_size;
    EvalResult r = evaluate(net, *test, recipe.data.eval_transforms, batch, 0.f, eval_options_of(recipe));
    for (const auto& m : r.skipped) fmt::print(stderr, "warning: skipped unreadable image: {}\n", m);
    fmt::print("{} on {} test ({} images{}): loss {:.4f}  top-1 {:.2f}%  top-5 {:.2f}%\n", recipe.model.name,
               recipe.data.dataset, r.count,
               r.skipped.empty() ? "" : fmt::format(", {} unreadable skipped", r.skipped.size()), r.loss, r.top1,
               r.top5);
    if (!o->no_confusion) {
      fmt::print("confusion matrix (rows: true class, columns: predicted)\n{:>12}", "");
      for (int c = 0; c < r.classes; ++c) fmt::print(" {:>6}", c);
      fmt::print("\n");
      for (int t = 0; t < r.classes; ++t) {
        const auto& names = test->class_names();
        std::string name = t < int(names.size()) ? names[t] : std::to_string(t);
        fmt::print("{:>12}", name.substr(0, 12));
        for (int c = 0; c < r.classes; ++c) fmt::print(" {:>6}", r.confusion[size_t(t * r.classes + c)]);
        fmt::print("\n");
      }
    }
    return 0;
  };
}

}  // namespace cnn::cli
