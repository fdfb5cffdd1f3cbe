#pragma once
// The step's gradient reduction in data-parallel training (docs/distributed.md): the parameter
// gradients summed over the ranks before the optimizer step, frozen ones left out.
//
// The gradients are cut into buckets of about `bucket_bytes` in reverse parameter order, the order
// the backward pass finishes them (as PyTorch's DistributedDataParallel does). With overlap, a
// bucket's non-blocking all-reduce starts as soon as the backward pass has finished every node
// owning one of its parameters (Net::set_gradients_ready), and MPI is polled after each node so
// that the sums in flight progress; finish() waits for them before the optimizer step. Without
// overlap, finish() reduces the buckets one after the other with blocking MPI_Allreduce after the
// backward pass. Either way each value is the same sum over the ranks (on 2 ranks the same bits).
#include <cstdint>
#include <vector>

#include "dist/allreduce_options.h"
#include "dist/comm.h"
#include "graph/net.h"

namespace cnn::dist {

// Buckets of params() indices in reverse order, frozen parameters left out: each bucket is closed
// once it holds at least `bucket_bytes` (a larger parameter makes a bucket of its own).
std::vector<std::vector<size_t>> plan_buckets(const Net& net, int64_t bucket_bytes);

class GradientSum {
 public:
  // Alone (one process) nothing is attached and finish() returns at once.
  void attach(Net& net, const AllreduceOptions& options);
  // The next backward pass completes this step's gradients: its buckets start during it. (With
  // gradients accumulated over several backward passes, call it before the last one only.)
  void overlap_next_backward() { armed_ = true; }
  void finish(Net& net);  // after backward: every bucket summed into the parameters' gradients

  // Time on this rank, since construction: in the callbacks during backward (packing, starting
  // and polling) and in finish() (blocking all-reduces, or waiting for the sums in flight, and
  // unpacking). Their sum is the communication time the step does not hide.
  double backward_seconds = 0, finish_seconds = 0;
  int64_t calls = 0;
  int64_t values = 0;  // floats per step
  // With overlap: buckets started, and those whose sum had arrived when the backward pass ended
  // (its last bucket, the first layers', starts only then). Shows whether MPI progressed at all.
  int64_t buckets_started = 0, buckets_arrived_in_backward = 0;
  size_t bucket_count() const { return buckets_.size(); }
  const AllreduceOptions& options() const { return options_; }

 private:
  struct Bucket {
    std::vector<size_t> params;  // indices into Net::params()
    std::vector<float> flat;
  };
  void gradients_ready(Net& net, size_t first);
  static void pack(const Net& net, Bucket& b);
  static void unpack(Net& net, const Bucket& b);
  void start(const Net& net, Bucket& b);
  AllreduceOptions options_;
  std::vector<Bucket> buckets_;
  bool armed_ = false;  // overlap_next_backward() was called in this step
  size_t started_ = 0;  // buckets started in this step (in order)
  SumsInFlight in_flight_;
};

}  // namespace cnn::dist
