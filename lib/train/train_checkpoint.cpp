// save_epoch and save_interrupted: the checkpoints and metrics of a run (train/train_run.h).
#include "dist/comm.h"
#include "train/train_run.h"

namespace cnn {

namespace {

void save(const TrainRun& run, const std::string& path) {
  if (!dist::is_root()) return;  // rank 0 writes; every rank holds the same weights
  std::vector<std::string> names, accumulate_names;
  std::vector<NamedTensor> extra = run.ema ? ema_entries(*run.ema, *run.net, names) : std::vector<NamedTensor>{};
  if (run.meta.micro_step > 0) {  // between micro-batches: the gradients summed so far
    const auto& params = run.net->params();
    accumulate_names.reserve(params.size());
    for (const auto& p : params) {
      accumulate_names.push_back(kAccumulatePrefix + p.name);
      extra.push_back({accumulate_names.back(), &p.param->grad});
    }
  }
  save_checkpoint(path, *run.net, run.opt.get(), run.meta, extra);
}

// Where the step in progress stands (train.accumulate), or a step boundary.
void keep_step_in_progress(TrainRun& run) {
  CheckpointMeta& meta = run.meta;
  const StepAccumulation& a = run.accum;
  meta.micro_step = a.done;
  meta.micro_steps = run.recipe.train.accumulate;
  meta.step_trained = a.trained;
  meta.step_seen = a.seen;
  meta.step_correct = a.correct;
  meta.step_loss_sum = a.loss_sum;
  meta.step_last_loss = a.last_loss;
  // Data-parallel: each rank holds its own micro-batches' gradients; rank 0 saves their sum (a
  // resumed run gives it to rank 0 alone, whatever the number of ranks then).
  if (a.done > 0) run.grad_sum.finish(*run.net);
}

}  // namespace

void save_epoch(TrainRun& run, const EpochRecord& rec, bool best) {
  CheckpointMeta& meta = run.meta;
  meta.epoch = rec.epoch;
  meta.epoch_step = 0;
  meta.epoch_loss_sum = meta.epoch_seconds = 0;
  meta.epoch_correct = meta.epoch_seen = 0;
  meta.micro_step = 0;
  save(run, run.last_path);
  if (best) save(run, run.best_path);
  run.metrics_text += epoch_json(rec) + "\n";
  if (dist::is_root()) write_file_atomic(run.metrics_path, run.metrics_text);
}

void save_interrupted(TrainRun& run, const EpochProgress& ep, int64_t batch_index) {
  CheckpointMeta& meta = run.meta;
  meta.epoch = ep.epoch - 1;
  keep_step_in_progress(run);
  meta.epoch_step = run.accum.done > 0 ? batch_index : batch_index + 1;
  meta.epoch_loss_sum = ep.loss_sum;
  meta.epoch_correct = ep.correct;
  meta.epoch_seen = ep.seen;
  meta.epoch_seconds = ep.seconds();
  meta.rng_state = run.dropout_rng.state();
  make_ranks_agree(run);
  save(run, run.last_path);
  if (dist::is_root()) write_file_atomic(run.metrics_path, run.metrics_text);
}

}  // namespace cnn
