// run_step: one optimizer step made of train.accumulate micro-batches (train/train_run.h).
//
// The loader yields micro-batches of data.batch_size / K samples; step s of the epoch is loader
// batches s*K .. s*K+K-1, i.e. exactly the samples of the full batch s (the epoch's last step may
// hold fewer). Each micro-batch's loss gradient is scaled by n / (the step's samples), so the
// parameter gradients added up over the micro-batches (and summed over the ranks) are those of the
// mean loss over the full batch; the optimizer, the lr schedule, EMA and every counter then see one
// step. Only the order of the float additions differs from a full-batch step. BatchNorm normalizes
// each micro-batch by its own statistics and updates its running statistics once per micro-batch,
// as a PyTorch loop with accumulation does.
#include <algorithm>

#include "train/train_run.h"

namespace cnn {

namespace {

// Samples in step `s` of the epoch before any is left out: data.batch_size, fewer in the last.
int64_t step_samples(const TrainRun& run, int64_t s) {
  const int64_t N = run.train_set->size(), B = run.recipe.data.batch_size;
  return std::min(B, N - s * B);
}

void scale_param_gradients(Net& net, double factor) {
  const float f = float(factor);
  for (const auto& p : net.params()) {
    float* g = p.param->grad.data();
    for (int64_t i = 0; i < p.param->grad.numel(); ++i) g[i] *= f;
  }
}

}  // namespace

StepOutcome run_step(TrainRun& run, EpochProgress& ep, int64_t s) {
  const int64_t K = run.recipe.train.accumulate, m = run.recipe.data.batch_size / K;
  const int64_t expected = step_samples(run, s), micro_batches = (expected + m - 1) / m;
  StepAccumulation& a = run.accum;
  if (a.done == 0) run.net->zero_grad();  // else: resumed between micro-batches, with their gradients
  const int64_t first = a.done;
  for (int64_t k = first; k < micro_batches; ++k) {
    if (k > first && stop_requested(run)) return {false, true};  // every rank asks at the same place
    const Batch* batch = run.loader->next();
    run.report_skipped(batch->skipped);
    const StepPlan plan = plan_step(run, *batch);  // data-parallel: agreed by every rank
    ep.skipped += plan.skipped;
    // Without accumulation the step is what the ranks hold of this batch (unreadable images left
    // out); with it, the later micro-batches are not known yet: scale by the step's full size and
    // correct below if images were left out.
    if (plan.train) accumulate_micro_batch(run, *batch, s * K + k, ep, plan.global_n, K == 1 ? plan.global_n : expected);
    a.done = k + 1;
  }
  if (a.seen == 0) {  // every sample of the step was unreadable (or left out under train.sync_bn)
    a = StepAccumulation{};
    return {};
  }
  if (K > 1 && a.seen != expected) scale_param_gradients(*run.net, double(expected) / double(a.seen));
  optimizer_step(run, ep);
  return {true, false};
}

}  // namespace cnn
