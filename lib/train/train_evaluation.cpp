// evaluate_epoch: the end-of-epoch record and test-set evaluation of a run (train/train_run.h).
#include <algorithm>

#include "train/train_run.h"

namespace cnn {

namespace {

// Higher is better for every metric after this.
double score_of(BestMetric metric, const EvalResult& ev) {
  switch (metric) {
    case BestMetric::test_loss: return -ev.loss;
    case BestMetric::test_top5: return ev.top5;
    case BestMetric::test_acc: break;
  }
  return ev.top1;
}

}  // namespace

EpochRecord evaluate_epoch(TrainRun& run, const EpochProgress& ep, bool& best) {
  const TrainSpec& ts = run.recipe.train;
  const double train_seconds = ep.seconds();
  EpochRecord rec;
  rec.epoch = ep.epoch;
  rec.step = run.meta.step;
  rec.train_loss = ep.seen ? ep.loss_sum / ep.seen : 0;
  rec.train_acc = ep.seen ? 100.0 * ep.correct / ep.seen : 0;
  rec.lr = ep.lr;
  rec.images_per_s = train_seconds > 0 ? ep.seen / train_seconds : 0;
  rec.skipped = ep.skipped;
  rec.evaluated = ep.epoch % ts.eval_every == 0 || ep.epoch == ts.epochs;
  best = false;
  make_ranks_agree(run);  // data-parallel: the same running statistics on every rank
  if (rec.evaluated) {
    const DataSpec& ds = run.recipe.data;
    if (run.ema) swap_ema(*run.ema, *run.net);  // train.ema: the average is what is evaluated
    // Each rank evaluates its shard of the test set; the sums are added up over the ranks.
    EvalResult ev = evaluate(*run.net, *run.test_set, ds.eval_transforms, run.eval_batch, 0.f, run.eval_options);
    if (run.ema) swap_ema(*run.ema, *run.net);
    run.report_skipped(ev.skipped);
    int64_t skipped = 0;
    dist::reduce_eval(ev, skipped);
    rec.skipped += skipped;
    rec.test_loss = ev.loss;
    rec.test_acc = ev.top1;
    rec.test_top5 = ev.top5;
    const double score = score_of(ts.best_metric, ev);
    best = score > run.meta.best_metric;
    if (best) run.meta.best_metric = score;
    run.result.best_test_acc = std::max(run.result.best_test_acc, ev.top1);
  }
  rec.seconds = ep.seconds();
  return rec;
}

}  // namespace cnn
