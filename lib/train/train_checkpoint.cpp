// save_epoch and save_interrupted: the checkpoints and metrics of a run (train/train_run.h).
#include "dist/comm.h"
#include "train/train_run.h"

namespace cnn {

namespace {

void save(const TrainRun& run, const std::string& path) {
  if (!dist::is_root()) return;  // rank 0 writes; every rank holds the same weights
  std::vector<std::string> names;
  const std::vector<NamedTensor> extra = run.ema ? ema_entries(*run.ema, *run.net, names) : std::vector<NamedTensor>{};
  save_checkpoint(path, *run.net, run.opt.get(), run.meta, extra);
}

}  // namespace

void save_epoch(TrainRun& run, const EpochRecord& rec, bool best) {
  CheckpointMeta& meta = run.meta;
  meta.epoch = rec.epoch;
  meta.epoch_step = 0;
  meta.epoch_loss_sum = meta.epoch_seconds = 0;
  meta.epoch_correct = meta.epoch_seen = 0;
  save(run, run.last_path);
  if (best) save(run, run.best_path);
  run.metrics_text += epoch_json(rec) + "\n";
  if (dist::is_root()) write_file_atomic(run.metrics_path, run.metrics_text);
}

void save_interrupted(TrainRun& run, const EpochProgress& ep, int64_t batch_index) {
  CheckpointMeta& meta = run.meta;
  meta.epoch = ep.epoch - 1;
  meta.epoch_step = batch_index + 1;
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
