#include "dist/gradient_sum.h"

#include <algorithm>
#include <chrono>

namespace cnn::dist {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

std::vector<std::vector<size_t>> plan_buckets(const Net& net, int64_t bucket_bytes) {
  std::vector<std::vector<size_t>> buckets;
  int64_t bytes = 0;
  for (size_t i = net.params().size(); i-- > 0;) {
    if (net.is_frozen(i)) continue;
    if (buckets.empty() || bytes >= bucket_bytes) {
      buckets.emplace_back();
      bytes = 0;
    }
    buckets.back().push_back(i);
    bytes += net.params()[i].param->grad.numel() * int64_t(sizeof(float));
  }
  return buckets;
}

void GradientSum::attach(Net& net, const AllreduceOptions& options) {
  if (!active()) return;
  options_ = options;
  buckets_.clear();
  values = 0;
  for (auto& params : plan_buckets(net, options.bucket_bytes)) {
    Bucket b;
    b.params = std::move(params);
    int64_t n = 0;
    for (size_t i : b.params) n += net.params()[i].param->grad.numel();
    b.flat.resize(size_t(n));
    values += n;
    buckets_.push_back(std::move(b));
  }
  if (options.overlap) net.set_gradients_ready([this, &net](size_t first) { gradients_ready(net, first); });
}

void GradientSum::pack(const Net& net, Bucket& b) {
  float* at = b.flat.data();
  for (size_t i : b.params) {
    const Tensor& g = net.params()[i].param->grad;
    at = std::copy(g.data(), g.data() + g.numel(), at);
  }
}

void GradientSum::unpack(Net& net, const Bucket& b) {
  const float* from = b.flat.data();
  for (size_t i : b.params) {
    Tensor& g = net.params()[i].param->grad;
    std::copy(from, from + g.numel(), g.data());
    from += g.numel();
  }
}

void GradientSum::start(const Net& net, Bucket& b) {
  pack(net, b);
  in_flight_.start(b.flat.data(), int64_t(b.flat.size()));
}

// The nodes owning params()[first..] are done: start the buckets (in order) that hold no earlier
// parameter, then let MPI move the sums in flight on.
void GradientSum::gradients_ready(Net& net, size_t first) {
  if (!armed_) return;
  const auto t0 = std::chrono::steady_clock::now();
  while (started_ < buckets_.size() && buckets_[started_].params.back() >= first) start(net, buckets_[started_++]);
  if (options_.poll) in_flight_.poll();
  backward_seconds += seconds_since(t0);
}

void GradientSum::finish(Net& net) {
  if (!active()) return;
  const auto t0 = std::chrono::steady_clock::now();
  if (options_.overlap) {
    in_flight_.poll();
    buckets_arrived_in_backward += in_flight_.arrived();
    buckets_started += int64_t(buckets_.size());
    // Buckets the backward pass did not reach (a rank without samples runs no backward) start now.
    for (; started_ < buckets_.size(); ++started_) start(net, buckets_[started_]);
    in_flight_.wait_all("the gradient all-reduce");
  } else {
    for (Bucket& b : buckets_) {
      pack(net, b);
      sum(b.flat.data(), int64_t(b.flat.size()), "the gradient all-reduce");
    }
  }
  for (const Bucket& b : buckets_) unpack(net, b);
  started_ = 0;
  armed_ = false;
  ++calls;
  finish_seconds += seconds_since(t0);
}

}  // namespace cnn::dist
