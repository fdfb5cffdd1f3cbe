#pragma once
// How a data-parallel run reduces the parameter gradients of a step (dist/gradient_sum.h; the
// cnn train flags --allreduce and --allreduce-bucket-mb).
#include <cstdint>

namespace cnn::dist {

struct AllreduceOptions {
  static constexpr int64_t kDefaultBucketBytes = int64_t(25) << 20;  // DDP's bucket_cap_mb = 25
  int64_t bucket_bytes = kDefaultBucketBytes;
  bool overlap = true;  // start buckets during the backward pass (false: all after it, blocking)
  bool poll = true;     // with overlap: let MPI progress the sums after each node (MPI_Testall)
};

}  // namespace cnn::dist
