#include "core/workspace.h"

#include <memory>
#include <mutex>
#include <vector>

#include "core/tensor.h"

namespace cnn {

namespace {
constexpr int kSlots = 4;
std::vector<Tensor>& buffers(int thread_index) {
  // One vector per thread index, created under a lock; each thread then touches only its own.
  // Held by pointer: growing `all` for a new thread index must not move another thread's
  // buffers while that thread uses them outside the lock.
  static std::mutex mu;
  static std::vector<std::unique_ptr<std::vector<Tensor>>> all;
  std::lock_guard<std::mutex> lk(mu);
  if (static_cast<int>(all.size()) <= thread_index) all.resize(thread_index + 1);
  if (!all[thread_index]) all[thread_index] = std::make_unique<std::vector<Tensor>>(kSlots);
  return *all[thread_index];
}
}  // namespace

float* scratch(int thread_index, int slot, size_t floats) {
  Tensor& t = buffers(thread_index)[slot];
  if (static_cast<size_t>(t.numel()) < floats) t.resize({static_cast<int64_t>(floats)});
  return t.data();
}

}  // namespace cnn
