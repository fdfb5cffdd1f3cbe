#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numeric>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/interrupt.h"
#include "core/rng.h"
#include "data/load.h"
#include "data/loader.h"
#include "data/transforms.h"
#include "graph/net.h"
#include "io/safetensors.h"
#include "kernels/softmax.h"
#include "optim/schedule.h"
#include "optim/lsuv.h"
#include "optim/optimizer.h"
#include "train/checkpoint.h"
#include "train/evaluator.h"
#include "train/loss.h"

namespace cnn {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

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

// Higher is better for every metric after this.
double score_of(const std::string& metric, const EvalResult& ev) {
  if (metric == "test_loss") return -ev.loss;
  if (metric == "test_top5") return ev.top5;
  return ev.top1;
}

std::string duration_str(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  if (s < 60) return fmt::format("{:.0f}s", s);
  if (s < 3600) return fmt::format("{}m{:02d}s", int(s) / 60, int(s) % 60);
  return fmt::format("{}h{:02d}m", int(s) / 3600, (int(s) % 3600) / 60);
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

}  // namespace

TrainResult train(const Recipe& recipe, const TrainOptions& options) {
  auto log = [&](const std::string& s) {
    if (options.log) options.log(s);
  };
  auto status = [&](const std::string& s) {
    if (options.progress == Progress::bar && options.status) options.status(s);
  };
  const DataSpec& ds = recipe.data;
  const TrainSpec& ts = recipe.train;

  const std::unique_ptr<Dataset> train_set = load_dataset(ds, "train");
  const std::unique_ptr<Dataset> test_set = load_dataset(ds, "test");
  const Pipeline train_pipeline(ds.train_transforms, train_set->channels(), "data.train_transforms");
  const Shape sample =
      checked_sample_shape(train_pipeline, *train_set, recipe.model.input, ds.dataset, "data.train_transforms");
  {  // checks the eval pipeline before any training
    const Pipeline eval_pipeline(ds.eval_transforms, test_set->channels(), "data.eval_transforms");
    checked_sample_shape(eval_pipeline, *test_set, recipe.model.input, ds.dataset, "data.eval_transforms");
  }
  Net net(recipe.model);
  net.init(ts.seed);
  if (!options.weights.empty()) load_weights(options.weights, net);
  std::unique_ptr<Optimizer> opt = make_optimizer(ts.optimizer, net.params());

  const Shape out_shape = net.output_shape();
  if (out_shape.size() != 1 || out_shape[0] < train_set->num_classes())
    throw ConfigError(recipe.model.file + ": the model must end in N x " + std::to_string(train_set->num_classes()) +
                      " logits for '" + ds.dataset + "', it ends in N x " + shape_str(out_shape));
  refuse_to_replace_run(recipe.output, options);  // after every check of the config and data

  TrainResult result;
  result.output_dir = recipe.output;
  CheckpointMeta meta;
  meta.best_metric = -std::numeric_limits<double>::infinity();
  meta.config = recipe.resolved_yaml;
  meta.model = recipe.model.text;
  meta.class_names = train_set->class_names();
  std::string metrics_text;
  const fs::path out_dir(recipe.output);
  const std::string metrics_path = (out_dir / "metrics.jsonl").string();
  const std::string last_path = (out_dir / "last.safetensors").string();
  const std::string best_path = (out_dir / "best.safetensors").string();
  bool resumed_mid_epoch = false;
  if (!options.resume.empty()) {
    CheckpointMeta m = load_checkpoint(options.resume, net, opt.get());
    m.config = meta.config;
    m.model = meta.model;
    m.class_names = meta.class_names;
    meta = m;
    if (meta.epoch >= ts.epochs) {
      log(fmt::format("{}: already trained {} of {} epochs; nothing to do", options.resume, meta.epoch, ts.epochs));
      return result;
    }
    resumed_mid_epoch = meta.epoch_step > 0;
    metrics_text = previous_metrics(metrics_path, meta.step);
    log(fmt::format("resuming from {} at epoch {}{} (step {})", options.resume, meta.epoch + 1,
                    resumed_mid_epoch ? fmt::format(", batch {}", meta.epoch_step + 1) : "", meta.step));
  }
  if (options.resume.empty() && options.weights.empty()) run_lsuv(net, *train_set, ds, ts.seed, log);
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) throw RuntimeError("cannot create output directory '" + recipe.output + "': " + ec.message());
  write_file_atomic((out_dir / "config.yaml").string(), recipe.resolved_yaml);

  const int64_t N = train_set->size(), B = ds.batch_size;
  const int64_t eval_batch = ds.eval_batch_size > 0 ? ds.eval_batch_size : B;
  const int64_t steps_per_epoch = (N + B - 1) / B;
  const int64_t log_every = ts.log_every > 0 ? ts.log_every : std::max<int64_t>(1, steps_per_epoch / 10);
  std::vector<int64_t> order(static_cast<size_t>(N));
  const bool skip_bad = ds.bad_images == "skip";
  Loader loader(*train_set, train_pipeline, sample, {B, ds.workers, ts.seed, skip_bad, 0});
  const EvalOptions eval_options = eval_options_of(recipe);
  std::set<std::string> reported;  // unreadable files already named in the log
  auto report_skipped = [&](const std::vector<std::string>& messages) {
    for (const auto& m : messages)
      if (reported.insert(m).second) log("warning: skipped unreadable image: " + m);
  };
  Rng dropout_rng;
  RunContext ctx{true, &dropout_rng};

  for (int64_t epoch = meta.epoch + 1; epoch <= ts.epochs; ++epoch) {
    const auto t0 = Clock::now();
    std::iota(order.begin(), order.end(), 0);
    Rng shuffle_rng(hash_keys(ts.seed, uint64_t(epoch), 0x5f));
    shuffle(order.data(), uint64_t(N), shuffle_rng);
    double loss_sum = 0, seconds_before = 0;
    int64_t correct = 0, seen = 0, first_batch = 0;
    if (resumed_mid_epoch) {
      dropout_rng.set_state(meta.rng_state);
      first_batch = meta.epoch_step;
      loss_sum = meta.epoch_loss_sum;
      correct = meta.epoch_correct;
      seen = meta.epoch_seen;
      seconds_before = meta.epoch_seconds;
      resumed_mid_epoch = false;
    } else {
      dropout_rng.reseed(hash_keys(ts.seed, uint64_t(epoch), 0xd0));
    }
    double lr = 0;
    ctx.train = true;
    double window_loss = 0;
    int64_t window_correct = 0, window_seen = 0;
    auto window_start = Clock::now();
    const int64_t seen_at_start = seen;
    int64_t skipped = 0;
    loader.start(uint64_t(epoch), order, first_batch);

    for (int64_t bi = first_batch; bi < steps_per_epoch; ++bi) {
      const Batch* batch = loader.next();
      skipped += int64_t(batch->skipped.size());
      report_skipped(batch->skipped);
      const int64_t n = batch->size;
      if (n == 0) continue;  // every image of the batch was unreadable
      net.forward(batch->images, ctx);
      const StepLoss lres =
          classification_loss(net, batch->labels.data(), n, float(ts.label_smoothing), ts.aux_weight);
      const std::string last_good = fs::exists(last_path) ? last_path : "none";
      if (!std::isfinite(lres.total)) {
        std::string where = net.first_nonfinite_activation();
        throw RuntimeError(fmt::format("loss became {} at epoch {} step {}{}; last good checkpoint: {}", lres.total,
                                       epoch, meta.step + 1,
                                       where.empty() ? "" : " (first non-finite output: layer '" + where + "')",
                                       last_good));
      }
      net.zero_grad();
      net.backward(ctx);
      {
        double sq = 0;
        for (const auto& p : net.params())
          for (int64_t i = 0; i < p.param->grad.numel(); ++i) sq += double(p.param->grad[i]) * p.param->grad[i];
        if (!std::isfinite(sq)) {
          std::string where = net.first_nonfinite_gradient();
          throw RuntimeError(fmt::format("gradient became non-finite at epoch {} step {}{}; last good checkpoint: {}",
                                         epoch, meta.step + 1,
                                         where.empty() ? "" : " (first non-finite gradient: layer '" + where + "')",
                                         last_good));
        }
      }
      lr = learning_rate(ts.schedule, ts.optimizer.lr, meta.step, steps_per_epoch, ts.epochs);
      opt->step(lr);
      ++meta.step;
      loss_sum += lres.total * n;
      correct += lres.correct;
      seen += n;
      window_loss += lres.total * n;
      window_correct += lres.correct;
      window_seen += n;

      const bool last_batch = bi + 1 == steps_per_epoch;
      if ((bi + 1) % log_every == 0 && !last_batch) {
        const auto now = Clock::now();
        const double window_s = std::chrono::duration<double>(now - window_start).count();
        const double epoch_s = seconds_before + std::chrono::duration<double>(now - t0).count();
        const double rate = window_s > 0 ? window_seen / window_s : 0;
        const double eta = rate > 0 ? double(N - seen) / rate : -1;
        nlohmann::json j{{"type", "step"},
                         {"epoch", epoch},
                         {"step", meta.step},
                         {"train_loss", window_loss / window_seen},
                         {"train_acc", 100.0 * window_correct / window_seen},
                         {"lr", lr},
                         {"images_per_s", rate},
                         {"seconds", epoch_s}};
        metrics_text += j.dump() + "\n";
        std::string line = fmt::format("epoch {}/{} batch {}/{}  recent loss {:.4f}  acc {:.2f}%  lr {:.4g}  {:.0f} img/s  eta {}",
                                       epoch, ts.epochs, bi + 1, steps_per_epoch, window_loss / window_seen,
                                       100.0 * window_correct / window_seen, lr, rate, duration_str(eta));
        if (options.progress == Progress::lines) log("  " + line);
        window_loss = 0;
        window_correct = window_seen = 0;
        window_start = now;
      }
      if (options.progress == Progress::bar && ((bi + 1) % std::max<int64_t>(1, log_every / 10) == 0)) {
        const double epoch_s = std::chrono::duration<double>(Clock::now() - t0).count();
        const double rate = epoch_s > 0 ? (seen - seen_at_start) / epoch_s : 0;
        const int width = 24, done = int(width * (bi + 1) / steps_per_epoch);
        status(fmt::format("epoch {}/{} [{}{}] {}/{}  epoch mean loss {:.4f}  {:.0f} img/s  eta {}", epoch, ts.epochs,
                           std::string(size_t(done), '#'), std::string(size_t(width - done), '.'), bi + 1,
                           steps_per_epoch, loss_sum / seen, rate,
                           duration_str(rate > 0 ? double(N - seen) / rate : -1)));
      }
      if (interrupt_requested() && !last_batch) {
        status("");
        meta.epoch = epoch - 1;
        meta.epoch_step = bi + 1;
        meta.epoch_loss_sum = loss_sum;
        meta.epoch_correct = correct;
        meta.epoch_seen = seen;
        meta.epoch_seconds = seconds_before + std::chrono::duration<double>(Clock::now() - t0).count();
        meta.rng_state = dropout_rng.state();
        save_checkpoint(last_path, net, opt.get(), meta);
        write_file_atomic(metrics_path, metrics_text);
        log(fmt::format("interrupted at epoch {} batch {}/{} (step {}); saved {}; continue with --resume {}", epoch,
                        bi + 1, steps_per_epoch, meta.step, last_path, last_path));
        throw Interrupted{};
      }
    }
    status("");
    const auto t1 = Clock::now();
    const double train_seconds = seconds_before + std::chrono::duration<double>(t1 - t0).count();

    EpochRecord rec;
    rec.epoch = epoch;
    rec.step = meta.step;
    rec.train_loss = seen ? loss_sum / seen : 0;
    rec.train_acc = seen ? 100.0 * correct / seen : 0;
    rec.lr = lr;
    rec.images_per_s = train_seconds > 0 ? seen / train_seconds : 0;
    rec.skipped = skipped;
    rec.evaluated = epoch % ts.eval_every == 0 || epoch == ts.epochs;
    bool best = false;
    if (rec.evaluated) {
      EvalResult ev = evaluate(net, *test_set, ds.eval_transforms, eval_batch, 0.f, eval_options);
      report_skipped(ev.skipped);
      rec.skipped += int64_t(ev.skipped.size());
      rec.test_loss = ev.loss;
      rec.test_acc = ev.top1;
      rec.test_top5 = ev.top5;
      const double score = score_of(ts.best_metric, ev);
      best = score > meta.best_metric;
      if (best) meta.best_metric = score;
      result.best_test_acc = std::max(result.best_test_acc, ev.top1);
    }
    rec.seconds = seconds_before + std::chrono::duration<double>(Clock::now() - t0).count();
    result.epochs.push_back(rec);

    meta.epoch = epoch;
    meta.epoch_step = 0;
    meta.epoch_loss_sum = meta.epoch_seconds = 0;
    meta.epoch_correct = meta.epoch_seen = 0;
    save_checkpoint(last_path, net, opt.get(), meta);
    if (best) save_checkpoint(best_path, net, opt.get(), meta);
    metrics_text += epoch_json(rec) + "\n";
    write_file_atomic(metrics_path, metrics_text);
    const std::string test_part =
        rec.evaluated ? fmt::format("test_loss {:.4f}  test_acc {:6.2f}%", rec.test_loss, rec.test_acc)
                      : std::string("(not evaluated this epoch)");
    // The epoch's means; the training loss includes label smoothing, the test loss never does.
    log(fmt::format("epoch {:>3}/{}  train_loss {:.4f}{}  train_acc {:6.2f}%  {}  lr {:.4g}  {:7.0f} img/s  {:6.1f} s{}{}", epoch,
                    ts.epochs, rec.train_loss, ts.label_smoothing > 0 ? " (smoothed)" : "", rec.train_acc, test_part, lr, rec.images_per_s, rec.seconds,
                    rec.skipped ? fmt::format("  skipped {} unreadable", rec.skipped) : "", best ? "  *best" : ""));
    if (interrupt_requested()) {
      log(fmt::format("interrupted after epoch {}; saved {}; continue with --resume {}", epoch, last_path, last_path));
      throw Interrupted{};
    }
  }
  if (result.best_test_acc < 0 && std::isfinite(meta.best_metric) && ts.best_metric == "test_acc")
    result.best_test_acc = meta.best_metric;
  return result;
}

}  // namespace cnn
