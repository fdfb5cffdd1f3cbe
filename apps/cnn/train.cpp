#include <fmt/format.h>

#include "command.h"
#include <algorithm>
#include <chrono>
#include <map>
#include <cstdio>
#include <unistd.h>

#include "config/recipe.h"
#include "core/error.h"
#include "core/interrupt.h"
#include "dist/comm.h"
#include "train/resume.h"
#include "report/report.h"
#include "train/trainer.h"

namespace cnn::cli {
namespace {

// The training succeeded whatever happens here: a report that cannot be written is a warning.
void write_run_report(const Recipe& recipe, const std::string& dir) {
  const auto t0 = std::chrono::steady_clock::now();
  try {
    ReportOptions ro;
    ro.run_dir = dir;
    ro.recipe = &recipe;
    const ReportResult r = write_report(ro);
    print_report_result(r, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  } catch (const std::exception& e) {
    fmt::print(stderr, "warning: no report: {} (try cnn report {})\n", e.what(), dir);
  }
}

// How a data-parallel run all-reduces the gradients (docs/distributed.md, "Overlap").
void add_allreduce_options(CLI::App* cmd, dist::AllreduceOptions& a, double& bucket_mb) {
  enum class Mode { overlap, after_backward, overlap_no_poll };
  static const std::map<std::string, Mode> modes = {
      {"overlap", Mode::overlap}, {"after-backward", Mode::after_backward}, {"overlap-no-poll", Mode::overlap_no_poll}};
  cmd->add_option_function<Mode>(
         "--allreduce",
         [&a](const Mode& m) {
           a.overlap = m != Mode::after_backward;
           a.poll = m == Mode::overlap;
         },
         "under mpirun: overlap (default: each gradient bucket all-reduced as soon as the backward pass has "
         "made it), after-backward (blocking, after the whole backward pass), overlap-no-poll (no MPI calls "
         "between layers; to measure)")
      ->transform(CLI::CheckedTransformer(modes));
  cmd->add_option("--allreduce-bucket-mb", bucket_mb, "under mpirun: MiB of gradients per all-reduce bucket (default 25)")
      ->check(positive_real());
}

}  // namespace

Run add_train(CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "train a model from a recipe");
  struct Opts {
    std::string config, resume, weights;
    std::vector<std::string> sets;
    bool overwrite = false, weights_strict = false, no_report = false;
    double dist_timeout = 600;
    double bucket_mb = double(dist::AllreduceOptions::kDefaultBucketBytes) / (1 << 20);
    dist::AllreduceOptions allreduce;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("--config,-c", o->config, "recipe YAML (with --resume: optional, compared with the run's own)");
  add_set_option(cmd, o->sets);
  auto* resume = cmd->add_option("--resume", o->resume,
                                 "continue a run: its directory or a checkpoint; its own config, its own directory");
  auto* weights = cmd->add_option("--weights", o->weights,
                                  "start from these weights (a checkpoint or a PyTorch state_dict .safetensors): "
                                  "the tensors that fit; the rest (a head for other classes) start fresh")
                      ->excludes(resume);
  cmd->add_flag("--weights-strict", o->weights_strict, "--weights must match the model exactly")->needs(weights);
  cmd->add_flag("--overwrite", o->overwrite,
                "start over in an output directory that holds another run (its checkpoints are replaced)")
      ->excludes(resume);
  cmd->add_flag("--no-report", o->no_report, "do not write report.html at the end (recipe: report: false)");
  cmd->add_option("--dist-timeout", o->dist_timeout,
                  "under mpirun/srun: seconds a rank waits for the others before it ends the job (default 600)")
      ->check(positive_real());
  add_allreduce_options(cmd, o->allreduce, o->bucket_mb);
  return [o] {
    if (o->config.empty() && o->resume.empty()) throw ConfigError("--config is required (or --resume RUN_DIR)");
    dist::set_timeout(o->dist_timeout);
    const bool root = dist::is_root();  // in a data-parallel run rank 0 prints and writes
    Recipe recipe;
    std::string resume_from;
    if (!o->resume.empty()) {
      ResumePlan plan = plan_resume(o->resume, o->config, o->sets);
      recipe = std::move(plan.recipe);
      resume_from = plan.checkpoint;
      for (const auto& change : plan.overrides)
        if (root) fmt::print("override on resume: {}\n", change);
    } else {
      recipe = load_recipe_file(o->config, o->sets);
    }
    if (root) {
      print_banner();
      fmt::print("training {} on {} for {} epoch{} -> {}\n", recipe.model.name, name_of(recipe.data.dataset),
                 recipe.train.epochs, recipe.train.epochs == 1 ? "" : "s", recipe.output);
    }
    std::fflush(stdout);
    TrainOptions opts;
    opts.resume = resume_from;
    opts.weights = o->weights;
    opts.weights_strict = o->weights_strict;
    opts.overwrite = o->overwrite;
    opts.allreduce = o->allreduce;
    opts.allreduce.bucket_bytes = std::max<int64_t>(1, int64_t(o->bucket_mb * (1 << 20)));
    // mpirun gives the ranks a terminal whatever its own output is: plain lines there.
    const bool tty = isatty(fileno(stdout)) && !dist::active();
    opts.progress = tty ? Progress::bar : Progress::lines;
    opts.log = [](const std::string& line) {
      fmt::print("{}\n", line);
      std::fflush(stdout);
    };
    opts.status = [](const std::string& line) {
      fmt::print("\r\033[K{}", line);  // redraw the status line in place
      std::fflush(stdout);
    };
    install_interrupt_handlers();
    TrainResult r;
    try {
      r = train(recipe, opts);
    } catch (const Interrupted&) {
      return 130;
    }
    if (!root) return 0;
    if (!r.epochs.empty())
      fmt::print("best test accuracy {:.2f}%; checkpoints and metrics in {}\n", r.best_test_acc, r.output_dir);
    // The report of the model as trained (a `classes` argument fitted to the dataset), not as the recipe reads.
    if (recipe.report && !o->no_report && !r.epochs.empty()) write_run_report(r.recipe, r.output_dir);
    return 0;
  };
}

}  // namespace cnn::cli
