#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/rng.h"
#include "data/batch.h"
#include "data/load.h"
#include "graph/net.h"
#include "io/safetensors.h"
#include "kernels/softmax.h"
#include "optim/schedule.h"
#include "optim/sgd.h"
#include "train/checkpoint.h"
#include "train/evaluator.h"

namespace cnn {

namespace fs = std::filesystem;

std::string epoch_json(const EpochRecord& r) {
  nlohmann::json j{{"epoch", r.epoch},         {"step", r.step},           {"train_loss", r.train_loss},
                   {"train_acc", r.train_acc}, {"test_loss", r.test_loss}, {"test_acc", r.test_acc},
                   {"test_top5", r.test_top5}, {"lr", r.lr},               {"images_per_s", r.images_per_s},
                   {"seconds", r.seconds}};
  return j.dump();
}

// Keeps the lines of an existing metrics.jsonl up to `epochs` (for resume).
static std::string previous_metrics(const std::string& path, int64_t epochs) {
  std::ifstream in(path);
  std::string line, out;
  while (std::getline(in, line)) {
    try {
      auto j = nlohmann::json::parse(line);
      if (j.value("epoch", int64_t(0)) <= epochs) out += line + "\n";
    } catch (...) {
    }
  }
  return out;
}

TrainResult train(const Recipe& recipe, const TrainOptions& options) {
  auto log = [&](const std::string& s) {
    if (options.log) options.log(s);
  };
  const DataSpec& ds = recipe.data;
  const TrainSpec& ts = recipe.train;

  ImageDataset train_set = load_dataset(ds, "train");
  ImageDataset test_set = load_dataset(ds, "test");
  check_transforms(ds.train_transforms, train_set, "data.train_transforms");
  check_transforms(ds.eval_transforms, test_set, "data.eval_transforms");
  Shape sample{train_set.channels, train_set.height, train_set.width};
  if (sample != recipe.model.input)
    throw ConfigError(recipe.file + ": model input " + shape_str(recipe.model.input) + " does not match dataset '" +
                      ds.dataset + "' samples " + shape_str(sample) + " (set the model's input)");

  Net net(recipe.model);
  net.init(ts.seed);
  SgdOptions so{ts.optimizer.lr, ts.optimizer.momentum, ts.optimizer.dampening, ts.optimizer.weight_decay,
                ts.optimizer.nesterov};
  Sgd opt(net.params(), so);

  TrainResult result;
  result.output_dir = recipe.output;
  CheckpointMeta meta;
  meta.config = recipe.resolved_yaml;
  meta.model = recipe.model.text;
  std::string metrics_text;
  const std::string metrics_path = (fs::path(recipe.output) / "metrics.jsonl").string();
  const std::string last_path = (fs::path(recipe.output) / "last.safetensors").string();
  const std::string best_path = (fs::path(recipe.output) / "best.safetensors").string();
  if (!options.resume.empty()) {
    CheckpointMeta m = load_checkpoint(options.resume, net, &opt);
    meta.epoch = m.epoch;
    meta.step = m.step;
    meta.best_metric = m.best_metric;
    if (meta.epoch >= ts.epochs) {
      log(fmt::format("{}: already trained {} of {} epochs; nothing to do", options.resume, meta.epoch, ts.epochs));
      return result;
    }
    metrics_text = previous_metrics(metrics_path, meta.epoch);
    log(fmt::format("resuming from {} at epoch {} (step {})", options.resume, meta.epoch, meta.step));
  }
  std::error_code ec;
  fs::create_directories(recipe.output, ec);
  if (ec) throw RuntimeError("cannot create output directory '" + recipe.output + "': " + ec.message());
  write_file_atomic((fs::path(recipe.output) / "config.yaml").string(), recipe.resolved_yaml);

  const int64_t N = train_set.count, B = ds.batch_size;
  const int64_t eval_batch = ds.eval_batch_size > 0 ? ds.eval_batch_size : B;
  const Shape out_shape = net.output_shape();
  if (out_shape.size() != 1 || out_shape[0] < train_set.num_classes)
    throw ConfigError(recipe.model.file + ": the model must end in N x " + std::to_string(train_set.num_classes) +
                      " logits for '" + ds.dataset + "', it ends in N x " + shape_str(out_shape));
  const int64_t K = out_shape[0];
  std::vector<int64_t> order(static_cast<size_t>(N));
  Tensor images;
  std::vector<int32_t> labels;
  Rng dropout_rng;
  RunContext ctx{true, &dropout_rng};

  for (int64_t epoch = meta.epoch + 1; epoch <= ts.epochs; ++epoch) {
    auto t0 = std::chrono::steady_clock::now();
    std::iota(order.begin(), order.end(), 0);
    Rng shuffle_rng(hash_keys(ts.seed, uint64_t(epoch), 0x5f));
    shuffle(order.data(), uint64_t(N), shuffle_rng);
    dropout_rng.reseed(hash_keys(ts.seed, uint64_t(epoch), 0xd0));
    double loss_sum = 0;
    int64_t correct = 0, seen = 0;
    const int64_t steps_per_epoch = (N + B - 1) / B;
    double lr = 0;
    ctx.train = true;
    for (int64_t b = 0; b < N; b += B) {
      const int64_t n = std::min(B, N - b);
      make_batch(train_set, order.data() + b, n, ds.train_transforms, images, labels);
      const Tensor& logits = net.forward(images, ctx);
      Tensor& dlogits = net.output_grad();
      LossResult lres = softmax_cross_entropy(logits.data(), labels.data(), n, K, float(ts.label_smoothing), dlogits.data());
      if (!std::isfinite(lres.loss)) {
        std::string where = net.first_nonfinite_activation();
        throw RuntimeError(fmt::format("loss became {} at epoch {} step {}{}; last good checkpoint: {}",
                                       lres.loss, epoch, meta.step + 1,
                                       where.empty() ? "" : " (first non-finite output: layer '" + where + "')",
                                       fs::exists(last_path) ? last_path : "none"));
      }
      net.zero_grad();
      net.backward(ctx);
      lr = learning_rate(ts.schedule, ts.optimizer.lr, meta.step, steps_per_epoch, ts.epochs);
      opt.step(lr);
      ++meta.step;
      loss_sum += lres.loss * n;
      correct += lres.correct;
      seen += n;
    }
    auto t1 = std::chrono::steady_clock::now();
    const double train_seconds = std::chrono::duration<double>(t1 - t0).count();
    EvalResult ev = evaluate(net, test_set, ds.eval_transforms, eval_batch);
    auto t2 = std::chrono::steady_clock::now();

    EpochRecord rec;
    rec.epoch = epoch;
    rec.step = meta.step;
    rec.train_loss = seen ? loss_sum / seen : 0;
    rec.train_acc = seen ? 100.0 * correct / seen : 0;
    rec.test_loss = ev.loss;
    rec.test_acc = ev.top1;
    rec.test_top5 = ev.top5;
    rec.lr = lr;
    rec.images_per_s = train_seconds > 0 ? seen / train_seconds : 0;
    rec.seconds = std::chrono::duration<double>(t2 - t0).count();
    result.epochs.push_back(rec);

    meta.epoch = epoch;
    const bool best = rec.test_acc > meta.best_metric;
    if (best) meta.best_metric = rec.test_acc;
    save_checkpoint(last_path, net, &opt, meta);
    if (best) save_checkpoint(best_path, net, &opt, meta);
    metrics_text += epoch_json(rec) + "\n";
    write_file_atomic(metrics_path, metrics_text);
    log(fmt::format("epoch {:>3}/{}  loss {:.4f}  train_acc {:6.2f}%  test_loss {:.4f}  test_acc {:6.2f}%  lr {:.4g}  "
                    "{:7.0f} img/s  {:6.1f} s{}",
                    epoch, ts.epochs, rec.train_loss, rec.train_acc, rec.test_loss, rec.test_acc, lr, rec.images_per_s,
                    rec.seconds, best ? "  *best" : ""));
  }
  result.best_test_acc = meta.best_metric;
  return result;
}

}  // namespace cnn
