#include "data/loader.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "core/parallel.h"
#include "core/rng.h"

namespace cnn {

namespace {

constexpr uint64_t kAugmentKey = 0xa46d;  // keeps augmentation streams apart from other uses of the seed

}  // namespace

// images: n x C x H x W, through the batch's own Shape (assigning reuses its capacity).
void Loader::set_images_shape(Batch& out, int64_t n) const {
  out.shape.assign({n, sample_[0], sample_[1], sample_[2]});
  out.images.resize(out.shape);
}

Loader::Loader(const Dataset& data, const Pipeline& pipeline, const Shape& sample, const LoaderOptions& options)
    : data_(data), pipeline_(pipeline), sample_(sample), opt_(options) {
  if (opt_.batch_size < 1) throw ConfigError("data.batch_size: expected an integer >= 1");
  if (opt_.workers > 0) {
    slots_.resize(size_t(batch_buffers(opt_)));
    for (int64_t w = 0; w < opt_.workers; ++w) threads_.emplace_back([this] { worker_loop(); });
  }
}

int64_t Loader::batch_buffers(const LoaderOptions& o) {
  return o.workers > 0 ? std::max<int64_t>(o.prefetch > 0 ? o.prefetch : 2 * o.workers, 2) : 1;
}

Loader::~Loader() {
  {
    std::lock_guard<std::mutex> lk(m_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (auto& t : threads_) t.join();
}

int64_t Loader::batches() const { return (int64_t(order_.size()) + opt_.batch_size - 1) / opt_.batch_size; }

void Loader::start(uint64_t epoch, const std::vector<int64_t>& order, int64_t first_batch) {
  std::unique_lock<std::mutex> lk(m_);
  end_ = 0;  // no new batches for the workers until the new epoch is set up
  ready_cv_.wait(lk, [&] { return in_flight_ == 0; });
  order_.assign(order.begin(), order.end());
  epoch_ = epoch;
  for (auto& s : slots_) s.index = -1, s.ready = false, s.error = nullptr;
  next_fill_ = next_take_ = released_ = inline_next_ = first_batch;
  end_ = batches();
  lk.unlock();
  work_cv_.notify_all();
}

std::pair<int64_t, int64_t> Loader::slice(int64_t b) const {
  const int64_t B = opt_.batch_size, first = b * B, n = std::min<int64_t>(B, int64_t(order_.size()) - first);
  if (opt_.shards == 1) return {first, n};
  const int64_t lo = n * opt_.shard / opt_.shards, hi = n * (opt_.shard + 1) / opt_.shards;
  return {first + lo, hi - lo};
}

void Loader::fill(int64_t b, Batch& out, TransformScratch& scratch, Image& img) const {
  const int64_t B = opt_.batch_size;
  const std::pair<int64_t, int64_t> part = slice(b);
  const int64_t first = part.first, n = part.second;
  const int64_t S = numel_of(sample_);
  set_images_shape(out, n);
  out.labels.reserve(size_t(B));  // a full batch's room at once: a slot that saw a short last batch
  out.indices.reserve(size_t(B)); // first must not allocate when it gets a full one
  out.labels.resize(size_t(n));
  out.indices.resize(size_t(n));
  out.skipped.clear();
  int64_t k = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t idx = order_[size_t(first + i)];
    Rng rng(hash_keys(opt_.seed, epoch_, uint64_t(idx), kAugmentKey));
    try {
      data_.read(idx, img);
    } catch (const BadSampleError& e) {
      if (!opt_.skip_bad)
        throw BadSampleError(std::string(e.what()) + " (set data.bad_images: skip to leave unreadable images out)");
      out.skipped.emplace_back(e.what());
      continue;
    }
    pipeline_.apply_bytes(img, scratch, rng);
    if (img.channels != sample_[0] || img.height != sample_[1] || img.width != sample_[2])
      throw RuntimeError(fmt::format("{}: after the transforms the image is {}x{}x{} (C x H x W), the model expects {}",
                                     data_.sample_name(idx), img.channels, img.height, img.width, shape_str(sample_)));
    pipeline_.apply_floats(img, rng, out.images.data() + k * S);
    out.labels[size_t(k)] = data_.label(idx);
    out.indices[size_t(k)] = idx;
    ++k;
  }
  out.size = k;
  if (k < n) {
    set_images_shape(out, k);
    out.labels.resize(size_t(k));
    out.indices.resize(size_t(k));
  }
}

// One batch over the engine's pool: sample i goes to row i, then rows of skipped samples are
// squeezed out. The first error in sample order is rethrown (the same one for any thread count).
void Loader::fill_inline(int64_t b, Batch& out) {
  const int64_t B = opt_.batch_size;
  const std::pair<int64_t, int64_t> part = slice(b);
  const int64_t first = part.first, n = part.second;
  const int64_t S = numel_of(sample_);
  const int threads = std::max(1, num_threads());
  if (int64_t(inline_scratch_.size()) < threads) {
    inline_scratch_.resize(size_t(threads));
    inline_images_.resize(size_t(threads));
  }
  set_images_shape(out, n);
  out.labels.reserve(size_t(B));  // a full batch's room at once: a slot that saw a short last batch
  out.indices.reserve(size_t(B)); // first must not allocate when it gets a full one
  out.labels.resize(size_t(n));
  out.indices.resize(size_t(n));
  out.skipped.clear();
  inline_ok_.assign(size_t(n), 0);
  std::vector<std::exception_ptr> errors;  // empty unless something fails
  std::mutex errors_m;
  std::vector<std::pair<int64_t, std::string>> skipped;
  auto body = [&](int64_t lo, int64_t hi, int t) {
    TransformScratch& scratch = inline_scratch_[size_t(t)];
    Image& img = inline_images_[size_t(t)];
    for (int64_t i = lo; i < hi; ++i) {
      const int64_t idx = order_[size_t(first + i)];
      try {
        Rng rng(hash_keys(opt_.seed, epoch_, uint64_t(idx), kAugmentKey));
        try {
          data_.read(idx, img);
        } catch (const BadSampleError& e) {
          if (!opt_.skip_bad)
            throw BadSampleError(std::string(e.what()) + " (set data.bad_images: skip to leave unreadable images out)");
          std::lock_guard<std::mutex> lk(errors_m);
          skipped.emplace_back(i, e.what());
          continue;
        }
        pipeline_.apply_bytes(img, scratch, rng);
        if (img.channels != sample_[0] || img.height != sample_[1] || img.width != sample_[2])
          throw RuntimeError(fmt::format("{}: after the transforms the image is {}x{}x{} (C x H x W), the model expects {}",
                                         data_.sample_name(idx), img.channels, img.height, img.width,
                                         shape_str(sample_)));
        pipeline_.apply_floats(img, rng, out.images.data() + i * S);
        out.labels[size_t(i)] = data_.label(idx);
        out.indices[size_t(i)] = idx;
        inline_ok_[size_t(i)] = 1;
      } catch (...) {
        std::lock_guard<std::mutex> lk(errors_m);
        if (errors.empty()) errors.resize(size_t(n));
        errors[size_t(i)] = std::current_exception();
      }
    }
  };
  // One captured reference: std::function keeps it inline, no allocation per batch.
  parallel_for(n, [&body](int64_t lo, int64_t hi, int t) { body(lo, hi, t); });
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
  int64_t k = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (!inline_ok_[size_t(i)]) continue;
    if (k != i) {
      std::memmove(out.images.data() + k * S, out.images.data() + i * S, size_t(S) * sizeof(float));
      out.labels[size_t(k)] = out.labels[size_t(i)];
      out.indices[size_t(k)] = out.indices[size_t(i)];
    }
    ++k;
  }
  std::sort(skipped.begin(), skipped.end());
  for (auto& s : skipped) out.skipped.push_back(std::move(s.second));
  out.size = k;
  if (k < n) {
    set_images_shape(out, k);
    out.labels.resize(size_t(k));
    out.indices.resize(size_t(k));
  }
}

void Loader::worker_loop() {
  std::unique_lock<std::mutex> lk(m_);
  const int64_t depth = int64_t(slots_.size());
  for (;;) {
    work_cv_.wait(lk, [&] { return stop_ || (next_fill_ < end_ && next_fill_ < released_ + depth); });
    if (stop_) return;
    const int64_t b = next_fill_++;
    Slot& s = slots_[size_t(b % depth)];
    s.index = b;
    s.ready = false;
    s.error = nullptr;
    ++in_flight_;
    lk.unlock();
    std::exception_ptr error;
    try {
      fill(b, s.batch, s.scratch, s.img);
    } catch (...) {
      error = std::current_exception();
    }
    lk.lock();
    s.error = error;
    s.ready = true;
    --in_flight_;
    ready_cv_.notify_all();
  }
}

const Batch* Loader::next() {
  if (slots_.empty()) {
    if (inline_next_ >= end_) return nullptr;
    fill_inline(inline_next_++, inline_batch_);
    return &inline_batch_;
  }
  std::unique_lock<std::mutex> lk(m_);
  released_ = next_take_;  // the batch handed out last is done with
  work_cv_.notify_all();
  if (next_take_ >= end_) return nullptr;
  const int64_t b = next_take_;
  Slot& s = slots_[size_t(b % int64_t(slots_.size()))];
  ready_cv_.wait(lk, [&] { return s.index == b && s.ready; });
  ++next_take_;
  if (s.error) std::rethrow_exception(s.error);
  return &s.batch;
}

}  // namespace cnn

namespace cnn {

Shape checked_sample_shape(const Pipeline& pipeline, const Dataset& data, const Shape& model_input,
                           const std::string& dataset_name, const std::string& field) {
  const Shape s = pipeline.output_shape(data.height(), data.width());
  if (s[1] == 0 || s[2] == 0)
    throw ConfigError(fmt::format("{}: the images of dataset '{}' differ in size; end the 8-bit steps with one that "
                                  "gives every image the model's input size {} (center_crop, random_crop, "
                                  "random_resized_crop or resize to [h, w])",
                                  field, dataset_name, shape_str(model_input)));
  if (s != model_input)
    throw ConfigError(fmt::format("{}: samples of dataset '{}' come out {} but the model input is {} (set the "
                                  "model's input or change the transforms)",
                                  field, dataset_name, shape_str(s), shape_str(model_input)));
  return s;
}

}  // namespace cnn
