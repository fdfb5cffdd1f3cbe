#include "train/trainer.h"

#include <chrono>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/interrupt.h"
#include "train/train_run.h"

namespace cnn {

std::string epoch_json(const EpochRecord& r) {
  nlohmann::json j{{"type", "epoch"}, {"epoch", r.epoch},         {"step", r.step},
                   {"train_loss", r.train_loss}, {"train_acc", r.train_acc}, {"lr", r.lr},
                   {"images_per_s", r.images_per_s}, {"seconds", r.seconds}, {"skipped_images", r.skipped}};
  if (r.evaluated) {
    j["test_loss"] = r.test_loss;
    j["test_acc"] = r.test_acc;
    j["test_top5"] = r.test_top5;
  }
  return j.dump();
}

namespace {

std::string duration_str(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  if (s < 60) return fmt::format("{:.0f}s", s);
  if (s < 3600) return fmt::format("{}m{:02d}s", int(s) / 60, int(s) % 60);
  return fmt::format("{}h{:02d}m", int(s) / 3600, (int(s) % 3600) / 60);
}

// A "type": "step" record of the steps since the previous one (the window): their mean loss and
// accuracy, and each step's own loss ("losses", so that no step's loss is dropped from the data).
// Starts a new window. Returns the window's images per second.
double record_window(TrainRun& run, EpochProgress& ep) {
  const auto now = TrainClock::now();
  const double window_s = std::chrono::duration<double>(now - ep.window_start).count();
  const double rate = window_s > 0 ? ep.window_seen / window_s : 0;
  const double loss = ep.window_loss / ep.window_seen, acc = 100.0 * ep.window_correct / ep.window_seen;
  nlohmann::json j{{"type", "step"}, {"epoch", ep.epoch},       {"step", run.meta.step}, {"train_loss", loss},
                   {"train_acc", acc}, {"lr", ep.lr},           {"images_per_s", rate},  {"seconds", ep.seconds()},
                   {"losses", ep.window_step_losses}};
  run.metrics_text += j.dump() + "\n";
  ep.window_loss = 0;
  ep.window_correct = ep.window_seen = 0;
  ep.window_step_losses.clear();
  ep.window_start = now;
  return rate;
}

// Every train.log_every steps but the epoch's last: a step record in metrics.jsonl (and a line in
// the log with Progress::lines); with Progress::bar, the redrawn status line more often.
void report_progress(TrainRun& run, EpochProgress& ep, int64_t bi) {
  const TrainSpec& ts = run.recipe.train;
  const Progress progress = run.options.progress;
  const int64_t N = run.train_set->size(), steps = run.steps_per_epoch;
  const bool last_batch = bi + 1 == steps;
  if ((bi + 1) % run.log_every == 0 && !last_batch && ep.window_seen > 0) {
    const double loss = ep.window_loss / ep.window_seen, acc = 100.0 * ep.window_correct / ep.window_seen;
    const double rate = record_window(run, ep);
    const double eta = rate > 0 ? double(N - ep.seen) / rate : -1;
    if (progress == Progress::lines)
      run.log(fmt::format("  epoch {}/{} batch {}/{}  recent loss {:.4f}  acc {:.2f}%  lr {:.4g}  {:.0f} img/s  eta {}",
                          ep.epoch, ts.epochs, bi + 1, steps, loss, acc, ep.lr, rate, duration_str(eta)));
  }
  if (progress == Progress::bar && ((bi + 1) % std::max<int64_t>(1, run.log_every / 10) == 0)) {
    const double epoch_s = std::chrono::duration<double>(TrainClock::now() - ep.t0).count();
    const double rate = epoch_s > 0 ? (ep.seen - ep.seen_at_start) / epoch_s : 0;
    const int width = 24, done = int(width * (bi + 1) / steps);
    run.status(fmt::format("epoch {}/{} [{}{}] {}/{}  epoch mean loss {:.4f}  {:.0f} img/s  eta {}", ep.epoch, ts.epochs,
                           std::string(size_t(done), '#'), std::string(size_t(width - done), '.'), bi + 1, steps,
                           ep.loss_sum / ep.seen, rate, duration_str(rate > 0 ? double(N - ep.seen) / rate : -1)));
  }
}

void log_epoch(const TrainRun& run, const EpochRecord& rec, bool best) {
  const std::string test_part = rec.evaluated
                                    ? fmt::format("test_loss {:.4f}  test_acc {:6.2f}%", rec.test_loss, rec.test_acc)
                                    : std::string("(not evaluated this epoch)");
  // The epoch's means; the training loss includes label smoothing, the test loss never does.
  run.log(fmt::format("epoch {:>3}/{}  train_loss {:.4f}{}  train_acc {:6.2f}%  {}  lr {:.4g}  {:7.0f} img/s  {:6.1f} s{}{}",
                      rec.epoch, run.recipe.train.epochs, rec.train_loss,
                      run.recipe.train.label_smoothing > 0 ? " (smoothed)" : "", rec.train_acc, test_part, rec.lr,
                      rec.images_per_s, rec.seconds,
                      rec.skipped ? fmt::format("  skipped {} unreadable", rec.skipped) : "", best ? "  *best" : ""));
}

// One epoch's batches; saves a mid-epoch checkpoint and throws Interrupted when asked to stop.
void run_batches(TrainRun& run, EpochProgress& ep) {
  for (int64_t bi = ep.first_batch; bi < run.steps_per_epoch; ++bi) {
    const StepOutcome step = run_step(run, ep, bi);
    if (step.trained) report_progress(run, ep, bi);  // not when every image of the batch was unreadable
    if (step.interrupted || (stop_requested(run) && bi + 1 != run.steps_per_epoch)) {
      run.status("");
      if (ep.window_seen > 0) record_window(run, ep);  // the losses of the steps done, kept
      const int64_t micro = run.accum.done;  // > 0: between two micro-batches of batch bi + 1
      save_interrupted(run, ep, bi);
      run.log(fmt::format("interrupted at epoch {} batch {}/{}{} (step {}); saved {}; continue with --resume {}",
                          ep.epoch, bi + 1, run.steps_per_epoch,
                          micro > 0 ? fmt::format(" after micro-batch {}/{}", micro, run.recipe.train.accumulate) : "",
                          run.meta.step, run.last_path, run.last_path));
      throw Interrupted{};
    }
  }
  if (ep.window_seen > 0) record_window(run, ep);  // the epoch's last steps
  run.status("");
}

}  // namespace

TrainResult train(const Recipe& recipe, const TrainOptions& options) {
  const std::unique_ptr<TrainRun> run_ptr = setup_run(recipe, options);
  TrainRun& run = *run_ptr;
  if (run.finished) return run.result;
  const TrainSpec& ts = run.recipe.train;
  std::vector<int64_t> order(static_cast<size_t>(run.train_set->size()));
  for (int64_t epoch = run.meta.epoch + 1; epoch <= ts.epochs; ++epoch) {
    EpochProgress ep = begin_epoch(run, epoch, order);
    run_batches(run, ep);
    bool best = false;
    const EpochRecord rec = evaluate_epoch(run, ep, best);
    run.result.epochs.push_back(rec);
    save_epoch(run, rec, best);
    log_epoch(run, rec, best);
    log_communication(run, ep);
    if (stop_requested(run)) {
      run.log(fmt::format("interrupted after epoch {}; saved {}; continue with --resume {}", epoch, run.last_path,
                          run.last_path));
      throw Interrupted{};
    }
  }
  if (run.result.best_test_acc < 0 && std::isfinite(run.meta.best_metric) && ts.best_metric == BestMetric::test_acc)
    run.result.best_test_acc = run.meta.best_metric;
  return run.result;
}

}  // namespace cnn
