#include "core/tensor.h"

#include <cstdlib>
#include <cstring>
#include <new>

#include "core/memory_budget.h"

namespace cnn {

int64_t numel_of(const Shape& s) { return checked_numel(s.data(), s.size()); }

std::string shape_str(const Shape& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) out += 'x';
    out += std::to_string(s[i]);
  }
  return out;
}

void AlignedFree::operator()(float* p) const noexcept { std::free(p); }

static float* aligned_floats(int64_t n) {
  check_memory_budget(double(n) * sizeof(float), "a tensor of " + std::to_string(n) + " floats");
  size_t bytes = (static_cast<size_t>(n) * sizeof(float) + 63) & ~size_t(63);
  if (bytes == 0) bytes = 64;
  void* p = std::aligned_alloc(64, bytes);
  if (!p) throw std::bad_alloc();
  return static_cast<float*>(p);
}

Tensor::Tensor(Shape shape) {
  resize(shape);
  zero();
}

Tensor::Tensor(const Tensor& other) {
  resize(other.shape_);
  if (numel_) std::memcpy(data(), other.data(), numel_ * sizeof(float));
}

Tensor& Tensor::operator=(const Tensor& other) {
  if (this != &other) {
    resize(other.shape_);
    if (numel_) std::memcpy(data(), other.data(), numel_ * sizeof(float));
  }
  return *this;
}

void Tensor::resize(const Shape& shape) {
  int64_t n = numel_of(shape);
  if (n > capacity_) {
    data_.reset(aligned_floats(n));
    capacity_ = n;
  }
  shape_ = shape;
  numel_ = n;
}

void Tensor::zero() {
  if (numel_) std::memset(data(), 0, numel_ * sizeof(float));
}

void Tensor::fill(float v) {
  float* p = data();
  for (int64_t i = 0; i < numel_; ++i) p[i] = v;
}

}  // namespace cnn
