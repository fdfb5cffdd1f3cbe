#include "core/memory_budget.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <limits>
#include <string>

#include <fmt/format.h>

namespace cnn {

namespace {

// cgroup v2: the container's limit, "max" when there is none.
uint64_t cgroup_limit() {
  std::ifstream in("/sys/fs/cgroup/memory.max");
  std::string text;
  if (!(in >> text) || text == "max") return std::numeric_limits<uint64_t>::max();
  try {
    return std::stoull(text);
  } catch (...) {
    return std::numeric_limits<uint64_t>::max();
  }
}

MemoryBudget compute_budget() {
  MemoryBudget b;
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  b.bytes = pages > 0 && page > 0 ? uint64_t(pages) * uint64_t(page) : std::numeric_limits<uint64_t>::max();
  b.source = "physical memory";
  auto lower = [&](uint64_t v, const char* source) {
    if (v < b.bytes) {
      b.bytes = v;
      b.source = source;
    }
  };
  struct rlimit rl;
  if (::getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) lower(uint64_t(rl.rlim_cur), "ulimit -v");
  if (::getrlimit(RLIMIT_DATA, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) lower(uint64_t(rl.rlim_cur), "ulimit -d");
  lower(cgroup_limit(), "cgroup memory.max");
  return b;
}

}  // namespace

namespace {
MemoryBudget& budget_storage() {
  static MemoryBudget budget = compute_budget();
  return budget;
}
}  // namespace

const MemoryBudget& memory_budget() { return budget_storage(); }

void limit_memory_budget(uint64_t bytes, const std::string& source) {
  MemoryBudget& b = budget_storage();
  if (bytes < b.bytes) b = MemoryBudget{bytes, source};
}

std::string format_bytes(double bytes) {
  static const char* units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return fmt::format("{:.0f} bytes", bytes);
  int u = -1;
  while (bytes >= 1024 && u < 5) {
    bytes /= 1024;
    ++u;
  }
  return fmt::format("{:.{}f} {}", bytes, bytes < 10 ? 2 : bytes < 100 ? 1 : 0, units[u]);
}

void check_memory_budget(double bytes, const std::string& what) {
  const MemoryBudget& b = memory_budget();
  if (bytes <= double(b.bytes)) return;
  throw MemoryBudgetError(fmt::format("{} needs {}, more than the memory budget of {} ({})", what, format_bytes(bytes),
                                      format_bytes(double(b.bytes)), b.source),
                          bytes);
}

int64_t checked_numel(const int64_t* dims, size_t ndim) {
  constexpr int64_t kMaxElements = int64_t(1) << 62;
  int64_t n = 1;
  bool zero = false;
  for (size_t i = 0; i < ndim; ++i) {
    if (dims[i] < 0) throw MemoryBudgetError(fmt::format("a tensor dimension is negative ({})", dims[i]), 0);
    if (dims[i] == 0) zero = true;
  }
  if (zero) return 0;
  for (size_t i = 0; i < ndim; ++i) {
    if (n > kMaxElements / dims[i]) {
      std::string shape;
      for (size_t k = 0; k < ndim; ++k) {
        if (k) shape += 'x';
        shape += std::to_string(dims[k]);
      }
      throw MemoryBudgetError(fmt::format("a tensor of shape {} has more than 2^62 elements", shape), 1e30);
    }
    n *= dims[i];
  }
  return n;
}

}  // namespace cnn
