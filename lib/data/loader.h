#pragma once
// Batches for training and evaluation. Worker threads (data.workers) read, decode and transform
// whole batches ahead of the trainer into a bounded ring of batch buffers; the trainer takes them
// in order. Sample i of epoch e is transformed with an Rng seeded from (seed, e, i), so every batch
// is the same whatever the number of workers or their timing. workers = 0 builds each batch when
// it is asked for, spread over the engine's thread pool (core/parallel.h). Workers are plain
// std::threads that never use that pool. Buffers are reused: the steady state allocates nothing.
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "data/dataset.h"
#include "data/transforms.h"

namespace cnn {

struct LoaderOptions {
  int64_t batch_size = 64;
  int64_t workers = 0;       // worker threads; 0: inline
  uint64_t seed = 1;
  bool skip_bad = false;     // an unreadable sample is left out of its batch (true) or is an error
  int64_t prefetch = 0;      // batches in flight; 0: 2 per worker
  // Data-parallel training: each batch is this shard's part of the batch of `batch_size` samples
  // (dist::shard_of; the parts of shards 0..shards-1 are disjoint and together the whole batch).
  int shard = 0, shards = 1;
};

struct Batch {
  Tensor images;                       // n x C x H x W
  std::vector<int32_t> labels;         // n
  std::vector<int64_t> indices;        // n: the dataset index of each row
  int64_t size = 0;                    // n: the batch's samples minus the skipped ones
  std::vector<std::string> skipped;    // one message (naming the file) per skipped sample
  Shape shape;                         // scratch for images' shape (no allocation per batch)
};

class Loader {
 public:
  // `sample`: the [C, H, W] every transformed sample must have. The dataset and pipeline must
  // outlive the loader.
  Loader(const Dataset& data, const Pipeline& pipeline, const Shape& sample, const LoaderOptions& options);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // Starts epoch `epoch` over the sample indices `order` (copied), from batch `first_batch`.
  // Batches of the previous epoch still being built are finished and dropped first.
  void start(uint64_t epoch, const std::vector<int64_t>& order, int64_t first_batch = 0);
  int64_t batches() const;
  // The batch buffers a loader with `options` holds (its memory: this many batches of samples).
  static int64_t batch_buffers(const LoaderOptions& options);
  // The next batch of the epoch, or nullptr after the last. Valid until the next call. Rethrows
  // the error a batch met (a bad sample with skip_bad off, a size mismatch), naming the sample.
  const Batch* next();

 private:
  struct Slot {
    Batch batch;
    // The decode and transform buffers go with the slot, not the worker: every slot is filled in
    // every epoch, so after the first one no fill allocates, whichever worker the scheduler ran.
    TransformScratch scratch;
    Image img;
    int64_t index = -1;          // the batch it holds or is being filled with
    bool ready = false;
    std::exception_ptr error;
  };
  // Batch b's first position in the order and its size (this shard's part of it).
  std::pair<int64_t, int64_t> slice(int64_t b) const;
  void fill(int64_t b, Batch& out, TransformScratch& scratch, Image& img) const;
  void fill_inline(int64_t b, Batch& out);
  void set_images_shape(Batch& out, int64_t n) const;
  void worker_loop();

  const Dataset& data_;
  const Pipeline& pipeline_;
  Shape sample_;
  LoaderOptions opt_;
  std::vector<int64_t> order_;
  uint64_t epoch_ = 0;
  int64_t end_ = 0;              // batches in the epoch

  // Inline mode: one batch buffer, scratch per pool thread.
  Batch inline_batch_;
  std::vector<TransformScratch> inline_scratch_;
  std::vector<Image> inline_images_;
  std::vector<uint8_t> inline_ok_;
  int64_t inline_next_ = 0;

  // Worker mode.
  std::vector<Slot> slots_;
  std::vector<std::thread> threads_;
  std::mutex m_;
  std::condition_variable work_cv_, ready_cv_;
  int64_t next_fill_ = 0;        // next batch to hand to a worker
  int64_t next_take_ = 0;        // next batch the consumer takes
  int64_t released_ = 0;         // batches whose slots the consumer gave back
  int64_t in_flight_ = 0;
  bool stop_ = false;
};

}  // namespace cnn

namespace cnn {

// The [C, H, W] that `pipeline` makes from `data`'s samples, checked against the model's input.
// Throws ConfigError naming `field` when they differ, or when sizes vary and no step fixes them.
Shape checked_sample_shape(const Pipeline& pipeline, const Dataset& data, const Shape& model_input,
                           const std::string& dataset_name, const std::string& field);

}  // namespace cnn
