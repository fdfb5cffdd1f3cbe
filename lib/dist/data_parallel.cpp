#include "dist/data_parallel.h"

#include <algorithm>
#include <chrono>

#include "dist/comm.h"

namespace cnn::dist {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

std::pair<int64_t, int64_t> shard_of(int64_t n, int r, int ranks) {
  return {n * r / ranks, n * (r + 1) / ranks};
}

StepAgreement agree_on_step(int64_t local_n, int64_t local_skipped) {
  int64_t v[3] = {local_n, local_skipped, local_n == 0 ? 1 : 0};
  sum(v, 3, "the step's sample counts");
  return {v[0], v[1], v[2] > 0};
}

bool any_rank(bool flag) {
  int64_t v = flag ? 1 : 0;
  sum(&v, 1, "the stop flags");
  return v > 0;
}

void broadcast_model(Net& net) {
  if (!active()) return;
  for (const auto& p : net.params()) broadcast(p.param->value.data(), p.param->value.numel(), "the initial weights");
  for (const auto& b : net.buffers()) broadcast(b.buffer->value.data(), b.buffer->value.numel(), "the initial buffers");
}

void scale_loss_gradients(Net& net, double factor) {
  if (factor == 1.0) return;
  const float f = float(factor);
  auto scale = [f](Tensor& t) {
    for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] *= f;
  };
  scale(net.output_grad());
  for (size_t h = 0; h < net.heads().size(); ++h) scale(net.head_grad(h));
}

void average_buffers(Net& net) {
  if (!active()) return;
  std::vector<double> all;
  for (const auto& b : net.buffers()) all.insert(all.end(), b.buffer->value.data(), b.buffer->value.data() + b.buffer->value.numel());
  sum(all.data(), int64_t(all.size()), "the running statistics");
  const double inv = 1.0 / size();
  size_t k = 0;
  for (const auto& b : net.buffers())
    for (int64_t i = 0; i < b.buffer->value.numel(); ++i) b.buffer->value.data()[i] = float(all[k++] * inv);
}

void reduce_eval(EvalResult& r, int64_t& skipped_count) {
  skipped_count = int64_t(r.skipped.size());
  if (!active()) return;
  std::vector<int64_t> counts = {r.count, r.correct_top1, r.correct_top5, skipped_count};
  counts.insert(counts.end(), r.confusion.begin(), r.confusion.end());
  sum(counts.data(), int64_t(counts.size()), "the evaluation's counts");
  double loss_sum = r.loss_sum;
  sum(&loss_sum, 1, "the evaluation's loss");
  r.count = counts[0];
  r.correct_top1 = counts[1];
  r.correct_top5 = counts[2];
  skipped_count = counts[3];
  std::copy(counts.begin() + 4, counts.end(), r.confusion.begin());
  r.loss_sum = loss_sum;
  r.loss = r.count ? loss_sum / double(r.count) : 0;
  r.top1 = r.count ? 100.0 * double(r.correct_top1) / double(r.count) : 0;
  r.top5 = r.count ? 100.0 * double(r.correct_top5) / double(r.count) : 0;
}

void SyncBatchStats::sum(double* values, size_t n) {
  const auto t0 = std::chrono::steady_clock::now();
  dist::sum(values, int64_t(n), "the BatchNorm statistics (train.sync_bn)");
  seconds += seconds_since(t0);
}

}  // namespace cnn::dist
