#include "core/tensor.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#include <sys/mman.h>

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

void AlignedFree::operator()(float* p) const noexcept {
  if (mapped_bytes) munmap(p, mapped_bytes);
  else std::free(p);
}

namespace {

// Tensors from 1 MiB up are mapped from the kernel: their pages are zero and take no memory
// until first written, so a zero-filled tensor that is never written (the parameter gradients
// of an inference process: 528 MiB of VGG-16's) costs nothing. Allocation happens when the Net
// plans a batch size, not per step, so the system calls do not matter.
// Not under AddressSanitizer: its heap checks would not see mapped tensors.
#if defined(__SANITIZE_ADDRESS__)
constexpr size_t kMappedBytes = SIZE_MAX;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr size_t kMappedBytes = SIZE_MAX;
#else
constexpr size_t kMappedBytes = size_t(1) << 20;
#endif
#else
constexpr size_t kMappedBytes = size_t(1) << 20;
#endif

std::unique_ptr<float, AlignedFree> aligned_floats(int64_t n) {
  check_memory_budget(double(n) * sizeof(float), "a tensor of " + std::to_string(n) + " floats");
  size_t bytes = (static_cast<size_t>(n) * sizeof(float) + 63) & ~size_t(63);
  if (bytes == 0) bytes = 64;
  if (bytes >= kMappedBytes) {
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    return {static_cast<float*>(p), AlignedFree{bytes}};
  }
  void* p = std::aligned_alloc(64, bytes);
  if (!p) throw std::bad_alloc();
  return {static_cast<float*>(p), AlignedFree{}};
}

}  // namespace

Tensor::Tensor(Shape shape) {
  resize(shape);
  if (!data_.get_deleter().mapped_bytes) zero();  // mapped pages are zero already
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
    data_ = aligned_floats(n);
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
