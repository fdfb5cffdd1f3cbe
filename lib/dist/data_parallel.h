#pragma once
// Data-parallel training (docs/distributed.md): what each part of the training loop does when
// several ranks train one model. Every rank holds the whole model and takes a disjoint shard of
// each global batch (data.batch_size is the global batch); the loss gradient is scaled so that
// the parameter gradients summed over the ranks are exactly the global batch's. Alone (one
// process) each function is the identity, so the trainer calls them unconditionally.
//
// Every function here is a collective: all ranks call it, in the same order.
#include <cstdint>
#include <utility>
#include <vector>

#include "graph/net.h"
#include "train/evaluator.h"

namespace cnn::dist {

// Rank `r`'s share [begin, end) of `n` items over `ranks` ranks, in order; the shares differ in
// size by at most one (the first ones are the smaller).
std::pair<int64_t, int64_t> shard_of(int64_t n, int r, int ranks);

// What the ranks agree on before a step.
struct StepAgreement {
  int64_t global_n = 0;          // samples in the global batch (skipped images excluded)
  int64_t skipped = 0;           // unreadable images left out, over all ranks
  bool some_rank_empty = false;  // some rank has no sample of this batch
};
StepAgreement agree_on_step(int64_t local_n, int64_t local_skipped);
// True when any rank says so (e.g. an interrupt seen by one rank between epochs).
bool any_rank(bool flag);

// Rank 0's parameters and buffers to every rank, so all start from the same weights.
void broadcast_model(Net& net);

// Multiplies the loss gradients (main output and side heads) by `factor` = local / global
// sample count: the loss each rank differentiates is then its share of the global batch's mean.
void scale_loss_gradients(Net& net, double factor);

// BatchNorm running statistics (every buffer of `net`): their mean over the ranks, computed in
// double so that values equal on every rank stay bit-identical.
void average_buffers(Net& net);

// An evaluation of each rank's shard of the test set, summed into the whole set's (counts,
// loss, confusion matrix); the result is the same on every rank. Skipped-image messages stay
// each rank's own; `skipped_count` below counts them all.
void reduce_eval(EvalResult& r, int64_t& skipped_count);

// train.sync_bn: BatchNorm statistics summed over the ranks (RunContext::batch_stats_sum).
class SyncBatchStats : public CrossProcessSum {
 public:
  void sum(double* values, size_t n) override;
  double seconds = 0;
};

}  // namespace cnn::dist
