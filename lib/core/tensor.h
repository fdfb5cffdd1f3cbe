#pragma once
// Tensor: float32, row-major (NCHW for images), 64-byte aligned, owning its buffer.
// Resizing to a shape that fits the current capacity never reallocates, so buffers planned
// once per input shape are reused every step.
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

namespace cnn {

using Shape = std::vector<int64_t>;

int64_t numel_of(const Shape& s);
std::string shape_str(const Shape& s);  // "1x28x28"

// Frees a tensor's storage: aligned_alloc'd, or mapped (mapped_bytes > 0, see tensor.cpp).
struct AlignedFree {
  size_t mapped_bytes = 0;
  void operator()(float* p) const noexcept;
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(Shape shape);  // zero-filled
  Tensor(std::initializer_list<int64_t> shape) : Tensor(Shape(shape)) {}
  Tensor(const Tensor& other);
  Tensor& operator=(const Tensor& other);
  Tensor(Tensor&&) noexcept = default;
  Tensor& operator=(Tensor&&) noexcept = default;

  // Changes the shape; reallocates only when the new size exceeds the capacity.
  // Contents are unspecified after a growing resize.
  void resize(const Shape& shape);
  void zero();
  void fill(float v);

  float* data() { return data_.get(); }
  const float* data() const { return data_.get(); }
  const Shape& shape() const { return shape_; }
  int64_t dim(size_t i) const { return shape_[i]; }
  size_t ndim() const { return shape_.size(); }
  int64_t numel() const { return numel_; }
  bool empty() const { return numel_ == 0; }
  float& operator[](int64_t i) { return data_.get()[i]; }
  float operator[](int64_t i) const { return data_.get()[i]; }

 private:
  Shape shape_;
  int64_t numel_ = 0;
  int64_t capacity_ = 0;
  std::unique_ptr<float, AlignedFree> data_;
};

}  // namespace cnn
