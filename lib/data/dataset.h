#pragma once
// Datasets: numbered samples, each an 8-bit image and an int32 label, read one at a time (from
// memory or decoded from a file) by any number of threads at once.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "data/image.h"

namespace cnn {

// A sample that cannot be read (corrupt or unreadable image file). what() names the file.
class BadSampleError : public RuntimeError {
 public:
  using RuntimeError::RuntimeError;
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  virtual int32_t label(int64_t i) const = 0;
  virtual int num_classes() const = 0;
  virtual const std::vector<std::string>& class_names() const = 0;
  virtual int64_t channels() const = 0;
  // The size of every sample, or 0 when samples differ (decoded files).
  virtual int64_t height() const { return 0; }
  virtual int64_t width() const { return 0; }
  // Sample i as H x W x C bytes. Thread-safe. Throws BadSampleError naming the file when the
  // sample cannot be decoded.
  virtual void read(int64_t i, Image& out) const = 0;
  // How messages name sample i: its file, or "sample i" for in-memory data.
  virtual std::string sample_name(int64_t i) const { return "sample " + std::to_string(i); }
};

// In-memory image classification datasets: uint8 pixels, N x C x H x W, int32 labels.
struct ImageDataset {
  int64_t count = 0;
  int64_t channels = 0, height = 0, width = 0;
  std::vector<uint8_t> pixels;     // count * channels * height * width
  std::vector<int32_t> labels;     // count
  int num_classes = 0;
  std::vector<std::string> class_names;
  int64_t sample_size() const { return channels * height * width; }
};

// A Dataset over an ImageDataset it owns (MNIST, Fashion-MNIST, CIFAR-10).
class MemoryDataset : public Dataset {
 public:
  explicit MemoryDataset(ImageDataset data) : d_(std::move(data)) {}
  int64_t size() const override { return d_.count; }
  int32_t label(int64_t i) const override { return d_.labels[size_t(i)]; }
  int num_classes() const override { return d_.num_classes; }
  const std::vector<std::string>& class_names() const override { return d_.class_names; }
  int64_t channels() const override { return d_.channels; }
  int64_t height() const override { return d_.height; }
  int64_t width() const override { return d_.width; }
  void read(int64_t i, Image& out) const override;
  const ImageDataset& images() const { return d_; }

 private:
  ImageDataset d_;
};

}  // namespace cnn
