#pragma once
// Sets the engine's thread count for a scope and restores it afterwards.
#include "core/parallel.h"

namespace cnn::test {

struct ThreadGuard {
  int saved;
  explicit ThreadGuard(int n) : saved(num_threads()) { set_num_threads(n); }
  ~ThreadGuard() { set_num_threads(saved); }
  ThreadGuard(const ThreadGuard&) = delete;
  ThreadGuard& operator=(const ThreadGuard&) = delete;
};

}  // namespace cnn::test
