#pragma once
// The named parts of a training run, called in order by train() (trainer.cpp):
//   setup_run        data, net, weights, resume, LSUV, the run directory   (train_setup.cpp)
//   begin_epoch      shuffle, restore a mid-epoch resume, start the loader  (train_step.cpp)
//   run_step         one optimizer step: train.accumulate micro-batches    (train_accumulate.cpp)
//     accumulate_micro_batch  forward, loss, checks, backward (gradients add up) (train_step.cpp)
//     optimizer_step          all-reduce, gradient check, optimizer, EMA, sums   (train_step.cpp)
//   evaluate_epoch   the epoch's record and the test-set evaluation         (train_evaluation.cpp)
//   save_epoch / save_interrupted   checkpoints and metrics.jsonl           (train_checkpoint.cpp)
// A data-parallel run (several ranks, docs/distributed.md) adds its part to each of them
// (train_parallel.cpp): shards and the model broadcast at setup, the agreed sample count and
// the gradient all-reduce in the step, sharded evaluation, rank 0 alone printing and writing.
// A feature (EMA, mixup, freezing, accumulation) adds its state to TrainRun and its work to the
// part it belongs to, so the loop itself stays the same.
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/rng.h"
#include "data/dataset.h"
#include "data/loader.h"
#include "data/transforms.h"
#include "dist/data_parallel.h"
#include "dist/gradient_sum.h"
#include "graph/net.h"
#include "optim/optimizer.h"
#include "train/checkpoint.h"
#include "train/ema.h"
#include "train/evaluator.h"
#include "train/loss.h"
#include "train/trainer.h"

namespace cnn {

using TrainClock = std::chrono::steady_clock;

// train.accumulate: where the current optimizer step stands between its micro-batches. Totals
// are over the ranks (the same on each). A checkpoint taken between two micro-batches saves it,
// with the parameter gradients summed so far.
struct StepAccumulation {
  int64_t done = 0;       // micro-batches of the step run so far (trained or left out)
  int64_t trained = 0;    // of them, trained
  int64_t seen = 0;       // samples trained on
  double loss_sum = 0;    // their summed loss
  int64_t correct = 0;
  double last_loss = 0;   // the last micro-batch's mean loss (a step of one micro-batch reports it as is)
};

// Everything a run holds from setup to the last checkpoint. Not movable: the loader refers to
// the dataset and pipeline.
struct TrainRun {
  Recipe recipe;                         // with the model's classes fitted to the dataset
  const TrainOptions& options;
  std::unique_ptr<Dataset> train_set, test_set;
  Pipeline train_pipeline;
  Shape sample;                          // [C, H, W] of a transformed training sample
  std::unique_ptr<Net> net;
  std::unique_ptr<Optimizer> opt;
  std::unique_ptr<Ema> ema;
  Tensor mixed_images, soft_targets;     // data.mixup / cutmix: the batch after mixing, its targets              // train.ema: the average of the weights (null: off)
  CheckpointMeta meta;                   // where the run stands (saved in every checkpoint)
  bool finished = false;                 // the resumed checkpoint already holds every epoch
  bool resumed_mid_epoch = false;
  std::string metrics_text;              // metrics.jsonl so far
  std::string metrics_path, last_path, best_path;
  int64_t steps_per_epoch = 0, log_every = 0, eval_batch = 0;
  std::unique_ptr<Loader> loader;
  EvalOptions eval_options;
  std::set<std::string> reported;        // unreadable files already named in the log
  Rng dropout_rng;
  RunContext ctx{true, nullptr};
  TrainResult result;
  // Data-parallel runs: the gradient all-reduce, train.sync_bn's statistics, their time so far.
  dist::GradientSum grad_sum;
  dist::SyncBatchStats sync_bn_stats;
  struct CommTotals {
    double gradient_backward_s = 0, gradient_finish_s = 0, sync_bn_s = 0;
    int64_t steps = 0, buckets_started = 0, buckets_arrived = 0;
  } comm_at_epoch_start;
  bool warned_empty_shard = false;
  StepAccumulation accum;                // train.accumulate: the step in progress

  TrainRun(const Recipe& r, const TrainOptions& o) : recipe(r), options(o) {}
  TrainRun(const TrainRun&) = delete;
  TrainRun& operator=(const TrainRun&) = delete;

  void log(const std::string& s) const;
  void status(const std::string& s) const;  // the redrawn line (Progress::bar only)
  void report_skipped(const std::vector<std::string>& messages);
};

// The running sums of one epoch (restored from the checkpoint when resuming mid-epoch).
struct EpochProgress {
  int64_t epoch = 0;
  TrainClock::time_point t0;
  int64_t first_batch = 0;
  double loss_sum = 0, seconds_before = 0, lr = 0;
  int64_t correct = 0, seen = 0, seen_at_start = 0, skipped = 0;
  // the window between two progress lines
  double window_loss = 0;
  int64_t window_correct = 0, window_seen = 0;
  std::vector<double> window_step_losses;  // each step's own loss (the batch mean)
  TrainClock::time_point window_start;

  double seconds() const;  // of training in this epoch so far, including before a resume
};

// Throws ConfigError for a config or data that cannot train, before anything is written.
std::unique_ptr<TrainRun> setup_run(const Recipe& recipe, const TrainOptions& options);

EpochProgress begin_epoch(TrainRun& run, int64_t epoch, std::vector<int64_t>& order);

// What the ranks agree on before a step (alone: this batch). `train` false: every rank leaves
// the step out (no sample at all, or a rank without one under train.sync_bn).
struct StepPlan {
  int64_t global_n = 0;  // samples of the global batch
  int64_t skipped = 0;   // unreadable images left out of it
  bool train = false;
};
StepPlan plan_step(TrainRun& run, const Batch& batch);

// One optimizer step, number `step_index` of the epoch: train.accumulate micro-batches from the
// loader (fewer in an epoch's last step), each one's gradients added to the step's, then the
// optimizer (train_accumulate.cpp). `interrupted`: an interrupt arrived between two micro-batches;
// the step stands in run.accum (save_interrupted keeps it). Throws RuntimeError on a non-finite
// loss or gradient.
struct StepOutcome {
  bool trained = false;      // an optimizer step was taken (not when every sample was unreadable)
  bool interrupted = false;
};
StepOutcome run_step(TrainRun& run, EpochProgress& ep, int64_t step_index);

// Forward, loss and backward of this rank's `batch` (the loader's batch number `loader_index` of
// the epoch), adding to the parameter gradients: the loss gradient is scaled by n / step_n, so
// that the gradients summed over the micro-batches and ranks are those of the mean loss over the
// step's `step_n` samples. Adds the micro-batch's totals over the ranks (`global_n` samples) to
// run.accum.
void accumulate_micro_batch(TrainRun& run, const Batch& batch, int64_t loader_index, const EpochProgress& ep,
                            int64_t global_n, int64_t step_n);
// The step's gradients summed over the ranks and checked, the optimizer and EMA, the step's
// totals into the epoch's; clears run.accum.
void optimizer_step(TrainRun& run, EpochProgress& ep);

// The epoch's record; evaluates on the test set when train.eval_every says so. Sets `best`
// when the evaluation beats meta.best_metric (which it updates).
EpochRecord evaluate_epoch(TrainRun& run, const EpochProgress& ep, bool& best);

// train.ema after an optimizer step of epoch `epoch` (meta.step already counts it).
void update_run_ema(TrainRun& run, int64_t epoch);

// At the end of an epoch: last (and best) checkpoint and metrics.jsonl.
void save_epoch(TrainRun& run, const EpochRecord& rec, bool best);
// On an interrupt after batch `batch_index` of the epoch: a mid-epoch checkpoint to resume from.
void save_interrupted(TrainRun& run, const EpochProgress& ep, int64_t batch_index);

// The memory the run will hold (the training step's plan at the micro-batch, optimizer and EMA
// state, batch buffers, evaluation), checked against the memory budget before anything is written:
// ConfigError naming the size needed, the size available and what to change (train_memory.cpp).
// Returns the size needed, in bytes.
double check_training_memory(TrainRun& run);

// Data-parallel parts (train_parallel.cpp); alone they do what a single process did.
void check_ranks_fit(const Recipe& recipe);       // ConfigError: a global batch smaller than the ranks
void setup_data_parallel(TrainRun& run);          // shards, sync_bn, rank 0's weights, the banner line
bool stop_requested(const TrainRun& run);         // an interrupt seen by any rank
void make_ranks_agree(TrainRun& run);             // BatchNorm running statistics (and the EMA's) averaged
void rank_dropout_stream(TrainRun& run);          // ranks > 0 draw their own dropout masks
void log_communication(TrainRun& run, const EpochProgress& ep);  // the epoch's all-reduce time

}  // namespace cnn
