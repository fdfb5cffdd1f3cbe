// The data-parallel side of a training run (docs/distributed.md, lib/dist): what setup, each
// step, evaluation and checkpoints add when several ranks train one model. Alone, each of these
// does what a single process always did.
#include <fmt/format.h>

#include "core/error.h"
#include "core/interrupt.h"
#include "core/parallel.h"
#include "dist/comm.h"
#include "dist/data_parallel.h"
#include "train/train_run.h"

namespace cnn {

namespace {

// "32" or "21-22" samples per rank of a global batch of B.
std::string per_rank_batch(int64_t B, int ranks) {
  const int64_t lo = B / ranks, hi = (B + ranks - 1) / ranks;
  return lo == hi ? fmt::format("{}", lo) : fmt::format("{}-{}", lo, hi);
}

// "3 buckets of <= 1 MiB, all-reduced during the backward pass"
std::string describe_buckets(const dist::GradientSum& g) {
  const dist::AllreduceOptions& o = g.options();
  return fmt::format("{} bucket{} of {:.3g} MiB, all-reduced {}", g.bucket_count(), g.bucket_count() == 1 ? "" : "s",
                     double(o.bucket_bytes) / double(1 << 20),
                     !o.overlap ? "after the backward pass" : o.poll ? "during the backward pass" : "during the backward pass (not polled)");
}

}  // namespace

void check_ranks_fit(const Recipe& recipe) {
  const int64_t B = recipe.data.batch_size;
  if (B < dist::size())
    throw ConfigError(fmt::format("data.batch_size: {} is smaller than the {} ranks (the global batch is split over "
                                  "them; each needs a sample)",
                                  B, dist::size()));
  const int64_t K = recipe.train.accumulate;
  if (B / K < dist::size())
    throw ConfigError(fmt::format("train.accumulate: micro-batches of {} (data.batch_size {} / {}) are smaller than "
                                  "the {} ranks (each micro-batch is split over them; each needs a sample)",
                                  B / K, B, K, dist::size()));
}

void setup_data_parallel(TrainRun& run) {
  const int ranks = dist::size();
  run.eval_options.shard = dist::rank();
  run.eval_options.shards = ranks;
  if (!dist::active()) return;
  const int64_t B = run.recipe.data.batch_size;
  const bool sync_bn = run.recipe.train.sync_bn;
  if (sync_bn) run.ctx.batch_stats_sum = &run.sync_bn_stats;
  dist::broadcast_model(*run.net);
  run.grad_sum.attach(*run.net, run.options.allreduce);
  const int64_t K = run.recipe.train.accumulate;
  const std::string micro = K > 1 ? fmt::format("{} micro-batches of {} = ", K, B / K) : "";
  run.log(fmt::format("data-parallel: {} ranks x {} threads | global batch {} = {}{} per rank | BN statistics {} | "
                      "gradients in {} | {}",
                      ranks, num_threads(), B, micro, per_rank_batch(B / K, ranks),
                      sync_bn ? "over all ranks (train.sync_bn)" : "per rank", describe_buckets(run.grad_sum),
                      dist::library_version()));
}

StepPlan plan_step(TrainRun& run, const Batch& batch) {
  const dist::StepAgreement a = dist::agree_on_step(batch.size, int64_t(batch.skipped.size()));
  StepPlan plan;
  plan.global_n = a.global_n;
  plan.skipped = a.skipped;
  plan.train = a.global_n > 0;
  // With synchronized BatchNorm every rank must run the forward pass (its statistics are a
  // collective); a rank without a sample cannot, so the whole step is left out.
  if (plan.train && a.some_rank_empty && run.ctx.batch_stats_sum) {
    plan.train = false;
    if (!run.warned_empty_shard)
      run.log(fmt::format("warning: a batch of {} samples leaves a rank without any: with train.sync_bn such batches "
                          "are left out (a data.batch_size or dataset size that is a multiple of the ranks avoids it)",
                          a.global_n));
    run.warned_empty_shard = true;
  }
  return plan;
}

bool stop_requested(const TrainRun&) { return dist::any_rank(interrupt_requested()); }

void make_ranks_agree(TrainRun& run) {
  if (!dist::active()) return;
  dist::average_buffers(*run.net);
  if (run.ema) {  // the average holds BatchNorm statistics too
    swap_ema(*run.ema, *run.net);
    dist::average_buffers(*run.net);
    swap_ema(*run.ema, *run.net);
  }
}

void rank_dropout_stream(TrainRun& run) {
  if (dist::rank() == 0) return;  // rank 0 draws what a single process draws
  const auto s = run.dropout_rng.state();
  run.dropout_rng.reseed(hash_keys(s[0] ^ s[1], s[2] ^ s[3], uint64_t(dist::rank()), 0xd1));
}

// The epoch's time in the gradient all-reduce on rank 0 (with overlap: what the backward pass did not
// hide, i.e. starting and polling during it plus waiting after it) and in train.sync_bn's sums.
void log_communication(TrainRun& run, const EpochProgress& ep) {
  if (!dist::active()) return;
  const dist::GradientSum& g = run.grad_sum;
  const TrainRun::CommTotals now{g.backward_seconds, g.finish_seconds,  run.sync_bn_stats.seconds,
                                 g.calls,            g.buckets_started, g.buckets_arrived_in_backward};
  const TrainRun::CommTotals before = run.comm_at_epoch_start;
  run.comm_at_epoch_start = now;
  const int64_t steps = now.steps - before.steps;
  if (steps <= 0) return;
  const double in_backward_s = now.gradient_backward_s - before.gradient_backward_s;
  const double after_s = now.gradient_finish_s - before.gradient_finish_s;
  const double grad_s = in_backward_s + after_s, bn_s = now.sync_bn_s - before.sync_bn_s;
  const double train_s = ep.seconds() > 0 ? ep.seconds() : 1;
  auto ms = [steps](double s) { return 1e3 * s / double(steps); };
  const std::string how = g.options().overlap
                              ? fmt::format("{:.3f} during the backward pass + {:.3f} waiting after it, {} of {} "
                                            "buckets arrived before its end",
                                            ms(in_backward_s), ms(after_s), now.buckets_arrived - before.buckets_arrived,
                                            now.buckets_started - before.buckets_started)
                              : "after the backward pass";
  run.log(fmt::format("  all-reduce on rank 0: gradients {:.3f} ms/step ({} values, {} bucket{}, {}; {:.1f}% of the "
                        "epoch){}",
                        ms(grad_s), g.values, g.bucket_count(), g.bucket_count() == 1 ? "" : "s", how,
                        100 * grad_s / train_s,
                        run.ctx.batch_stats_sum ? fmt::format("; sync_bn statistics {:.3f} ms/step ({:.1f}%)", ms(bn_s),
                                                              100 * bn_s / train_s)
                                                : ""));
}

}  // namespace cnn
