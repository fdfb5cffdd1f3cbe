// begin_epoch and train_step: the per-batch part of a training run (train/train_run.h).
#include <cmath>
#include <filesystem>
#include <numeric>

#include <fmt/format.h>

#include "core/error.h"
#include "dist/comm.h"
#include "optim/schedule.h"
#include "train/mixup.h"
#include "train/train_run.h"

namespace cnn {

namespace fs = std::filesystem;

double EpochProgress::seconds() const {
  return seconds_before + std::chrono::duration<double>(TrainClock::now() - t0).count();
}

EpochProgress begin_epoch(TrainRun& run, int64_t epoch, std::vector<int64_t>& order) {
  const TrainSpec& ts = run.recipe.train;
  EpochProgress ep;
  ep.epoch = epoch;
  ep.t0 = TrainClock::now();
  std::iota(order.begin(), order.end(), 0);
  Rng shuffle_rng(hash_keys(ts.seed, uint64_t(epoch), 0x5f));
  shuffle(order.data(), uint64_t(order.size()), shuffle_rng);
  if (run.resumed_mid_epoch) {
    const CheckpointMeta& m = run.meta;
    run.dropout_rng.set_state(m.rng_state);
    ep.first_batch = m.epoch_step;
    ep.loss_sum = m.epoch_loss_sum;
    ep.correct = m.epoch_correct;
    ep.seen = m.epoch_seen;
    ep.seconds_before = m.epoch_seconds;
    run.resumed_mid_epoch = false;
  } else {
    run.dropout_rng.reseed(hash_keys(ts.seed, uint64_t(epoch), 0xd0));
  }
  rank_dropout_stream(run);
  run.ctx.train = true;
  ep.window_start = TrainClock::now();
  ep.seen_at_start = ep.seen;
  // the loader's batches are micro-batches (train.accumulate), this step's first ones maybe done
  run.loader->start(uint64_t(epoch), order, ep.first_batch * ts.accumulate + run.accum.done);
  return ep;
}

namespace {

std::string last_good_checkpoint(const TrainRun& run) {
  return fs::exists(run.last_path) ? run.last_path : "none";
}

void check_finite_loss(const TrainRun& run, const EpochProgress& ep, double loss) {
  if (std::isfinite(loss)) return;
  const std::string where = run.net->first_nonfinite_activation();
  throw RuntimeError(fmt::format("loss became {} at epoch {} step {}{}; last good checkpoint: {}", loss, ep.epoch,
                                 run.meta.step + 1,
                                 where.empty() ? "" : " (first non-finite output: layer '" + where + "')",
                                 last_good_checkpoint(run)));
}

void check_finite_gradients(const TrainRun& run, const EpochProgress& ep) {
  double sq = 0;
  for (const auto& p : run.net->params())
    for (int64_t i = 0; i < p.param->grad.numel(); ++i) sq += double(p.param->grad[i]) * p.param->grad[i];
  if (std::isfinite(sq)) return;
  const std::string where = run.net->first_nonfinite_gradient();
  throw RuntimeError(fmt::format("gradient became non-finite at epoch {} step {}{}; last good checkpoint: {}",
                                 ep.epoch, run.meta.step + 1,
                                 where.empty() ? "" : " (first non-finite gradient: layer '" + where + "')",
                                 last_good_checkpoint(run)));
}

}  // namespace

void update_run_ema(TrainRun& run, int64_t epoch) {
  const EmaSpec& e = run.recipe.train.ema;
  if (!run.ema || run.meta.step % e.every != 0) return;
  update_ema(*run.ema, *run.net, e.decay, /*copy=*/epoch <= e.warmup);
}

namespace {

// data.mixup / cutmix: mixes a copy of the batch and makes its soft targets (train/mixup.h).
StepLoss mixed_forward_and_loss(TrainRun& run, const Batch& batch, int64_t batch_index, int64_t epoch) {
  const TrainSpec& ts = run.recipe.train;
  const int64_t n = batch.size, K = numel_of(run.net->output_shape());
  run.mixed_images = batch.images;
  const std::vector<float> lam =
      mix_batch(run.mixed_images, n, run.recipe.data.mix, MixKey{ts.seed, epoch, batch_index});
  run.soft_targets.resize({n, K});
  mixed_targets(batch.labels.data(), lam, n, K, float(ts.label_smoothing), run.soft_targets.data());
  run.net->forward(run.mixed_images, run.ctx);
  return soft_target_loss(*run.net, run.soft_targets.data(), batch.labels.data(), n, ts.aux_weight);
}

}  // namespace

void accumulate_micro_batch(TrainRun& run, const Batch& batch, int64_t loader_index, const EpochProgress& ep,
                            int64_t global_n, int64_t step_n) {
  const TrainSpec& ts = run.recipe.train;
  Net& net = *run.net;
  const int64_t n = batch.size;
  StepLoss lres;
  if (n > 0) {  // a rank without a sample adds no gradient
    if (run.recipe.data.mix.enabled()) {
      lres = mixed_forward_and_loss(run, batch, loader_index, ep.epoch);
    } else {
      net.forward(batch.images, run.ctx);
      lres = classification_loss(net, batch.labels.data(), n, float(ts.label_smoothing), ts.aux_weight);
    }
    check_finite_loss(run, ep, lres.total);
    dist::scale_loss_gradients(net, double(n) / double(step_n));
    // Data-parallel: the step's last micro-batch completes each gradient as its backward pass goes,
    // so its buckets are all-reduced meanwhile; earlier micro-batches' gradients are partial sums.
    if (run.accum.trained + 1 >= run.recipe.train.accumulate) run.grad_sum.overlap_next_backward();
    net.backward(run.ctx);
  }
  double totals[2] = {lres.total * double(n), double(lres.correct)};  // over the ranks
  dist::sum(totals, 2, "the step's loss");
  StepAccumulation& a = run.accum;
  a.loss_sum += totals[0];
  a.correct += int64_t(totals[1]);
  a.seen += global_n;
  ++a.trained;
  // the micro-batch's own loss over the global batch (one process: the loss itself, not rescaled)
  a.last_loss = global_n == n ? lres.total : totals[0] / double(global_n);
}

void optimizer_step(TrainRun& run, EpochProgress& ep) {
  const TrainSpec& ts = run.recipe.train;
  StepAccumulation& a = run.accum;
  run.grad_sum.finish(*run.net);  // data-parallel: the global batch's gradients on every rank
  check_finite_gradients(run, ep);
  ep.lr = learning_rate(ts.schedule, ts.optimizer.lr, run.meta.step, run.steps_per_epoch, ts.epochs);
  run.opt->step(ep.lr);
  ++run.meta.step;
  update_run_ema(run, ep.epoch);
  ep.loss_sum += a.loss_sum;
  ep.correct += a.correct;
  ep.seen += a.seen;
  ep.window_loss += a.loss_sum;
  ep.window_step_losses.push_back(a.trained == 1 ? a.last_loss : a.loss_sum / double(a.seen));
  ep.window_correct += a.correct;
  ep.window_seen += a.seen;
  a = StepAccumulation{};
}

}  // namespace cnn
