#pragma once
// The memory a run may use: physical memory, or less when an rlimit (`ulimit -v`, `ulimit -d`) or
// the cgroup's memory.max says so. Tensors are checked against it before they are allocated, so a
// size taken from a hostile file or config ends in an error naming what asked and how much it
// needed, instead of std::bad_alloc or the kernel's OOM killer.
#include <cstdint>
#include <string>

#include "core/error.h"

namespace cnn {

struct MemoryBudget {
  uint64_t bytes = 0;
  std::string source;  // "physical memory", "ulimit -v", "ulimit -d", "cgroup memory.max"
};

// Computed once (thread-safe).
const MemoryBudget& memory_budget();
// Lowers the budget (fuzz targets run under libFuzzer's -malloc_limit_mb; tests). Not thread-safe:
// call before any work starts.
void limit_memory_budget(uint64_t bytes, const std::string& source);

// "3.64 TiB", "12.0 MiB", "512 bytes".
std::string format_bytes(double bytes);

// A requested size that the budget cannot hold, or an element count that overflows 64 bits.
class MemoryBudgetError : public RuntimeError {
 public:
  MemoryBudgetError(const std::string& message, double bytes) : RuntimeError(message), bytes_(bytes) {}
  double bytes() const { return bytes_; }

 private:
  double bytes_;
};

// Throws MemoryBudgetError("<what> needs <size>, more than the memory budget of <budget> (<source>)")
// when `bytes` exceeds the budget.
void check_memory_budget(double bytes, const std::string& what);

// The element count of `shape` (int64 dims), or a MemoryBudgetError when the product overflows
// 2^62 elements or a dimension is negative.
int64_t checked_numel(const int64_t* dims, size_t ndim);

}  // namespace cnn
