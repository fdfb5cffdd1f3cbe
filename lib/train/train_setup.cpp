// setup_run: the first part of a training run (train/train_run.h).
#include <filesystem>
#include <fstream>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/memory_budget.h"
#include "data/load.h"
#include "dist/comm.h"
#include "optim/lsuv.h"
#include "optim/schedule.h"
#include "train/finetune.h"
#include "train/model_classes.h"
#include "train/resume.h"
#include "train/run_banner.h"
#include "train/train_run.h"

namespace cnn {

namespace fs = std::filesystem;

// In a data-parallel run rank 0 prints; the other ranks only name the images they skip.
void TrainRun::log(const std::string& s) const {
  if (options.log && dist::is_root()) options.log(s);
}

void TrainRun::status(const std::string& s) const {
  if (options.progress == Progress::bar && options.status && dist::is_root()) options.status(s);
}

void TrainRun::report_skipped(const std::vector<std::string>& messages) {
  const std::string rank = dist::is_root() ? "" : fmt::format("rank {}: ", dist::rank());
  for (const auto& m : messages)
    if (reported.insert(m).second && options.log) options.log(rank + "warning: skipped unreadable image: " + m);
}

namespace {

// Keeps the lines of an existing metrics.jsonl that precede the resumed position.
std::string previous_metrics(const std::string& path, int64_t step) {
  std::ifstream in(path);
  std::string line, out;
  while (std::getline(in, line)) {
    try {
      auto j = nlohmann::json::parse(line);
      if (j.value("step", int64_t(0)) <= step) out += line + "\n";
    } catch (...) {
    }
  }
  return out;
}

// A fresh run (no --resume) into a directory that holds another run's checkpoints would replace
// them: refuse unless told to start over.
void refuse_to_replace_run(const std::string& output, const TrainOptions& options) {
  if (!options.resume.empty() || options.overwrite) return;
  for (const char* name : {"last.safetensors", "best.safetensors"}) {
    const fs::path p = fs::path(output) / name;
    if (fs::exists(p))
      throw ConfigError(fmt::format("output '{}' already holds a run ({}); continue it with --resume {}, start over "
                                    "with --overwrite, or set another output",
                                    output, name, (fs::path(output) / "last.safetensors").string()));
  }
}

// Datasets, pipelines (both checked against the model input), the net and its optimizer.
void build_model_and_data(TrainRun& run) {
  const DataSpec& ds = run.recipe.data;
  run.train_set = load_dataset(ds, "train");
  run.test_set = load_dataset(ds, "test");
  std::string note;
  run.recipe = fit_model_to_classes(run.recipe, run.train_set->num_classes(), note);
  if (!note.empty()) run.log(note);
  const Recipe& recipe = run.recipe;
  run.train_pipeline = Pipeline(ds.train_transforms, run.train_set->channels(), "data.train_transforms");
  run.sample = checked_sample_shape(run.train_pipeline, *run.train_set, recipe.model.input, name_of(ds.dataset),
                                    "data.train_transforms");
  {  // checks the eval pipeline before any training
    const Pipeline eval_pipeline(ds.eval_transforms, run.test_set->channels(), "data.eval_transforms");
    checked_sample_shape(eval_pipeline, *run.test_set, recipe.model.input, name_of(ds.dataset),
                         "data.eval_transforms");
  }
  run.net = std::make_unique<Net>(recipe.model);
  check_model_classes(*run.net, recipe, run.train_set->num_classes());
  run.net->init(recipe.train.seed);
  auto log = [&run](const std::string& s) { run.log(s); };
  load_initial_weights(*run.net, recipe.train, run.options.weights, run.options.weights_strict, log);
  run.opt = make_finetune_optimizer(*run.net, recipe.train, log);
  if (recipe.train.ema.enabled()) run.ema = std::make_unique<Ema>(make_ema(*run.net));
}

// A checkpoint taken between two micro-batches (train.accumulate): the step so far and its
// gradients. Data-parallel: the saved gradients are the ranks' sum, so rank 0 alone takes them.
void restore_step_in_progress(TrainRun& run, const std::map<std::string, Tensor>& extra, const std::string& from) {
  const CheckpointMeta& m = run.meta;
  if (m.micro_step == 0) return;
  const int64_t K = run.recipe.train.accumulate;
  if (m.micro_steps != K)
    throw ConfigError(fmt::format("train.accumulate: {} was saved after micro-batch {} of {} of a step; resume it "
                                  "with train.accumulate: {} (another value is fine at a step boundary)",
                                  from, m.micro_step, m.micro_steps, m.micro_steps));
  for (const auto& p : run.net->params()) {
    auto it = extra.find(kAccumulatePrefix + p.name);
    if (it == extra.end() || it->second.shape() != p.param->grad.shape())
      throw RuntimeError(fmt::format("{}: saved between micro-batches but its gradient '{}{}' is missing or "
                                     "mis-shaped (the checkpoint is corrupt)",
                                     from, kAccumulatePrefix, p.name));
    if (dist::rank() == 0) p.param->grad = it->second;
    else p.param->grad.zero();
  }
  run.accum = StepAccumulation{m.micro_step, m.step_trained, m.step_seen, m.step_loss_sum, m.step_correct,
                               m.step_last_loss};
}

// --resume: the checkpoint's weights, optimizer state and position; the config stays this run's.
void resume_run(TrainRun& run) {
  const std::string& from = run.options.resume;
  std::map<std::string, Tensor> extra;
  CheckpointMeta m = load_checkpoint(from, *run.net, run.opt.get(), &extra);
  if (run.ema) load_ema(*run.ema, *run.net, extra, from);
  const std::string saved_config = m.config;
  m.config = run.meta.config;
  m.model = run.meta.model;
  m.class_names = run.meta.class_names;
  run.meta = m;
  const TrainSpec& ts = run.recipe.train;
  if (run.meta.epoch >= ts.epochs) {
    run.log(fmt::format("{}: already trained {} of {} epochs; nothing to do", from, run.meta.epoch, ts.epochs));
    run.finished = true;
    return;
  }
  restore_step_in_progress(run, extra, from);
  run.resumed_mid_epoch = run.meta.epoch_step > 0 || run.meta.micro_step > 0;
  run.metrics_text = previous_metrics(run.metrics_path, run.meta.step);
  if (!saved_config.empty()) {
    const std::string dir = fs::path(from).parent_path().string();
    const Recipe saved = load_recipe_string(saved_config, from + " (its saved config)", dir.empty() ? "." : dir);
    const std::string note = schedule_continuation_note(saved.train, ts, run.meta.step, run.steps_per_epoch);
    if (!note.empty()) run.log(note);
  }
  const double lr = learning_rate(ts.schedule, ts.optimizer.lr, run.meta.step, run.steps_per_epoch, ts.epochs);
  run.log(fmt::format("resumed at epoch {}, batch {}{}, step {}, lr {:.4g} (from {})", run.meta.epoch + 1,
                      run.meta.epoch_step + 1,
                      run.meta.micro_step > 0 ? fmt::format(" after micro-batch {}/{}", run.meta.micro_step,
                                                            run.meta.micro_steps)
                                              : "",
                      run.meta.step, lr, from));
}

}  // namespace

std::unique_ptr<TrainRun> setup_run(const Recipe& recipe_in, const TrainOptions& options) {
  auto run = std::make_unique<TrainRun>(recipe_in, options);
  build_model_and_data(*run);
  const Recipe& recipe = run->recipe;
  const DataSpec& ds = recipe.data;
  const TrainSpec& ts = recipe.train;
  check_ranks_fit(recipe);
  const double planned_bytes = check_training_memory(*run);
  if (ts.accumulate > 1)
    run->log(fmt::format("train.accumulate {}: each step of {} samples is {} micro-batches of {}; planned memory {} of "
                         "{} available ({})",
                         ts.accumulate, ds.batch_size, ts.accumulate, ds.batch_size / ts.accumulate,
                         format_bytes(planned_bytes), format_bytes(double(memory_budget().bytes)),
                         memory_budget().source));
  refuse_to_replace_run(recipe.output, options);  // after every check of the config and data

  run->result.output_dir = recipe.output;
  run->result.recipe = recipe;
  run->meta.best_metric = -std::numeric_limits<double>::infinity();
  run->meta.config = recipe.resolved_yaml;
  run->meta.model = recipe.model.text;
  run->meta.class_names = run->train_set->class_names();
  const fs::path out_dir(recipe.output);
  run->metrics_path = (out_dir / "metrics.jsonl").string();
  run->last_path = (out_dir / "last.safetensors").string();
  run->best_path = (out_dir / "best.safetensors").string();
  const int64_t N = run->train_set->size(), B = ds.batch_size;
  const int64_t micro_batch = B / ts.accumulate;  // the batch the net runs (train.accumulate)
  run->eval_batch = ds.eval_batch_size > 0 ? ds.eval_batch_size : micro_batch;
  run->steps_per_epoch = (N + B - 1) / B;
  if (!options.resume.empty()) {
    resume_run(*run);
    if (run->finished) return run;
  } else if (ts.epochs == 0) {  // a run that does nothing writes nothing
    run->log("train.epochs is 0: nothing to train; nothing written");
    run->finished = true;
    return run;
  }
  if (options.resume.empty() && options.weights.empty() && ts.init_from.empty())
    run_lsuv(*run->net, *run->train_set, ds, ts.seed, [&r = *run](const std::string& s) { r.log(s); });
  if (dist::is_root()) {  // rank 0 writes every file of the run
    std::error_code ec;
    fs::create_directories(out_dir, ec);
    if (ec) throw RuntimeError("cannot create output directory '" + recipe.output + "': " + ec.message());
    write_file_atomic((out_dir / "config.yaml").string(), recipe.resolved_yaml);
    write_run_banner(out_dir.string(), !options.resume.empty());
  }

  run->log_every = ts.log_every > 0 ? ts.log_every : std::max<int64_t>(1, run->steps_per_epoch / 10);
  const bool skip_bad = ds.bad_images == BadImages::skip;
  run->loader = std::make_unique<Loader>(*run->train_set, run->train_pipeline, run->sample,
                                         LoaderOptions{micro_batch, ds.workers, ts.seed, skip_bad, 0, dist::rank(), dist::size()});
  run->eval_options = eval_options_of(recipe);
  run->ctx = RunContext{true, &run->dropout_rng};
  setup_data_parallel(*run);
  return run;
}

}  // namespace cnn
