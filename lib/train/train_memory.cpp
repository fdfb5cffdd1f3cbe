// check_training_memory: what a training run will hold, known and checked before the first step
// (train/train_run.h).
#include <algorithm>

#include <fmt/format.h>

#include "core/memory_budget.h"
#include "data/loader.h"
#include "dist/comm.h"
#include "train/train_run.h"

namespace cnn {

namespace {

// This rank's part of a global batch (the larger share).
int64_t rank_share(int64_t batch) { return (batch + dist::size() - 1) / dist::size(); }

// Net::planned_memory; a plan whose forward activations alone exceed the budget is refused by the
// Net while planning (naming the layer), so such a size is extrapolated from batches 1 and 2
// (every activation and gradient grows linearly with the batch).
Net::PlannedMemory planned(Net& net, int64_t batch, bool train) {
  try {
    return net.planned_memory(batch, train);
  } catch (const ConfigError&) {
    const Net::PlannedMemory one = net.planned_memory(1, train), two = net.planned_memory(2, train);
    Net::PlannedMemory m = two;
    m.activations = one.activations + (batch - 1) * (two.activations - one.activations);
    return m;
  }
}

struct TrainingMemory {
  double step = 0;     // a training step at the micro-batch: parameters, gradients, activations, workspace
  double state = 0;    // the optimizer's state and train.ema's copy
  double batches = 0;  // the training and evaluation loaders' batch buffers, mixup's copy
  double eval = 0;     // an evaluation's activations, kept beside the training step's
  double total() const { return step + state + batches + eval; }
};

TrainingMemory training_memory(TrainRun& run, int64_t accumulate) {
  const DataSpec& ds = run.recipe.data;
  const int64_t micro = rank_share(ds.batch_size / accumulate);
  const int64_t eval_batch = rank_share(ds.eval_batch_size > 0 ? ds.eval_batch_size : ds.batch_size / accumulate);
  const Net::PlannedMemory train = planned(*run.net, micro, true), eval = planned(*run.net, eval_batch, false);
  TrainingMemory m;
  m.step = double(train.total());
  m.eval = double(eval.activations) + double(std::max<int64_t>(0, eval.workspace - train.workspace));
  // The optimizer allocates its state when it is made (Optimizer::state() lists it only once it
  // has stepped): one tensor per parameter for each of these.
  const int per_param = state_tensors_per_param(run.recipe.train.optimizer);
  for (const NamedParam& p : run.net->params())
    m.state += double(per_param) * double(p.param->value.numel()) * sizeof(float);
  if (run.ema)
    for (const Tensor& t : run.ema->values) m.state += double(t.numel()) * sizeof(float);
  LoaderOptions lo;
  lo.workers = ds.workers;
  const double buffers = double(Loader::batch_buffers(lo)), sample = double(numel_of(run.sample)) * sizeof(float);
  m.batches = sample * (double(micro) * (buffers + (ds.mix.enabled() ? 1 : 0)) + double(eval_batch) * buffers);
  return m;
}

}  // namespace

double check_training_memory(TrainRun& run) {
  const MemoryBudget& budget = memory_budget();
  const int64_t B = run.recipe.data.batch_size, K = run.recipe.train.accumulate;
  const TrainingMemory need = training_memory(run, K);
  if (need.total() <= double(budget.bytes)) return need.total();
  std::string change = "a smaller data.batch_size (no train.accumulate makes this model fit)";
  for (int64_t k = K + 1; k <= B; ++k) {  // the fewest micro-batches that fit
    if (B % k != 0 || B / k < dist::size()) continue;
    const double t = training_memory(run, k).total();
    if (t > double(budget.bytes)) continue;
    change = fmt::format("set train.accumulate: {} ({} micro-batches of {} need {}; the update stays the same) or "
                         "lower data.batch_size",
                         k, k, B / k, format_bytes(t));
    break;
  }
  throw ConfigError(fmt::format(
      "training at data.batch_size {} (train.accumulate {}: micro-batches of {}{}) needs {} (step {}, optimizer and "
      "EMA state {}, batches {}, evaluation {}), more than the {} available ({}): {}",
      B, K, B / K, dist::size() > 1 ? fmt::format(" over {} ranks", dist::size()) : "", format_bytes(need.total()),
      format_bytes(need.step), format_bytes(need.state), format_bytes(need.batches), format_bytes(need.eval),
      format_bytes(double(budget.bytes)), budget.source, change));
}

}  // namespace cnn
